// pkcs/internal/pkcs12.cc: opening a PFX and classifying why it cannot be opened.
//
// The order of the checks is what makes the findings precise: DER decoding (not-pkcs12 vs
// corrupt-pkcs12), then the key-derivation work the file asks for (excessive-iterations, before
// any derivation runs), then the MAC alone (bad-password), then decryption of the bags
// (corrupt-pkcs12), then key/certificate matching (no-private-key, key-mismatch).
//
// The bags are walked here rather than by PKCS12_parse so that every key derivation's iteration
// count is checked before that derivation runs: PKCS12_parse would run whatever the file says
// (a MAC iteration count of 2^31-1 costs minutes of CPU). The walk follows PKCS#12 v1.1 (RFC
// 7292) as PKCS12_parse does: the first private key is used, X.509 certificate bags are
// collected in file order, nested safe-contents bags are followed.

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

struct Pkcs7StackDeleter {
  void operator()(STACK_OF(PKCS7) * s) const { sk_PKCS7_pop_free(s, PKCS7_free); }
};
struct SafeBagStackDeleter {
  void operator()(STACK_OF(PKCS12_SAFEBAG) * s) const {
    sk_PKCS12_SAFEBAG_pop_free(s, PKCS12_SAFEBAG_free);
  }
};

constexpr std::string_view kNotPkcs12 = "not-pkcs12";
constexpr std::string_view kCorrupt = "corrupt-pkcs12";
constexpr std::string_view kBadPassword = "bad-password";
constexpr std::string_view kNoPrivateKey = "no-private-key";
constexpr std::string_view kKeyMismatch = "key-mismatch";
constexpr std::string_view kExcessive = "excessive-iterations";

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

// ---- Key-derivation work (pkcs12.h, kMaxKdfIterations) ----

// The iteration count of an ASN.1 INTEGER, or -1 when it is negative or does not fit.
int64_t IterationsOf(const ASN1_INTEGER* value) {
  if (value == nullptr) return 1;  // DEFAULT 1 (the MAC's iterations field, RFC 7292 4).
  int64_t out = 0;
  if (ASN1_INTEGER_get_int64(&out, value) != 1) return -1;
  return out;
}

// The key derivations decrypting with `alg` runs: `derivations` runs of `iterations` each.
struct KdfCost {
  int64_t iterations = 1;  // <= 0: not a positive number (refused as damage).
  int derivations = 1;
};

// PBKDF2's count for PBES2 (RFC 8018 A.4; one derivation), the PKCS#12 PBE count for the legacy
// algorithms (RFC 7292 appendix C; two derivations, key and IV), a cost-equivalent for scrypt
// (RFC 7914: N * r * p block mixes). Algorithms without a password KDF count as one iteration
// (their decryption fails later with a precise error).
KdfCost KdfCostOf(const X509_ALGOR* alg) {
  const ASN1_OBJECT* oid = nullptr;
  const void* param = nullptr;
  int param_type = 0;
  X509_ALGOR_get0(&oid, &param_type, &param, alg);
  if (oid == nullptr || param_type != V_ASN1_SEQUENCE) return {};
  const ASN1_TYPE* type = alg->parameter;
  const int nid = OBJ_obj2nid(oid);
  if (nid == NID_pbes2) {
    std::unique_ptr<PBE2PARAM, internal::Deleter<PBE2PARAM_free>> pbe2(
        static_cast<PBE2PARAM*>(ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), type)));
    if (pbe2 == nullptr || pbe2->keyfunc == nullptr || pbe2->keyfunc->parameter == nullptr) {
      return {};
    }
    const int kdf = OBJ_obj2nid(pbe2->keyfunc->algorithm);
    if (kdf == NID_id_pbkdf2) {
      std::unique_ptr<PBKDF2PARAM, internal::Deleter<PBKDF2PARAM_free>> pbkdf2(
          static_cast<PBKDF2PARAM*>(ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM),
                                                              pbe2->keyfunc->parameter)));
      if (pbkdf2 == nullptr) return {};
      return {IterationsOf(pbkdf2->iter), 1};
    }
    if (kdf == NID_id_scrypt) {
      std::unique_ptr<SCRYPT_PARAMS, internal::Deleter<SCRYPT_PARAMS_free>> scrypt(
          static_cast<SCRYPT_PARAMS*>(ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(SCRYPT_PARAMS),
                                                                pbe2->keyfunc->parameter)));
      if (scrypt == nullptr) return {};
      const int64_t n = IterationsOf(scrypt->costParameter);
      const int64_t r = IterationsOf(scrypt->blockSize);
      const int64_t p = IterationsOf(scrypt->parallelizationParameter);
      if (n <= 0 || r <= 0 || p <= 0 || n > (int64_t{1} << 24) || r > 1024 || p > 1024) {
        return {-1, 1};
      }
      return {n * r * p, 1};  // At most 2^44: no overflow.
    }
    return {};
  }
  std::unique_ptr<PBEPARAM, internal::Deleter<PBEPARAM_free>> pbe(
      static_cast<PBEPARAM*>(ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBEPARAM), type)));
  if (pbe == nullptr) return {};
  return {IterationsOf(pbe->iter), 2};
}

