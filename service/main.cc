// certdeploy: one binary, one subcommand per job.
//
// Flag parsing lives here (CLI11 is expensive to compile, so only this file includes it); each
// subcommand is a function in service/internal/ taking a plain args struct.

#include <CLI/CLI.hpp>

#include <iostream>

#include "base/log.h"
#include "service/internal/commands.h"

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
  return kExitUsage;
}
