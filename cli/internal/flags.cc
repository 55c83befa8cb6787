// The command line: flags parsed with CLI11 (expensive to compile, so only this file includes it)
// into each subcommand's args struct, then the subcommand's Run* function.

#include <CLI/CLI.hpp>

#include <istream>
#include <string_view>
#include <ostream>

#include "base/log.h"
#include "base/strings.h"
#include "cli/commands.h"

namespace certdeploy::cli {
namespace {


void AddValidate(CLI::App& app, ValidateArgs& args) {
  CLI::App* cmd = app.add_subcommand(
      "validate",
      "Check that a PFX, or every row of a manifest, is deployable through Intune (no Graph "
      "access)");
  cmd->add_option("--pfx", args.pfx_file, "PFX (PKCS#12) file");
  cmd->add_option("--upn", args.upn, "User principal name the certificate is for (with --pfx)");
  cmd->add_option("--manifest", args.manifest,
                  "Check every row of this manifest CSV instead (in parallel; rows with identical "
                  "findings grouped)");
  cmd->add_option("--config", args.config,
                  "With --manifest: take pfx settings, trust bundle and connector key from this "
                  "config");
  cmd->add_option("--email", args.email,
                  "The mailbox's primary SMTP address, when it is not the UPN (default: the UPN)");
  cmd->add_option("--password-env", args.password_env,
                  "Environment variable holding the PFX password");
  cmd->add_option("--password-file", args.password_file, "File holding the PFX password");
  cmd->add_option("--purpose", args.purpose,
                  "smimeEncryption | smimeSigning | wifi | unassigned")
      ->capture_default_str();
  cmd->add_option("--trust-bundle", args.trust_bundle, "PEM file of extra CA certificates");
  cmd->add_option("--connector-key", args.connector_key,
                  "Connector public key (PEM, PKCS#1 PEM or CNG RSAPUBLICBLOB): prove sealing");
  cmd->add_option("--padding", args.padding, "oaepSha256 | oaepSha384 | oaepSha512")
      ->capture_default_str();
  cmd->add_option("--expires-soon-days", args.expires_soon_days,
                  "Warn when the certificate expires within this many days")
      ->capture_default_str();
  cmd->add_option("--output", args.output, "text | json")->capture_default_str();
}

void AddPlan(CLI::App& app, PlanArgs& args) {
  CLI::App* cmd = app.add_subcommand(
      "plan", "Dry run: show what apply would change in the tenant (token + GET requests only)");
  cmd->add_option("--config", args.config, "certdeploy config file (YAML)")->required();
  cmd->add_option("--manifest", args.manifest,
                  "Manifest CSV: userPrincipalName,pfxFile,passwordFile|password[,intendedPurpose]")
      ->required();
  cmd->add_option("--out", args.out, "Also write the plan as JSON, for apply --plan");
  cmd->add_option("--output", args.output, "text | json")->capture_default_str();
  cmd->add_flag("--take-over-assignments", args.take_over_assignments,
                "Rewrite assignments that another config's profiles section wrote (as "
                "profiles.takeOverAssignments: true)");
  cmd->add_flag("--summary", args.summary,
                "Counts by action and by finding, with the first few examples (text output)");
}

void AddApply(CLI::App& app, ApplyArgs& args) {
  CLI::App* cmd =
      app.add_subcommand("apply", "Make the tenant match the manifest, or execute a reviewed plan");
  cmd->add_option("--config", args.config, "certdeploy config file (YAML)")->required();
  CLI::Option* plan =
      cmd->add_option("--plan", args.plan, "Reviewed plan file from `certdeploy plan --out`");
  CLI::Option* manifest = cmd->add_option("--manifest", args.manifest,
                                          "Manifest CSV: plan, show the plan, ask, then apply");
  plan->excludes(manifest);
  cmd->add_flag("--yes", args.yes, "Apply without asking for confirmation");
  cmd->add_option("--output", args.output, "text | json")->capture_default_str();
  cmd->add_flag("--take-over-assignments", args.take_over_assignments,
                "With --manifest: rewrite assignments that another config's profiles section "
                "wrote (as profiles.takeOverAssignments: true)");
  cmd->add_flag("--summary", args.summary,
                "With --manifest: show the plan as counts by action and by finding");
  cmd->add_flag("--serial", args.serial,
                "Benchmark baseline: behave like Microsoft's PowerShell module (one request at a "
                "time, no pacing, only 429s retried after Retry-After)");
}

void AddInventory(CLI::App& app, InventoryArgs& args) {
  CLI::App* cmd = app.add_subcommand(
      "inventory", "List the users' certificates in the tenant, with expiry (GET requests only)");
  cmd->add_option("--config", args.config, "certdeploy config file (YAML)")->required();
  cmd->add_option("--upn", args.upn, "Only this user's certificates");
  cmd->add_option("--expiring-within", args.expiring_within,
                  "Only certificates expiring within this many days (expired included)")
      ->check(CLI::Range(0, 36500));
  cmd->add_option("--output", args.output, "text | json | csv")
      ->check(CLI::IsMember({"text", "json", "csv"}))
      ->capture_default_str();
  cmd->add_flag("--devices", args.devices,
                "Also show what each device reported for the profile delivering the certificate "
                "(needs --upn; text or json)");
}

void AddRemove(CLI::App& app, RemoveArgs& args) {
  CLI::App* cmd = app.add_subcommand(
      "remove", "Offboarding: delete a user's certificates from Intune (dry run without --yes)");
  cmd->add_option("--config", args.config, "certdeploy config file (YAML)")->required();
  cmd->add_option("--upn", args.upn, "The user")->required();
  cmd->add_option("--thumbprint", args.thumbprints,
                  "Only this certificate (SHA-1, hex; repeatable). Default: all of the user's");
  cmd->add_flag("--yes", args.yes, "Delete; without it, only show what would be deleted");
  cmd->add_option("--output", args.output, "text | json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
}

void AddServe(CLI::App& app, ServeArgs& args) {
  CLI::App* cmd = app.add_subcommand(
      "serve", "Run the daemon: REST API (enrollments, rollouts), scheduler and dispatcher");
  cmd->add_option("--config", args.config, "Configuration file (YAML) with a service: section")
      ->required();
  // Test hook, hidden from --help: slows every schema migration down so that a test can kill the
  // process inside one (tests/e2e/campaign_test.cc).
  cmd->add_option("--diag-migration-delay-ms", args.diag_migration_delay_ms)
      ->check(CLI::Range(int64_t{0}, int64_t{600000}))
      ->group("");
}

void AddSandbox(CLI::App& app, SandboxArgs& args) {
  CLI::App* cmd = app.add_subcommand(
      "sandbox", "Run a strict local fake Intune tenant (Graph + token endpoint) for tests and "
                 "rehearsals; prints its URL on the first line of stdout");
  cmd->add_option("--listen", args.listen, "host:port (port 0 picks a free port)")->capture_default_str();
  cmd->add_option("--connector-key", args.connector_key,
                  "Connector PRIVATE key (PEM): the sandbox plays the PFX connector")
      ->required();
  cmd->add_option("--users", args.users,
                  "Directory: one UPN per line, or a CSV with a userPrincipalName column "
                  "(default: every well-formed UPN exists)");
  cmd->add_option("--groups", args.groups,
                  "Directory groups: one per line, a display name or \"<guid>,<display name>\" "
                  "(default: none)");
  cmd->add_option("--client-id", args.client_id, "Accept tokens only for this application id");
  cmd->add_option("--client-secret-env", args.client_secret_env,
                  "Environment variable holding the accepted client secret");
  cmd->add_option("--app-cert", args.app_cert,
                  "PEM certificate whose key signs accepted JWT client assertions");
  cmd->add_option("--latency-ms", args.latency_ms, "Added to every response")->capture_default_str();
  cmd->add_option("--write-limit", args.write_limit, "Writes allowed per window")->capture_default_str();
  cmd->add_option("--window", args.window_seconds, "Write/request window in seconds")
      ->capture_default_str();
  cmd->add_option("--request-limit", args.request_limit, "Requests allowed per window")
      ->capture_default_str();
  cmd->add_option("--fail-rate", args.fail_rate, "Probability of an injected 503")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  cmd->add_option("--drop-rate", args.drop_rate,
                  "Probability that a write is applied and its response dropped")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  cmd->add_option("--bare-rate", args.bare_rate,
                  "Probability that a create is answered 201 with an empty object")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  cmd->add_option("--throttle-rate", args.throttle_rate,
                  "Probability of an injected 429 (Retry-After 1-2 s) whatever the budget")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  cmd->add_option("--spike-rate", args.spike_rate,
                  "Probability that a response gets --spike-ms of extra latency")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  cmd->add_option("--spike-ms", args.spike_ms, "Latency of a spike, milliseconds")
      ->capture_default_str();
  cmd->add_option("--page-size", args.page_size, "Server-side page size")->capture_default_str();
  cmd->add_option("--state", args.state, "Persist state to this journal file");
  cmd->add_option("--seed", args.seed, "Seed for injected faults (0: random)")->capture_default_str();
  cmd->add_option("--token-lifetime", args.token_lifetime_seconds, "Access token lifetime, seconds")
      ->capture_default_str();
  cmd->add_flag("--without-outlook", args.without_outlook,
                "Start without the seeded Outlook apps (iOS and Android)");
}

// The subcommand the command line names: its first argument that is neither a global option nor
// the value of one. "" when there is none (only global options, or none at all).
std::string NamedSubcommand(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") return "";
    if (arg == "--log-level") {
      ++i;  // Its value.
      continue;
    }
    if (!arg.empty() && arg[0] == '-') continue;
    return std::string(arg);
  }
  return "";
}

// "unknown command 'aply'; did you mean 'apply'?" and the list of commands, or "" when `name`
// is one of them.
std::string UnknownCommand(CLI::App& app, const std::string& name) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    if (sub->get_name() == name) return "";
    names.push_back(sub->get_name());
  }
  std::string message = "certdeploy: unknown command '" + name + "'";
  const std::string closest = ClosestMatch(name, names);
  if (!closest.empty()) message += "; did you mean '" + closest + "'?";
  message += "\nCommands:";
  for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    message += "\n  " + sub->get_name() + "  " + sub->get_description();
  }
  return message + "\nRun 'certdeploy <command> --help' for a command's flags.\n";
}

}  // namespace