// Counts the key-derivation iterations of one file against the limits of pkcs12.h.
class KdfBudget {
 public:
  // `count` derivations of `iterations` each are about to run for `what`.
  Status Charge(KdfCost cost, std::string_view what) { return Charge(cost.iterations, cost.derivations, what); }
  Status Charge(int64_t iterations, int count, std::string_view what) {
    if (iterations <= 0) {
      return Failure(kCorrupt, "the PFX's " + std::string(what) +
                                   " has an iteration count that is not a positive number");
    }
    if (iterations > kMaxKdfIterations) {
      return Failure(kExcessive,
                     "the PFX's " + std::string(what) + " asks for " + std::to_string(iterations) +
                         " key-derivation iterations; certdeploy accepts at most " +
                         std::to_string(kMaxKdfIterations) +
                         " (Windows, macOS, OpenSSL and Java export 2,000 to 600,000)");
    }
    total_ += iterations * count;
    if (total_ > kMaxTotalKdfIterations) {
      return Failure(kExcessive, "the PFX asks for more than " +
                                     std::to_string(kMaxTotalKdfIterations) +
                                     " key-derivation iterations in all (MAC and every "
                                     "encrypted part together)");
    }
    return OkStatus();
  }
  // One more bag; too many is refused (a file of thousands of tiny bags is work too).
  Status CountBag() {
    if (++bags_ > kMaxBags) {
      return Failure(kExcessive, "the PFX holds more than " + std::to_string(kMaxBags) + " bags");
    }
    return OkStatus();
  }

 private:
  int64_t total_ = 0;
  int bags_ = 0;
};

// Charges the shrouded keys among `bags` (and nested bags), counting every bag.
Status ChargeKeys(const STACK_OF(PKCS12_SAFEBAG) * bags, KdfBudget& budget, int depth) {
  if (bags == nullptr) return OkStatus();
  if (depth > kMaxBagNesting) {
    return Failure(kExcessive, "the PFX nests its bags more than " +
                                   std::to_string(kMaxBagNesting) + " levels deep");
  }
  for (int i = 0; i < sk_PKCS12_SAFEBAG_num(bags); ++i) {
    const PKCS12_SAFEBAG* bag = sk_PKCS12_SAFEBAG_value(bags, i);
    RETURN_IF_ERROR(budget.CountBag());
    switch (PKCS12_SAFEBAG_get_nid(bag)) {
      case NID_pkcs8ShroudedKeyBag: {
        const X509_ALGOR* alg = nullptr;
        X509_SIG_get0(PKCS12_SAFEBAG_get0_pkcs8(bag), &alg, nullptr);
        if (alg != nullptr) {
          RETURN_IF_ERROR(budget.Charge(KdfCostOf(alg), "encrypted private key"));
        }
        break;
      }
      case NID_safeContentsBag:
        RETURN_IF_ERROR(ChargeKeys(PKCS12_SAFEBAG_get0_safes(bag), budget, depth + 1));
        break;
      default:
        break;
    }
  }
  return OkStatus();
}

