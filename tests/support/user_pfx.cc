#include "tests/support/user_pfx.h"

#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <sstream>

namespace certdeploy::testing {
namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using NamePtr = std::unique_ptr<X509_NAME, Deleter<X509_NAME, X509_NAME_free>>;
using P12Ptr = std::unique_ptr<PKCS12, Deleter<PKCS12, PKCS12_free>>;

void FreeCerts(STACK_OF(X509) * s) { sk_X509_pop_free(s, X509_free); }
using StackPtr = std::unique_ptr<STACK_OF(X509), Deleter<STACK_OF(X509), FreeCerts>>;

Result<std::string> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgumentError("test PKI file missing: " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Result<KeyPtr> LoadKey(const std::string& path) {
  ASSIGN_OR_RETURN(std::string pem, ReadAll(path));
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  KeyPtr key(PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  if (!key) return InvalidArgumentError("not a PEM private key: " + path);
  return key;
}

bool AddExt(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str());
  if (ext == nullptr) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

}  // namespace

struct UserPfxFactory::Material {
  KeyPtr ca_key;
  KeyPtr user_key;
  StackPtr chain;  // Issuing CA first.
  std::string password;
};

UserPfxFactory::UserPfxFactory(std::unique_ptr<Material> material)
    : material_(std::move(material)) {}
UserPfxFactory::UserPfxFactory(UserPfxFactory&&) noexcept = default;
UserPfxFactory& UserPfxFactory::operator=(UserPfxFactory&&) noexcept = default;
UserPfxFactory::~UserPfxFactory() = default;

Result<UserPfxFactory> UserPfxFactory::Load(const std::string& pki_dir) {
  auto m = std::make_unique<Material>();
  ASSIGN_OR_RETURN(m->ca_key, LoadKey(pki_dir + "/ca.key"));
  ASSIGN_OR_RETURN(m->user_key, LoadKey(pki_dir + "/alice.key"));
  ASSIGN_OR_RETURN(std::string chain_pem, ReadAll(pki_dir + "/chain.pem"));
  ASSIGN_OR_RETURN(m->password, ReadAll(pki_dir + "/password.txt"));
  m->chain.reset(sk_X509_new_null());
  BIO* bio = BIO_new_mem_buf(chain_pem.data(), static_cast<int>(chain_pem.size()));
  while (X509* c = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) sk_X509_push(m->chain.get(), c);
  BIO_free(bio);
  if (sk_X509_num(m->chain.get()) == 0) {
    return InvalidArgumentError("no certificates in " + pki_dir + "/chain.pem");
  }
  return UserPfxFactory(std::move(m));
}

const std::string& UserPfxFactory::password() const { return material_->password; }

Result<std::string> UserPfxFactory::Make(const std::vector<std::string>& emails,
                                         long serial) const {
  if (emails.empty()) return InvalidArgumentError("a user PFX needs at least one address");
  X509* ca = sk_X509_value(material_->chain.get(), 0);
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  NamePtr name(X509_NAME_new());
  const std::string& email = emails.front();
  auto add = [&](const char* field, const std::string& v) {
    X509_NAME_add_entry_by_txt(name.get(), field, MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(v.c_str()), -1, -1, 0);
  };
  add("C", "US");
  add("O", "Contoso");
  add("CN", "User " + email.substr(0, email.find('@')));
  add("emailAddress", email);
  X509_set_subject_name(cert.get(), name.get());
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -86400);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 86400);
  X509_set_pubkey(cert.get(), material_->user_key.get());
  std::string san;
  for (const std::string& e : emails) san += (san.empty() ? "email:" : ",email:") + e;
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, ca, cert.get(), nullptr, nullptr, 0);
  bool ok = AddExt(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE") &&
            AddExt(cert.get(), &ctx, NID_key_usage, "critical,digitalSignature,keyEncipherment") &&
            AddExt(cert.get(), &ctx, NID_ext_key_usage, "emailProtection,clientAuth") &&
            AddExt(cert.get(), &ctx, NID_subject_key_identifier, "hash") &&
            AddExt(cert.get(), &ctx, NID_authority_key_identifier, "keyid") &&
            AddExt(cert.get(), &ctx, NID_subject_alt_name, san);
  if (!ok || X509_sign(cert.get(), material_->ca_key.get(), EVP_sha256()) == 0) {
    return InternalError("could not issue a certificate for " + email);
  }
  P12Ptr p12(PKCS12_create(material_->password.c_str(), email.c_str(),
                           material_->user_key.get(), cert.get(), material_->chain.get(), 0, 0,
                           0, 0, 0));
  unsigned char* der = nullptr;
  const int length = p12 ? i2d_PKCS12(p12.get(), &der) : -1;
  if (length <= 0) return InternalError("could not pack a PFX for " + email);
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);
  return out;
}

}  // namespace certdeploy::testing
