// `certdeploy inventory`: the tenant's userPfxCertificates with expiry, as text, JSON or CSV;
// with --devices, what each device reported for the profile delivering them.

#include <ostream>

#include "base/clock.h"
#include "base/random.h"
#include "cli/commands.h"
#include "config/config.h"
#include "config/upn.h"
#include "deploy/graph_connection.h"
#include "deploy/inventory.h"

namespace certdeploy::cli {

int RunInventory(const InventoryArgs& args, std::ostream& out, std::ostream& err) {
  auto fail = [&err](int code, std::string_view message) {
    err << "certdeploy inventory: " << message << "\n";
    return code;
  };
  if (args.output != "text" && args.output != "json" && args.output != "csv") {
    return fail(kExitUsage, "--output must be text, json or csv");
  }
  if (!args.upn.empty()) {
    if (Status valid = config::ValidateUpn(args.upn); !valid.ok()) {
      return fail(kExitUsage, "--upn: " + std::string(valid.message()));
    }
  }
  if (args.devices && args.upn.empty()) {
    return fail(kExitUsage, std::string(deploy::kDevicesRequireUpn) +
                                ": --devices needs --upn (reading every profile's device "
                                "report for a whole tenant is too costly)");
  }
  if (args.devices && args.output == "csv") {
    return fail(kExitUsage, "--devices cannot be written as csv (a certificate has any number of "
                            "devices); use --output json or text");
  }
  Result<config::Config> config = config::LoadConfig(args.config);
  if (!config.ok()) return fail(kExitUsage, config.status().message());
  Result<std::unique_ptr<deploy::GraphConnection>> graph =
      deploy::GraphConnection::Open(*config, RealClock(), RealRandom());
  if (!graph.ok()) return fail(kExitUsage, graph.status().message());

  deploy::InventoryOptions options;
  if (!args.upn.empty()) options.upn = args.upn;
  options.now = RealClock().Now();
  options.expiring_within = args.expiring_within;
  options.expiring_days = args.expiring_within.value_or(config->pfx.expires_soon_days);
  options.devices = args.devices;
  Result<std::vector<deploy::InventoryRow>> rows = deploy::ReadInventory((*graph)->intune(), options);
  if (!rows.ok()) return fail(kExitGraph, "Graph: " + rows.status().ToString());

  if (args.output == "json") {
    nlohmann::json array = nlohmann::json::array();
    for (const deploy::InventoryRow& row : *rows) {
      array.push_back(deploy::InventoryRowJson(row, args.devices));
    }
    out << array.dump(2) << "\n";
  } else if (args.output == "csv") {
    out << deploy::RenderInventoryCsv(*rows);
  } else {
    out << deploy::RenderInventoryText(*rows, options);
  }
  return kExitOk;
}

}  // namespace certdeploy::cli
