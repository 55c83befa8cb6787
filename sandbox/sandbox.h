// sandbox/sandbox.h: a strict local fake Intune tenant ("certdeploy sandbox").
//
// The sandbox imitates the parts of Microsoft Graph and Entra ID that certdeploy talks to, as
// strictly as the real services (see ../shared/reference/graph-intune.md): the v2.0 token endpoint
// (client secret or JWT client assertion), bearer checks, user lookup, deviceConfigurations
// (trusted root and imported-PFX profiles, /assign, /assignments), userPfxCertificates, the
// store apps and app configuration policies of deviceAppManagement (for Outlook's S/MIME
// settings), and $batch.
// It also plays the on-premises PFX connector: every imported record must decrypt and open with
// the connector private key, or it is refused with 400 exactly as a record the real connector
// could not use. It adds what a test needs and Graph never gives: a sliding-window write budget
// answering 429 + Retry-After, injected latency and latency spikes, random 503s, random 429s
// beyond the budget, random "drop after commit" faults, and inspection endpoints
// (GET /_sandbox/state, GET /_sandbox/stats, POST /_sandbox/reset), and a way to play the devices
// that report into a profile's deviceStatuses (POST /_sandbox/deviceStatuses).
//
// Two ways to use it:
//
//   // Pure logic, no sockets (unit tests):
//   ASSIGN_OR_RETURN(auto tenant, SandboxTenant::Create(options, clock, random));
//   http::ServerResponse r = tenant->Handle(request);
//
//   // Served over HTTP on loopback (integration tests, demo, `certdeploy sandbox`):
//   ASSIGN_OR_RETURN(auto server, SandboxServer::Start(options, RealClock(), random));
//   graph_options.graph_url = server->url();       // "http://127.0.0.1:41234"
//
// Users directory: with `users_file` set, only the listed users exist. Without it, EVERY
// syntactically valid UPN ("local@domain.tld") exists, so a demo needs no setup. Either way each
// user's id is a stable GUID derived from the lower-cased UPN (SHA-256, formatted as a GUID), and
// lookups are case-insensitive.
//
// Wire contract summary (full detail in sandbox/README.md):
//   POST /{tenant}/oauth2/v2.0/token                        (no bearer)
//   GET  /{v1.0|beta}/users/{upn-or-id}, /beta/users?$filter=userPrincipalName eq '...'
//   GET  /{v1.0|beta}/groups/{id}, /{v1.0|beta}/groups?$filter=displayName eq '...'
//   /beta/deviceManagement/deviceConfigurations[/{id}[/assign|/assignments]]
//     .../{id}/deviceStatuses[/{statusId}]   GET only (paged), 404 for an unknown profile
//   /beta/deviceManagement/userPfxCertificates[/{id} | ('{id}') | ({id})]
//   /{v1.0|beta}/deviceAppManagement/mobileApps[/{id} | ('{id}')]
//       GET (paged), POST 201, PATCH 200 + object, DELETE 204. Types: #microsoft.graph.iosStoreApp
//       (displayName, publisher, bundleId required), #microsoft.graph.androidManagedStoreApp
//       (beta only; displayName, publisher, packageId required).
//   /{v1.0|beta}/deviceAppManagement/mobileAppConfigurations[/{id} | ('{id}')]
//       GET (paged, $expand=assignments), POST 201, PATCH 200 + object (version+1, @odata.type
//       may not change), DELETE 204. Types: #microsoft.graph.iosMobileAppConfiguration,
//       #microsoft.graph.androidManagedStoreAppConfiguration (beta only); displayName required;
//       every targetedMobileApps id must be an existing app of the same platform (else 400).
//     .../{id}/assign, .../{id}/microsoft.graph.managedDeviceMobileAppConfiguration/assign
//       POST {"assignments":[...]} replaces the set, 204 No Content.
//     .../{id}/assignments[/{assignmentId}]   GET (paged)
//   Enum literals of the app types are matched ignoring case and answered in camelCase.
//   POST /{v1.0|beta}/$batch                                (<= 20 requests, dependsOn supported)
//   GET /_sandbox/state, GET /_sandbox/stats, POST /_sandbox/reset   (no bearer, no budget)
//   POST /_sandbox/deviceStatuses  {"configurationId","userPrincipalName","deviceDisplayName",
//                                   "status", ...}: a device reports for a profile (README)

