// ExecutePlan: phases in apply order, each run with ParallelFor, progress and the report.

#include "deploy/executor.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <set>

#include "base/parallel_for.h"
#include "base/strings.h"
#include "deploy/internal/executor_items.h"

namespace certdeploy::deploy {
namespace {

struct Phase {
  const char* name;
  std::vector<ActionKind> kinds;
};

// Trusted profiles are trust anchors the PFX profiles rely on, assignments need the profile ids,
// and deletes of superseded records come after the imports that supersede them.
const Phase kPhases[] = {
    {"trusted profiles", {ActionKind::kCreateTrustedProfile}},
    {"imported-PFX profiles", {ActionKind::kCreateImportedPfxProfile, ActionKind::kUpdateProfile}},
    {"app configurations",
     {ActionKind::kCreateAppConfiguration, ActionKind::kUpdateAppConfiguration}},
    {"assignments", {ActionKind::kAssignProfile}},
    {"user PFX", {ActionKind::kImportUserPfx, ActionKind::kUpdateUserPfx}},
    {"user PFX", {ActionKind::kDeleteUserPfx}},
};

bool IsWrite(ActionKind kind) {
  return kind == ActionKind::kCreateTrustedProfile ||
         kind == ActionKind::kCreateImportedPfxProfile || kind == ActionKind::kUpdateProfile ||
         kind == ActionKind::kCreateAppConfiguration ||
         kind == ActionKind::kUpdateAppConfiguration || kind == ActionKind::kAssignProfile ||
         kind == ActionKind::kImportUserPfx || kind == ActionKind::kUpdateUserPfx ||
         kind == ActionKind::kDeleteUserPfx;
}

std::string UserPurpose(const Action& a) {
  return AsciiToLower(a.upn) + "/" + std::string(pkcs::PurposeName(a.purpose));
}

class Runner {
 public:
  Runner(const Plan& plan, graph::GraphClient& client, const ExecutorOptions& options)
      : plan_(plan), options_(options), intune_(client), ctx_{client, intune_, options_, created_} {
    for (const Action& a : plan.actions) progress_.total += IsWrite(a.kind) ? 1 : 0;
  }

  ExecutionReport Run() {
    std::map<size_t, ItemResult> results;
    for (const Phase& phase : kPhases) {
      std::vector<size_t> items;
      for (size_t i = 0; i < plan_.actions.size(); ++i) {
        const ActionKind kind = plan_.actions[i].kind;
        if (std::find(phase.kinds.begin(), phase.kinds.end(), kind) != phase.kinds.end()) {
          items.push_back(i);
        }
      }
      if (items.empty()) continue;
      RunPhase(phase.name, items, results);
    }
    ExecutionReport report;
    for (auto& [index, result] : results) report.items.push_back(std::move(result));
    return report;
  }

 private:
  void RunPhase(const char* name, const std::vector<size_t>& items,
                std::map<size_t, ItemResult>& results) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      progress_.phase = name;
    }
    std::vector<ItemResult> out(items.size());
    ParallelFor(items.size(), options_.concurrency, [&](size_t k) {
      out[k] = RunOne(plan_.actions[items[k]]);
      out[k].action_index = items[k];
      Report(out[k]);
    });
    for (size_t k = 0; k < items.size(); ++k) {
      const Action& a = plan_.actions[items[k]];
      if (a.kind == ActionKind::kImportUserPfx && !out[k].ok) {
        failed_imports_.insert(UserPurpose(a));
      }
      results[items[k]] = std::move(out[k]);
    }
  }

  ItemResult RunOne(const Action& a) {
    if (options_.stop != nullptr && options_.stop->load()) {
      ItemResult skipped;
      skipped.kind = a.kind;
      skipped.key = a.key;
      skipped.description = a.description;
      skipped.not_run = true;
      skipped.status = CancelledError("not started: the run was interrupted");
      return skipped;
    }
    if (a.kind == ActionKind::kDeleteUserPfx && failed_imports_.count(UserPurpose(a))) {
      // The record is superseded only once its successor is in: keep it.
      ItemResult blocked;
      blocked.kind = a.kind;
      blocked.key = a.key;
      blocked.description = a.description;
      blocked.object_id = a.record_id;
      blocked.status = FailedPreconditionError(
          "not deleted: the import of the certificate that supersedes it failed");
      return blocked;
    }
    return internal::ExecuteItem(a, ctx_);
  }

  void Report(const ItemResult& r) {
    if (r.not_run) return;
    std::lock_guard<std::mutex> lock(mu_);
    (r.ok ? progress_.succeeded : progress_.failed)++;
    if (options_.on_progress) options_.on_progress(progress_);
  }

  const Plan& plan_;
  const ExecutorOptions& options_;
  graph::IntuneApi intune_;
  internal::CreatedProfiles created_;
  internal::ItemContext ctx_;
  std::set<std::string> failed_imports_;  // Written between phases only.
  std::mutex mu_;
  ExecutionProgress progress_;  // Guarded by mu_.
};

}  // namespace

PasswordSealer ConnectorSealer(pkcs::ConnectorPublicKey key, pkcs::PaddingScheme scheme) {
  return [key = std::move(key), scheme](const SecretBytes& password) {
    return pkcs::SealPassword(password, key, scheme);
  };
}

ExecutorOptions ExecutorOptionsFromConfig(const config::Config& config) {
  ExecutorOptions options;
  options.concurrency = config.limits.concurrency;
  options.provider_name = config.connector.provider_name;
  options.key_name = config.connector.key_name;
  options.padding_scheme = config.connector.padding;
  return options;
}

int ExecutionReport::succeeded() const {
  return static_cast<int>(
      std::count_if(items.begin(), items.end(), [](const ItemResult& r) { return r.ok; }));
}

int ExecutionReport::failed() const {
  return static_cast<int>(items.size()) - succeeded() - not_run();
}

int ExecutionReport::not_run() const {
  return static_cast<int>(
      std::count_if(items.begin(), items.end(), [](const ItemResult& r) { return r.not_run; }));
}

int ExecutionReport::reconciled() const {
  return static_cast<int>(std::count_if(items.begin(), items.end(),
                                        [](const ItemResult& r) { return r.ok && r.reconciled; }));
}

ExecutionReport ExecutePlan(const Plan& plan, graph::GraphClient& client,
                            const ExecutorOptions& options) {
  return Runner(plan, client, options).Run();
}

}  // namespace certdeploy::deploy
