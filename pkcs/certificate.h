// pkcs/certificate.h: an X.509 certificate as a plain value.
//
// Every field is decoded once from the DER when the certificate is loaded, so the rest of
// certdeploy (validation, planning, reporting) never touches OpenSSL. Thumbprints are lowercase
// hex, as Graph expects them.

#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/result.h"

struct x509_st;  // OpenSSL's X509, kept opaque here.

namespace certdeploy::pkcs {

enum class KeyType { kRsa, kEc, kOther };

// Key usage bits we care about (RFC 5280 4.2.1.3).
struct KeyUsage {
  bool present = false;  // The extension is present at all.
  bool digital_signature = false;
  bool key_encipherment = false;
  bool key_agreement = false;
  bool key_cert_sign = false;
};

struct Certificate {
  std::vector<uint8_t> der;
  std::string subject;      // One line, RFC 2253 order: "CN=Jane Doe,O=Contoso".
  std::string issuer;       // Same format as subject.
  std::string common_name;  // The subject CN, or "" if none.
  std::string sha1;         // Lowercase hex of SHA-1(DER): Graph's `thumbprint`.
  std::string sha256;       // Lowercase hex of SHA-256(DER).
  std::string serial_hex;   // Lowercase hex.
  SystemTime not_before;
  SystemTime not_after;
  bool is_ca = false;          // basicConstraints cA=TRUE.
  bool self_issued = false;    // subject == issuer (signature not yet checked).
  KeyType key_type = KeyType::kOther;
  int key_bits = 0;            // RSA modulus bits or EC field bits.
  std::string signature_algorithm;  // OpenSSL short name, e.g. "RSA-SHA256", "ecdsa-with-SHA384".
  std::string signature_digest;     // "sha1", "sha256", "md5", ... ("" if unknown).
  std::vector<std::string> emails;  // rfc822Name SANs, then subject emailAddress, as written.
  std::vector<std::string> extended_key_usages;  // Dotted OIDs; empty if no EKU extension.
  KeyUsage key_usage;
  std::string subject_key_id;    // Lowercase hex, "" if absent.
  std::string authority_key_id;  // Lowercase hex keyIdentifier, "" if absent.
  std::string public_key_sha256;  // SHA-256 of the SubjectPublicKeyInfo DER, lowercase hex.
  // The decoded form, shared by copies, for pkcs/ itself: chain building and signature checks use
  // it instead of decoding `der` again (OpenSSL 3 decodes a certificate's public key through its
  // provider framework, which costs more than everything else here). Set by the parse functions;
  // null in a Certificate assembled by hand, whose `der` is then decoded when needed.
  std::shared_ptr<x509_st> x509;

  bool operator==(const Certificate& other) const { return der == other.der; }
};

// Decodes one DER certificate. InvalidArgument if it is not one.
Result<Certificate> ParseCertificateDer(std::span<const uint8_t> der);

// Reads every "BEGIN CERTIFICATE" block of a PEM text. InvalidArgument if a block is corrupt or
// if there is no certificate at all.
Result<std::vector<Certificate>> ParseCertificatesPem(std::string_view pem);

// Reads a PEM bundle file. InvalidArgument naming the path on any failure.
Result<std::vector<Certificate>> LoadCertificatesPemFile(const std::string& path);

// True if `issuer` signed `subject` (signature verified with issuer's public key).
bool IsSignedBy(const Certificate& subject, const Certificate& issuer);

// Well-known EKU OIDs.
inline constexpr char kEkuEmailProtection[] = "1.3.6.1.5.5.7.3.4";
inline constexpr char kEkuClientAuth[] = "1.3.6.1.5.5.7.3.2";
inline constexpr char kEkuAny[] = "2.5.29.37.0";

std::ostream& operator<<(std::ostream& os, const Certificate& cert);

}  // namespace certdeploy::pkcs