int Main(int argc, const char* const* argv, std::istream& in, std::ostream& out,
         std::ostream& err) {
  CLI::App app{"certdeploy: roll S/MIME and other user certificates out to Intune-managed devices"};
  app.require_subcommand(1);
  // Global options (--log-level, --help) are accepted after the subcommand too: the subcommands
  // created below inherit fallthrough and hand what they do not know to this parent.
  app.fallthrough();
  app.set_version_flag("--version", "certdeploy 0.1.0");
  std::string log_level;  // Empty: info for `serve` (a daemon's log is its record), else warn.
  app.add_option("--log-level", log_level,
                 "trace | debug | info | warn | error | off, before or after the command "
                 "(default: info for serve, else warn)");

  ValidateArgs validate;
  AddValidate(app, validate);
  PlanArgs plan;
  AddPlan(app, plan);
  ApplyArgs apply;
  AddApply(app, apply);
  InventoryArgs inventory;
  AddInventory(app, inventory);
  RemoveArgs remove;
  AddRemove(app, remove);
  SandboxArgs sandbox;
  AddSandbox(app, sandbox);
  ServeArgs serve;
  AddServe(app, serve);

  if (const std::string named = NamedSubcommand(argc, argv); !named.empty()) {
    if (const std::string unknown = UnknownCommand(app, named); !unknown.empty()) {
      err << unknown;
      return kExitUsage;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e, out, err);
  } catch (const CLI::ParseError& e) {
    app.exit(e, out, err);
    return kExitUsage;
  }

  LogOptions log_options;
  log_options.level =
      !log_level.empty() ? log_level : app.got_subcommand("serve") ? "info" : "warn";
  if (Status s = InitLogging(log_options); !s.ok()) {
    err << "certdeploy: " << s.message() << "\n";
    return kExitUsage;
  }

  if (app.got_subcommand("validate")) return RunValidate(validate, out, err);
  if (app.got_subcommand("plan")) return RunPlan(plan, out, err);
  if (app.got_subcommand("apply")) return RunApply(apply, in, out, err);
  if (app.got_subcommand("inventory")) return RunInventory(inventory, out, err);
  if (app.got_subcommand("remove")) return RunRemove(remove, out, err);
  if (app.got_subcommand("sandbox")) return RunSandbox(sandbox, out, err);
  if (app.got_subcommand("serve")) {
    serve.log_level_given = !log_level.empty();
    return RunServe(serve, out, err);
  }
  return kExitUsage;
}

}  // namespace certdeploy::cli
