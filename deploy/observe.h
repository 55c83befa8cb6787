// deploy/observe.h: reading the tenant state the planner diffs against (reads only).
//
// ReadObservedState lists the tenant's deviceConfigurations (all pages), keeps the trusted-root
// and imported-PFX profile types certdeploy manages (TrustedRootType / ImportedPfxType of every
// platform), identifies each trusted profile by the SHA-1 of the DER certificate it carries (never
// by its name), reads the assignments of every kept profile, and reads the userPfxCertificates of
// the manifest's users.
//
// Reads scale with the manifest: up to ObserveOptions::per_user_query_limit distinct users, one
// `$filter` query per user; beyond that ONE paged list of every record, filtered client-side, so
// planning 100 000 users costs a few thousand page reads, not 100 000 queries.
//
//   ASSIGN_OR_RETURN(ObservedState observed, ReadObservedState(intune, upns));
//   Plan plan = ComputePlan(desired, observed, clock.Now());
//
// It also reads each manifest user's mailbox addresses (IntuneApi::GetUserMailboxes, $batch or
// one paged list beyond the same limit): the planner checks each certificate against the
// primary SMTP address Outlook looks for.
//
// Only GET requests are sent (the token request aside): `certdeploy plan` is a dry run.

#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "deploy/model.h"
#include "graph/intune.h"

namespace certdeploy::deploy {

struct ObserveOptions {
  // At most this many distinct users (case-insensitive): one filtered query per user. More: one
  // paged list of all userPfxCertificates.
  int per_user_query_limit = 25;
  // Also read Outlook's apps and its S/MIME app configuration policies (config `outlook:`;
  // needs DeviceManagementApps.Read.All).
  bool outlook = false;
};

// What `config` asks to be read: outlook when it has an `outlook:` section.
ObserveOptions ObserveOptionsFor(const config::Config& config);

// Reads the observed state. `manifest_upns` are the manifest's users (any case, duplicates
// allowed); records of other users are not part of the result. The result is in a canonical
// order (profiles by id, records by id) so that two reads of an unchanged tenant are equal.
//
// Errors: whatever the Graph calls return (kUnauthenticated, kPermissionDenied, kUnavailable,
// kDeadlineExceeded, kInternal for a malformed answer...), with context naming the step.
Result<ObservedState> ReadObservedState(graph::IntuneApi& intune,
                                        const std::vector<std::string>& manifest_upns,
                                        const ObserveOptions& options = {});

// Lists the deviceConfigurations certdeploy manages (all pages), without their assignments,
// sorted by id. A trusted profile listed without its trustedRootCertificate (list answers may
// leave binary properties out) is read individually, so it is still recognised by its
// certificate. Errors as ReadObservedState.
Result<std::vector<ObservedProfile>> ListManagedProfiles(graph::IntuneApi& intune);

// Decodes one deviceConfiguration as Graph returns it. nullopt when its @odata.type is not one
// certdeploy manages. Assignments are not part of a deviceConfiguration and are left empty.
// A trusted profile whose trustedRootCertificate is not base64 gets an empty cert_sha1; an
// imported-PFX profile with an unknown intendedPurpose gets no purpose (neither matches anything
// certdeploy wants, so the planner creates its own profile next to it).
std::optional<ObservedProfile> ObservedProfileFromJson(const nlohmann::json& configuration);

// Lists the tenant's mobileApps to find Outlook (ObservedState::outlook_apps: per platform the id
// of an iosStoreApp, iosVppApp or managedIOSStoreApp with bundle id com.microsoft.Office.Outlook,
// or an androidManagedStoreApp with package com.microsoft.office.outlook, compared ignoring case)
// and the mobileAppConfigurations that target it and set S/MIME keys
// (ObservedState::app_configurations, sorted by id; with their assignments when
// `with_assignments`). Sets apps_read. Errors as ReadObservedState.
Status ReadOutlookAppConfigurations(graph::IntuneApi& intune, ObservedState& observed,
                                    bool with_assignments);

// The S/MIME keys (kOutlookSmimeKeyPrefix) a mobileAppConfiguration sets, key -> value text:
// an iOS policy's settings, an Android policy's payloadJson (base64 or plain JSON).
std::map<std::string, std::string> SmimeSettingsOf(const nlohmann::json& configuration);

// Whether a fully managed Android imported-PFX profile (as Graph returns it) grants Outlook
// silent access: certificateAccessType specificApps with Outlook's package among
// silentCertificateAccessDetails.
bool GrantsOutlookSilentAccess(const nlohmann::json& profile);

// Parses deviceConfigurationAssignment JSON ({"target": {"@odata.type", "groupId"}}), sorted.
std::vector<ObservedAssignment> ObservedAssignmentsFromJson(
    const std::vector<nlohmann::json>& assignments);

}  // namespace certdeploy::deploy
