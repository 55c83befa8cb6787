// `certdeploy plan` and `certdeploy apply`: config + manifest + tenant -> plan -> execution.

#include "cli/commands.h"

#include <unistd.h>

#include <filesystem>
#include <istream>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <thread>
#include <unordered_map>

#include "base/file.h"
#include "base/parallel_for.h"
#include "base/time_format.h"
#include "base/status_macros.h"
#include "config/config.h"
#include "config/manifest.h"
#include "deploy/desired_state.h"
#include "deploy/executor.h"
#include "deploy/groups.h"
#include "deploy/observe.h"
#include "deploy/plan.h"
#include "deploy/resume.h"
#include "deploy/row_check.h"
#include "pkcs/digest.h"
#include "pkcs/seal.h"
#include "cli/commands.h"
#include "deploy/graph_connection.h"
#include "cli/internal/interrupt.h"
#include "cli/internal/plan_apply_output.h"

namespace certdeploy::cli {
namespace {

constexpr size_t kMaxPlanBytes = 512 << 20;

// Prints "certdeploy <command>: ..." and returns the exit code.
class Reporter {
 public:
  Reporter(std::string command, std::ostream& err) : command_(std::move(command)), err_(err) {}

  int Usage(std::string_view message) { return Say(kExitUsage, message); }
  int Usage(const Status& s) { return Usage(s.message()); }
  // Graph and auth failures: the full status, with HTTP status, Graph code and request-id.
  int Graph(const Status& s) { return Say(kExitGraph, "Graph: " + s.ToString()); }
  int Stale(std::string_view why) {
    return Say(kExitStalePlan, "plan is stale, re-run plan: " + std::string(why));
  }

