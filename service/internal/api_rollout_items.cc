// Rollout manifests from the inbox: path confinement, work items per row, dry-run plans.

#include <algorithm>
#include <filesystem>

#include "base/file.h"
#include "base/log.h"
#include "base/parallel_for.h"
#include "base/strings.h"
#include "base/time_format.h"
#include "config/manifest.h"
#include "deploy/desired_state.h"
#include "deploy/observe.h"
#include "graph/intune.h"
#include "pkcs/digest.h"
#include "service/internal/api_handlers.h"
#include "service/internal/dispatcher_item.h"

namespace certdeploy::service {
namespace {

namespace fs = std::filesystem;

pkcs::Finding RowError(std::string code, std::string message) {
  return {std::move(code), pkcs::Severity::kError, std::move(message)};
}

// One manifest line's outcome, before ids and waves are assigned.
struct RowOutcome {
  int line = 0;
  store::WorkItem item;
  std::vector<pkcs::Finding> findings;
  bool valid = false;
};

// Rows whose PFX or password file is outside the inbox become manifest problems.
void ConfineRows(const std::string& inbox, config::Manifest& manifest) {
  std::vector<config::ManifestRow> kept;
  for (config::ManifestRow& row : manifest.rows) {
    Result<std::string> pfx = ResolveInboxPath(inbox, row.pfx_file);
    Result<std::string> pw = row.password_file.empty() ? Result<std::string>(std::string())
                                                       : ResolveInboxPath(inbox, row.password_file);
    if (pfx.ok() && pw.ok()) {
      kept.push_back(std::move(row));
    } else {
      manifest.problems.push_back(
          {row.line, "manifest-row",
           std::string(pfx.ok() ? pw.status().message() : pfx.status().message())});
    }
  }
  manifest.rows = std::move(kept);
}

}  // namespace

std::string HideInbox(const std::string& inbox, std::string text) {
  if (inbox.empty()) return text;
  std::error_code ec;
  const std::string root = fs::canonical(inbox, ec).string();
  for (std::string prefix : {fs::path(inbox).lexically_normal().string(), root}) {
    if (prefix.empty()) continue;
    if (prefix.back() != '/') prefix += '/';
    for (size_t at = text.find(prefix); at != std::string::npos; at = text.find(prefix, at)) {
      text.erase(at, prefix.size());
    }
  }
  return text;
}

Result<std::string> ResolveInboxPath(const std::string& inbox, const std::string& requested) {
  // Messages name the path relative to the inbox (shortened), never where the inbox is on this
  // host: a client learns nothing about the server's file system from an error.
  const std::string shown = "'" + ForLog(HideInbox(inbox, requested), 200) + "'";
  if (inbox.empty()) return FailedPreconditionError("service.inbox is not configured");
  if (requested.empty()) return InvalidArgumentError("the path is empty");
  if (requested.find('\0') != std::string::npos) {
    return InvalidArgumentError("the path contains a NUL byte");
  }
  fs::path path(requested);
  for (const fs::path& part : path) {
    if (part == "..") return InvalidArgumentError(shown + ": '..' is not allowed");
  }
  if (path.is_relative()) path = fs::path(inbox) / path;
  std::error_code ec;
  const fs::path root = fs::canonical(inbox, ec);
  if (ec) {
    CD_LOG_ERROR("the inbox {} is not accessible: {}", inbox, ec.message());
    return UnavailableError("the inbox is not accessible");
  }
  auto inside = [](const fs::path& p, const fs::path& dir) {
    const std::string prefix = dir.lexically_normal().string();
    const std::string s = p.lexically_normal().string();
    return s.size() > prefix.size() && s.rfind(prefix, 0) == 0 &&
           (prefix.back() == '/' || s[prefix.size()] == '/');
  };
  // Lexically first, so that a path outside the inbox gets the same answer whether or not it
  // exists (no probing for files elsewhere on the host).
  if (!inside(path, inbox) && !inside(path, root)) {
    return InvalidArgumentError(shown + " is outside the inbox");
  }
  const fs::path resolved = fs::canonical(path, ec);  // Follows every symlink.
  if (ec) return NotFoundError(shown + " does not exist in the inbox");
  if (!inside(resolved, root)) return InvalidArgumentError(shown + " is outside the inbox");
  if (!fs::is_regular_file(resolved, ec)) {
    return InvalidArgumentError(shown + " is not a regular file");
  }
  return resolved.string();
}

Result<ManifestItems> BuildRolloutItems(ApiContext& ctx, const std::string& manifest_path,
                                        const std::string& rollout_id,
                                        const std::vector<Wave>& waves) {
  const std::string& inbox = ctx.service().inbox;
  Result<config::Manifest> manifest = config::LoadManifest(manifest_path);
  if (!manifest.ok()) {
    return Status(manifest.status().code(),
                  HideInbox(inbox, std::string(manifest.status().message())));
  }
  // A row naming a file outside the inbox refuses the whole rollout before any file is read.
  ManifestItems out;
  for (const config::ManifestRow& row : manifest->rows) {
    for (const std::string* file : {&row.pfx_file, &row.password_file}) {
      if (file->empty()) continue;
      Result<std::string> resolved = ResolveInboxPath(ctx.service().inbox, *file);
      if (!resolved.ok() && resolved.status().code() == StatusCode::kInvalidArgument) {
        out.outside.push_back(RowError(
            "path-outside-inbox",
            "line " + std::to_string(row.line) + ": " + std::string(resolved.status().message())));
      }
    }
  }
  if (!out.outside.empty()) return out;
  const SystemTime now = ctx.deps.clock->Now();
  const PrepareContext prepare{*ctx.deps.config, *ctx.deps.connector_key, ctx.deps.trust_bundle,
                               now};
  std::vector<PreparedItem> prepared = PrepareRows(
      prepare, manifest->rows,
      [&inbox](const std::string& path) { return ResolveInboxPath(inbox, path); }, HardwareThreads());
  std::vector<RowOutcome> outcomes(manifest->rows.size());
  for (size_t i = 0; i < outcomes.size(); ++i) {
    RowOutcome& o = outcomes[i];
    o.line = manifest->rows[i].line;
    o.findings = std::move(prepared[i].findings);
    for (pkcs::Finding& f : o.findings) f.message = HideInbox(inbox, std::move(f.message));
    o.valid = prepared[i].deployable;
    if (o.valid) {
      o.item = std::move(prepared[i].item);
    } else {
      const config::ManifestRow& row = manifest->rows[i];
      o.item.user_principal_name = row.upn;
      o.item.intended_purpose = std::string(
          pkcs::PurposeName(row.purpose.value_or(ctx.deps.config->pfx.intended_purpose)));
    }
  }
  for (const config::ManifestProblem& p : manifest->problems) {
    RowOutcome o;
    o.line = p.line;
    o.findings.push_back(RowError(p.code, HideInbox(inbox, p.message)));
    outcomes.push_back(std::move(o));
  }
  std::sort(outcomes.begin(), outcomes.end(),
            [](const RowOutcome& a, const RowOutcome& b) { return a.line < b.line; });

  const std::vector<int> wave_of = AssignWaves(static_cast<int>(outcomes.size()), waves);
  for (size_t i = 0; i < outcomes.size(); ++i) {
    RowOutcome& o = outcomes[i];
    store::WorkItem item = std::move(o.item);
    item.id = NewGuid(*ctx.deps.random);
    item.kind = store::ItemKind::kRollout;
    item.rollout_id = rollout_id;
    item.wave = wave_of[i];
    item.manifest_line = o.line;
    if (!o.valid) {
      ++out.invalid;
      item.status = store::ItemStatus::kFailed;
      item.step = "invalid";
      item.error_code = "pfx-not-deployable";
      item.error_message = SummarizeFindings(o.findings);
    }
    out.items.push_back(std::move(item));
  }
  return out;
}

Result<deploy::Plan> PlanManifest(ApiContext& ctx, const std::string& manifest_path) {
  if (ctx.deps.graph == nullptr) return UnavailableError("no Graph connection");
  Result<std::string> path = ResolveInboxPath(ctx.service().inbox, manifest_path);
  if (!path.ok()) return path.status();
  Result<std::string> text = ReadFile(*path);
  if (!text.ok()) return text.status();
  Result<config::Manifest> manifest = config::ParseManifest(*text, *path);
  if (!manifest.ok()) return manifest.status();
  ConfineRows(ctx.service().inbox, *manifest);
  const SystemTime now = ctx.deps.clock->Now();
  deploy::DesiredStateOptions options;
  options.now = now;
  options.threads = HardwareThreads();
  Result<deploy::DesiredState> desired =
      deploy::BuildDesiredState(*ctx.deps.config, *manifest, options);
  if (!desired.ok()) return desired.status();
  std::vector<std::string> upns;
  for (const config::ManifestRow& row : manifest->rows) upns.push_back(row.upn);
  graph::IntuneApi intune(*ctx.deps.graph);
  Result<deploy::ObservedState> observed =
      deploy::ReadObservedState(intune, upns, deploy::ObserveOptionsFor(*ctx.deps.config));
  if (!observed.ok()) return observed.status();
  deploy::Plan plan = deploy::ComputePlan(*desired, *observed, now);
  plan.created_at = FormatRfc3339Utc(now);
  plan.tenant = ctx.deps.config->tenant.id;
  plan.manifest_path = *path;
  plan.manifest_sha256 = pkcs::Sha256Hex(*text);
  return plan;
}

}  // namespace certdeploy::service
