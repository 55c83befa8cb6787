// deploy/resume.h: finishing an interrupted `apply --plan` with the same reviewed plan.
//
// A plan records, besides the digest of the whole observed state, a short digest of each part of
// it (Plan::observed_parts: a profile's identity, its Outlook access, its assignment set with the
// owner mark, a PFX record, a user, an app configuration...). When the tenant no longer matches
// the plan's digest, CheckResume compares the parts: every part that changed must be the visible
// effect of one of the plan's own write actions (the profile it creates exists with the planned
// type and certificate or purpose, the record it imports is there with the planned thumbprint,
// the assignment set it writes is in place, the record it deletes is gone...). Those actions are
// done and are left out of the remaining plan; anything else that changed is drift, and the plan
// is stale as before.
//
//   ResumeCheck check = CheckResume(plan, observed_now, desired_seal);
//   if (!check.unexplained.empty()) return Stale(check.unexplained.front());
//   ExecutePlan(check.remaining, client, options);  // Never sends a done action again.

#pragma once

#include <map>
#include <string>
#include <vector>

#include "deploy/model.h"
#include "deploy/plan.h"

namespace certdeploy::deploy {

// Part name ("profile/<id>", "assign/<id>", "pfx/<id>", "user/<upn>"...) -> 16 hex digits of
// the SHA-256 of its canonical rendering. Two reads of an unchanged tenant give equal maps.
std::map<std::string, std::string> ObservedPartDigests(const ObservedState& observed);

struct ResumeCheck {
  // Parts changed by something other than the plan's actions, one human line each
  // ("profile 1234 changed"); empty when every change is explained.
  std::vector<std::string> unexplained;
  // The plan without the write actions already done; an assign of a profile created by the
  // earlier run names that profile's id. Meaningful only when `unexplained` is empty.
  Plan remaining;
  int done = 0;  // Write actions of the plan already done.
};

// Explains the differences between `plan.observed_parts` and `now` by the plan's actions (see
// the file comment). `seal` is the connector key records are sealed to (an updateUserPfx is done
// when the record carries it). A plan without observed_parts (made before they existed) cannot be
// resumed: every difference is unexplained.
ResumeCheck CheckResume(const Plan& plan, const ObservedState& now, const DesiredSeal& seal);

}  // namespace certdeploy::deploy