 private:
  int Say(int code, std::string_view message) {
    err_ << "certdeploy " << command_ << ": " << message << "\n";
    return code;
  }
  std::string command_;
  std::ostream& err_;
};

struct LoadedManifest {
  config::Manifest manifest;
  std::string sha256;  // Of the exact bytes parsed.
};

Result<LoadedManifest> LoadManifestWithDigest(const std::string& path) {
  const std::string absolute = std::filesystem::absolute(path).lexically_normal().string();
  ASSIGN_OR_RETURN(std::string text, ReadFile(absolute, config::kMaxManifestBytes));
  ASSIGN_OR_RETURN(config::Manifest manifest, config::ParseManifest(text, absolute));
  return LoadedManifest{std::move(manifest), pkcs::Sha256Hex(text)};
}

std::vector<std::string> Upns(const config::Manifest& manifest) {
  std::vector<std::string> upns;
  for (const config::ManifestRow& row : manifest.rows) upns.push_back(row.upn);
  return upns;
}

// What plan and apply work on, once loaded and checked.
struct Session {
  // Told of Graph's resends and budget waits (graph_options.observer); outlives `graph`.
  WaitNotices notices{RealClock()};
  config::Config config;
  LoadedManifest manifest;
  deploy::GraphConnectionOptions graph_options;
  std::unique_ptr<deploy::GraphConnection> graph;
  deploy::Plan plan;
  // apply --plan resuming an interrupted run: write actions of the reviewed plan already done.
  int resumed_done = 0;
  std::vector<deploy::GroupResolution> groups;  // The config's group names, resolved.
};

// Loads the manifest, reads its PFX files and the tenant, and computes the plan. An exit code on
// failure.
std::optional<int> PlanFromManifest(const std::string& manifest_path, Reporter& r, Session& s) {
  Result<LoadedManifest> manifest = LoadManifestWithDigest(manifest_path);
  if (!manifest.ok()) return r.Usage(manifest.status());
  s.manifest = std::move(*manifest);
  Result<std::unique_ptr<deploy::GraphConnection>> graph =
      deploy::GraphConnection::Open(s.config, RealClock(), RealRandom(), s.graph_options);
  if (!graph.ok()) return r.Usage(graph.status());
  s.graph = std::move(*graph);
  // Group names become ids first: a name that names no group (or several) is a config error,
  // found before the PFX files are read and before any write.
  Result<std::vector<deploy::GroupResolution>> groups =
      deploy::ResolveGroupNames(s.graph->intune(), s.config);
  if (!groups.ok()) {
    const StatusDetails* d = groups.status().details();
    return d != nullptr && d->http_status != 0 ? r.Graph(groups.status())
                                               : r.Usage(groups.status());
  }
  s.groups = std::move(*groups);
  const SystemTime now = RealClock().Now();
  deploy::DesiredStateOptions desired_options;
  desired_options.now = now;
  desired_options.threads = HardwareThreads();
  Result<deploy::DesiredState> desired =
      deploy::BuildDesiredState(s.config, s.manifest.manifest, desired_options);
  if (!desired.ok()) return r.Usage(desired.status());
  Result<deploy::ObservedState> observed =
      deploy::ReadObservedState(s.graph->intune(), Upns(s.manifest.manifest),
                                deploy::ObserveOptionsFor(s.config));
  if (!observed.ok()) return r.Graph(observed.status());
  s.plan = deploy::ComputePlan(*desired, *observed, now);
  s.plan.created_at = FormatRfc3339Utc(now);
  s.plan.tenant = s.config.tenant.id;
  s.plan.manifest_path = s.manifest.manifest.path;
  s.plan.manifest_sha256 = s.manifest.sha256;
  return std::nullopt;
}

// Rows by manifest line.
std::unordered_map<int, const config::ManifestRow*> RowsByLine(const config::Manifest& m) {
  std::unordered_map<int, const config::ManifestRow*> rows;
  for (const config::ManifestRow& row : m.rows) rows[row.line] = &row;
  return rows;
}

// Names the import actions whose manifest row or PFX file is no longer the reviewed one.
std::vector<std::string> ChangedImports(const deploy::Plan& plan, const config::Manifest& m) {
  std::vector<std::string> changed;
  auto rows = RowsByLine(m);
  for (const deploy::Action& a : plan.actions) {
    if (a.kind != deploy::ActionKind::kImportUserPfx &&
        a.kind != deploy::ActionKind::kUpdateUserPfx) {
      continue;
    }
    auto it = rows.find(a.line);
    if (it == rows.end() || it->second->upn != a.upn || it->second->pfx_file != a.pfx_file) {
      changed.push_back("manifest line " + std::to_string(a.line));
      continue;
    }
    Result<std::string> bytes = ReadFile(a.pfx_file, deploy::kMaxPfxBytes);
    if (!bytes.ok() || pkcs::Sha256Hex(*bytes) != a.pfx_sha256) changed.push_back(a.pfx_file);
  }
  return changed;
}

// Loads a reviewed plan and refuses it if anything drifted since review. An exit code on
// failure or staleness.
std::optional<int> LoadReviewedPlan(const std::string& plan_path, Reporter& r, Session& s) {
  Result<std::string> text = ReadFile(plan_path, kMaxPlanBytes);
  if (!text.ok()) return r.Usage(text.status());
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded()) return r.Usage(plan_path + " is not a JSON plan file");
  Result<deploy::Plan> plan = deploy::PlanFromJson(j);
  if (!plan.ok()) return r.Usage(Status(plan.status()).WithContext(plan_path));
  if (plan->tenant != s.config.tenant.id) {
    return r.Usage("the plan was made for tenant '" + plan->tenant + "' but the config is for '" +
                   s.config.tenant.id + "'");
  }
  if (plan->manifest_path.empty() || plan->manifest_sha256.empty()) {
    return r.Usage("the plan does not name its manifest; re-run plan");
  }
  Result<LoadedManifest> manifest = LoadManifestWithDigest(plan->manifest_path);
  if (!manifest.ok()) {
    if (manifest.status().code() == StatusCode::kNotFound) {
      return r.Stale("the manifest " + plan->manifest_path + " is gone");
    }
    return r.Usage(manifest.status());
  }
  if (manifest->sha256 != plan->manifest_sha256) {
    return r.Stale("the manifest " + plan->manifest_path + " changed since the plan was made");
  }
  std::vector<std::string> changed = ChangedImports(*plan, manifest->manifest);
  if (!changed.empty()) {
    std::string list;
    for (size_t i = 0; i < changed.size() && i < 10; ++i) list += (i ? ", " : "") + changed[i];
    if (changed.size() > 10) list += " and " + std::to_string(changed.size() - 10) + " more";
    return r.Stale("PFX files changed since the plan was made: " + list);
  }
  s.manifest = std::move(*manifest);
  Result<std::unique_ptr<deploy::GraphConnection>> graph =
      deploy::GraphConnection::Open(s.config, RealClock(), RealRandom(), s.graph_options);
  if (!graph.ok()) return r.Usage(graph.status());
  s.graph = std::move(*graph);
  Result<deploy::ObservedState> observed =
      deploy::ReadObservedState(s.graph->intune(), Upns(s.manifest.manifest),
                                deploy::ObserveOptionsFor(s.config));
  if (!observed.ok()) return r.Graph(observed.status());
  if (deploy::DigestObservedState(*observed) == plan->observed_digest) {
    s.plan = std::move(*plan);
    return std::nullopt;
  }
  // Changed: by this very plan (an interrupted apply) or by something else (drift).
  const deploy::DesiredSeal seal{s.config.connector.provider_name, s.config.connector.key_name,
                                 std::string(pkcs::PaddingSchemeName(s.config.connector.padding))};
  deploy::ResumeCheck check = deploy::CheckResume(*plan, *observed, seal);
  if (!check.unexplained.empty()) {
    std::string list;
    for (size_t i = 0; i < check.unexplained.size() && i < 5; ++i) {
      list += (i ? ", " : "") + check.unexplained[i];
    }
    if (check.unexplained.size() > 5) {
      list += " and " + std::to_string(check.unexplained.size() - 5) + " more";
    }
    return r.Stale("the tenant changed since the plan was made (" + list + ")");
  }
  s.resumed_done = check.done;
  s.plan = std::move(check.remaining);
  return std::nullopt;
}

// Refuses, before any write, a plan that would leave assignments owned by another config's
// profiles section half-applied: the operator decides (take over, or align the configs).
std::optional<int> RefuseOwnershipConflicts(const deploy::Plan& plan, std::ostream& err) {
  int conflicts = 0;
  for (const deploy::Action& a : plan.actions) {
    if (a.kind != deploy::ActionKind::kInvalid || a.findings.empty() ||
        a.findings.front().code != deploy::kAssignmentsOwnedElsewhere) {
      continue;
    }
    err << "certdeploy apply: " << deploy::kAssignmentsOwnedElsewhere << ": "
        << a.findings.front().message << "\n";
    ++conflicts;
  }
  if (conflicts == 0) return std::nullopt;
  err << "certdeploy apply: refusing to apply: nothing was written\n";
  return kExitFindings;
}

// The connector key, loaded and checked (an RSA public key of at least 2048 bits: a private
// key, a certificate or a missing file is refused). Before any Graph request, in `plan` as in
// `apply`: a wrong key must not pass review and fail only in the change window.
Result<pkcs::ConnectorPublicKey> LoadConnectorKey(const config::Config& config) {
  Result<pkcs::ConnectorPublicKey> key =
      pkcs::ConnectorPublicKey::LoadFile(config.connector.public_key_file);
  if (!key.ok()) return Status(key.status()).WithContext("connector.publicKeyFile");
  return key;
}

// "Group 'All iOS users' is 5f0c...", one line per group name the config uses.
void PrintGroupNames(const std::vector<deploy::GroupResolution>& groups, std::ostream& out) {
  for (const deploy::GroupResolution& g : groups) {
    out << "Group '" << g.name << "' is " << g.id << "\n";
  }
}

// Asks on a terminal; refuses without one. An exit code unless the answer is "yes".
std::optional<int> Confirm(const ApplyArgs& args, std::istream& in, std::ostream& prompt,
                           Reporter& r) {
  if (args.yes) return std::nullopt;
  if (!args.stdin_is_tty.value_or(isatty(STDIN_FILENO) == 1)) {
    return r.Usage(
        "refusing to apply without confirmation: standard input is not a terminal. Pass --yes, "
        "or review with `certdeploy plan --out PLAN.json` and run `certdeploy apply --plan "
        "PLAN.json`");
  }
  prompt << "\nDo you want to apply these changes? Only 'yes' will be accepted: " << std::flush;
  std::string answer;
  if (!std::getline(in, answer) || answer != "yes") {
    prompt << "Apply cancelled.\n";
    return kExitFindings;
  }
  return std::nullopt;
}

int Execute(const ApplyArgs& args, Session& s, const pkcs::ConnectorPublicKey& key,
            std::ostream& out, std::ostream& err) {
  auto rows = RowsByLine(s.manifest.manifest);
  deploy::ExecutorOptions options = deploy::ExecutorOptionsFromConfig(s.config);
  if (args.serial) options.concurrency = 1;
  options.passwords = [&rows](const deploy::Action& a) -> Result<SecretBytes> {
    auto it = rows.find(a.line);
    if (it == rows.end() || it->second->upn != a.upn) {
      return FailedPreconditionError("manifest line " + std::to_string(a.line) +
                                     " is not the reviewed row; re-run plan");
    }
    return it->second->ReadPassword();
  };
  options.seal = deploy::ConnectorSealer(key, s.config.connector.padding);

  // The display shows Graph's waits on its line from here on; no separate lines.
  s.notices.EchoTo(nullptr, "");
  std::optional<double> budget;  // The serial baseline does not pace.
  if (!args.serial) {
    budget = s.config.limits.writes_per_20s /
             std::chrono::duration<double>(s.config.limits.window).count();
  }
  const SteadyTime start = RealClock().SteadyNow();
  deploy::ExecutionReport report;
  {
    InterruptGuard interrupt;
    options.stop = &interrupt.token();
    ProgressDisplay progress(err, args.stderr_is_tty.value_or(isatty(STDERR_FILENO) == 1),
                             RealClock(), budget, &s.notices);
    options.on_progress = [&progress](const deploy::ExecutionProgress& p) { progress.Update(p); };
    report = deploy::ExecutePlan(s.plan, s.graph->client(), options);
    progress.Finish();
  }
  const Duration elapsed = RealClock().SteadyNow() - start;
  if (report.interrupted()) {
    const size_t total = report.items.size();
    const size_t finished = total - static_cast<size_t>(report.not_run());
    if (args.output == "json") {
      out << ReportJson(s.plan, report, elapsed).dump(2) << "\n";
    } else {
      out << RenderSummary(s.plan, report, elapsed);
    }
    err << "certdeploy apply: interrupted after " << finished << " of " << total
        << " actions; re-run the same command to finish\n";
    return kExitInterrupted;
  }
  if (args.output == "json") {
    out << ReportJson(s.plan, report, elapsed).dump(2) << "\n";
  } else {
    out << RenderSummary(s.plan, report, elapsed);
  }
  for (const deploy::ItemResult& item : report.items) {
    if (!item.ok && (item.status.code() == StatusCode::kUnauthenticated ||
                     item.status.code() == StatusCode::kPermissionDenied)) {
      return kExitGraph;
    }
  }
  return report.ok() && s.plan.Summary().invalid == 0 ? kExitOk : kExitFindings;
}

}  // namespace