// Charges every derivation that can be seen without the password: the MAC, each encrypted
// part and each shrouded key in a plain part. (Keys inside encrypted parts are charged when
// those parts have been decrypted, before the keys are.)
Status ChargeVisible(const PKCS12* p12, bool empty_password, KdfBudget& budget) {
  if (PKCS12_mac_present(p12)) {
    const ASN1_INTEGER* iterations = nullptr;
    PKCS12_get0_mac(nullptr, nullptr, nullptr, &iterations, p12);
    // An empty password is tried both as no password and as an empty one (see VerifyMac).
    RETURN_IF_ERROR(budget.Charge(IterationsOf(iterations), empty_password ? 2 : 1,
                                  "integrity MAC"));
  }
  std::unique_ptr<STACK_OF(PKCS7), Pkcs7StackDeleter> safes(PKCS12_unpack_authsafes(p12));
  if (safes == nullptr) return Failure(kCorrupt, "the PKCS#12 (PFX) file is damaged: " +
                                                     internal::DrainErrors());
  for (int i = 0; i < sk_PKCS7_num(safes.get()); ++i) {
    PKCS7* p7 = sk_PKCS7_value(safes.get(), i);
    RETURN_IF_ERROR(budget.CountBag());
    const int type = OBJ_obj2nid(p7->type);
    if (type == NID_pkcs7_encrypted && p7->d.encrypted != nullptr &&
        p7->d.encrypted->enc_data != nullptr) {
      RETURN_IF_ERROR(budget.Charge(KdfCostOf(p7->d.encrypted->enc_data->algorithm),
                                    "encrypted certificate part"));
    } else if (type == NID_pkcs7_data) {
      std::unique_ptr<STACK_OF(PKCS12_SAFEBAG), SafeBagStackDeleter> bags(
          PKCS12_unpack_p7data(p7));
      RETURN_IF_ERROR(ChargeKeys(bags.get(), budget, 0));
    }
  }
  return OkStatus();
}

