// `certdeploy remove`: a user's userPfxCertificates deleted (offboarding), dry run by default.

#include <algorithm>
#include <nlohmann/json.hpp>
#include <ostream>

#include "base/clock.h"
#include "base/random.h"
#include "base/strings.h"
#include "base/time_format.h"
#include "cli/commands.h"
#include "config/config.h"
#include "config/upn.h"
#include "deploy/executor.h"
#include "deploy/graph_connection.h"
#include "deploy/plan.h"

namespace certdeploy::cli {
namespace {

bool IsHex(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) != 0;
  });
}

deploy::Action DeleteAction(const graph::UserPfxCertificate& r) {
  deploy::Action a;
  a.kind = deploy::ActionKind::kDeleteUserPfx;
  a.upn = r.user_principal_name;
  a.thumbprint = AsciiToLower(r.thumbprint);
  a.key = "pfx/" + AsciiToLower(r.user_principal_name) + "/" + a.thumbprint;
  a.record_id = r.id;
  a.not_before = r.start_date_time;
  a.not_after = r.expiration_date_time;
  a.description = r.user_principal_name + "  " + a.thumbprint + "  " +
                  std::string(graph::ToString(r.intended_purpose)) + "  expires " +
                  FormatRfc3339Utc(r.expiration_date_time) + "  (offboarding)";
  return a;
}

}  // namespace

int RunRemove(const RemoveArgs& args, std::ostream& out, std::ostream& err) {
  auto fail = [&err](int code, std::string_view message) {
    err << "certdeploy remove: " << message << "\n";
    return code;
  };
  if (Status valid = config::ValidateUpn(args.upn); !valid.ok()) {
    return fail(kExitUsage, "--upn: " + std::string(valid.message()));
  }
  std::vector<std::string> wanted;
  for (const std::string& t : args.thumbprints) {
    if (t.size() != 40 || !IsHex(t)) {
      return fail(kExitUsage, "--thumbprint must be 40 hex digits (a SHA-1), got '" +
                                  ForLog(t) + "'");
    }
    wanted.push_back(AsciiToLower(t));
  }
  Result<config::Config> config = config::LoadConfig(args.config);
  if (!config.ok()) return fail(kExitUsage, config.status().message());
  Result<std::unique_ptr<deploy::GraphConnection>> graph =
      deploy::GraphConnection::Open(*config, RealClock(), RealRandom());
  if (!graph.ok()) return fail(kExitUsage, graph.status().message());

  Result<std::vector<graph::UserPfxCertificate>> records =
      (*graph)->intune().ListUserPfxCertificatesForUser(args.upn);
  if (!records.ok()) return fail(kExitGraph, "Graph: " + records.status().ToString());
  deploy::Plan plan;
  std::vector<std::string> missing = wanted;
  for (const graph::UserPfxCertificate& r : *records) {
    const std::string thumbprint = AsciiToLower(r.thumbprint);
    if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), thumbprint) == wanted.end()) {
      continue;
    }
    missing.erase(std::remove(missing.begin(), missing.end(), thumbprint), missing.end());
    plan.actions.push_back(DeleteAction(r));
  }
  for (const std::string& t : missing) {
    err << "certdeploy remove: " << args.upn << " has no certificate " << t << "\n";
  }
  const int exit_missing = missing.empty() ? kExitOk : kExitFindings;

  const bool json = args.output == "json";
  if (!args.yes || plan.actions.empty()) {
    if (json) {
      nlohmann::json would = nlohmann::json::array();
      for (const deploy::Action& a : plan.actions) {
        would.push_back({{"thumbprint", a.thumbprint}, {"id", a.record_id}});
      }
      out << nlohmann::json{{"dryRun", !args.yes}, {"wouldDelete", would}}.dump(2) << "\n";
    } else if (plan.actions.empty()) {
      out << "Nothing to delete: " << args.upn << " has no "
          << (wanted.empty() ? "certificate" : "such certificate") << " in Intune.\n";
    } else {
      out << deploy::RenderPlanText(plan)
          << "Dry run: nothing was deleted. Run again with --yes to delete.\n";
    }
    return exit_missing;
  }

  deploy::ExecutorOptions options = deploy::ExecutorOptionsFromConfig(*config);
  deploy::ExecutionReport report = deploy::ExecutePlan(plan, (*graph)->client(), options);
  nlohmann::json items = nlohmann::json::array();
  for (const deploy::ItemResult& r : report.items) {
    const deploy::Action& a = plan.actions[r.action_index];
    if (json) {
      nlohmann::json item = {{"thumbprint", a.thumbprint}, {"id", a.record_id}, {"ok", r.ok}};
      if (!r.ok) item["error"] = r.status.ToString();
      items.push_back(std::move(item));
    } else {
      out << (r.ok ? "- deleted  " : "! failed   ") << a.description;
      if (!r.ok) out << ": " << r.status.ToString();
      out << "\n";
    }
  }
  if (json) {
    out << nlohmann::json{{"deleted", report.succeeded()}, {"failed", report.failed()},
                          {"items", items}}
               .dump(2)
        << "\n";
  } else {
    out << "Removed " << report.succeeded() << " of " << report.items.size() << " certificate"
        << (report.items.size() == 1 ? "" : "s") << " of " << args.upn << ".\n";
  }
  return report.ok() ? exit_missing : kExitFindings;
}

}  // namespace certdeploy::cli
