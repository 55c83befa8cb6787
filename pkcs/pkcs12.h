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
//   "key-mismatch"    a private key is present but matches none of the certificates.

#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/secret.h"
#include "pkcs/certificate.h"

namespace certdeploy::pkcs {

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