int RunPlan(const PlanArgs& args, std::ostream& out, std::ostream& err) {
  Reporter r("plan", err);
  if (args.output != "text" && args.output != "json") return r.Usage("--output is text or json");
  Session s;
  s.graph_options.observer = &s.notices;
  s.notices.EchoTo(&err, "certdeploy plan");
  Result<config::Config> config = config::LoadConfig(args.config);
  if (!config.ok()) return r.Usage(config.status());
  s.config = std::move(*config);
  if (args.take_over_assignments) s.config.profiles.take_over_assignments = true;
  if (Result<pkcs::ConnectorPublicKey> key = LoadConnectorKey(s.config); !key.ok()) {
    return r.Usage(key.status());
  }
  if (std::optional<int> code = PlanFromManifest(args.manifest, r, s)) return *code;
  const nlohmann::json plan_json = deploy::PlanToJson(s.plan);
  if (!args.out.empty()) {
    Status written = WriteFileAtomic(args.out, plan_json.dump(2) + "\n", 0644);
    if (!written.ok()) return r.Usage(written);
  }
  if (args.output == "json") {
    out << plan_json.dump(2) << "\n";
  } else {
    PrintGroupNames(s.groups, out);
    out << (args.summary ? deploy::RenderPlanSummary(s.plan) : deploy::RenderPlanText(s.plan));
    out << PlanClosingNote(s.plan, args.config, args.out);
  }
  return s.plan.Summary().invalid > 0 ? kExitFindings : kExitOk;
}