// Checks the MAC. An empty password is ambiguous: exporters encode it either as no password
// (NULL) or as an empty BMPString; like PKCS12_parse we accept both and return which one
// matched in `pass` (nullptr or ""), which then decrypts the bags. A file without a MAC is
// opened with no password when the password is empty.
Status VerifyMac(PKCS12* p12, const SecretBytes& password, const char*& pass) {
  if (!PKCS12_mac_present(p12)) {
    if (password.empty()) pass = nullptr;
    return OkStatus();
  }
  bool ok = false;
  if (password.empty()) {
    if (PKCS12_verify_mac(p12, nullptr, 0) == 1) {
      ok = true;
      pass = nullptr;
    } else if (PKCS12_verify_mac(p12, "", 0) == 1) {
      ok = true;
      pass = "";
    }
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

// What the walk over the bags finds.
struct Opened {
  EvpPkeyPtr key;              // The first private key.
  std::vector<X509Ptr> certs;  // Every X.509 certificate, in file order.
};

// A bag that should decrypt or decode did not: with a MAC that verified, the password is right,
// so the contents are damaged or use an algorithm this build cannot decrypt.
Status Undecryptable(bool has_mac, std::string_view what) {
  if (!has_mac) {
    return Failure(kBadPassword,
                   "the PFX could not be decrypted with the password given (it has no "
                   "integrity MAC, so a wrong password and damage look the same)");
  }
  return Failure(kCorrupt, "the PKCS#12 (PFX) contents are damaged or use an algorithm this "
                           "build cannot decrypt: " + std::string(what) + " (" +
                               internal::DrainErrors() + ")");
}

Status WalkBags(const STACK_OF(PKCS12_SAFEBAG) * bags, const char* pass, bool has_mac,
                int depth, Opened& out) {
  for (int i = 0; bags != nullptr && i < sk_PKCS12_SAFEBAG_num(bags); ++i) {
    const PKCS12_SAFEBAG* bag = sk_PKCS12_SAFEBAG_value(bags, i);
    switch (PKCS12_SAFEBAG_get_nid(bag)) {
      case NID_keyBag:
        if (out.key != nullptr) break;
        out.key.reset(EVP_PKCS82PKEY_ex(PKCS12_SAFEBAG_get0_p8inf(bag),
                                        internal::LibraryContext(), nullptr));
        if (out.key == nullptr) return Undecryptable(has_mac, "the private key");
        break;
      case NID_pkcs8ShroudedKeyBag: {
        if (out.key != nullptr) break;  // Only the first key is used; the rest stay sealed.
        PKCS8_PRIV_KEY_INFO* p8 =
            PKCS12_decrypt_skey_ex(bag, pass, -1, internal::LibraryContext(), nullptr);
        if (p8 == nullptr) return Undecryptable(has_mac, "the private key");
        out.key.reset(EVP_PKCS82PKEY_ex(p8, internal::LibraryContext(), nullptr));
        PKCS8_PRIV_KEY_INFO_free(p8);  // Wipes the key bytes.
        if (out.key == nullptr) return Undecryptable(has_mac, "the private key");
        break;
      }
      case NID_certBag: {
        if (PKCS12_SAFEBAG_get_bag_nid(bag) != NID_x509Certificate) break;
        X509Ptr cert(PKCS12_SAFEBAG_get1_cert(bag));
        if (cert == nullptr) return Undecryptable(has_mac, "a certificate");
        out.certs.push_back(std::move(cert));
        break;
      }
      case NID_safeContentsBag:
        RETURN_IF_ERROR(WalkBags(PKCS12_SAFEBAG_get0_safes(bag), pass, has_mac, depth + 1, out));
        break;
      default:
        break;
    }
  }
  return OkStatus();
}

// Decrypts the encrypted parts (after charging the keys they hide) and walks every bag.
Status WalkSafes(const PKCS12* p12, const char* pass, KdfBudget& budget, Opened& out) {
  const bool has_mac = PKCS12_mac_present(p12) == 1;
  std::unique_ptr<STACK_OF(PKCS7), Pkcs7StackDeleter> safes(PKCS12_unpack_authsafes(p12));
  if (safes == nullptr) return Undecryptable(has_mac, "the list of parts");
  for (int i = 0; i < sk_PKCS7_num(safes.get()); ++i) {
    PKCS7* p7 = sk_PKCS7_value(safes.get(), i);
    const int type = OBJ_obj2nid(p7->type);
    std::unique_ptr<STACK_OF(PKCS12_SAFEBAG), SafeBagStackDeleter> bags;
    if (type == NID_pkcs7_data) {
      bags.reset(PKCS12_unpack_p7data(p7));
    } else if (type == NID_pkcs7_encrypted) {
      bags.reset(PKCS12_unpack_p7encdata(p7, pass, -1));
      if (bags != nullptr) RETURN_IF_ERROR(ChargeKeys(bags.get(), budget, 0));
    } else {
      continue;  // Enveloped (public-key) parts are not used by PFX exports.
    }
    if (bags == nullptr) return Undecryptable(has_mac, "an encrypted part");
    RETURN_IF_ERROR(WalkBags(bags.get(), pass, has_mac, 0, out));
  }
  return OkStatus();
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

  // Nothing is derived before the work the file asks for is known to be within bounds.
  KdfBudget budget;
  RETURN_IF_ERROR(ChargeVisible(p12.get(), password.empty(), budget));
  RETURN_IF_ERROR(VerifyMac(p12.get(), password, pass));
  Opened opened;
  RETURN_IF_ERROR(WalkSafes(p12.get(), pass, budget, opened));
  EvpPkeyPtr key = std::move(opened.key);  // Only used to find the leaf; freeing wipes it.

  std::vector<X509Ptr> all = std::move(opened.certs);

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
  // The certificates the walk decoded are used as they are: decoding them again from DER would
  // cost more than the rest of the parse.
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
  for (std::string_view code :
       {kNotPkcs12, kCorrupt, kBadPassword, kNoPrivateKey, kKeyMismatch, kExcessive}) {
    if (status.details()->service_code == code) return code;
  }
  return "";
}

}  // namespace certdeploy::pkcs
