#include "tests/support/pfx_bombs.h"

#include <openssl/asn1t.h>
#include <openssl/objects.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

namespace certdeploy::testing {
namespace {

void SetIterations(X509_ALGOR* alg, int64_t n) {
  if (OBJ_obj2nid(alg->algorithm) == NID_pbes2) {
    PBE2PARAM* pbe2 = static_cast<PBE2PARAM*>(
        ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), alg->parameter));
    if (pbe2 == nullptr) return;
    PBKDF2PARAM* kdf = static_cast<PBKDF2PARAM*>(
        ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM), pbe2->keyfunc->parameter));
    if (kdf != nullptr) {
      ASN1_INTEGER_set_int64(kdf->iter, n);
      ASN1_TYPE_pack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM), kdf, &pbe2->keyfunc->parameter);
      PBKDF2PARAM_free(kdf);
    }
    ASN1_TYPE_pack_sequence(ASN1_ITEM_rptr(PBE2PARAM), pbe2, &alg->parameter);
    PBE2PARAM_free(pbe2);
    return;
  }
  PBEPARAM* pbe = static_cast<PBEPARAM*>(
      ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBEPARAM), alg->parameter));
  if (pbe == nullptr) return;
  ASN1_INTEGER_set_int64(pbe->iter, n);
  ASN1_TYPE_pack_sequence(ASN1_ITEM_rptr(PBEPARAM), pbe, &alg->parameter);
  PBEPARAM_free(pbe);
}

}  // namespace

std::vector<uint8_t> RewriteIterations(std::span<const uint8_t> pfx,
                                       const IterationRewrite& rewrite) {
  const unsigned char* p = pfx.data();
  PKCS12* p12 = d2i_PKCS12(nullptr, &p, static_cast<long>(pfx.size()));
  if (p12 == nullptr) return {};
  if (rewrite.mac && PKCS12_mac_present(p12)) {
    const ASN1_INTEGER* iterations = nullptr;
    PKCS12_get0_mac(nullptr, nullptr, nullptr, &iterations, p12);
    if (iterations != nullptr) {
      ASN1_INTEGER_set_int64(const_cast<ASN1_INTEGER*>(iterations), *rewrite.mac);
    }
  }
  STACK_OF(PKCS7)* safes = PKCS12_unpack_authsafes(p12);
  for (int i = 0; safes != nullptr && i < sk_PKCS7_num(safes); ++i) {
    PKCS7* p7 = sk_PKCS7_value(safes, i);
    const int type = OBJ_obj2nid(p7->type);
    if (type == NID_pkcs7_encrypted && rewrite.parts) {
      SetIterations(p7->d.encrypted->enc_data->algorithm, *rewrite.parts);
    } else if (type == NID_pkcs7_data && rewrite.keys) {
      STACK_OF(PKCS12_SAFEBAG)* bags = PKCS12_unpack_p7data(p7);
      for (int j = 0; bags != nullptr && j < sk_PKCS12_SAFEBAG_num(bags); ++j) {
        PKCS12_SAFEBAG* bag = sk_PKCS12_SAFEBAG_value(bags, j);
        if (PKCS12_SAFEBAG_get_nid(bag) != NID_pkcs8ShroudedKeyBag) continue;
        X509_ALGOR* alg = nullptr;
        X509_SIG_getm(const_cast<X509_SIG*>(PKCS12_SAFEBAG_get0_pkcs8(bag)), &alg, nullptr);
        if (alg != nullptr) SetIterations(alg, *rewrite.keys);
      }
      PKCS7* repacked = PKCS12_pack_p7data(bags);
      sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
      if (repacked != nullptr) {
        PKCS7_free(p7);
        sk_PKCS7_set(safes, i, repacked);
      }
    }
  }
  if (safes != nullptr) PKCS12_pack_authsafes(p12, safes);
  sk_PKCS7_pop_free(safes, PKCS7_free);
  std::vector<uint8_t> out(static_cast<size_t>(i2d_PKCS12(p12, nullptr)));
  unsigned char* q = out.data();
  i2d_PKCS12(p12, &q);
  PKCS12_free(p12);
  return out;
}

}  // namespace certdeploy::testing
