// connector_key_fuzzer: the Intune PFX connector's key files. The input is read as a connector
// public key (PEM SubjectPublicKeyInfo, PEM PKCS#1 or a CNG RSAPUBLICBLOB, as
// ConnectorPublicKey::Parse detects) and as a connector private key (PEM PKCS#8 or PKCS#1). A
// key that loads must seal a password; a private key must also open what its public half sealed.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "pkcs/seal.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace certdeploy::pkcs;
  const std::span<const uint8_t> bytes(data, size);
  const certdeploy::SecretBytes password{std::string_view("Test-Pa55word!")};
  // The scheme varies with the input so that all three OAEP hashes are exercised.
  const PaddingScheme scheme = static_cast<PaddingScheme>(size % 3);

  if (certdeploy::Result<ConnectorPublicKey> key = ConnectorPublicKey::Parse(bytes); key.ok()) {
    CD_FUZZ_CHECK(key->bits() >= 2048);
    CD_FUZZ_CHECK(key->fingerprint().size() == 64);
    CD_FUZZ_CHECK(ConnectorPublicKey::Parse(std::span<const uint8_t>(
                      reinterpret_cast<const uint8_t*>(key->ToPem().data()), key->ToPem().size()))
                      .ok());
    certdeploy::Result<std::string> sealed = SealPassword(password, *key, scheme);
    CD_FUZZ_CHECK(sealed.ok());
    CD_FUZZ_CHECK(!sealed->empty());
  }

  if (certdeploy::Result<ConnectorPrivateKey> key = ConnectorPrivateKey::Parse(bytes); key.ok()) {
    const ConnectorPublicKey pub = key->PublicKey();
    CD_FUZZ_CHECK(pub.bits() >= 2048);
    certdeploy::Result<std::string> sealed = SealPassword(password, pub, scheme);
    CD_FUZZ_CHECK(sealed.ok());
    certdeploy::Result<certdeploy::SecretBytes> opened = UnsealPassword(*sealed, *key, scheme);
    CD_FUZZ_CHECK(opened.ok());
    CD_FUZZ_CHECK(opened->RevealAsString() == password.RevealAsString());
  }
  return 0;
}
