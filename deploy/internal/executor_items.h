// deploy/internal/executor_items.h: one write action at a time, with read-before-resend.
//
// Used by deploy/internal/executor.cc only. Thread-safe: many workers call ExecuteItem at once
// with a shared ItemContext.

#pragma once

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

// Executes one write action (create trusted / imported profile, assign, import or delete a user
// PFX record). Never throws; the result carries the failure.
ItemResult ExecuteItem(const Action& action, ItemContext& ctx);

}  // namespace certdeploy::deploy::internal
