#include "tests/support/test_pki.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

namespace certdeploy::testing {

std::string TestPkiDir() { return CERTDEPLOY_TEST_PKI_DIR; }

std::string PkiPath(std::string_view name) { return TestPkiDir() + "/" + std::string(name); }

std::string ReadFileText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path << " (did the make_test_pki fixture run?)";
    return "";
  }
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::vector<uint8_t> ReadFileBytes(const std::string& path) {
  std::string text = ReadFileText(path);
  return std::vector<uint8_t>(text.begin(), text.end());
}

std::vector<uint8_t> ReadPkiBytes(std::string_view name) { return ReadFileBytes(PkiPath(name)); }

std::string ReadPkiText(std::string_view name) { return ReadFileText(PkiPath(name)); }

SecretBytes FixturePassword() { return SecretBytes(kPfxPassword); }

SecretBytes NonAsciiFixturePassword() { return SecretBytes(kNonAsciiPfxPassword); }

SystemTime PkiGeneratedAt() {
  std::string text = ReadPkiText("generated-at.txt");
  long long seconds = text.empty() ? 0 : std::stoll(text);
  return SystemTime(std::chrono::seconds(seconds));
}

SystemTime FixtureNow() { return PkiGeneratedAt() + std::chrono::hours(1); }

std::string ExpectedSha1(std::string_view name) { return ReadPkiText(std::string(name) + ".sha1"); }

std::string ExpectedSha256(std::string_view name) {
  return ReadPkiText(std::string(name) + ".sha256");
}

}  // namespace certdeploy::testing
