// tests/support/test_pki.h: access to the test PKI made by scripts/make_test_pki.sh.
//
// ctest runs the script (test `make_test_pki`, fixture `pki`) into <build>/test-pki before any
// test that needs it; the directory is compiled in as CERTDEPLOY_TEST_PKI_DIR. The script's
// header lists every file. Validity is judged at FixtureNow(), an instant derived from the time
// the PKI was generated, so results do not depend on today's date.

#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/secret.h"

namespace certdeploy::testing {

// The password of every fixture PFX (also in password.txt).
inline constexpr char kPfxPassword[] = "Test-Pa55word!";
// The password of nonascii.pfx, UTF-8 (also in nonascii-password.txt).
inline constexpr char kNonAsciiPfxPassword[] = "P\xc3\xa4ssw\xc3\xb6rd-1";

// The PKI directory, and the path of `name` inside it.
std::string TestPkiDir();
std::string PkiPath(std::string_view name);

// Whole-file reads. A missing file records a test failure and returns empty.
std::vector<uint8_t> ReadFileBytes(const std::string& path);
std::string ReadFileText(const std::string& path);
std::vector<uint8_t> ReadPkiBytes(std::string_view name);
std::string ReadPkiText(std::string_view name);

SecretBytes FixturePassword();
SecretBytes NonAsciiFixturePassword();

// When the PKI was generated (generated-at.txt), and one hour later: every fixture is judged at
// FixtureNow() (alice valid, expired.pfx expired, soon.pfx expiring in under 10 days, ...).
SystemTime PkiGeneratedAt();
SystemTime FixtureNow();

// The thumbprints the openssl CLI computed for certificate `name` ("alice", "ca", ...):
// lowercase hex, no colons (files NAME.sha1 and NAME.sha256).
std::string ExpectedSha1(std::string_view name);
std::string ExpectedSha256(std::string_view name);

}  // namespace certdeploy::testing
