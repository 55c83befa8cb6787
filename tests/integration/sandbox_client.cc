#include "tests/integration/sandbox_client.h"

#include <gtest/gtest.h>

#include "base/encoding.h"
#include "base/file.h"
#include "base/random.h"
#include "pkcs/pkcs12.h"
#include "pkcs/seal.h"

namespace certdeploy::testing {

Sandbox::Sandbox(std::vector<std::string> extra, std::string listen) {
  std::vector<std::string> argv = {CERTDEPLOY_BINARY, "sandbox",      "--listen",
                                   listen,            "--connector-key", kPkiDir + "/connector.key",
                                   "--client-id",     kClientId,      "--client-secret-env",
                                   "SANDBOX_SECRET"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  process_ = std::make_unique<BackgroundProcess>(
      argv, std::map<std::string, std::string>{{"SANDBOX_SECRET", kSandboxSecret}});
  url_ = process_->ReadLine();
  transport_ = std::move(*graph::NewCpprestTransport({}));
}

nlohmann::json Sandbox::Inspect(const std::string& what) {
  graph::HttpRequest request;
  request.method = "GET";
  request.url = url_ + "/_sandbox/" + what;
  Result<graph::HttpResponse> response = transport_->Send(request, std::chrono::seconds(10));
  if (!response.ok() || response->status != 200) return nullptr;
  return nlohmann::json::parse(response->body, nullptr, false);
}

GraphStack::GraphStack(const std::string& url, const ClientOptions& options) {
  transport = std::move(*graph::NewCpprestTransport({}));
  graph::ClientCredentialsOptions token_options;
  token_options.authority_url = url;
  token_options.graph_url = url;
  token_options.tenant_id = "contoso.onmicrosoft.com";
  token_options.client_id = kClientId;
  token_options.client_secret.emplace(kSandboxSecret);
  tokens = std::move(*graph::NewClientCredentialsTokenSource(std::move(token_options), *transport,
                                                             RealClock(), RealRandom()));
  graph::WriteBudgetOptions limits;
  limits.max_writes = options.max_writes;
  limits.write_window = options.write_window;
  limits.window_padding = options.window_padding;
  budget = std::make_unique<graph::WriteBudget>(limits, RealClock());
  graph::GraphClientOptions client_options;
  client_options.graph_url = url;
  client_options.retry.max_attempts = options.max_attempts;
  client_options.retry.base_delay = std::chrono::milliseconds(100);
  client_options.request_timeout = std::chrono::seconds(20);
  client = graph::NewGraphClient(client_options, *transport, *tokens, *budget, RealClock(),
                                 RealRandom());
  api = std::make_unique<graph::IntuneApi>(*client);
}

graph::UserPfxCertificate AliceRecordFor(const std::string& upn) {
  static const std::string pfx = *ReadFile(kPkiDir + "/alice.pfx");
  static const pkcs::Pkcs12Contents contents = *pkcs::ParsePkcs12(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(pfx.data()), pfx.size()),
      *ReadSecretFile(kPkiDir + "/password.txt"));
  static const pkcs::ConnectorPublicKey key = *pkcs::ConnectorPublicKey::LoadFile(kPkiDir + "/connector.pub");
  graph::UserPfxCertificate r;
  r.thumbprint = contents.leaf.sha1;
  r.intended_purpose = graph::UserPfxIntendedPurpose::kSmimeEncryption;
  r.user_principal_name = upn;
  r.start_date_time = contents.leaf.not_before;
  r.expiration_date_time = contents.leaf.not_after;
  r.provider_name = "Microsoft Software Key Storage Provider";
  r.key_name = "PFXEncryptionKey";
  r.padding_scheme = graph::UserPfxPaddingScheme::kOaepSha512;
  r.encrypted_pfx_blob = Base64Encode(pfx);
  r.encrypted_pfx_password =
      *pkcs::SealPassword(*ReadSecretFile(kPkiDir + "/password.txt"), key, pkcs::PaddingScheme::kOaepSha512);
  return r;
}

}  // namespace certdeploy::testing
