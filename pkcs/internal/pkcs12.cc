// pkcs/internal/pkcs12.cc: opening a PFX and classifying why it cannot be opened.
//
// The order of the checks is what makes the findings precise: DER decoding (not-pkcs12 vs
// corrupt-pkcs12), then the MAC alone (bad-password), then decryption of the bags
// (corrupt-pkcs12), then key/certificate matching (no-private-key, key-mismatch).

#include "pkcs/pkcs12.h"

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>

#include <algorithm>

#include "base/status_macros.h"
#include "pkcs/internal/openssl_util.h"

namespace certdeploy::pkcs {
namespace {

using internal::EvpPkeyPtr;
using internal::Pkcs12Ptr;
using internal::X509Ptr;
using internal::X509StackPtr;

constexpr std::string_view kNotPkcs12 = "not-pkcs12";
constexpr std::string_view kCorrupt = "corrupt-pkcs12";
constexpr std::string_view kBadPassword = "bad-password";
constexpr std::string_view kNoPrivateKey = "no-private-key";
constexpr std::string_view kKeyMismatch = "key-mismatch";

Status Failure(std::string_view code, std::string message) {
  internal::DrainErrors();  // Leave the thread's error queue clean for the next caller.
  StatusDetails details;
  details.service_code = std::string(code);
  return Status(StatusCode::kInvalidArgument, std::move(message), std::move(details));
}

// Reads a DER length at data[pos] and advances pos; returns false if it does not fit in `size`.
// Sets `length` to -1 for the BER indefinite form.
bool ReadDerLength(std::span<const uint8_t> data, size_t& pos, long long& length) {
  if (pos >= data.size()) return false;
  uint8_t first = data[pos++];
  if (first < 0x80) {
    length = first;
    return true;
  }
  size_t n = first & 0x7f;
  if (n == 0) {
    length = -1;
    return true;
  }
  if (n > 4 || pos + n > data.size()) return false;
  length = 0;
  for (size_t i = 0; i < n; ++i) length = (length << 8) | data[pos++];
  return true;
}

// Called when d2i failed: does the data at least start like a PFX (SEQUENCE { INTEGER 3, ...)?
Status ClassifyUndecodable(std::span<const uint8_t> data) {
  static constexpr std::string_view kPem = "-----BEGIN";
  std::string_view text(reinterpret_cast<const char*>(data.data()),
                        std::min(data.size(), size_t{64}));
  if (text.find(kPem) != std::string_view::npos) {
    return Failure(kNotPkcs12,
                   "not a PKCS#12 (PFX) file: it is PEM text; expected the binary .pfx/.p12 "
                   "export");
  }
  size_t pos = 1;
  long long length = 0;
  if (data[0] == 0x30 && ReadDerLength(data, pos, length) && pos + 3 <= data.size() &&
      data[pos] == 0x02 && data[pos + 1] == 0x01 && data[pos + 2] == 0x03) {
    if (length >= 0 && pos + static_cast<size_t>(length) > data.size()) {
      return Failure(kCorrupt, "the PKCS#12 (PFX) file is truncated: it announces " +
                                   std::to_string(pos + length) + " bytes but has " +
                                   std::to_string(data.size()));
    }
    return Failure(kCorrupt, "the PKCS#12 (PFX) file is damaged: its structure does not decode (" +
                                 internal::DrainErrors() + ")");
  }
  return Failure(kNotPkcs12, "not a PKCS#12 (PFX) file: the data is not a PKCS#12 structure");
}

Pkcs12Ptr Decode(std::span<const uint8_t> data) {
  // Binding the structure to our library context makes the later decryption use the legacy
  // provider too (RC2-40 and friends are not in the default provider in OpenSSL 3).
  PKCS12* p12 = PKCS12_init_ex(NID_pkcs7_data, internal::LibraryContext(), nullptr);
  if (p12 == nullptr) return nullptr;
  const unsigned char* p = data.data();
  // On failure d2i frees the object it was given and sets the pointer to null.
  if (d2i_PKCS12(&p12, &p, static_cast<long>(data.size())) == nullptr) return nullptr;
  return Pkcs12Ptr(p12);
}

bool IsLegacyAlgorithm(const X509_ALGOR* alg) {
  const ASN1_OBJECT* oid = nullptr;
  X509_ALGOR_get0(&oid, nullptr, nullptr, alg);
  return oid != nullptr && OBJ_obj2nid(oid) != NID_pbes2;
}

// True if any encrypted part uses the PKCS#12 PBE algorithms (RC2, RC4, DES, 3DES with SHA-1)
// rather than PBES2. Looks at the encrypted-data content infos and at the shrouded key bags
// stored in plain data content infos, which needs no password.
bool UsesLegacyEncryption(const PKCS12* p12) {
  STACK_OF(PKCS7)* safes = PKCS12_unpack_authsafes(p12);
  bool legacy = false;
  for (int i = 0; safes != nullptr && i < sk_PKCS7_num(safes); ++i) {
    PKCS7* p7 = sk_PKCS7_value(safes, i);
    int type = OBJ_obj2nid(p7->type);
    if (type == NID_pkcs7_encrypted && p7->d.encrypted != nullptr &&
        p7->d.encrypted->enc_data != nullptr) {
      legacy = legacy || IsLegacyAlgorithm(p7->d.encrypted->enc_data->algorithm);
    } else if (type == NID_pkcs7_data) {
      STACK_OF(PKCS12_SAFEBAG)* bags = PKCS12_unpack_p7data(p7);
      for (int j = 0; bags != nullptr && j < sk_PKCS12_SAFEBAG_num(bags); ++j) {
        const PKCS12_SAFEBAG* bag = sk_PKCS12_SAFEBAG_value(bags, j);
        if (PKCS12_SAFEBAG_get_nid(bag) != NID_pkcs8ShroudedKeyBag) continue;
        const X509_ALGOR* alg = nullptr;
        X509_SIG_get0(PKCS12_SAFEBAG_get0_pkcs8(bag), &alg, nullptr);
        legacy = legacy || (alg != nullptr && IsLegacyAlgorithm(alg));
      }
      sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
    }
  }
  sk_PKCS7_pop_free(safes, PKCS7_free);
  ERR_clear_error();
  return legacy;
}

// Checks the MAC alone so that a wrong password is told apart from damaged contents.
Status VerifyMac(PKCS12* p12, const SecretBytes& password, const char* pass) {
  if (!PKCS12_mac_present(p12)) return OkStatus();
  bool ok = false;
  if (password.empty()) {
    // An empty password is ambiguous: exporters encode it either as no password (NULL) or as an
    // empty BMPString; PKCS12_parse accepts both, so we do too.
    ok = PKCS12_verify_mac(p12, nullptr, 0) == 1 || PKCS12_verify_mac(p12, "", 0) == 1;
  } else {
    ok = PKCS12_verify_mac(p12, pass, static_cast<int>(password.size())) == 1;
  }
  if (ok) return OkStatus();
  // A mismatch raises no error; an error means the MAC could not even be computed.
  unsigned long err = ERR_peek_last_error();
  if (err != 0 && ERR_GET_REASON(err) == PKCS12_R_MAC_GENERATION_ERROR) {
    return Failure(kCorrupt, "the PKCS#12 (PFX) integrity check could not be computed (" +
                                 internal::DrainErrors() + ")");
  }
  return Failure(kBadPassword,
                 "wrong password: the PFX integrity (MAC) check failed with the password given "
                 "(if the password is right, the file is damaged)");
}

bool KeyMatches(X509* cert, const EVP_PKEY* key) {
  const EVP_PKEY* pub = X509_get0_pubkey(cert);
  bool match = pub != nullptr && EVP_PKEY_eq(pub, key) == 1;
  ERR_clear_error();
  return match;
}

}  // namespace

Result<Pkcs12Contents> ParsePkcs12(std::span<const uint8_t> pfx, const SecretBytes& password) {
  ERR_clear_error();
  if (pfx.empty()) return Failure(kNotPkcs12, "not a PKCS#12 (PFX) file: it is empty");
  Pkcs12Ptr p12 = Decode(pfx);
  if (p12 == nullptr) return ClassifyUndecodable(pfx);

  if (std::find(password.Reveal().begin(), password.Reveal().end(), 0) != password.Reveal().end()) {
    return Failure(kBadPassword, "the password contains a NUL byte, which PKCS#12 cannot use");
  }
  // OpenSSL wants a C string; keep the copy in zeroizing memory.
  SecretBytes c_password = password.Clone();
  c_password.Append(std::string_view("\0", 1));
  const char* pass = reinterpret_cast<const char*>(c_password.Reveal().data());

  // PKCS12_parse checks the MAC itself; only when it fails is the MAC checked again on its own,
  // to tell a wrong password from damage. (Checking first would run the MAC's key derivation
  // twice for every good file: a third of the work for a modern PFX.)
  EVP_PKEY* raw_key = nullptr;
  X509* raw_cert = nullptr;
  STACK_OF(X509)* raw_ca = nullptr;
  int parsed =
      PKCS12_parse(p12.get(), password.empty() ? nullptr : pass, &raw_key, &raw_cert, &raw_ca);
  // The private key is only needed to find the leaf; EVP_PKEY_free wipes its secret parts.
  EvpPkeyPtr key(raw_key);
  X509Ptr cert(raw_cert);
  X509StackPtr ca(raw_ca);
  if (parsed != 1) {
    const std::string parse_errors = internal::DrainErrors();
    RETURN_IF_ERROR(VerifyMac(p12.get(), password, pass));
    if (!PKCS12_mac_present(p12.get())) {
      return Failure(kBadPassword,
                     "the PFX could not be decrypted with the password given (it has no "
                     "integrity MAC, so a wrong password and damage look the same)");
    }
    std::string message =
        "the PKCS#12 (PFX) contents are damaged or use an algorithm this "
        "build cannot decrypt: ";
    return Failure(kCorrupt, message + parse_errors);
  }

  // Every certificate in file order; PKCS12_parse returns the one matching the key separately.
  std::vector<X509Ptr> all;
  if (cert != nullptr) all.push_back(std::move(cert));
  while (ca != nullptr && sk_X509_num(ca.get()) > 0) all.emplace_back(sk_X509_shift(ca.get()));

  if (key == nullptr) {
    return Failure(kNoPrivateKey, "the PFX contains no private key (" + std::to_string(all.size()) +
                                      " certificate(s) only); export it again with the "
                                      "private key");
  }
  auto leaf_it = std::find_if(all.begin(), all.end(),
                              [&key](const X509Ptr& c) { return KeyMatches(c.get(), key.get()); });
  if (leaf_it == all.end()) {
    return Failure(kKeyMismatch, "the private key in the PFX matches none of its " +
                                     std::to_string(all.size()) + " certificate(s)");
  }
  key.reset();

  Pkcs12Contents contents;
  contents.legacy_encryption = UsesLegacyEncryption(p12.get());
  // The certificates PKCS12_parse decoded are used as they are: decoding them again from DER
  // would cost more than the rest of the parse.
  Result<Certificate> leaf = internal::CertificateFromX509(std::move(*leaf_it));
  if (!leaf.ok()) return Failure(kCorrupt, "the PFX holds a certificate that cannot be decoded");
  contents.leaf = *std::move(leaf);
  for (X509Ptr& c : all) {
    if (c == nullptr) continue;  // The leaf, moved out above.
    Result<Certificate> other = internal::CertificateFromX509(std::move(c));
    if (!other.ok()) {
      return Failure(kCorrupt, "the PFX holds a certificate that cannot be decoded");
    }
    if (other->der == contents.leaf.der) continue;  // The leaf itself, stored twice.
    contents.others.push_back(*std::move(other));
  }
  internal::DrainErrors();
  return contents;
}

std::string_view Pkcs12FailureCode(const Status& status) {
  if (status.ok() || status.details() == nullptr) return "";
  for (std::string_view code : {kNotPkcs12, kCorrupt, kBadPassword, kNoPrivateKey, kKeyMismatch}) {
    if (status.details()->service_code == code) return code;
  }
  return "";
}

}  // namespace certdeploy::pkcs