int RunApply(const ApplyArgs& args, std::istream& in, std::ostream& out, std::ostream& err) {
  Reporter r("apply", err);
  if (args.plan.empty() == args.manifest.empty()) {
    return r.Usage("give exactly one of --plan PLAN.json and --manifest CSV");
  }
  if (args.output != "text" && args.output != "json") return r.Usage("--output is text or json");
  if (args.take_over_assignments && !args.plan.empty()) {
    return r.Usage(
        "--take-over-assignments goes with plan or apply --manifest: a reviewed plan already "
        "says whether it takes over; re-run plan with it");
  }
  // Until the first write, Ctrl-C quits at once: nothing is lost (Execute takes over then).
  std::optional<QuitOnInterrupt> quit;
  quit.emplace("\ncertdeploy apply: interrupted before any write; nothing was changed\n");
  Session s;
  s.graph_options.serial = args.serial;
  s.graph_options.observer = &s.notices;
  s.notices.EchoTo(&err, "certdeploy apply");
  Result<config::Config> config = config::LoadConfig(args.config);
  if (!config.ok()) return r.Usage(config.status());
  s.config = std::move(*config);
  if (args.take_over_assignments) s.config.profiles.take_over_assignments = true;
  // Before any Graph request: a missing key must not surface after half the work.
  Result<pkcs::ConnectorPublicKey> key = LoadConnectorKey(s.config);
  if (!key.ok()) return r.Usage(key.status());

  std::ostream& plan_out = args.output == "json" ? err : out;
  if (args.plan.empty()) {
    if (std::optional<int> code = PlanFromManifest(args.manifest, r, s)) return *code;
    PrintGroupNames(s.groups, plan_out);
    plan_out << (args.summary ? deploy::RenderPlanSummary(s.plan) : deploy::RenderPlanText(s.plan));
  } else {
    if (std::optional<int> code = LoadReviewedPlan(args.plan, r, s)) return *code;
    deploy::PlanSummary sum = s.plan.Summary();
    if (s.resumed_done > 0) {
      plan_out << "Resuming the reviewed plan " << args.plan << ": " << s.resumed_done
               << " action" << (s.resumed_done == 1 ? " was" : "s were")
               << " done by an earlier run and will not be sent again.\n";
    }
    plan_out << "Applying the reviewed plan " << args.plan << ": " << sum.add << " to add, "
             << sum.change << " to change, " << sum.remove << " to remove.\n";
  }
  if (std::optional<int> code = RefuseOwnershipConflicts(s.plan, err)) return *code;
  if (!s.plan.HasWrites()) {
    if (args.output == "json") {
      out << ReportJson(s.plan, {}).dump(2) << "\n";
    } else {
      const int invalid = s.plan.Summary().invalid;
      if (s.resumed_done > 0) {
        out << "Nothing left to do: every action of the plan is done.\n";
      } else if (invalid == 0) {
        out << "No changes: the tenant already matches the manifest.\n";
      } else {
        out << "No changes to apply; " << invalid << " action" << (invalid == 1 ? "" : "s")
            << " could not be planned (marked ! in the plan).\n";
      }
    }
    return s.plan.Summary().invalid > 0 ? kExitFindings : kExitOk;
  }
  if (args.plan.empty()) {
    if (std::optional<int> code = Confirm(args, in, plan_out, r)) return *code;
  }
  quit.reset();
  return Execute(args, s, *key, out, err);
}

}  // namespace certdeploy::cli