#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/random.h"
#include "base/result.h"
#include "base/secret.h"
#include "http/server.h"

namespace certdeploy::sandbox {

struct SandboxOptions {
  // host:port to listen on (RunSandbox / SandboxServer only). Port 0 picks a free port.
  std::string listen = "127.0.0.1:0";
  // PEM (PKCS#8 or PKCS#1) RSA private key of the simulated PFX connector. When empty, the tenant
  // still starts but refuses every userPfxCertificate write ("connector: no key configured"):
  // the sandbox never accepts a record it could not check.
  std::string connector_key_file;
  // Users directory: one UPN per line ('#' comments and blank lines ignored), or a CSV whose
  // header has a userPrincipalName column (a certdeploy manifest works). Empty: every valid UPN.
  std::string users_file;
  // Groups of the directory (GET /groups, found by id or `$filter=displayName eq '...'`): one
  // per line, "<display name>" or "<guid>,<display name>" (see sandbox/README.md). Empty: none.
  std::string groups_file;
  // When non-empty, the token endpoint requires this client_id (and assertions iss/sub).
  std::string client_id;
  // Client secret accepted by the token endpoint. Compared in constant time; never logged.
  std::optional<SecretBytes> client_secret;
  // PEM certificate of the app registration: JWT client assertions must be signed by its key and
  // carry its x5t#S256 (or x5t) thumbprint.
  std::string app_cert_file;
  // Added to every Graph/token response (slept in the handler thread, outside any lock).
  std::chrono::milliseconds latency{0};
  // Sliding-window write budget: at most write_limit writes (POST/PATCH/PUT/DELETE, $batch items
  // included) in any `window`; beyond it 429 TooManyRequests + Retry-After. 0 disables.
  int write_limit = 100;
  std::chrono::seconds window{20};
  // Same for all requests (reads and writes). 0 disables.
  int request_limit = 1000;
  // Probability of a 503 before processing (nothing applied; Retry-After sometimes absent).
  double fail_rate = 0;
  // Probability that a successful write is applied and then its response dropped (connection
  // closed without answer): the client cannot know the outcome.
  double drop_rate = 0;
  // Probability that a successful create (a POST answered 201) is answered 201 with an empty
  // object instead of the created entity: nothing documents which fields a 201 carries, so a
  // client must cope with one that carries none (it finds the id by reading).
  double bare_rate = 0;
  // Probability that a Graph request (each $batch item on its own) is answered 429
  // TooManyRequests with Retry-After 1-2 s (never more than `window`) whatever the write budget
  // says: Intune throttles "beyond the budget" when its service is busy. Nothing is applied and
  // no budget slot is taken. Counted in `throttled` and `injected_throttles`.
  double throttle_rate = 0;
  // Probability that a Graph or token response is delayed by `spike_latency` on top of `latency`
  // (slept like it, outside any lock). Counted in `latency_spikes`.
  double spike_rate = 0;
  std::chrono::milliseconds spike_latency{0};
  // Server-side page size of every collection; $top is honoured up to this.
  int page_size = 10;
  // Append-only JSON-lines journal of mutations, replayed at start. Empty: in memory only.
  // Holds no secrets: neither encryptedPfxBlob nor encryptedPfxPassword is persisted.
  std::string state_file;
  // Seed of the sandbox's own generator (RunSandbox only); 0 seeds from the OS.
  uint64_t seed = 0;
  // expires_in of issued access tokens.
  std::chrono::seconds token_lifetime{3599};
  // Handler threads of the HTTP server (RunSandbox / SandboxServer); keep it large when latency
  // is injected, since each sleeping request holds a thread.
  int handler_threads = 64;
  // Seed the tenant (at start and on every /_sandbox/reset) with Outlook for iOS
  // (#microsoft.graph.iosStoreApp, bundleId com.microsoft.Office.Outlook, id
  // 0071ee10-0105-4000-8000-000000000001) and Outlook for Android
  // (#microsoft.graph.androidManagedStoreApp, packageId com.microsoft.office.outlook, id
  // 0071ee10-0ad0-4000-8000-000000000002), as a tenant that added both from the stores. Seeding
  // is not a write: it takes no budget, counts in no statistic and is not journaled.
  bool outlook_apps = true;
};

// Counters since start (or the last /_sandbox/reset). JSON names in brackets.
struct SandboxStats {
  uint64_t requests = 0;  // [requests] HTTP requests to Graph and token paths ($batch = 1).
  // [requestsByStatus] status -> count, over every HTTP response AND every $batch item response.
  std::map<int, uint64_t> requests_by_status;
  uint64_t batch_items = 0;     // [batchItems]
  uint64_t writes = 0;          // [writes] writes admitted by the write budget.
  uint64_t writes_applied = 0;  // [writesApplied] writes that changed state (2xx).
  uint64_t throttled = 0;       // [throttled] 429s (top-level and per item).
  uint64_t duplicates = 0;      // [duplicates] PFX re-creates (409) + duplicate trusted roots.
  std::map<std::string, uint64_t> rejections;  // [rejections] reason -> count (4xx refusals).
  int peak_concurrency = 0;                    // [peakConcurrency] max in-flight requests.
  int max_writes_per_window = 0;  // [maxWritesPerWindow] max admitted writes in any window.
  // [maxWriteAttemptsPerWindow] max writes received in any window, throttled ones included: a
  // client that paces itself within the budget keeps this <= write_limit (and throttled at 0).
  int max_write_attempts_per_window = 0;
  uint64_t dropped = 0;             // [dropped] responses dropped after commit.
  uint64_t bare_answers = 0;        // [bareAnswers] 201s answered with an empty object.
  uint64_t injected_failures = 0;   // [injectedFailures] random 503s.
  uint64_t injected_throttles = 0;  // [injectedThrottles] random 429s (also in `throttled`).
  uint64_t latency_spikes = 0;      // [latencySpikes] responses delayed by `spike_latency`.
  uint64_t tokens_issued = 0;       // [tokensIssued]
  uint64_t auth_failures = 0;       // [authFailures] token endpoint refusals and bearer 401s.
};

// The tenant as a pure request -> response function. Thread-safe: the HTTP server calls Handle
// from many threads at once.
class SandboxTenant {
 public:
  virtual ~SandboxTenant() = default;
  SandboxTenant(const SandboxTenant&) = delete;
  SandboxTenant& operator=(const SandboxTenant&) = delete;

