// certdeploy: one binary, one subcommand per job.
//
// Flag parsing lives here (CLI11 is expensive to compile, so only this file includes it); each
// subcommand is a function in service/internal/ taking a plain args struct.

#include <CLI/CLI.hpp>

#include <iostream>

#include "base/file.h"
#include "base/log.h"
#include "sandbox/sandbox.h"
#include "service/internal/commands.h"
#include "service/internal/rollout_commands.h"

namespace {

using namespace certdeploy::service;

void AddValidate(CLI::App& app, ValidateArgs& args) {
  CLI::App* cmd = app.add_subcommand(
      "validate", "Check that a PFX is deployable to a user through Intune (no Graph access)");
  cmd->add_option("--pfx", args.pfx_file, "PFX (PKCS#12) file")->required();
  cmd->add_option("--upn", args.upn, "User principal name the certificate is for")->required();
  cmd->add_option("--password-env", args.password_env,
                  "Environment variable holding the PFX password");
  cmd->add_option("--password-file", args.password_file, "File holding the PFX password");
  cmd->add_option("--purpose", args.purpose,
                  "smimeEncryption | smimeSigning | vpn | wifi | unassigned")
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
  cmd->add_flag("--serial", args.serial,
                "Benchmark baseline: behave like Microsoft's PowerShell module (one request at a "
                "time, no pacing, only 429s retried after Retry-After)");
}

void AddServe(CLI::App& app, ServeArgs& args) {
  CLI::App* cmd = app.add_subcommand(
      "serve", "Run the daemon: REST API (enrollments, rollouts), scheduler and dispatcher");
  cmd->add_option("--config", args.config, "Configuration file (YAML) with a service: section")
      ->required();
}

struct SandboxArgs {
  certdeploy::sandbox::SandboxOptions options;
  std::string client_secret_env;
  int latency_ms = 0;
  int spike_ms = 0;
  int window_seconds = 20;
  int token_lifetime_seconds = 3599;
};

void AddSandbox(CLI::App& app, SandboxArgs& args) {
  CLI::App* cmd = app.add_subcommand(
      "sandbox", "Run a strict local fake Intune tenant (Graph + token endpoint) for tests and "
                 "rehearsals; prints its URL on the first line of stdout");
  auto& o = args.options;
  cmd->add_option("--listen", o.listen, "host:port (port 0 picks a free port)")->capture_default_str();
  cmd->add_option("--connector-key", o.connector_key_file,
                  "Connector PRIVATE key (PEM): the sandbox plays the PFX connector")
      ->required();
  cmd->add_option("--users", o.users_file,
                  "Directory: one UPN per line, or a CSV with a userPrincipalName column "
                  "(default: every well-formed UPN exists)");
  cmd->add_option("--client-id", o.client_id, "Accept tokens only for this application id");
  cmd->add_option("--client-secret-env", args.client_secret_env,
                  "Environment variable holding the accepted client secret");
  cmd->add_option("--app-cert", o.app_cert_file,
                  "PEM certificate whose key signs accepted JWT client assertions");
  cmd->add_option("--latency-ms", args.latency_ms, "Added to every response")->capture_default_str();
  cmd->add_option("--write-limit", o.write_limit, "Writes allowed per window")->capture_default_str();
  cmd->add_option("--window", args.window_seconds, "Write/request window in seconds")
      ->capture_default_str();
  cmd->add_option("--request-limit", o.request_limit, "Requests allowed per window")
      ->capture_default_str();
  cmd->add_option("--fail-rate", o.fail_rate, "Probability of an injected 503")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  cmd->add_option("--drop-rate", o.drop_rate,
                  "Probability that a write is applied and its response dropped")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  cmd->add_option("--throttle-rate", o.throttle_rate,
                  "Probability of an injected 429 (Retry-After 1-2 s) whatever the budget")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  cmd->add_option("--spike-rate", o.spike_rate,
                  "Probability that a response gets --spike-ms of extra latency")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  cmd->add_option("--spike-ms", args.spike_ms, "Latency of a spike, milliseconds")
      ->capture_default_str();
  cmd->add_option("--page-size", o.page_size, "Server-side page size")->capture_default_str();
  cmd->add_option("--state", o.state_file, "Persist state to this journal file");
  cmd->add_option("--seed", o.seed, "Seed for injected faults (0: random)")->capture_default_str();
  cmd->add_option("--token-lifetime", args.token_lifetime_seconds, "Access token lifetime, seconds")
      ->capture_default_str();
}

int RunSandboxCommand(SandboxArgs& args) {
  auto& o = args.options;
  if (!args.client_secret_env.empty()) {
    certdeploy::Result<certdeploy::SecretBytes> secret =
        certdeploy::ReadSecretEnv(args.client_secret_env);
    if (!secret.ok()) {
      std::cerr << "certdeploy sandbox: --client-secret-env: " << secret.status().message() << "\n";
      return kExitUsage;
    }
    o.client_secret = std::move(*secret);
  }
  if (args.latency_ms < 0 || args.spike_ms < 0 || args.window_seconds <= 0 ||
      args.token_lifetime_seconds <= 0 || o.write_limit <= 0 || o.request_limit <= 0 ||
      o.page_size <= 0) {
    std::cerr << "certdeploy sandbox: latency and spikes must be >= 0; window, limits, page size "
                 "and token lifetime must be > 0\n";
    return kExitUsage;
  }
  o.latency = std::chrono::milliseconds(args.latency_ms);
  o.spike_latency = std::chrono::milliseconds(args.spike_ms);
  o.window = std::chrono::seconds(args.window_seconds);
  o.token_lifetime = std::chrono::seconds(args.token_lifetime_seconds);
  return certdeploy::sandbox::RunSandbox(o);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"certdeploy: roll S/MIME and other user certificates out to Intune-managed devices"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "certdeploy 0.1.0");
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "trace | debug | info | warn | error | off")
      ->capture_default_str();

  ValidateArgs validate;
  AddValidate(app, validate);
  PlanArgs plan;
  AddPlan(app, plan);
  ApplyArgs apply;
  AddApply(app, apply);
  SandboxArgs sandbox;
  AddSandbox(app, sandbox);
  ServeArgs serve;
  AddServe(app, serve);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }

  certdeploy::LogOptions log_options;
  log_options.level = log_level;
  if (certdeploy::Status s = certdeploy::InitLogging(log_options); !s.ok()) {
    std::cerr << "certdeploy: " << s.message() << "\n";
    return kExitUsage;
  }

  if (app.got_subcommand("validate")) return RunValidate(validate, std::cout, std::cerr);
  if (app.got_subcommand("plan")) return RunPlan(plan, std::cout, std::cerr);
  if (app.got_subcommand("apply")) return RunApply(apply, std::cin, std::cout, std::cerr);
  if (app.got_subcommand("sandbox")) return RunSandboxCommand(sandbox);
  if (app.got_subcommand("serve")) return RunServe(serve);
  return kExitUsage;
}
