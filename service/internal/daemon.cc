// Daemon: construction of every part, the dispatch loop, and the graceful stop.

#include "service/daemon.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <optional>
#include <vector>

#include "base/log.h"
#include "base/status_macros.h"
#include "pkcs/certificate.h"
#include "pkcs/seal.h"
#include "http/server.h"
#include "service/api.h"
#include "service/dispatcher.h"
#include "deploy/graph_connection.h"
#include "deploy/groups.h"
#include "deploy/inventory.h"
#include "graph/http_transport.h"
#include "service/internal/drift_repair.h"
#include "service/internal/notifier.h"
#include "service/internal/offboarder.h"
#include "service/internal/throughput.h"
#include "service/internal/webhook_sender.h"
#include "service/metrics.h"
#include "service/scheduler.h"

namespace certdeploy::service {
namespace {

constexpr Duration kMaxBackoff = std::chrono::seconds(30);
constexpr Duration kGraphReadyCache = std::chrono::seconds(15);

std::string MakeOwner(Random& random) {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) std::strcpy(host, "localhost");
  char suffix[9];
  std::snprintf(suffix, sizeof(suffix), "%08x", static_cast<unsigned>(random.Next()));
  return std::string(host) + ":" + std::to_string(getpid()) + ":" + suffix;
}

// The scheme only: a PostgreSQL URL may carry a password.
std::string StoreKind(const std::string& url) { return url.substr(0, url.find(':')); }

}  // namespace

Status DisableCoreDumps() {
  Status result;
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    result = InternalError(std::string("prctl(PR_SET_DUMPABLE, 0): ") + std::strerror(errno));
  }
  rlimit none{0, 0};
  if (setrlimit(RLIMIT_CORE, &none) != 0 && result.ok()) {
    result = InternalError(std::string("setrlimit(RLIMIT_CORE, 0): ") + std::strerror(errno));
  }
  return result;
}

struct Daemon::Parts {
  config::Config config;
  Clock* clock = nullptr;
  Random* random = nullptr;
  std::string owner;
  std::unique_ptr<store::JobStore> store;
  std::optional<pkcs::ConnectorPublicKey> key;
  std::unique_ptr<deploy::GraphConnection> graph;
  Metrics metrics;
  std::unique_ptr<ThroughputHistory> throughput;  // The last hour, for GET /v1/throughput.
  // Webhooks (service.webhooks); all three null without any.
  std::unique_ptr<Notifier> notifier;
  std::unique_ptr<graph::HttpTransport> webhook_transport;
  std::unique_ptr<WebhookSender> webhooks;
  std::unique_ptr<Scheduler> scheduler;
  std::unique_ptr<Dispatcher> dispatcher;
  std::unique_ptr<Offboarder> offboarder;
  std::unique_ptr<Api> api;
  std::unique_ptr<http::Server> server;  // Last: stopped first, it calls into the parts above.
  bool leader = false;
  Duration backoff{0};
  SteadyTime next_inventory{};  // When the leader next reads the certificates for the metrics.
  SteadyTime next_repair{};     // When the leader next repairs drift.

  Mutex ready_mu;
  SteadyTime ready_checked GUARDED_BY(ready_mu) = {};
  Status ready_status GUARDED_BY(ready_mu) = UnavailableError("not checked yet");

  // A Graph token obtainable (and the tenant answering), cached for a few seconds so that
  // probes cannot spend the request budget. Concurrent probes wait for one check.
  Status GraphReady() LOCKS_EXCLUDED(ready_mu) {
    MutexLock lock(ready_mu);
    const SteadyTime now = clock->SteadyNow();
    if (ready_checked != SteadyTime{} && now - ready_checked < kGraphReadyCache) {
      return ready_status;
    }
    Result<graph::GraphResponse> r =
        graph->client().Get("/deviceManagement/deviceConfigurations?$top=1");
    ready_status =
        r.ok() || r.status().code() == StatusCode::kResourceExhausted ? OkStatus() : r.status();
    ready_checked = now;
    return ready_status;
  }
};

