// deploy/plan.h: a plan is the reviewed list of actions `apply` will execute.
//
// ComputePlan is pure: desired state + observed state + now -> actions. The plan file (JSON,
// schema in docs/plan-format.md) carries the actions, each PFX file's SHA-256 and a digest of
// the observed state, so `apply --plan` can refuse to act on a tenant or files that changed since
// review. It never holds passwords, PFX bytes or ciphertext.

#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "deploy/model.h"

namespace certdeploy::deploy {

enum class ActionKind {
  kCreateTrustedProfile,      // +
  kCreateImportedPfxProfile,  // +
  kUpdateProfile,             // ~ PATCH an existing imported-PFX profile: on fully managed
                              //   Android, grant Outlook silent access to the certificate
  kCreateAppConfiguration,    // + Outlook app configuration policy (config `outlook:`)
  kUpdateAppConfiguration,    // ~ set the S/MIME keys of an existing one (other keys kept)
  kAssignProfile,             // ~ (replaces the whole assignment set; profiles and app configs)
  kImportUserPfx,             // +
  kUpdateUserPfx,             // ~ PATCH an existing record: re-sealed to the configured connector
                              //   key, and/or another intendedPurpose (needs the PFX, like +)
  kSkipUserPfx,               // = same user + thumbprint already present
  kUnchangedProfile,          // = profile (or app configuration) present as desired
  kDeleteUserPfx,             // - expired record superseded by a newer one (pruneExpired only)
  kInvalid,                   // ! manifest row that cannot be deployed, or an Outlook app
                              //   configuration that cannot be made (Outlook not in the tenant)
};
std::string_view ActionKindName(ActionKind kind);  // "createTrustedProfile", ...
Result<ActionKind> ParseActionKind(std::string_view name);
char ActionMarker(ActionKind kind);                 // '+', '~', '-', '=', '!'
// Profile actions: trusted and imported-PFX profiles, Outlook app configurations, their
// assignments, and unchanged ones. The rest concern user records (and invalid rows).
bool IsProfileAction(ActionKind kind);

struct Action {
  ActionKind kind = ActionKind::kInvalid;
  // Stable identity of the target, e.g. "trusted/ios/<sha1>", "imported/ios/smimeEncryption",
  // "pfx/<lower upn>/<thumbprint>", "outlook/ios". An assign action's key is its profile's key.
  std::string key;
  std::string description;  // One human line for the text plan.
  // Trusted/imported profiles and assignments.
  config::Platform platform = config::Platform::kIos;
  std::string odata_type;
  std::string display_name;
  std::string profile_id;         // Existing profile (assign/unchanged), else "".
  std::string cert_sha1;          // Trusted profile certificate.
  std::string cert_der_base64;    // Trusted profile certificate (public data).
  std::string role;               // "root" | "intermediate" for trusted profiles.
  std::vector<ObservedAssignment> assignments_before;
  std::vector<ObservedAssignment> assignments_after;
  // Profile creates and assigns: the owner mark to record in the description
  // (AssignmentsOwnerDigest of the assignments this config wants); "" to record none.
  std::string assignments_owner;
  // Outlook app configurations: the targeted app and the S/MIME settings.
  std::string app_id;
  AppSettings app_settings;
  // User PFX records.
  int line = 0;
  std::string upn;
  std::string pfx_file;
  std::string pfx_sha256;
  std::string thumbprint;
  std::string record_id;          // Existing record (skip/update/delete), else "".
  pkcs::Purpose purpose = pkcs::Purpose::kSmimeEncryption;
  SystemTime not_before;
  SystemTime not_after;
  std::vector<pkcs::Finding> findings;  // Invalid rows (errors) or warnings.
};

struct PlanSummary {
  int add = 0, change = 0, remove = 0, unchanged = 0, invalid = 0;
  bool operator==(const PlanSummary&) const = default;
};

struct Plan {
  // 2 added updateProfile and the Outlook app configuration actions; version 1 files are read.
  static constexpr int kSchemaVersion = 2;
  std::string created_at;      // RFC 3339.
  std::string tenant;
  std::string observed_digest;
  // Per part of the observed state, a short digest (deploy/resume.h): lets `apply --plan` tell
  // the plan's own effects from drift when it resumes an interrupted run. Empty in older plans.
  std::map<std::string, std::string> observed_parts;
  // The manifest the plan was computed from (absolute path) and the SHA-256 of its bytes.
  // `apply --plan` reloads it to find each import's password (never stored in the plan) and
  // refuses the plan as stale if its digest changed. Empty for plans built without a manifest.
  std::string manifest_path;
  std::string manifest_sha256;
  std::vector<Action> actions;  // In execution order: trusted, imported, assign, pfx.

  PlanSummary Summary() const;
  bool HasWrites() const;
};

// Pure. Actions come out in apply order; within a group, sorted by key for stable plans.
Plan ComputePlan(const DesiredState& desired, const ObservedState& observed, SystemTime now);

// Text in the spirit of `terraform plan`: one line per action with its marker, then
// "Plan: N to add, M to change, K to remove, J unchanged, I invalid." Invalid rows with identical
// findings are one group ("4000 rows: password-unreadable: ...", then the first few lines and
// UPNs), printed where the group's first row would be (deploy/finding_groups.h).
std::string RenderPlanText(const Plan& plan);

// The short form for large plans (`plan --summary`): the count of each action kind with its
// first `examples` actions, the count of rows per finding code (errors and warnings) with the
// first `examples` rows, then the "Plan: ..." line.
std::string RenderPlanSummary(const Plan& plan, size_t examples = 3);

nlohmann::json PlanToJson(const Plan& plan);
// InvalidArgument naming the problem for a malformed or unknown-version plan file.
Result<Plan> PlanFromJson(const nlohmann::json& j);

}  // namespace certdeploy::deploy
