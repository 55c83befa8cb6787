// deploy/desired_state.h: from config + manifest to the DesiredState the planner diffs.
//
// Every manifest row goes through the row check (deploy/row_check.h): its PFX is read, hashed
// (SHA-256 of the file, pinned in the plan), opened and validated against its user and purpose.
// Valid rows contribute their user record and their chain's CA certificates (deduplicated across
// users by SHA-1; one trusted profile per CA certificate per platform); invalid rows are kept
// with their findings so the plan can list them while the rest proceeds. Passwords are read,
// used and wiped; they never leave this step.

#pragma once

#include <span>
#include <vector>

#include "base/clock.h"
#include "config/config.h"
#include "config/manifest.h"
#include "deploy/model.h"
#include "pkcs/chain.h"

namespace certdeploy::deploy {

struct DesiredStateOptions {
  SystemTime now;
  int threads = 2;  // PFX key derivation is CPU-bound: one worker per core.
};

// Fails only for problems that concern every row (an unreadable trust bundle). Row problems,
// including manifest-level ones (config::Manifest::problems), become InvalidRows.
Result<DesiredState> BuildDesiredState(const config::Config& config,
                                       const config::Manifest& manifest,
                                       const DesiredStateOptions& options);

// The desired state for deployable user records `pfx` whose chains hold `cas`: one trusted profile
// per distinct CA certificate (by SHA-1) per configured platform, one imported-PFX profile per
// purpose per platform (if enabled), the configured assignments, and `invalid` sorted by line.
// Pure; shared by BuildDesiredState and the daemon, which plans from its stored work items.
DesiredState AssembleDesiredState(const config::Config& config, std::vector<DesiredUserPfx> pfx,
                                  std::span<const pkcs::ChainElement> cas,
                                  std::vector<InvalidRow> invalid);

// The profiles alone: trusted profiles for `cas`, imported-PFX profiles for `purposes`, the
// Outlook app configuration, and their assignments, with no user records. Drift repair plans
// from it to restore what an admin deleted in the portal.
DesiredState AssembleProfileState(const config::Config& config,
                                  std::span<const pkcs::ChainElement> cas,
                                  std::vector<pkcs::Purpose> purposes);
// "<prefix> <CA common name> [<first 8 hex digits of its SHA-1>] (<platform>)", the display
// name of a trusted profile: distinct for CAs that share a name, the same on every run. The
// planner finds existing profiles by thumbprint, never by name, so profiles created under an
// earlier naming are kept as they are (not renamed, not duplicated).
std::string TrustedProfileName(const std::string& prefix, const pkcs::Certificate& ca,
                               config::Platform platform);
// "<prefix> imported PFX <purpose> (<platform>)".
std::string ImportedProfileName(const std::string& prefix, pkcs::Purpose purpose,
                                config::Platform platform);

}  // namespace certdeploy::deploy
