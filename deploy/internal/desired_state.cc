// From checked manifest rows to the desired state.

#include "deploy/desired_state.h"

#include <algorithm>
#include <map>

#include "deploy/row_check.h"
#include "pkcs/seal.h"

namespace certdeploy::deploy {

std::string TrustedProfileName(const std::string& prefix, const pkcs::Certificate& ca,
                               config::Platform platform) {
  std::string name = ca.common_name.empty() ? ca.subject : ca.common_name;
  // Always the thumbprint's start: CAs may share a name (a renewed root, a test and a production
  // CA), and a name that depends only on the certificate stays the same from run to run.
  return (prefix.empty() ? "" : prefix + " ") + name + " [" + ca.sha1.substr(0, 8) + "] (" +
         std::string(config::PlatformName(platform)) + ")";
}

std::string ImportedProfileName(const std::string& prefix, pkcs::Purpose purpose,
                                config::Platform platform) {
  return (prefix.empty() ? "" : prefix + " ") + "imported PFX " +
         std::string(pkcs::PurposeName(purpose)) + " (" +
         std::string(config::PlatformName(platform)) + ")";
}

namespace {

DesiredState Assemble(const config::Config& config, std::vector<DesiredUserPfx> pfx,
                      std::span<const pkcs::ChainElement> cas, std::vector<pkcs::Purpose> purposes,
                      std::vector<InvalidRow> invalid) {
  DesiredState desired;
  desired.assign_to = config.profiles.assign_to;
  desired.take_over_assignments = config.profiles.take_over_assignments;
  desired.prune_expired = config.pfx.prune_expired;
  desired.prune_expired_encryption = config.pfx.prune_expired_encryption;
  desired.seal = {config.connector.provider_name, config.connector.key_name,
                  std::string(pkcs::PaddingSchemeName(config.connector.padding))};
  std::map<std::string, const pkcs::ChainElement*> distinct;  // By SHA-1: one profile per CA.
  for (const pkcs::ChainElement& e : cas) distinct.emplace(e.cert.sha1, &e);
  for (const DesiredUserPfx& p : pfx) purposes.push_back(p.purpose);
  std::sort(purposes.begin(), purposes.end());
  purposes.erase(std::unique(purposes.begin(), purposes.end()), purposes.end());
  desired.pfx = std::move(pfx);
  desired.invalid = std::move(invalid);
  std::stable_sort(desired.invalid.begin(), desired.invalid.end(),
                   [](const InvalidRow& a, const InvalidRow& b) { return a.line < b.line; });
  if (config.outlook) {
    const std::string& prefix = config.profiles.name_prefix;
    for (config::OutlookPlatform platform : config.outlook->platforms) {
      desired.outlook.push_back(
          {platform,
           (prefix.empty() ? "" : prefix + " ") + "Outlook S/MIME (" +
               std::string(config::OutlookPlatformName(platform)) + ")",
           OutlookSmimeSettings(*config.outlook)});
    }
  }
  for (config::Platform platform : config.profiles.platforms) {
    for (const auto& [sha1, element] : distinct) {
      desired.trusted.push_back(
          {platform, element->cert, element->role,
           TrustedProfileName(config.profiles.name_prefix, element->cert, platform)});
    }
    if (!config.profiles.imported_pfx_profile) continue;
    for (pkcs::Purpose purpose : purposes) {
      desired.imported.push_back(
          {platform, purpose, ImportedProfileName(config.profiles.name_prefix, purpose, platform)});
    }
  }
  return desired;
}

}  // namespace

DesiredState AssembleDesiredState(const config::Config& config, std::vector<DesiredUserPfx> pfx,
                                  std::span<const pkcs::ChainElement> cas,
                                  std::vector<InvalidRow> invalid) {
  return Assemble(config, std::move(pfx), cas, {}, std::move(invalid));
}

DesiredState AssembleProfileState(const config::Config& config,
                                  std::span<const pkcs::ChainElement> cas,
                                  std::vector<pkcs::Purpose> purposes) {
  return Assemble(config, {}, cas, std::move(purposes), {});
}

Result<DesiredState> BuildDesiredState(const config::Config& config,
                                       const config::Manifest& manifest,
                                       const DesiredStateOptions& options) {
  RowCheckOptions check;
  check.config = &config;
  check.now = options.now;
  check.threads = options.threads;
  check.defer_email_check = true;  // The planner checks the primary SMTP address.
  if (!config.profiles.trust_bundle.empty()) {
    Result<std::vector<pkcs::Certificate>> bundle =
        pkcs::LoadCertificatesPemFile(config.profiles.trust_bundle);
    if (!bundle.ok()) return Status(bundle.status()).WithContext("profiles.trustBundle");
    check.trust_bundle = std::move(*bundle);
  }
  std::vector<CheckedRow> rows = CheckManifestRows(manifest.rows, check);

  std::vector<InvalidRow> invalid;
  for (const config::ManifestProblem& p : manifest.problems) {
    invalid.push_back({p.line, "", "", {{p.code, pkcs::Severity::kError, p.message}}});
  }
  std::vector<DesiredUserPfx> pfx;
  std::vector<pkcs::ChainElement> cas;
  for (CheckedRow& row : rows) {
    if (!row.deployable) {
      invalid.push_back({row.line, row.upn, row.pfx_file, std::move(row.findings)});
      continue;
    }
    for (pkcs::ChainElement& e : row.chain.elements) cas.push_back(std::move(e));
    DesiredUserPfx p;
    p.line = row.line;
    p.upn = row.upn;
    p.pfx_file = row.pfx_file;
    p.pfx_sha256 = row.pfx_sha256;
    p.thumbprint = row.thumbprint;
    p.not_before = row.not_before;
    p.not_after = row.not_after;
    p.purpose = row.purpose;
    p.warnings = std::move(row.findings);
    p.emails = std::move(row.emails);
    pfx.push_back(std::move(p));
  }
  return AssembleDesiredState(config, std::move(pfx), cas, std::move(invalid));
}

}  // namespace certdeploy::deploy
