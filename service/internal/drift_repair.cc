#include "service/internal/drift_repair.h"

#include <vector>

#include "base/encoding.h"
#include "base/log.h"
#include "deploy/desired_state.h"
#include "deploy/executor.h"
#include "deploy/observe.h"
#include "deploy/plan.h"
#include "graph/intune.h"
#include "service/internal/status_fields.h"
#include "pkcs/certificate.h"
#include "pkcs/chain.h"
#include "pkcs/validate.h"

namespace certdeploy::service {
namespace {

Result<std::vector<pkcs::ChainElement>> DecodeCas(const std::vector<store::DeployedCa>& cas) {
  std::vector<pkcs::ChainElement> out;
  for (const store::DeployedCa& ca : cas) {
    std::optional<std::string> der = Base64Decode(ca.der_base64, kLenientBase64);
    if (!der) return DataLossError("stored deployed CA " + ca.thumbprint + " is not base64");
    Result<pkcs::Certificate> cert = pkcs::ParseCertificateDer(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(der->data()), der->size()));
    if (!cert.ok()) {
      return DataLossError("stored deployed CA " + ca.thumbprint + " does not decode: " +
                           std::string(cert.status().message()));
    }
    pkcs::ChainElement e;
    e.cert = std::move(*cert);
    e.role = ca.root ? pkcs::ChainRole::kRoot : pkcs::ChainRole::kIntermediate;
    e.self_signed = ca.self_signed;
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

Result<DriftRepairResult> RepairDrift(store::JobStore& store, graph::GraphClient& graph,
                                      const config::Config& config, Clock& clock,
                                      Metrics* metrics) {
  Result<std::vector<store::DeployedCa>> stored = store.ListDeployedCas();
  if (!stored.ok()) return stored.status();
  Result<std::vector<std::string>> purpose_names = store.ListDeployedPurposes();
  if (!purpose_names.ok()) return purpose_names.status();
  DriftRepairResult result;
  if (stored->empty() && purpose_names->empty()) return result;  // Nothing deployed yet.
  Result<std::vector<pkcs::ChainElement>> cas = DecodeCas(*stored);
  if (!cas.ok()) return cas.status();
  std::vector<pkcs::Purpose> purposes;
  for (const std::string& name : *purpose_names) {
    Result<pkcs::Purpose> p = pkcs::ParsePurpose(name);
    if (p.ok()) purposes.push_back(*p);
  }
  graph::IntuneApi intune(graph);
  Result<deploy::ObservedState> observed =
      deploy::ReadObservedState(intune, {}, deploy::ObserveOptionsFor(config));
  if (!observed.ok()) return observed.status().WithContext("reading the tenant");
  const deploy::Plan full = deploy::ComputePlan(
      deploy::AssembleProfileState(config, *cas, std::move(purposes)), *observed, clock.Now());
  deploy::Plan writes = full;
  writes.actions.clear();
  for (const deploy::Action& a : full.actions) {
    if (a.kind == deploy::ActionKind::kInvalid) {
      CD_LOG_WARN("drift repair: {}", a.description);
    } else if (deploy::IsProfileAction(a.kind) && a.kind != deploy::ActionKind::kUnchangedProfile) {
      writes.actions.push_back(a);
    }
  }
  if (writes.actions.empty()) return result;
  CD_LOG_WARN("drift repair: {} profile write(s) to restore what the tenant lost",
              writes.actions.size());
  const deploy::ExecutionReport report =
      deploy::ExecutePlan(writes, graph, deploy::ExecutorOptionsFromConfig(config));
  for (const deploy::ItemResult& r : report.items) {
    const std::string kind(deploy::ActionKindName(r.kind));
    store::AuditRecord audit{.action = "repair",
                             .outcome = r.ok ? "succeeded"
                                             : "failed: " + std::string(StatusCodeName(
                                                                r.status.code())),
                             .request_ids = RequestId(r.status),
                             .detail = kind + " " + r.description};
    if (Result<int64_t> id = store.AppendAudit(audit); !id.ok()) {
      CD_LOG_WARN("drift repair: audit record: {}", id.status());
    }
    if (r.ok) {
      ++result.repaired;
      if (metrics != nullptr) metrics->CountDriftRepair(kind);
      CD_LOG_INFO("drift repair: {} {}", kind, r.description);
    } else {
      ++result.failed;
      CD_LOG_WARN("drift repair: {} {}: {}", kind, r.description, r.status);
    }
  }
  return result;
}

}  // namespace certdeploy::service
