// deploy/graph_connection.h: the Graph client stack a command needs, built from the
// config file.
//
// One GraphConnection owns, in construction order: the HTTP transport (cpprestsdk, with
// tenant.caFile added to the trust store), the token source (client credentials: a client secret
// from auth.clientSecretEnv / auth.clientSecretFile, or auth.certificateFile + auth.keyFile),
// the tenant's WriteBudget (limits.writesPer20s / requestsPer20s, with a small window padding),
// the GraphClient and the IntuneApi over it. Nothing is sent until the first request.

#pragma once

#include <memory>

#include "base/clock.h"
#include "base/random.h"
#include "base/result.h"
#include "config/config.h"
#include "graph/graph_client.h"
#include "graph/http_transport.h"
#include "graph/intune.h"
#include "graph/token_source.h"
#include "graph/write_budget.h"

namespace certdeploy::deploy {

struct GraphConnectionOptions {
  // Added to both windows of the WriteBudget: the budget spaces sends, Graph counts arrivals
  // (see graph/write_budget.h). Unset: 1/40 of limits.windowSeconds (0.5 s for Intune's 20 s).
  std::optional<Duration> window_padding;
  // The baseline strategy of `certdeploy apply --serial`, which behaves like Microsoft's
  // PowerShell module for comparison: no client-side pacing, and only 429s are resent (after
  // their Retry-After, 60 s without one); every other failure is final. The caller also runs
  // one request at a time. Never the default: it exists to measure what certdeploy improves.
  bool serial = false;
  // Timeout of one Graph request attempt.
  Duration request_timeout = std::chrono::seconds(30);
  // Optional: told of every resend and every wait for the write budget (the CLI's progress line).
  // Must outlive the connection.
  graph::RequestObserver* observer = nullptr;
};

class GraphConnection {
 public:
  // Builds the stack. Errors (all before any network access): kInvalidArgument naming the config
  // key for an unknown cloud, a bad graphUrl/authorityUrl, an unreadable caFile, a missing
  // client secret (variable unset, file unreadable) or certificate. Secrets never appear in
  // messages. `clock` and `random` must outlive the connection.
  static Result<std::unique_ptr<GraphConnection>> Open(const config::Config& config, Clock& clock,
                                                       Random& random,
                                                       const GraphConnectionOptions& options = {});

  GraphConnection(const GraphConnection&) = delete;
  GraphConnection& operator=(const GraphConnection&) = delete;
  ~GraphConnection();

  // Thread-safe, like the objects they return.
  graph::GraphClient& client() { return *client_; }
  graph::IntuneApi& intune() { return *intune_; }
  graph::WriteBudget& budget() { return *budget_; }

 private:
  GraphConnection() = default;

  // Destroyed in reverse order: each depends on the ones above it.
  std::unique_ptr<graph::HttpTransport> transport_;
  std::unique_ptr<graph::TokenSource> tokens_;
  std::unique_ptr<graph::WriteBudget> budget_;
  std::unique_ptr<graph::GraphClient> client_;
  std::unique_ptr<graph::IntuneApi> intune_;
};

}  // namespace certdeploy::deploy
