// pkcs/internal/certificate.cc: decoding X.509 certificates into plain Certificate values.

#include "pkcs/certificate.h"

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <iterator>
#include <sstream>

#include "base/encoding.h"
#include "base/strings.h"
#include "base/time_format.h"
#include "pkcs/internal/openssl_util.h"

namespace certdeploy::pkcs {
namespace {

using internal::DigestHex;
using internal::NameToString;
using internal::X509Ptr;

std::string Asn1StringToUtf8(const ASN1_STRING* str) {
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, str);
  if (len < 0) return "";
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

std::string HexOf(const ASN1_OCTET_STRING* octets) {
  if (octets == nullptr) return "";
  return HexEncode(std::span<const uint8_t>(ASN1_STRING_get0_data(octets),
                                            static_cast<size_t>(ASN1_STRING_length(octets))));
}

SystemTime ToSystemTime(const ASN1_TIME* time) {
  std::tm tm{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return SystemTime{};
  // system_clock counts nanoseconds: only 1677..2262 fit, and from_time_t overflows (undefined
  // behaviour, a wrapped date) outside. Certificates say 99991231235959Z for "no expiry"
  // (RFC 5280 4.1.2.5), so clamp to [1970, 2262]; any two such instants still subtract safely.
  constexpr int64_t kMaxSeconds =
      std::chrono::duration_cast<std::chrono::seconds>(SystemTime::duration::max()).count();
  const int64_t seconds = std::clamp<int64_t>(timegm(&tm), 0, kMaxSeconds);
  return SystemTime(std::chrono::duration_cast<SystemTime::duration>(std::chrono::seconds(seconds)));
}

std::string SerialHex(const X509* x) {
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr);
  if (bn == nullptr) return "";
  char* hex = BN_bn2hex(bn);
  std::string out = hex != nullptr ? AsciiToLower(hex) : "";
  OPENSSL_free(hex);
  BN_free(bn);
  return out;
}

std::string FirstEntry(const X509_NAME* name, int nid) {
  int index = X509_NAME_get_index_by_NID(name, nid, -1);
  if (index < 0) return "";
  return Asn1StringToUtf8(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index)));
}

// rfc822Name SANs first, then every subject emailAddress; exact duplicates dropped.
std::vector<std::string> Emails(X509* x) {
  std::vector<std::string> emails;
  auto add = [&emails](std::string email) {
    if (!email.empty() && std::find(emails.begin(), emails.end(), email) == emails.end()) {
      emails.push_back(std::move(email));
    }
  };
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_EMAIL) add(Asn1StringToUtf8(name->d.rfc822Name));
  }
  GENERAL_NAMES_free(names);
  const X509_NAME* subject = X509_get_subject_name(x);
  for (int i = -1; (i = X509_NAME_get_index_by_NID(subject, NID_pkcs9_emailAddress, i)) >= 0;) {
    add(Asn1StringToUtf8(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i))));
  }
  return emails;
}

std::vector<std::string> ExtendedKeyUsages(X509* x) {
  std::vector<std::string> oids;
  auto* eku =
      static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(x, NID_ext_key_usage, nullptr, nullptr));
  for (int i = 0; eku != nullptr && i < sk_ASN1_OBJECT_num(eku); ++i) {
    char buf[128];
    int len = OBJ_obj2txt(buf, sizeof(buf), sk_ASN1_OBJECT_value(eku, i), /*no_name=*/1);
    if (len > 0 && static_cast<size_t>(len) < sizeof(buf)) oids.emplace_back(buf, len);
  }
  sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
  return oids;
}

KeyUsage KeyUsageOf(X509* x) {
  KeyUsage ku;
  ku.present = (X509_get_extension_flags(x) & EXFLAG_KUSAGE) != 0;
  if (!ku.present) return ku;
  uint32_t bits = X509_get_key_usage(x);
  ku.digital_signature = (bits & KU_DIGITAL_SIGNATURE) != 0;
  ku.key_encipherment = (bits & KU_KEY_ENCIPHERMENT) != 0;
  ku.key_agreement = (bits & KU_KEY_AGREEMENT) != 0;
  ku.key_cert_sign = (bits & KU_KEY_CERT_SIGN) != 0;
  return ku;
}

bool IsCa(X509* x) {
  auto* bc =
      static_cast<BASIC_CONSTRAINTS*>(X509_get_ext_d2i(x, NID_basic_constraints, nullptr, nullptr));
  bool ca = bc != nullptr && bc->ca != 0;
  BASIC_CONSTRAINTS_free(bc);
  return ca;
}

void FillPublicKey(X509* x, Certificate& cert) {
  if (const EVP_PKEY* key = X509_get0_pubkey(x); key != nullptr) {
    switch (EVP_PKEY_get_base_id(key)) {
      case EVP_PKEY_RSA:
      case EVP_PKEY_RSA_PSS:
        cert.key_type = KeyType::kRsa;
        break;
      case EVP_PKEY_EC:
        cert.key_type = KeyType::kEc;
        break;
      default:
        cert.key_type = KeyType::kOther;
    }
    cert.key_bits = EVP_PKEY_get_bits(key);
  }
  unsigned char* spki = nullptr;
  int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
  if (len > 0) cert.public_key_sha256 = DigestHex("SHA256", {spki, static_cast<size_t>(len)});
  OPENSSL_free(spki);
}

