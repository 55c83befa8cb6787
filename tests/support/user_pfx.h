// tests/support/user_pfx.h: user PFX files made on the fly under the test PKI's issuing CA.
//
// The test PKI (scripts/make_test_pki.sh) has a fixed set of users. End-to-end tests and the
// benchmarks need any number of them: UserPfxFactory issues a fresh S/MIME end-entity
// certificate per call (the PKI's issuing CA signs it; every call shares alice's key, only the
// certificates differ) and packs it with the PKI's cross-signed chain, password password.txt,
// with OpenSSL 3's default (AES-256-CBC, PBKDF2) PKCS#12 algorithms.
//
//   ASSIGN_OR_RETURN(UserPfxFactory factory, UserPfxFactory::Load(pki_dir));
//   ASSIGN_OR_RETURN(std::string der, factory.Make({"ann@contoso.com"}, /*serial=*/1000));
//
// A certificate may carry several addresses (one rfc822Name SAN each), so that many users can
// share one PFX in a synthetic manifest.

#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/status_macros.h"

namespace certdeploy::testing {

class UserPfxFactory {
 public:
  // Reads ca.key, alice.key, chain.pem (issuing CA first) and password.txt from `pki_dir`.
  // kInvalidArgument naming the file when one is missing or unreadable.
  static Result<UserPfxFactory> Load(const std::string& pki_dir);

  UserPfxFactory(UserPfxFactory&&) noexcept;
  UserPfxFactory& operator=(UserPfxFactory&&) noexcept;
  ~UserPfxFactory();

  // The DER bytes of a PFX for `emails` (at least one): subject CN "User <local part>" and
  // emailAddress of the first address, one rfc822Name SAN per address, EKU emailProtection and
  // clientAuth, valid from a day ago for a year, serial `serial`.
  Result<std::string> Make(const std::vector<std::string>& emails, long serial) const;

  // The PFX password (the PKI's password.txt).
  const std::string& password() const;

 private:
  struct Material;
  explicit UserPfxFactory(std::unique_ptr<Material> material);
  std::unique_ptr<Material> material_;
};

}  // namespace certdeploy::testing