Daemon::Daemon(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

Daemon::~Daemon() {
  RequestStop();
  StopAccepting();
}

Result<std::unique_ptr<Daemon>> Daemon::Start(const config::Config& config, Clock& clock,
                                              Random& random,
                                              const store::StoreOptions& store_options) {
  if (!config.service) return InvalidArgumentError("the config has no service: section");
  auto parts = std::make_unique<Parts>();
  parts->config = config;
  parts->clock = &clock;
  parts->random = &random;
  parts->owner = MakeOwner(random);
  const config::ServiceConfig& service = *parts->config.service;
  // First, so that a missing secret stops the start before anything is opened.
  Result<WebhookSecrets> webhook_secrets = ReadWebhookSecrets(service.webhooks);
  if (!webhook_secrets.ok()) return webhook_secrets.status();

  Result<pkcs::ConnectorPublicKey> key =
      pkcs::ConnectorPublicKey::LoadFile(config.connector.public_key_file);
  if (!key.ok()) return Status(key.status()).WithContext("connector.publicKeyFile");
  parts->key = *key;
  std::vector<pkcs::Certificate> trust_bundle;
  if (!config.profiles.trust_bundle.empty()) {
    Result<std::vector<pkcs::Certificate>> bundle =
        pkcs::LoadCertificatesPemFile(config.profiles.trust_bundle);
    if (!bundle.ok()) return Status(bundle.status()).WithContext("profiles.trustBundle");
    trust_bundle = std::move(*bundle);
  }
  Result<std::unique_ptr<deploy::GraphConnection>> graph =
      deploy::GraphConnection::Open(parts->config, clock, random);
  if (!graph.ok()) return graph.status();
  parts->graph = std::move(*graph);
  // Group names in profiles.assignTo become ids once, at start: every plan the daemon makes
  // assigns by id, and a name that matches no group (or several) stops the start.
  Result<std::vector<deploy::GroupResolution>> groups =
      deploy::ResolveGroupNames(parts->graph->intune(), parts->config);
  if (!groups.ok()) return groups.status();
  for (const deploy::GroupResolution& g : *groups) {
    CD_LOG_INFO("certdeploy serve: group '{}' is {}", g.name, g.id);
  }
  Result<std::unique_ptr<store::JobStore>> opened =
      store::OpenJobStore(service.store, clock, store_options);
  if (!opened.ok()) return Status(opened.status()).WithContext("service.store");
  parts->store = std::move(*opened);

  if (!service.webhooks.empty()) {
    // Its own transport: Graph's extra CA (tenant.caFile) is not for the receivers.
    Result<std::unique_ptr<graph::HttpTransport>> transport =
        graph::NewCpprestTransport(graph::TransportOptions{});
    if (!transport.ok()) return Status(transport.status()).WithContext("service.webhooks");
    parts->webhook_transport = std::move(*transport);
    parts->notifier = std::make_unique<Notifier>(service.webhooks, clock);
    parts->webhooks =
        std::make_unique<WebhookSender>(std::move(*webhook_secrets), *parts->store,
                                        *parts->webhook_transport, clock, &parts->metrics);
  }
  parts->scheduler = std::make_unique<Scheduler>(*parts->store, clock, parts->notifier.get());
  DispatcherOptions dispatch;
  dispatch.owner = parts->owner;
  dispatch.lease = service.lease;
  dispatch.batch_size = service.batch_size;
  dispatch.retain_pfx_after_success = service.retain_pfx_after_success;
  dispatch.connector_key_fingerprint = parts->key->fingerprint();
  dispatch.notifier = parts->notifier.get();
  parts->dispatcher = std::make_unique<Dispatcher>(*parts->store, parts->graph->client(),
                                                   parts->config, clock, &parts->metrics, dispatch);
  OffboarderOptions offboard;
  offboard.owner = parts->owner;
  offboard.lease = service.lease;
  if (Notifier* notifier = parts->notifier.get()) {
    offboard.notify = [notifier](std::string_view event, const nlohmann::json& data) {
      return notifier->For(event, data, "");
    };
  }
  parts->offboarder = std::make_unique<Offboarder>(*parts->store, parts->graph->client(),
                                                   parts->config, &parts->metrics, offboard);

  parts->throughput =
      std::make_unique<ThroughputHistory>(parts->config.limits.window, std::chrono::hours(1));
  std::unique_ptr<Daemon> daemon(new Daemon(std::move(parts)));
  Parts& p = *daemon->parts_;
  ApiDeps deps;
  deps.config = &p.config;
  deps.store = p.store.get();
  deps.clock = &clock;
  deps.random = &random;
  deps.connector_key = &*p.key;
  deps.trust_bundle = std::move(trust_bundle);
  deps.graph = &p.graph->client();
  deps.budget = &p.graph->budget();
  deps.metrics = &p.metrics;
  deps.throughput = p.throughput.get();
  deps.graph_ready = [&p] { return p.GraphReady(); };
  Daemon* self = daemon.get();
  deps.wake = [self] { self->Wake(); };
  deps.owner = p.owner;
  deps.notifier = p.notifier.get();
  p.api = std::make_unique<Api>(std::move(deps));

  http::ServerOptions http;
  http.listen = service.listen;
  if (service.tls) {
    http.tls =
        http::TlsOptions{service.tls->cert_file, service.tls->key_file, service.tls->client_ca_file};
  }
  http.body_limit = service.max_body_bytes;
  http.header_limit = service.max_header_bytes;
  http.max_connections_per_client = service.max_connections_per_client;
  http.read_timeout = service.request_timeout;
  http.handshake_timeout = http.read_timeout;
  http.idle_timeout = service.idle_timeout;
  http.handler_threads = service.workers;
  Api* api = p.api.get();
  Result<std::unique_ptr<http::Server>> server =
      http::Server::Start(http, [api](const http::ServerRequest& r) { return api->Handle(r); });
  if (!server.ok()) return Status(server.status()).WithContext("service.listen");
  p.server = std::move(*server);
  CD_LOG_INFO("certdeploy serve: listening on {}, store {}, replica {}", p.server->url(),
              StoreKind(service.store), p.owner);
  return daemon;
}

Result<int> Daemon::HandBackLeases() {
  return parts_->store->HandBackLeases(parts_->owner,
                                       "the daemon stopped before this item finished");
}

std::string Daemon::url() const { return parts_->server ? parts_->server->url() : ""; }

const std::string& Daemon::owner() const { return parts_->owner; }

store::JobStore& Daemon::store() { return *parts_->store; }

void Daemon::Wake() {
  MutexLock lock(mu_);
  woken_ = true;
  wake_.NotifyAll();
}

void Daemon::RequestStop() {
  {
    MutexLock lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  CD_LOG_INFO("certdeploy serve: stopping (in-flight work is finished or handed back)");
  parts_->dispatcher->RequestStop();
  parts_->offboarder->RequestStop();
  wake_.NotifyAll();
}

void Daemon::StopAccepting() {
  std::call_once(stop_accepting_, [this] {
    if (parts_->server) parts_->server->Stop();
  });
}

// Expiry watch: every service.reconcileIntervalSeconds the leader reads the tenant's
// userPfxCertificates (deploy/inventory.h) and exports them by status. A failed read is logged
// and tried again at the next interval; the metrics keep the last good counts.
void Daemon::RefreshCertificateMetricsIfDue() {
  Parts& p = *parts_;
  const Duration interval = p.config.service->reconcile_interval;
  if (interval <= Duration::zero() || p.graph == nullptr) return;
  const SteadyTime now = p.clock->SteadyNow();
  if (p.next_inventory != SteadyTime{} && now < p.next_inventory) return;
  p.next_inventory = now + interval;
  deploy::InventoryOptions options;
  options.now = p.clock->Now();
  options.expiring_days = p.config.pfx.expires_soon_days;
  Result<std::vector<deploy::InventoryRow>> rows =
      deploy::ReadInventory(p.graph->intune(), options);
  if (!rows.ok()) {
    CD_LOG_WARN("expiry watch: reading the tenant's certificates: {}", rows.status());
    return;
  }
  Metrics::CertificateCounts counts;
  for (const deploy::InventoryRow& r : *rows) {
    switch (r.status) {
      case deploy::CertificateStatus::kValid: ++counts.valid; break;
      case deploy::CertificateStatus::kExpiring: ++counts.expiring; break;
      case deploy::CertificateStatus::kExpired: ++counts.expired; continue;
    }
    if (!counts.earliest_expiry || r.expiration < *counts.earliest_expiry) {
      counts.earliest_expiry = r.expiration;
    }
  }
  p.metrics.SetCertificates(counts);
  CD_LOG_INFO("expiry watch: {} certificates, {} expiring within {} days, {} expired",
              rows->size(), counts.expiring, options.expiring_days, counts.expired);
  NotifyExpiring(*rows, options.now);
}

// certificate.expiring: the store drops a notification whose dedupe key it has seen, so each
// receiver hears of a certificate once per threshold however many passes (and restarts) see it.
void Daemon::NotifyExpiring(const std::vector<deploy::InventoryRow>& rows, SystemTime now) {
  Parts& p = *parts_;
  if (p.notifier == nullptr || !p.notifier->Wants("certificate.expiring")) return;
  std::vector<store::Notification> notify;
  for (const deploy::InventoryRow& r : rows) {
    // A superseded certificate was renewed already: nothing to warn about.
    if (!r.superseded_by.empty()) continue;
    std::vector<store::Notification> n = p.notifier->ForExpiring(
        {r.user_principal_name, r.thumbprint, r.intended_purpose, r.expiration}, now);
    notify.insert(notify.end(), std::make_move_iterator(n.begin()),
                  std::make_move_iterator(n.end()));
  }
  if (notify.empty()) return;
  Status s = p.store->EnqueueNotifications(notify);
  if (!s.ok()) CD_LOG_WARN("expiry watch: enqueueing certificate.expiring: {}", s);
}

// Drift repair (drift_repair.h): every service.reconcileIntervalSeconds, on the leader.
void Daemon::RepairDriftIfDue() {
  Parts& p = *parts_;
  const Duration interval = p.config.service->reconcile_interval;
  if (interval <= Duration::zero() || p.graph == nullptr) return;
  const SteadyTime now = p.clock->SteadyNow();
  // Not on the first pass: profiles the first batch just created may not be listed yet.
  if (p.next_repair == SteadyTime{}) {
    p.next_repair = now + interval;
    return;
  }
  if (now < p.next_repair) return;
  p.next_repair = now + interval;
  Result<DriftRepairResult> repaired =
      RepairDrift(*p.store, p.graph->client(), p.config, *p.clock, &p.metrics);
  if (!repaired.ok()) CD_LOG_WARN("drift repair: {}", repaired.status());
}

void Daemon::DeliverWebhooks() {
  Parts& p = *parts_;
  if (p.webhooks == nullptr) return;
  Result<WebhookPassResult> pass = p.webhooks->RunOnce();
  if (!pass.ok()) CD_LOG_WARN("webhooks: reading the outbox: {}", pass.status());
}

Duration Daemon::RunOnce() {
  const Duration wait = DispatchPass();
  SampleThroughput();
  // After the batch, so that the counts include what it imported and its notifications go out.
  if (parts_->leader) {
    RepairDriftIfDue();
    RefreshCertificateMetricsIfDue();
    DeliverWebhooks();
  }
  return wait;
}

void Daemon::SampleThroughput() {
  Parts& p = *parts_;
  p.throughput->Sample(p.clock->Now(), p.graph->budget().Stats(), [&p]() -> int64_t {
    Result<store::ItemSummary> queue = p.store->SummarizeItems({}, 0);
    return queue.ok() ? queue->queued : -1;
  });
}

Duration Daemon::DispatchPass() {
  Parts& p = *parts_;
  const Duration poll = p.config.service->poll;
  bool leader = p.leader && p.store->StillDispatcher();
  if (!leader) {
    Result<bool> won = p.store->TryBecomeDispatcher(p.owner);
    leader = won.ok() && *won;
    if (!won.ok()) CD_LOG_WARN("dispatcher election: {}", won.status());
  }
  if (leader != p.leader) {
    CD_LOG_INFO("replica {} {} the dispatcher", p.owner, leader ? "is now" : "is no longer");
    p.leader = leader;
    p.metrics.SetLeader(leader);
  }
  if (!leader) return poll;

  Result<int> moved = p.scheduler->RunDue();
  if (!moved.ok()) CD_LOG_WARN("scheduler: {}", moved.status());
  // Offboardings first: a leaver's certificates go before anything new is imported.
  Result<int> offboarded = p.offboarder->RunOnce();
  if (!offboarded.ok()) CD_LOG_WARN("offboardings: {}", offboarded.status());
  Result<DispatchResult> ran = p.dispatcher->RunOnce();
  if (!ran.ok()) {
    CD_LOG_WARN("dispatcher: {}", ran.status());
  } else if (ran->progressed()) {
    p.backoff = Duration::zero();
    return Duration::zero();  // More may be waiting.
  } else if (ran->claimed == 0) {
    p.backoff = Duration::zero();
    Result<std::optional<SystemTime>> due = p.scheduler->NextDue();
    if (due.ok() && *due) {
      const Duration until = std::chrono::duration_cast<Duration>(**due - p.clock->Now());
      return std::clamp(until, Duration(std::chrono::milliseconds(10)), poll);
    }
    return poll;
  }
  // Everything went back to the queue (an outage, throttling): back off, up to 30 s.
  p.backoff = std::min<Duration>(kMaxBackoff, p.backoff == Duration::zero() ? poll : p.backoff * 2);
  return p.backoff;
}

void Daemon::Run() {
  for (;;) {
    {
      MutexLock lock(mu_);
      if (stop_) break;
    }
    const Duration wait = RunOnce();
    MutexLock lock(mu_);
    if (wait > Duration::zero()) {
      // Real time: this loop is where the daemon waits for the clock; Wake() and RequestStop()
      // end the wait early.
      const SteadyTime deadline = std::chrono::steady_clock::now() + wait;
      while (!stop_ && !woken_ && wake_.WaitUntil(mu_, deadline)) {
      }
    }
    woken_ = false;
  }
  StopAccepting();
  if (parts_->leader) {
    Status released = parts_->store->ReleaseDispatcher();
    if (!released.ok()) CD_LOG_WARN("releasing the dispatcher role: {}", released);
  }
  CD_LOG_INFO("certdeploy serve: stopped");
}

}  // namespace certdeploy::service
