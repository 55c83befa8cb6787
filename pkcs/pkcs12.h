// pkcs/pkcs12.h: opening a user's PFX (PKCS#12) file.
//
// Both modern files (PBES2 with AES-256 and PBKDF2, the OpenSSL 3 default) and legacy ones
// (RC2-40, 3DES with SHA-1, as older Windows exports and many CAs produce) are read; the legacy
// algorithms come from OpenSSL's legacy provider, loaded once in a private library context.
//
//   Result<Pkcs12Contents> pfx = ParsePkcs12(bytes, password);
//   if (!pfx.ok()) return ReportFinding(Pkcs12FailureCode(pfx.status()));
//
// Failures are InvalidArgument Statuses whose details()->service_code is a stable finding code:
//   "not-pkcs12"      the bytes are not a PKCS#12 structure at all;
//   "corrupt-pkcs12"  it starts as PKCS#12 but is truncated or damaged;
//   "bad-password"    the MAC (integrity) check fails with this password;
//   "no-private-key"  the file holds certificates only;
//   "key-mismatch"    a private key is present but matches none of the certificates;
//   "excessive-iterations"  the file asks for more key-derivation work than the limits below
//                     (checked before any derivation runs, so such a file costs no KDF time).

#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/secret.h"
#include "pkcs/certificate.h"

namespace certdeploy::pkcs {

// Limits on the work a PFX may ask for. PKCS#12 files carry their own key-derivation iteration
// counts (the MAC's, each encrypted part's, each encrypted key's), and a hostile file can ask for
// 2^31 - 1 of them: minutes of CPU per request. What real exporters write (sources in
// docs/security.md, "PFX iteration bombs"): OpenSSL 2,048 (PKCS12_DEFAULT_ITER); Windows 2,000;
// Java keytool 10,000 (legacy mode 100,000 for the MAC); GnuTLS and NSS/Firefox 600,000 for each
// of the MAC, the certificates and the key (NSS 3.35 and 3.36.0 wrote 1,000,000). Other parsers
// cap too: Go 1,048,576; .NET 300,000 per KDF and 1,000,000 per file; Java and BouncyCastle
// 5,000,000. About 0.25 s per million PBKDF2-SHA256 iterations on one core here.
inline constexpr int64_t kMaxKdfIterations = 1'000'000;       // One key derivation.
inline constexpr int64_t kMaxTotalKdfIterations = 3'500'000;  // All of one file together.
inline constexpr int kMaxBags = 256;                          // Parts and bags of one file.
inline constexpr int kMaxBagNesting = 4;                      // Nested safe-contents bags.

struct Pkcs12Contents {
  Certificate leaf;                 // The certificate whose public key matches the private key.
  std::vector<Certificate> others;  // Every other certificate in the file, in file order.
  // Some part is encrypted with the old PKCS#12 PBE algorithms (RC2-40, 3DES, ... with SHA-1)
  // rather than PBES2, as `openssl pkcs12 -legacy` and older Windows exports do.
  bool legacy_encryption = false;
};

// Opens `pfx` with `password` (the bytes of the password as typed; certdeploy passwords are
// ASCII, see seal.h). The private key is only used to identify the leaf and is wiped before
// returning; it never leaves this function. An empty password matches files exported with no
// password as well as with an empty one. Messages never contain the password. Thread-safe.
Result<Pkcs12Contents> ParsePkcs12(std::span<const uint8_t> pfx, const SecretBytes& password);

// The finding code of a ParsePkcs12 failure ("bad-password", ...), or "" for other statuses.
std::string_view Pkcs12FailureCode(const Status& status);

}  // namespace certdeploy::pkcs
