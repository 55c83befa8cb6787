// Group display names -> object ids, through Graph's group list.

#include "deploy/groups.h"

#include <map>

#include "base/strings.h"

namespace certdeploy::deploy {

Result<std::vector<GroupResolution>> ResolveGroupNames(graph::IntuneApi& intune,
                                                       config::Config& config) {
  std::vector<GroupResolution> resolved;
  std::map<std::string, std::string> id_of;  // Name -> id, for names given twice.
  auto resolve = [&](std::vector<std::string>& entries, const char* key) -> Status {
    for (std::string& entry : entries) {
      if (IsGuid(entry)) continue;
      auto known = id_of.find(entry);
      if (known != id_of.end()) {
        entry = known->second;
        continue;
      }
      Result<std::vector<graph::Group>> groups = intune.FindGroupsByDisplayName(entry);
      if (!groups.ok()) {
        return Status(groups.status())
            .WithContext("resolving the group name '" + entry + "' of profiles.assignTo." + key +
                         " (the app needs GroupMember.Read.All to resolve names; or give the "
                         "group's object id)");
      }
      const std::string where = config.path + ": profiles.assignTo." + key + ": ";
      if (groups->empty()) {
        return InvalidArgumentError(where + "no group is named '" + entry +
                                    "' (0 matches); give the group's exact display name or "
                                    "its object id");
      }
      if (groups->size() > 1) {
        std::string ids;
        for (const graph::Group& g : *groups) ids += (ids.empty() ? "" : ", ") + g.id;
        return InvalidArgumentError(where + std::to_string(groups->size()) +
                                    " groups are named '" + entry + "' (" + ids +
                                    "); give the object id of the one you mean");
      }
      const std::string id = AsciiToLower(groups->front().id);
      resolved.push_back({entry, id});
      id_of[entry] = id;
      entry = id;
    }
    return OkStatus();
  };
  config::AssignTo& assign_to = config.profiles.assign_to;
  if (Status s = resolve(assign_to.groups, "groups"); !s.ok()) return s;
  if (Status s = resolve(assign_to.exclude_groups, "excludeGroups"); !s.ok()) return s;
  return resolved;
}

}  // namespace certdeploy::deploy
