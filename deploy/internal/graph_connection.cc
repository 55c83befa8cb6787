// Building the Graph client stack from the config file.

#include "deploy/graph_connection.h"

#include <algorithm>
#include <limits>

#include "base/file.h"
#include "base/status_macros.h"
#include "graph/cloud.h"

namespace certdeploy::deploy {
namespace {

Result<graph::ClientCredentialsOptions> TokenOptions(const config::Config& config,
                                                     const graph::Endpoints& endpoints) {
  graph::ClientCredentialsOptions o;
  o.authority_url = endpoints.authority_url;
  o.graph_url = endpoints.graph_url;
  o.tenant_id = config.tenant.id;
  o.client_id = config.auth.client_id;
  const config::AuthConfig& auth = config.auth;
  if (!auth.client_secret_env.empty()) {
    Result<SecretBytes> secret = ReadSecretEnv(auth.client_secret_env);
    if (!secret.ok()) return Status(secret.status()).WithContext("auth.clientSecretEnv");
    o.client_secret = std::move(*secret);
  } else if (!auth.client_secret_file.empty()) {
    Result<SecretBytes> secret = ReadSecretFile(auth.client_secret_file);
    if (!secret.ok()) return Status(secret.status()).WithContext("auth.clientSecretFile");
    o.client_secret = std::move(*secret);
  } else if (!auth.certificate_file.empty()) {
    Result<graph::ClientCertificateCredential> cert =
        graph::LoadClientCertificateFiles(auth.certificate_file, auth.key_file);
    if (!cert.ok()) return Status(cert.status()).WithContext("auth.certificateFile/keyFile");
    o.certificate = std::move(*cert);
  } else {
    return InvalidArgumentError(
        "auth: no credential (clientSecretEnv, clientSecretFile, or certificateFile + keyFile)");
  }
  return o;
}

}  // namespace

GraphConnection::~GraphConnection() = default;

Result<std::unique_ptr<GraphConnection>> GraphConnection::Open(
    const config::Config& config, Clock& clock, Random& random,
    const GraphConnectionOptions& options) {
  Result<graph::Cloud> cloud = graph::ParseCloud(config.tenant.cloud);
  if (!cloud.ok()) return Status(cloud.status()).WithContext("tenant.cloud");
  Result<graph::Endpoints> endpoints = graph::ResolveEndpoints(
      *cloud, {.graph_url = config.tenant.graph_url, .authority_url = config.tenant.authority_url});
  if (!endpoints.ok()) return Status(endpoints.status()).WithContext("tenant");

  std::unique_ptr<GraphConnection> c(new GraphConnection());
  graph::TransportOptions transport;
  transport.extra_ca_file = config.tenant.ca_file;
  transport.thread_pool_size = static_cast<size_t>(std::max(4, config.limits.concurrency));
  Result<std::unique_ptr<graph::HttpTransport>> http = graph::NewCpprestTransport(transport);
  if (!http.ok()) return Status(http.status()).WithContext("tenant.caFile");
  c->transport_ = std::move(*http);

  ASSIGN_OR_RETURN(graph::ClientCredentialsOptions token_options, TokenOptions(config, *endpoints));
  Result<std::unique_ptr<graph::TokenSource>> tokens = graph::NewClientCredentialsTokenSource(
      std::move(token_options), *c->transport_, clock, random);
  if (!tokens.ok()) return Status(tokens.status()).WithContext("auth");
  c->tokens_ = std::move(*tokens);

  graph::WriteBudgetOptions limits;
  const Duration window = config.limits.window;
  limits.max_writes = config.limits.writes_per_20s;
  limits.max_requests = config.limits.requests_per_20s;
  limits.write_window = window;
  limits.request_window = window;
  limits.window_padding = options.window_padding.value_or(window / 40);
  if (options.serial) {
    // No pacing at all: the serial baseline learns about the budget from 429s only.
    limits.max_writes = std::numeric_limits<int>::max();
    limits.max_requests = std::numeric_limits<int>::max();
    limits.window_padding = Duration::zero();
  }
  limits.observer = options.observer;
  c->budget_ = std::make_unique<graph::WriteBudget>(limits, clock);

  graph::GraphClientOptions client_options;
  client_options.graph_url = endpoints->graph_url;
  client_options.request_timeout = options.request_timeout;
  client_options.observer = options.observer;
  if (options.serial) {
    client_options.retry.throttling_only = true;
    client_options.retry.max_attempts = 1000;  // The module has no cap; keep a finite one.
    client_options.retry.total_deadline = std::chrono::hours(24);
  }
  c->client_ = graph::NewGraphClient(client_options, *c->transport_, *c->tokens_, *c->budget_,
                                     clock, random);
  c->intune_ = std::make_unique<graph::IntuneApi>(*c->client_);
  return c;
}

}  // namespace certdeploy::deploy
