// Reading and validating every manifest row, in parallel, with a cache of opened PFX files.

#include "deploy/desired_state.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "base/file.h"
#include "pkcs/digest.h"
#include "pkcs/pkcs12.h"
#include "pkcs/validate.h"

namespace certdeploy::deploy {
namespace {

constexpr size_t kMaxPfxBytes = 16 << 20;

// Opening a PFX costs three PBKDF2 derivations; manifests often reuse one file (shared test
// certificates, benchmarks), so opened contents are cached by file and password digest.
class OpenCache {
 public:
  std::shared_ptr<const Result<pkcs::Pkcs12Contents>> Open(const std::string& pfx_sha256,
                                                           std::span<const uint8_t> pfx,
                                                           const SecretBytes& password) {
    std::string key = pfx_sha256 + "/" + pkcs::Sha256Hex(password.Reveal());
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = cache_.find(key);
      if (it != cache_.end()) return it->second;
    }
    auto opened = std::make_shared<const Result<pkcs::Pkcs12Contents>>(
        pkcs::ParsePkcs12(pfx, password));
    std::lock_guard<std::mutex> lock(mu_);
    return cache_.emplace(key, std::move(opened)).first->second;
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const Result<pkcs::Pkcs12Contents>>> cache_;
};

struct RowOutcome {
  bool valid = false;
  DesiredUserPfx pfx;
  InvalidRow invalid;
  pkcs::Chain chain;
};

RowOutcome CheckRow(const config::ManifestRow& row, const config::Config& config,
                    const std::vector<pkcs::Certificate>& trust_bundle, SystemTime now,
                    OpenCache& cache) {
  RowOutcome out;
  out.invalid.line = row.line;
  out.invalid.upn = row.upn;
  out.invalid.pfx_file = row.pfx_file;
  auto fail = [&](std::string code, std::string message) {
    out.invalid.findings.push_back({std::move(code), pkcs::Severity::kError, std::move(message)});
    return out;
  };
  Result<std::string> bytes = ReadFile(row.pfx_file, kMaxPfxBytes);
  if (!bytes.ok()) return fail("pfx-unreadable", std::string(bytes.status().message()));
  Result<SecretBytes> password = row.ReadPassword();
  if (!password.ok()) return fail("password-unreadable", std::string(password.status().message()));

  std::span<const uint8_t> pfx(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size());
  std::string sha256 = pkcs::Sha256Hex(pfx);
  pkcs::ValidateOptions options;
  options.upn = row.upn;
  options.purpose = row.purpose.value_or(config.pfx.intended_purpose);
  options.expires_soon_days = config.pfx.expires_soon_days;
  options.trust_bundle = trust_bundle;
  options.now = now;
  auto opened = cache.Open(sha256, pfx, *password);
  pkcs::ValidationReport report = pkcs::ValidateOpened(*opened, *password, options);
  if (!report.deployable()) {
    out.invalid.findings = std::move(report.findings);
    return out;
  }
  out.valid = true;
  out.pfx.line = row.line;
  out.pfx.upn = row.upn;
  out.pfx.pfx_file = row.pfx_file;
  out.pfx.pfx_sha256 = sha256;
  out.pfx.thumbprint = report.leaf->sha1;
  out.pfx.not_before = report.leaf->not_before;
  out.pfx.not_after = report.leaf->not_after;
  out.pfx.purpose = options.purpose;
  out.pfx.warnings = std::move(report.findings);
  out.chain = std::move(report.chain);
  return out;
}

}  // namespace

std::string TrustedProfileName(const std::string& prefix, const pkcs::Certificate& ca,
                               config::Platform platform) {
  std::string name = ca.common_name.empty() ? ca.subject : ca.common_name;
  return (prefix.empty() ? "" : prefix + " ") + name + " (" +
         std::string(config::PlatformName(platform)) + ")";
}

std::string ImportedProfileName(const std::string& prefix, pkcs::Purpose purpose,
                                config::Platform platform) {
  return (prefix.empty() ? "" : prefix + " ") + "imported PFX " +
         std::string(pkcs::PurposeName(purpose)) + " (" +
         std::string(config::PlatformName(platform)) + ")";
}

Result<DesiredState> BuildDesiredState(const config::Config& config,
                                       const config::Manifest& manifest,
                                       const DesiredStateOptions& options) {
  std::vector<pkcs::Certificate> trust_bundle;
  if (!config.profiles.trust_bundle.empty()) {
    Result<std::vector<pkcs::Certificate>> bundle =
        pkcs::LoadCertificatesPemFile(config.profiles.trust_bundle);
    if (!bundle.ok()) return Status(bundle.status()).WithContext("profiles.trustBundle");
    trust_bundle = std::move(*bundle);
  }

  std::vector<RowOutcome> outcomes(manifest.rows.size());
  OpenCache cache;
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < manifest.rows.size(); i = next++) {
      outcomes[i] = CheckRow(manifest.rows[i], config, trust_bundle, options.now, cache);
    }
  };
  int threads = std::max(1, std::min<int>(options.threads, static_cast<int>(manifest.rows.size())));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();

  DesiredState desired;
  desired.assign_to = config.profiles.assign_to;
  desired.prune_expired = config.pfx.prune_expired;
  for (const config::ManifestProblem& p : manifest.problems) {
    desired.invalid.push_back({p.line, "", "", {{"manifest-row", pkcs::Severity::kError, p.message}}});
  }
  std::map<std::string, pkcs::ChainElement> cas;  // By SHA-1: one profile per CA certificate.
  std::vector<pkcs::Purpose> purposes;
  for (RowOutcome& o : outcomes) {
    if (!o.valid) {
      desired.invalid.push_back(std::move(o.invalid));
      continue;
    }
    for (const pkcs::ChainElement& e : o.chain.elements) cas.emplace(e.cert.sha1, e);
    if (std::find(purposes.begin(), purposes.end(), o.pfx.purpose) == purposes.end()) {
      purposes.push_back(o.pfx.purpose);
    }
    desired.pfx.push_back(std::move(o.pfx));
  }
  std::sort(desired.invalid.begin(), desired.invalid.end(),
            [](const InvalidRow& a, const InvalidRow& b) { return a.line < b.line; });
  for (config::Platform platform : config.profiles.platforms) {
    for (const auto& [sha1, element] : cas) {
      desired.trusted.push_back({platform, element.cert, element.role,
                                 TrustedProfileName(config.profiles.name_prefix, element.cert,
                                                    platform)});
    }
    if (!config.profiles.imported_pfx_profile) continue;
    std::sort(purposes.begin(), purposes.end());
    for (pkcs::Purpose purpose : purposes) {
      desired.imported.push_back(
          {platform, purpose, ImportedProfileName(config.profiles.name_prefix, purpose, platform)});
    }
  }
  return desired;
}

}  // namespace certdeploy::deploy
