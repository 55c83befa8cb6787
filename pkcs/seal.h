// pkcs/seal.h: sealing a PFX password to the Intune PFX connector's public key.
//
// Graph's userPfxCertificate.encryptedPfxPassword is base64(RSA-OAEP(password bytes)) where the
// password bytes are one byte per character (as Microsoft's module encodes them), the OAEP hash
// and the MGF1 hash are the same SHA-2 (paddingScheme oaepSha256/384/512) and the label is empty.
// `pkcs1`, `oaepSha1` and `none` are refused: Intune no longer supports them.
//
// The connector key is read from any of: PEM SubjectPublicKeyInfo ("BEGIN PUBLIC KEY"), PEM
// PKCS#1 ("BEGIN RSA PUBLIC KEY"), or the CNG RSAPUBLICBLOB that Export-IntunePublicKey writes by
// default.

#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/secret.h"

namespace certdeploy::pkcs {

enum class PaddingScheme { kOaepSha256, kOaepSha384, kOaepSha512 };
std::string_view PaddingSchemeName(PaddingScheme scheme);  // "oaepSha512", ...
// Accepts oaepSha256/384/512 (case-insensitive). Refuses pkcs1, oaepSha1, none and anything
// else with InvalidArgument saying which schemes Intune accepts.
Result<PaddingScheme> ParsePaddingScheme(std::string_view name);

// An RSA public key of the connector. Copyable (copies share the key), immutable, and safe to
// use from many threads at once.
class ConnectorPublicKey {
 public:
  // Detects the format from the bytes: a CNG blob by its magic ("RSA1"), else PEM (a UTF-8 BOM,
  // leading whitespace and CRLF line endings are tolerated; the file must hold exactly one PEM
  // block). The blob header must match its length exactly, with cbPrime1 = cbPrime2 = 0 and a
  // BitLength equal to the modulus size. InvalidArgument, with a message naming the accepted
  // formats, for anything else: private keys (PEM or the CNG "RSA2"/"RSA3" blobs), certificates,
  // non-RSA keys, RSA keys under 2048 bits, truncated or malformed data.
  static Result<ConnectorPublicKey> Parse(std::span<const uint8_t> bytes);
  // Reads the file (at most 64 KiB) and parses it. Every error names the path; a missing file is
  // NotFound.
  static Result<ConnectorPublicKey> LoadFile(const std::string& path);

  // The modulus size, e.g. 2048.
  int bits() const;
  // SHA-256 of the SubjectPublicKeyInfo DER, lowercase hex: identifies the key in logs and plans.
  const std::string& fingerprint() const;
  // The key as PEM SubjectPublicKeyInfo.
  std::string ToPem() const;

  // Defined in pkcs/internal/seal.cc; only that file looks inside.
  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  explicit ConnectorPublicKey(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// The connector's private key (only the sandbox, playing the connector, and tests hold one).
class ConnectorPrivateKey {
 public:
  // PEM PKCS#8 or PKCS#1 RSA private key, unencrypted (encrypted PEM is refused). The public half
  // must pass ConnectorPublicKey's checks (RSA, at least 2048 bits). Messages never hold key bytes.
  static Result<ConnectorPrivateKey> Parse(std::span<const uint8_t> bytes);
  // Reads the file (at most 64 KiB) and parses it; errors name the path, a missing file is
  // NotFound.
  static Result<ConnectorPrivateKey> LoadFile(const std::string& path);

  // The matching public key (same fingerprint as the connector's exported public key).
  ConnectorPublicKey PublicKey() const;

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  explicit ConnectorPrivateKey(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// InvalidArgument (details()->service_code "non-ascii-password") unless every byte is ASCII
// (0x01..0x7f). The message says to re-export the PFX with an ASCII password; it never contains
// the password. An empty password is encodable.
Status CheckPasswordEncodable(const SecretBytes& password);

// Returns base64(RSA-OAEP(password)) for encryptedPfxPassword: standard base64 with padding of a
// ciphertext as long as the modulus (256 bytes for RSA-2048). Randomized: two calls differ.
// Checks CheckPasswordEncodable first; InvalidArgument also if the password is longer than the
// key and hash allow (126 bytes for RSA-2048 with oaepSha512).
Result<std::string> SealPassword(const SecretBytes& password, const ConnectorPublicKey& key,
                                 PaddingScheme scheme);

// The inverse, as the connector does it. InvalidArgument if the ciphertext is not valid base64
// or does not decrypt under this key and scheme.
Result<SecretBytes> UnsealPassword(std::string_view sealed_base64, const ConnectorPrivateKey& key,
                                   PaddingScheme scheme);

}  // namespace certdeploy::pkcs
