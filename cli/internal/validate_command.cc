// `certdeploy validate`: is this PFX deployable to this user?

#include <iomanip>
#include <ostream>
#include <span>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/time_format.h"
#include "base/status_macros.h"
#include "deploy/row_check.h"
#include "pkcs/certificate.h"
#include "pkcs/seal.h"
#include "pkcs/validate.h"
#include "cli/commands.h"

namespace certdeploy::cli {
namespace {

using pkcs::ChainElement;
using pkcs::Finding;
using pkcs::ValidationReport;

struct SealProof {
  bool attempted = false;
  bool ok = false;
  std::string padding;
  std::string key_fingerprint;
  int key_bits = 0;
};

Result<SecretBytes> ReadPassword(const ValidateArgs& args) {
  if (!args.password_env.empty() && !args.password_file.empty()) {
    return InvalidArgumentError("give only one of --password-env and --password-file");
  }
  if (!args.password_env.empty()) return ReadSecretEnv(args.password_env);
  if (!args.password_file.empty()) return ReadSecretFile(args.password_file);
  return InvalidArgumentError(
      "the PFX password is required: --password-env VAR or --password-file FILE "
      "(never on the command line)");
}

nlohmann::json ReportJson(const ValidationReport& report, const SealProof& seal) {
  nlohmann::json j;
  if (report.leaf) {
    const pkcs::Certificate& leaf = *report.leaf;
    j["thumbprint"] = leaf.sha1;
    j["subject"] = leaf.subject;
    j["notBefore"] = FormatRfc3339Utc(leaf.not_before);
    j["notAfter"] = FormatRfc3339Utc(leaf.not_after);
    j["emails"] = leaf.emails;
  } else {
    j["thumbprint"] = nullptr;
    j["subject"] = nullptr;
    j["notBefore"] = nullptr;
    j["notAfter"] = nullptr;
    j["emails"] = nlohmann::json::array();
  }
  j["chain"] = nlohmann::json::array();
  for (const ChainElement& e : report.chain.elements) {
    j["chain"].push_back({{"subject", e.cert.subject},
                          {"issuer", e.cert.issuer},
                          {"thumbprint", e.cert.sha1},
                          {"sha256", e.cert.sha256},
                          {"role", pkcs::ChainRoleName(e.role)},
                          {"selfSigned", e.self_signed},
                          {"notAfter", FormatRfc3339Utc(e.cert.not_after)}});
  }
  j["findings"] = nlohmann::json::array();
  for (const Finding& f : report.findings) {
    j["findings"].push_back(
        {{"code", f.code}, {"severity", pkcs::SeverityName(f.severity)}, {"message", f.message}});
  }
  j["deployable"] = report.deployable();
  if (seal.attempted) {
    j["connector"] = {{"sealed", seal.ok},
                      {"paddingScheme", seal.padding},
                      {"keyFingerprint", seal.key_fingerprint},
                      {"keyBits", seal.key_bits}};
  }
  return j;
}

void PrintText(const ValidateArgs& args, const ValidationReport& report, const SealProof& seal,
               std::ostream& out) {
  out << "PFX         " << args.pfx_file << "  (for " << args.upn << ", " << args.purpose << ")\n";
  if (report.leaf) {
    const pkcs::Certificate& leaf = *report.leaf;
    out << "Subject     " << leaf.subject << "\n"
        << "Thumbprint  " << leaf.sha1 << "\n"
        << "Valid       " << FormatRfc3339Utc(leaf.not_before) << " to "
        << FormatRfc3339Utc(leaf.not_after) << "\n";
    out << "Emails      ";
    for (size_t i = 0; i < leaf.emails.size(); ++i) out << (i ? ", " : "") << leaf.emails[i];
    out << (leaf.emails.empty() ? "(none)\n" : "\n");
    out << "Chain       " << report.chain.elements.size() << " CA certificate(s)"
        << (report.chain.complete ? "" : ", INCOMPLETE") << "\n";
    for (const ChainElement& e : report.chain.elements) {
      out << "  " << std::left << std::setw(13) << pkcs::ChainRoleName(e.role) << e.cert.subject
          << "\n  " << std::setw(13) << "" << "sha1 " << e.cert.sha1 << "  expires "
          << FormatRfc3339Utc(e.cert.not_after) << (e.self_signed ? "  self-signed" : "")
          << "\n";
    }
  }
  if (seal.attempted && seal.ok) {
    out << "Connector   password seals with " << seal.padding << " to RSA-" << seal.key_bits
        << " key " << seal.key_fingerprint.substr(0, 16) << "...\n";
  }
  int errors = 0;
  int warnings = 0;
  if (!report.findings.empty()) out << "Findings\n";
  for (const Finding& f : report.findings) {
    (f.severity == pkcs::Severity::kError ? errors : warnings)++;
    out << "  " << std::left << std::setw(8) << pkcs::SeverityName(f.severity) << f.code << ": "
        << f.message << "\n";
  }
  out << "Result      " << (report.deployable() ? "deployable" : "NOT deployable");
  if (errors || warnings) out << " (" << errors << " error(s), " << warnings << " warning(s))";
  out << "\n";
}

}  // namespace

int RunValidate(const ValidateArgs& args, std::ostream& out, std::ostream& err) {
  if (args.output != "text" && args.output != "json") {
    err << "certdeploy validate: --output must be text or json\n";
    return kExitUsage;
  }
  if (!args.manifest.empty() && !args.pfx_file.empty()) {
    err << "certdeploy validate: give one of --pfx FILE and --manifest CSV\n";
    return kExitUsage;
  }
  if (!args.manifest.empty()) return RunValidateManifest(args, out, err);
  if (!args.config.empty()) {
    err << "certdeploy validate: --config goes with --manifest\n";
    return kExitUsage;
  }
  if (args.pfx_file.empty()) {
    err << "certdeploy validate: --pfx FILE (with --upn) or --manifest CSV is required\n";
    return kExitUsage;
  }
  if (args.upn.empty()) {
    err << "certdeploy validate: --upn is required\n";
    return kExitUsage;
  }
  if (args.expires_soon_days < 0) {
    err << "certdeploy validate: --expires-soon-days must be >= 0\n";
    return kExitUsage;
  }
  Result<pkcs::Purpose> purpose = pkcs::ParseImportPurpose(args.purpose);
  if (!purpose.ok()) {
    err << "certdeploy validate: --purpose: " << purpose.status().message() << "\n";
    return kExitUsage;
  }
  Result<SecretBytes> password = ReadPassword(args);
  if (!password.ok()) {
    err << "certdeploy validate: " << password.status().message() << "\n";
    return kExitUsage;
  }
  Result<std::string> pfx = ReadFile(args.pfx_file, deploy::kMaxPfxBytes);
  if (!pfx.ok()) {
    err << "certdeploy validate: " << pfx.status().message() << "\n";
    return kExitUsage;
  }

  pkcs::ValidateOptions options;
  options.upn = args.upn;
  options.email = args.email;
  options.purpose = *purpose;
  options.expires_soon_days = args.expires_soon_days;
  options.now = RealClock().Now();
  if (!args.trust_bundle.empty()) {
    Result<std::vector<pkcs::Certificate>> bundle = pkcs::LoadCertificatesPemFile(args.trust_bundle);
    if (!bundle.ok()) {
      err << "certdeploy validate: --trust-bundle: " << bundle.status().message() << "\n";
      return kExitUsage;
    }
    options.trust_bundle = std::move(*bundle);
  }

  SealProof seal;
  std::optional<pkcs::ConnectorPublicKey> key;
  std::optional<pkcs::PaddingScheme> padding;
  if (!args.connector_key.empty()) {
    Result<pkcs::PaddingScheme> p = pkcs::ParsePaddingScheme(args.padding);
    if (!p.ok()) {
      err << "certdeploy validate: --padding: " << p.status().message() << "\n";
      return kExitUsage;
    }
    Result<pkcs::ConnectorPublicKey> k = pkcs::ConnectorPublicKey::LoadFile(args.connector_key);
    if (!k.ok()) {
      err << "certdeploy validate: --connector-key: " << k.status().message() << "\n";
      return kExitUsage;
    }
    key = std::move(*k);
    padding = *p;
  }

  std::span<const uint8_t> pfx_bytes(reinterpret_cast<const uint8_t*>(pfx->data()), pfx->size());
  ValidationReport report = pkcs::ValidatePfx(pfx_bytes, *password, options);

  if (key) {
    seal.attempted = true;
    seal.padding = std::string(pkcs::PaddingSchemeName(*padding));
    seal.key_fingerprint = key->fingerprint();
    seal.key_bits = key->bits();
    Result<std::string> sealed = pkcs::SealPassword(*password, *key, *padding);
    seal.ok = sealed.ok();
    // A non-ASCII password is already reported as its own finding.
    if (!sealed.ok() && !report.HasFinding("non-ascii-password")) {
      report.findings.push_back({"bad-connector-key", pkcs::Severity::kError,
                                 "cannot seal the password to the connector key: " +
                                     std::string(sealed.status().message())});
    }
  }

  if (args.output == "json") {
    out << ReportJson(report, seal).dump(2) << "\n";
  } else {
    PrintText(args, report, seal, out);
  }
  return report.deployable() ? kExitOk : kExitFindings;
}

}  // namespace certdeploy::cli
