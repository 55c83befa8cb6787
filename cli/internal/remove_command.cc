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
#include "deploy/offboard.h"
#include "deploy/plan.h"

namespace certdeploy::cli {
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
    Result<std::string> thumbprint = deploy::ParseThumbprint(t);
    if (!thumbprint.ok())
      return fail(kExitUsage, "--thumbprint: " + std::string(thumbprint.status().message()));
    wanted.push_back(*std::move(thumbprint));
  }
  Result<config::Config> config = config::LoadConfig(args.config);
  if (!config.ok()) return fail(kExitUsage, config.status().message());
  Result<std::unique_ptr<deploy::GraphConnection>> graph =
      deploy::GraphConnection::Open(*config, RealClock(), RealRandom());
  if (!graph.ok()) return fail(kExitUsage, graph.status().message());

  Result<deploy::RemovalPlan> removal = deploy::PlanRemoval((*graph)->intune(), args.upn, wanted);
  if (!removal.ok()) return fail(kExitGraph, "Graph: " + removal.status().ToString());
  const deploy::Plan& plan = removal->plan;
  const std::vector<std::string>& missing = removal->missing;
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
    out << nlohmann::json{{"deleted", report.succeeded()},
                          {"failed", report.failed()},
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