void FillSignature(X509* x, Certificate& cert) {
  int sig_nid = X509_get_signature_nid(x);
  if (const char* sn = OBJ_nid2sn(sig_nid); sn != nullptr && sig_nid != NID_undef) {
    cert.signature_algorithm = sn;
  }
  int md_nid = NID_undef;
  if (X509_get_signature_info(x, &md_nid, nullptr, nullptr, nullptr) == 1 && md_nid != NID_undef) {
    if (const char* md = OBJ_nid2sn(md_nid); md != nullptr) {
      cert.signature_digest = AsciiToLower(md);
    }
  }
}

}  // namespace

Result<Certificate> ParseCertificateDer(std::span<const uint8_t> der) {
  X509Ptr x = internal::X509FromDer(der);
  if (x == nullptr) {
    internal::DrainErrors();
    return InvalidArgumentError("not a DER X.509 certificate");
  }
  return internal::CertificateFromX509(std::move(x));
}

namespace internal {

X509Ptr X509Of(const Certificate& cert) {
  if (cert.x509 != nullptr && X509_up_ref(cert.x509.get()) == 1) return X509Ptr(cert.x509.get());
  return X509FromDer(cert.der);
}

Result<Certificate> CertificateFromX509(X509Ptr x) {
  Certificate cert;
  cert.der = ToDer(x.get());
  if (cert.der.empty()) {
    DrainErrors();
    return InvalidArgumentError("the certificate cannot be encoded as DER");
  }
  const std::vector<uint8_t>& der = cert.der;
  const X509_NAME* subject = X509_get_subject_name(x.get());
  const X509_NAME* issuer = X509_get_issuer_name(x.get());
  cert.subject = NameToString(subject);
  cert.issuer = NameToString(issuer);
  cert.common_name = FirstEntry(subject, NID_commonName);
  cert.sha1 = DigestHex("SHA1", der);
  cert.sha256 = DigestHex("SHA256", der);
  cert.serial_hex = SerialHex(x.get());
  cert.not_before = ToSystemTime(X509_get0_notBefore(x.get()));
  cert.not_after = ToSystemTime(X509_get0_notAfter(x.get()));
  cert.is_ca = IsCa(x.get());
  cert.self_issued = X509_NAME_cmp(subject, issuer) == 0;
  FillPublicKey(x.get(), cert);
  FillSignature(x.get(), cert);
  cert.emails = Emails(x.get());
  cert.extended_key_usages = ExtendedKeyUsages(x.get());
  cert.key_usage = KeyUsageOf(x.get());
  cert.subject_key_id = HexOf(X509_get0_subject_key_id(x.get()));
  cert.authority_key_id = HexOf(X509_get0_authority_key_id(x.get()));
  DrainErrors();  // The decoders above may leave benign entries.
  cert.x509 = std::shared_ptr<x509_st>(x.release(), X509_free);
  return cert;
}

}  // namespace internal

Result<std::vector<Certificate>> ParseCertificatesPem(std::string_view pem) {
  static constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  static constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  std::vector<Certificate> certs;
  size_t pos = 0;
  while ((pos = pem.find(kBegin, pos)) != std::string_view::npos) {
    size_t body = pos + kBegin.size();
    size_t end = pem.find(kEnd, body);
    std::string block = "PEM certificate block " + std::to_string(certs.size() + 1);
    if (end == std::string_view::npos) return InvalidArgumentError(block + " has no END line");
    std::optional<std::string> der = Base64Decode(pem.substr(body, end - body), kLenientBase64);
    if (!der) return InvalidArgumentError(block + " is not valid base64");
    Result<Certificate> cert = ParseCertificateDer(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(der->data()), der->size()));
    if (!cert.ok()) return InvalidArgumentError(block + " is not a valid certificate");
    certs.push_back(*std::move(cert));
    pos = end + kEnd.size();
  }
  if (certs.empty()) return InvalidArgumentError("no \"BEGIN CERTIFICATE\" block found");
  return certs;
}

Result<std::vector<Certificate>> LoadCertificatesPemFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgumentError("cannot read PEM file '" + path + "'");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return InvalidArgumentError("cannot read PEM file '" + path + "'");
  Result<std::vector<Certificate>> certs = ParseCertificatesPem(text);
  if (!certs.ok()) return certs.status().WithContext("PEM file '" + path + "'");
  return certs;
}

bool IsSignedBy(const Certificate& subject, const Certificate& issuer) {
  X509Ptr sub = internal::X509Of(subject);
  X509Ptr iss = internal::X509Of(issuer);
  EVP_PKEY* key = iss != nullptr ? X509_get0_pubkey(iss.get()) : nullptr;
  bool ok = sub != nullptr && key != nullptr && X509_verify(sub.get(), key) == 1;
  internal::DrainErrors();
  return ok;
}

std::ostream& operator<<(std::ostream& os, const Certificate& cert) {
  return os << "Certificate{subject=\"" << cert.subject << "\", issuer=\"" << cert.issuer
            << "\", sha1=" << cert.sha1 << ", notAfter=" << FormatRfc3339Utc(cert.not_after) << "}";
}

}  // namespace certdeploy::pkcs
