#include "sandbox/internal/connector.h"

#include <span>

#include "pkcs/pkcs12.h"
#include "pkcs/seal.h"

namespace certdeploy::sandbox::internal {

struct Connector::Impl {
  std::optional<pkcs::ConnectorPrivateKey> key;
};

Connector::Connector(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Connector::~Connector() = default;

Result<std::unique_ptr<Connector>> Connector::Load(const std::string& key_file) {
  auto impl = std::make_unique<Impl>();
  if (!key_file.empty()) {
    Result<pkcs::ConnectorPrivateKey> key = pkcs::ConnectorPrivateKey::LoadFile(key_file);
    if (!key.ok()) return key.status().WithContext("connector key " + key_file);
    impl->key = std::move(key).value();
  }
  return std::unique_ptr<Connector>(new Connector(std::move(impl)));
}

std::variant<ConnectorFacts, std::string> Connector::Open(const std::string& pfx_bytes,
                                                          const std::string& sealed_password_b64,
                                                          const std::string& padding_scheme) const {
  if (!impl_->key.has_value()) return std::string(kReasonNoKey);
  Result<pkcs::PaddingScheme> scheme = pkcs::ParsePaddingScheme(padding_scheme);
  if (!scheme.ok()) return std::string(kReasonPassword);
  Result<SecretBytes> password = pkcs::UnsealPassword(sealed_password_b64, *impl_->key, *scheme);
  if (!password.ok()) return std::string(kReasonPassword);
  std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(pfx_bytes.data()),
                                 pfx_bytes.size());
  Result<pkcs::Pkcs12Contents> contents = pkcs::ParsePkcs12(bytes, *password);
  if (!contents.ok()) return std::string(kReasonPfx);
  return ConnectorFacts{contents->leaf.sha1, contents->leaf.not_before, contents->leaf.not_after};
}

}  // namespace certdeploy::sandbox::internal
