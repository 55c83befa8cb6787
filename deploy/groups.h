// deploy/groups.h: the config's group display names resolved to object ids through Graph.
//
// profiles.assignTo.groups and excludeGroups accept an Entra group's object id (a GUID) or its
// display name (config::ValidateGroupReference checks the form at load). Intune assigns by id
// only, so `plan`, `apply` and the daemon resolve every name before anything is planned, and
// from then on see ids only: the plan shows them and the writes use them.
//
//   ASSIGN_OR_RETURN(std::vector<GroupResolution> names, ResolveGroupNames(intune, config));
//
// Reads only (one GET per distinct name; none when every entry is an id).

#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "config/config.h"
#include "graph/intune.h"

namespace certdeploy::deploy {

struct GroupResolution {
  std::string name;  // As written in the config.
  std::string id;    // The one group of that display name (lower case).
};

// Replaces each display name in config.profiles.assign_to by its group's id and returns what it
// resolved, in config order, each distinct name once. A name must match exactly one group.
// Errors: kInvalidArgument (a config problem) naming the config file, the key, the name and
// the number of groups that carry it, when that is not one; the Graph error otherwise, with
// context saying the app needs GroupMember.Read.All.
Result<std::vector<GroupResolution>> ResolveGroupNames(graph::IntuneApi& intune,
                                                       config::Config& config);

}  // namespace certdeploy::deploy
