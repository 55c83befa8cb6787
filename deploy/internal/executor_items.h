// deploy/internal/executor_items.h: one write action at a time, with read-before-resend.
//
// Used by deploy/internal/executor.cc only. Thread-safe: many workers call ExecuteItem at once
// with a shared ItemContext.

#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "deploy/executor.h"
#include "graph/intune.h"

namespace certdeploy::deploy::internal {

// Ids of the profiles created in this run, by action key, so that their assign actions (planned
// before the profile had an id) can find them.
class CreatedProfiles {
 public:
  void Set(const std::string& key, const std::string& id);
  std::optional<std::string> Get(const std::string& key) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string> ids_;  // Guarded by mu_.
};

struct ItemContext {
  graph::GraphClient& client;
  graph::IntuneApi& intune;
  const ExecutorOptions& options;
  CreatedProfiles& created;
};

// What a write cost: requests sent, and whether its effect was established by a read.
struct Tally {
  int sent = 0;
  bool reconciled = false;
  std::vector<std::string> request_ids;  // Of the answered DELETEs (ItemResult::request_ids).
};

// Sends a write up to `max_attempts` times. After kUnknownOutcome (or, when `verify_refusal`, a
// 409 or 400) it calls `applied` to read whether the write took effect: yes -> done (reconciled);
// no -> resend (a refusal that reads as absent is a failure); the read failed -> fail without
// resending. Transient failures known not to be applied are retried too. Once `stop` (optional,
// ExecutorOptions::stop) is set nothing is resent: the item fails, and a resumed run sends it.
Status Write(int max_attempts, const std::atomic<bool>* stop, const std::function<Status()>& send,
             const std::function<Result<bool>()>& applied, bool verify_refusal, Tally& tally);

// Outlook app configuration policies (executor_outlook.cc): create, PATCH of the S/MIME keys
// (read-modify-write: other keys are kept), /assign.
Status CreateAppConfiguration(const Action& a, ItemContext& ctx, Tally& tally, std::string& id);
Status UpdateAppConfiguration(const Action& a, ItemContext& ctx, Tally& tally);
Status AssignAppConfiguration(const Action& a, ItemContext& ctx, Tally& tally, std::string& id);

// Executes one write action (create trusted / imported profile, assign, import or delete a user
// PFX record). Never throws; the result carries the failure.
ItemResult ExecuteItem(const Action& action, ItemContext& ctx);

}  // namespace certdeploy::deploy::internal
