// One write action at a time. Every write goes through Write(), which reconciles an unknown
// outcome (and, for PFX creates, a 409) by reading before it ever resends.

#include "deploy/internal/executor_items.h"

#include <algorithm>
#include <cctype>

#include "base/encoding.h"
#include "base/file.h"
#include "base/log.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "deploy/observe.h"
#include "deploy/row_check.h"
#include "pkcs/certificate.h"
#include "pkcs/digest.h"

namespace certdeploy::deploy {
namespace internal {
namespace {

constexpr char kUserPfxPath[] = "/deviceManagement/userPfxCertificates/";

// A copy of `from` with another code and message, keeping its Graph details (request-id...).
Status Restate(StatusCode code, std::string message, const Status& from) {
  if (const StatusDetails* d = from.details()) return Status(code, std::move(message), *d);
  return Status(code, std::move(message));
}

// Failures after which the write is known not to have been applied (the client already retried
// them with backoff); one more attempt of the item is safe.
bool NotAppliedAndTransient(StatusCode code) {
  return code == StatusCode::kUnavailable || code == StatusCode::kResourceExhausted ||
         code == StatusCode::kDeadlineExceeded;
}

std::string StringField(const nlohmann::json& j, const char* name) {
  if (!j.is_object()) return "";
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The id of an existing profile matching the create action (type + SHA-1, or type + purpose).
Result<std::optional<std::string>> FindProfile(ItemContext& ctx, const Action& a) {
  ASSIGN_OR_RETURN(std::vector<ObservedProfile> all, ListManagedProfiles(ctx.intune));
  for (const ObservedProfile& p : all) {
    if (p.odata_type != a.odata_type) continue;
    bool match = a.kind == ActionKind::kCreateTrustedProfile
                     ? !p.cert_sha1.empty() && p.cert_sha1 == AsciiToLower(a.cert_sha1)
                     : p.purpose == a.purpose;
    if (match) return std::optional<std::string>(p.id);
  }
  return std::optional<std::string>();
}

Status CreateProfile(const Action& a, const nlohmann::json& body, ItemContext& ctx, Tally& tally,
                     std::string& id) {
  auto send = [&]() -> Status {
    ASSIGN_OR_RETURN(nlohmann::json created, ctx.intune.CreateDeviceConfiguration(body));
    id = StringField(created, "id");
    return OkStatus();
  };
  auto applied = [&]() -> Result<bool> {
    ASSIGN_OR_RETURN(std::optional<std::string> found, FindProfile(ctx, a));
    if (found) id = *found;
    return found.has_value();
  };
  RETURN_IF_ERROR(Write(ctx.options.max_attempts, ctx.options.stop, send, applied, false, tally));
  if (id.empty()) {  // Created, but the answer carried no id: look it up.
    ASSIGN_OR_RETURN(std::optional<std::string> found, FindProfile(ctx, a));
    if (!found) return InternalError("the profile was created but Graph returned no id");
    id = *found;
  }
  ctx.created.Set(a.key, id);
  return OkStatus();
}

// Records the owner mark of `a` in profile `id`'s description (the rest of it kept) before its
// assignments change, so that a run cut short in between leaves the claim, not an unclaimed
// set. Read first: a profile already carrying the mark costs no write. The PATCH is idempotent.
Status ClaimAssignments(const Action& a, const std::string& id, ItemContext& ctx, Tally& tally) {
  Result<nlohmann::json> profile = ctx.intune.GetDeviceConfiguration(id);
  if (!profile.ok()) return profile.status().WithContext("reading profile " + id);
  const std::string description = StringField(*profile, "description");
  if (ParseAssignmentsOwner(description) == a.assignments_owner) return OkStatus();
  const nlohmann::json fields = {
      {"@odata.type", a.odata_type},
      {"description", WithAssignmentsOwner(description, a.assignments_owner)}};
  auto patch = [&] { return ctx.intune.PatchDeviceConfiguration(id, fields); };
  auto marked = [&]() -> Result<bool> {
    ASSIGN_OR_RETURN(nlohmann::json now, ctx.intune.GetDeviceConfiguration(id));
    return ParseAssignmentsOwner(StringField(now, "description")) == a.assignments_owner;
  };
  return Write(ctx.options.max_attempts, ctx.options.stop, patch, marked, false, tally);
}

Status Assign(const Action& a, ItemContext& ctx, Tally& tally, std::string& id) {
  id = a.profile_id;
  if (id.empty()) id = ctx.created.Get(a.key).value_or("");
  if (id.empty()) {
    return FailedPreconditionError("profile " + a.key +
                                   " was not created in this run, so it cannot be assigned");
  }
  if (!a.assignments_owner.empty() && !IsAppConfigurationType(a.odata_type)) {
    RETURN_IF_ERROR(ClaimAssignments(a, id, ctx, tally));
  }
  std::vector<ObservedAssignment> want = a.assignments_after;
  std::sort(want.begin(), want.end());
  auto send = [&] { return ctx.intune.Assign(id, AssignmentBodies(a)); };
  auto applied = [&]() -> Result<bool> {
    ASSIGN_OR_RETURN(std::vector<nlohmann::json> now, ctx.intune.ListAssignments(id));
    return ObservedAssignmentsFromJson(now) == want;
  };
  return Write(ctx.options.max_attempts, ctx.options.stop, send, applied, false, tally);
}

// Grants Outlook silent access on an existing fully managed Android imported-PFX profile:
// read-modify-write of silentCertificateAccessDetails (other apps' entries stay). The PATCH is
// idempotent; after an unknown outcome the profile is read back.
Status UpdateProfile(const Action& a, ItemContext& ctx, Tally& tally) {
  Result<nlohmann::json> existing = ctx.intune.GetDeviceConfiguration(a.profile_id);
  if (!existing.ok()) return existing.status().WithContext("reading profile " + a.profile_id);
  nlohmann::json fields = OutlookSilentAccessFields(*existing);
  fields["@odata.type"] = a.odata_type;  // Graph requires it on PATCH of a subtype.
  auto send = [&] { return ctx.intune.PatchDeviceConfiguration(a.profile_id, fields); };
  auto applied = [&]() -> Result<bool> {
    ASSIGN_OR_RETURN(nlohmann::json now, ctx.intune.GetDeviceConfiguration(a.profile_id));
    return GrantsOutlookSilentAccess(now);
  };
  return Write(ctx.options.max_attempts, ctx.options.stop, send, applied, false, tally);
}

// Builds the record of an import: the file must still be the reviewed one.
Result<graph::UserPfxCertificate> BuildRecord(const Action& a, const ExecutorOptions& options) {
  Result<std::string> bytes =
      options.pfx_bytes ? options.pfx_bytes(a) : ReadFile(a.pfx_file, kMaxPfxBytes);
  if (!bytes.ok()) {
    return Status(bytes.status())
        .WithContext("reading the PFX file of line " + std::to_string(a.line));
  }
  const std::string sha256 = pkcs::Sha256Hex(*bytes);
  if (sha256 != a.pfx_sha256) {
    return FailedPreconditionError("PFX file " + a.pfx_file +
                                   " changed since the plan was made (SHA-256 " + sha256 +
                                   ", plan " + a.pfx_sha256 + "); re-run plan");
  }
  graph::UserPfxCertificate r;
  if (options.sealed_password) {
    Result<std::string> sealed = options.sealed_password(a);
    if (!sealed.ok()) {
      return Status(sealed.status())
          .WithContext("the sealed password of line " + std::to_string(a.line));
    }
    r.encrypted_pfx_password = std::move(*sealed);
  } else if (!options.passwords || !options.seal) {
    return InternalError("the executor has no password source or sealer for PFX imports");
  } else {
    Result<SecretBytes> password = options.passwords(a);
    if (!password.ok()) {
      return Status(password.status())
          .WithContext("the password of line " + std::to_string(a.line));
    }
    Result<std::string> sealed = options.seal(*password);
    if (!sealed.ok()) {
      return Status(sealed.status())
          .WithContext("sealing the password of line " + std::to_string(a.line));
    }
    r.encrypted_pfx_password = std::move(*sealed);
  }  // The password is wiped here.
  ASSIGN_OR_RETURN(r.intended_purpose,
                   graph::ParseUserPfxIntendedPurpose(pkcs::PurposeName(a.purpose)));
  ASSIGN_OR_RETURN(r.padding_scheme, graph::ParseUserPfxPaddingScheme(
                                         pkcs::PaddingSchemeName(options.padding_scheme)));
  r.thumbprint = AsciiToLower(a.thumbprint);
  r.user_principal_name = a.upn;
  r.start_date_time = a.not_before;
  r.expiration_date_time = a.not_after;
  r.provider_name = options.provider_name;
  r.key_name = options.key_name;
  r.encrypted_pfx_blob = Base64Encode(*bytes);
  return r;
}

Status ImportPfx(const Action& a, ItemContext& ctx, Tally& tally, std::string& id) {
  ASSIGN_OR_RETURN(graph::UserPfxCertificate record, BuildRecord(a, ctx.options));
  auto send = [&]() -> Status {
    ASSIGN_OR_RETURN(graph::UserPfxCertificate created,
                     ctx.intune.CreateUserPfxCertificate(record));
    id = created.id;
    return OkStatus();
  };
  auto applied = [&]() -> Result<bool> {
    ASSIGN_OR_RETURN(std::vector<graph::UserPfxCertificate> found,
                     ctx.intune.ListUserPfxCertificatesForUser(a.upn, a.thumbprint));
    if (!found.empty()) id = found.front().id;
    return !found.empty();
  };
  RETURN_IF_ERROR(Write(ctx.options.max_attempts, ctx.options.stop, send, applied, /*verify_refusal=*/true, tally));
  if (id.empty()) {  // Created, but the answer carried no id: look it up.
    Result<bool> found = applied();
    if (!found.ok() || !*found) {
      CD_LOG_WARN("executor: imported {} for {}, but its record id could not be read back",
                  a.thumbprint, ForLog(a.upn));
    }
  }
  return OkStatus();
}

// PATCH of an existing record with the whole record: a fresh blob and the password sealed to
// the configured connector key (the IntunePfxImport module's -IsUpdate does the same). PATCH
// with the same body is idempotent; after an unknown outcome the record is read, and the write
// counts as applied once it carries the wanted key, padding and purpose.
Status UpdatePfx(const Action& a, ItemContext& ctx, Tally& tally) {
  ASSIGN_OR_RETURN(graph::UserPfxCertificate record, BuildRecord(a, ctx.options));
  record.id = a.record_id;
  const nlohmann::json body = graph::ToJson(record);
  auto send = [&]() -> Status { return ctx.intune.PatchUserPfxCertificate(a.record_id, body); };
  auto applied = [&]() -> Result<bool> {
    ASSIGN_OR_RETURN(graph::GraphResponse r,
                     ctx.client.Get(kUserPfxPath + graph::PercentEncodePathSegment(a.record_id)));
    ASSIGN_OR_RETURN(graph::UserPfxCertificate now, graph::UserPfxCertificateFromJson(r.body));
    return now.provider_name == record.provider_name && now.key_name == record.key_name &&
           now.padding_scheme == record.padding_scheme &&
           now.intended_purpose == record.intended_purpose;
  };
  return Write(ctx.options.max_attempts, ctx.options.stop, send, applied, false, tally);
}

Status DeletePfx(const Action& a, ItemContext& ctx, Tally& tally) {
  bool already_gone = false;
  const std::string path = kUserPfxPath + graph::PercentEncodePathSegment(a.record_id);
  auto send = [&]() -> Status {
    Result<std::string> r = ctx.intune.DeleteUserPfxCertificate(a.record_id);
    if (r.ok()) {
      if (!r->empty()) tally.request_ids.push_back(*r);
      return OkStatus();
    }
    if (r.status().code() == StatusCode::kNotFound) {
      already_gone = true;  // The plan wanted it gone; it is.
      return OkStatus();
    }
    return r.status();
  };
  auto applied = [&]() -> Result<bool> {
    Result<graph::GraphResponse> r = ctx.client.Get(path);
    if (r.ok()) return false;
    if (r.status().code() == StatusCode::kNotFound) return true;
    return r.status();
  };
  // A DELETE may be answered 204 while the record stays (reported by users of Microsoft's
  // module): a successful answer is read back, and the delete sent again while the record is
  // still there, within max_attempts in all.
  while (true) {
    RETURN_IF_ERROR(Write(ctx.options.max_attempts - tally.sent, ctx.options.stop, send, applied,
                          false, tally));
    if (already_gone) {
      tally.reconciled = true;
      return OkStatus();
    }
    Result<bool> gone = applied();
    if (!gone.ok()) {
      return Status(gone.status())
          .WithContext("the DELETE was answered, but reading the record back failed");
    }
    if (*gone) return OkStatus();
    if (tally.sent >= ctx.options.max_attempts) {
      // Unavailable, not final: the record may still go (the daemon's offboarding tries again
      // later; `certdeploy remove` reports it).
      return UnavailableError("Graph answered each of " + std::to_string(tally.sent) +
                              " DELETEs, yet record " + a.record_id + " is still there");
    }
    CD_LOG_WARN("executor: record {} is still there after its DELETE was answered; resending",
                a.record_id);
  }
}

}  // namespace

// Sends a write up to `max_attempts` times. After kUnknownOutcome (or, when `verify_refusal`, a
// 409 or 400) it calls `applied` to read whether the write took effect: yes -> done (reconciled);
// no -> resend (a refusal that reads as absent is a failure); the read failed -> fail without
// resending. `verify_refusal` is for userPfxCertificate creates: Graph documents no 409 for a
// second record with the same user and thumbprint, and the import service answers it with an
// opaque 400, so a refused create is read back before it counts as a failure.
Status Write(int max_attempts, const std::atomic<bool>* stop, const std::function<Status()>& send,
             const std::function<Result<bool>()>& applied, bool verify_refusal, Tally& tally) {
  Status last;
  for (int attempt = 1; attempt <= std::max(1, max_attempts); ++attempt) {
    if (attempt > 1 && stop != nullptr && stop->load()) {
      return Restate(last.code(),
                     std::string(last.message()) + "; not resent: the run was interrupted", last);
    }
    ++tally.sent;
    Status s = send();
    if (s.ok()) return s;
    const bool unknown = s.code() == StatusCode::kUnknownOutcome;
    const bool conflict = verify_refusal && (s.code() == StatusCode::kAlreadyExists ||
                                             s.code() == StatusCode::kInvalidArgument);
    if (unknown || conflict) {
      Result<bool> done = applied();
      if (!done.ok()) {
        return Restate(s.code(),
                       std::string(s.message()) + "; reading whether it was applied failed (" +
                           done.status().ToString() + "), so it was not resent: re-run plan",
                       s);
      }
      if (*done) {
        CD_LOG_INFO("executor: write outcome was {}; a read shows it applied",
                    unknown ? "unknown" : "a refusal");
        tally.reconciled = true;
        return OkStatus();
      }
      if (conflict) {
        if (s.code() == StatusCode::kInvalidArgument) return s;  // A refusal of this record.
        return Restate(s.code(), std::string(s.message()) + " (yet no such record could be read)",
                       s);
      }
      CD_LOG_WARN("executor: write outcome was unknown and a read shows it not applied; resending");
      last = std::move(s);
      continue;
    }
    if (!NotAppliedAndTransient(s.code())) return s;
    last = std::move(s);
  }
  return Restate(
      last.code(),
      std::string(last.message()) + " (gave up after " + std::to_string(tally.sent) + " attempts)",
      last);
}

void CreatedProfiles::Set(const std::string& key, const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  ids_[key] = id;
}

std::optional<std::string> CreatedProfiles::Get(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = ids_.find(key);
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

ItemResult ExecuteItem(const Action& a, ItemContext& ctx) {
  ItemResult result;
  result.kind = a.kind;
  result.key = a.key;
  result.description = a.description;
  Tally tally;
  Status s;
  switch (a.kind) {
    case ActionKind::kCreateTrustedProfile:
      s = CreateProfile(a, TrustedProfileBody(a), ctx, tally, result.object_id);
      break;
    case ActionKind::kCreateImportedPfxProfile:
      s = CreateProfile(a, ImportedProfileBody(a), ctx, tally, result.object_id);
      break;
    case ActionKind::kUpdateProfile:
      result.object_id = a.profile_id;
      s = UpdateProfile(a, ctx, tally);
      break;
    case ActionKind::kCreateAppConfiguration:
      s = CreateAppConfiguration(a, ctx, tally, result.object_id);
      break;
    case ActionKind::kUpdateAppConfiguration:
      result.object_id = a.profile_id;
      s = UpdateAppConfiguration(a, ctx, tally);
      break;
    case ActionKind::kAssignProfile:
      s = IsAppConfigurationType(a.odata_type) ? AssignAppConfiguration(a, ctx, tally, result.object_id)
                                               : Assign(a, ctx, tally, result.object_id);
      break;
    case ActionKind::kImportUserPfx:
      s = ImportPfx(a, ctx, tally, result.object_id);
      break;
    case ActionKind::kUpdateUserPfx:
      result.object_id = a.record_id;
      s = UpdatePfx(a, ctx, tally);
      break;
    case ActionKind::kDeleteUserPfx:
      result.object_id = a.record_id;
      s = DeletePfx(a, ctx, tally);
      break;
    default:
      s = InternalError("action " + a.key + " is not a write");
  }
  result.ok = s.ok();
  result.status = std::move(s);
  result.attempts = tally.sent;
  result.reconciled = tally.reconciled;
  result.request_ids = std::move(tally.request_ids);
  if (!result.ok) {
    CD_LOG_WARN("executor: {} {} failed: {}", ActionKindName(a.kind), a.key, result.status);
  }
  return result;
}

}  // namespace internal

std::string ProfileDescription(const Action& a) {
  // description: "Admin provided description of the Device Configuration", a String with no
  // documented length limit (deviceConfiguration, inherited by iosTrustedRootCertificate and
  // iosImportedPFXCertificateProfile and their siblings):
  // https://learn.microsoft.com/graph/api/resources/intune-deviceconfig-iostrustedrootcertificate
  // https://learn.microsoft.com/graph/api/resources/intune-deviceconfig-iosimportedpfxcertificateprofile
  // The sandbox accepts any String there too (sandbox/internal/config_schema.cc).
  std::string text =
      a.cert_sha1.empty()
          ? "Managed by certdeploy: delivers the imported " +
                std::string(pkcs::PurposeName(a.purpose)) +
                " certificates (userPfxCertificates) to devices."
          : "Managed by certdeploy: " + a.role + " CA certificate, SHA-1 " +
                AsciiToLower(a.cert_sha1) +
                ". certdeploy recognises this profile by its certificate.";
  return text + AssignmentsOwnerMark(a.assignments_owner);
}

nlohmann::json TrustedProfileBody(const Action& a) {
  std::string cn;
  if (std::optional<std::string> der = Base64Decode(a.cert_der_base64, kLenientBase64)) {
    Result<pkcs::Certificate> cert = pkcs::ParseCertificateDer(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(der->data()), der->size()));
    if (cert.ok()) cn = cert->common_name;
  }
  if (cn.empty()) cn = a.cert_sha1;
  std::string file_name;
  for (char c : cn) {  // A file name, not a path: keep it plain.
    bool plain =
        std::isalnum(static_cast<unsigned char>(c)) || c == ' ' || c == '-' || c == '_' || c == '.';
    file_name += plain ? c : '_';
  }
  nlohmann::json body = {
      {"@odata.type", a.odata_type},
      {"displayName", a.display_name},
      {"description", ProfileDescription(a)},
      {"trustedRootCertificate", a.cert_der_base64},
      {"certFileName", file_name + ".cer"},
  };
  if (a.platform == config::Platform::kWindows) {
    body["destinationStore"] =
        a.role == "root" ? "computerCertStoreRoot" : "computerCertStoreIntermediate";
  }
  return body;
}

nlohmann::json ImportedProfileBody(const Action& a) {
  std::string purpose(pkcs::PurposeName(a.purpose));
  nlohmann::json body = {{"@odata.type", a.odata_type},
                         {"displayName", a.display_name},
                         {"description", ProfileDescription(a)},
                         {"intendedPurpose", purpose}};
  if (a.platform == config::Platform::kAndroidDeviceOwner) {
    // Fully managed Android: pre-grant Outlook access to the certificate so that it is used
    // without a certificate picker.
    const nlohmann::json access = OutlookSilentAccessFields(nlohmann::json::object());
    for (const auto& [key, value] : access.items()) body[key] = value;
  }
  return body;
}

std::vector<nlohmann::json> AssignmentBodies(const Action& a) {
  std::vector<nlohmann::json> out;
  for (const ObservedAssignment& x : a.assignments_after) {
    nlohmann::json target = {{"@odata.type", x.target_type}};
    if (!x.group_id.empty()) target["groupId"] = x.group_id;
    out.push_back({{"target", std::move(target)}});
  }
  return out;
}

}  // namespace certdeploy::deploy