  // Loads the connector key, users file, app certificate and replays the state journal.
  // InvalidArgument naming the file on a bad input; DataLoss if the journal is corrupt anywhere
  // but in its last line (a torn last line is dropped and the file truncated before appending).
  // `clock` and `random` must outlive the tenant.
  static Result<std::unique_ptr<SandboxTenant>> Create(const SandboxOptions& options, Clock& clock,
                                                       Random& random);

  // Answers one request. Request fields used: method, target (or path + query when target is
  // empty), headers, body. Never throws.
  virtual http::ServerResponse Handle(const http::ServerRequest& request) = 0;

  // {"deviceConfigurations":[... each with "assignments":[...] and, when a device reported,
  //  "deviceStatuses":[...]], "userPfxCertificates":[...],
  //  "mobileApps":[...], "mobileAppConfigurations":[... each with "assignments":[...]]}, each in
  // creation order as /beta renders it, secrets masked as Graph masks them. Same as
  // GET /_sandbox/state.
  virtual nlohmann::json State() const = 0;
  virtual SandboxStats Stats() const = 0;
  // Same as GET /_sandbox/stats.
  virtual nlohmann::json StatsJson() const = 0;

 protected:
  SandboxTenant() = default;
};

// A tenant served by http::Server on options.listen (plain HTTP, loopback).
class SandboxServer {
 public:
  virtual ~SandboxServer() = default;
  SandboxServer(const SandboxServer&) = delete;
  SandboxServer& operator=(const SandboxServer&) = delete;

  // Creates the tenant and starts listening. `clock` and `random` must outlive the server.
  static Result<std::unique_ptr<SandboxServer>> Start(const SandboxOptions& options, Clock& clock,
                                                      Random& random);

  // "http://127.0.0.1:PORT": the Graph root (append "/beta/...") and the authority root (append
  // "/{tenant}/oauth2/v2.0/token").
  virtual std::string url() const = 0;
  virtual SandboxTenant& tenant() = 0;
  // Drains in-flight requests and stops. Idempotent; also done by the destructor.
  virtual void Stop() = 0;

 protected:
  SandboxServer() = default;
};

}  // namespace certdeploy::sandbox
