// The row check: read, hash, open (cached), validate, optionally seal.

#include "deploy/row_check.h"

#include <map>
#include <memory>
#include <mutex>

#include "base/file.h"
#include "base/parallel_for.h"
#include "base/random.h"
#include "base/secret.h"
#include "pkcs/digest.h"
#include "pkcs/pkcs12.h"

namespace certdeploy::deploy {
namespace {

pkcs::Finding Error(std::string code, std::string message) {
  return {std::move(code), pkcs::Severity::kError, std::move(message)};
}

// Opening a PFX costs three PBKDF2 derivations; manifests often reuse one file (shared test
// certificates, benchmarks), so opened contents are cached by file and password digest. The
// digest is salted with a random value of this cache, so the keys say nothing about a password
// outside it; the cache (and its keys) lives for one CheckManifestRows call.
class OpenCache {
 public:
  OpenCache() {
    for (int i = 0; i < 2; ++i) salt_ += std::to_string(RealRandom().Next()) + ":";
  }
  ~OpenCache() {
    for (auto& [key, value] : cache_) SecureWipe(const_cast<char*>(key.data()), key.size());
  }
  OpenCache(const OpenCache&) = delete;
  OpenCache& operator=(const OpenCache&) = delete;

  std::shared_ptr<const Result<pkcs::Pkcs12Contents>> Open(const std::string& pfx_sha256,
                                                           std::span<const uint8_t> pfx,
                                                           const SecretBytes& password) {
    SecretBytes salted{std::string_view(salt_)};
    salted.Append(password.RevealAsString());
    const std::string key = pfx_sha256 + "/" + pkcs::Sha256Hex(salted.Reveal());
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
  std::string salt_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const Result<pkcs::Pkcs12Contents>>> cache_;
};

// Validates and (optionally) seals; `out` has line/upn/pfx_file/purpose set.
void Check(std::span<const uint8_t> pfx, const SecretBytes& password,
           const RowCheckOptions& options, OpenCache* cache, CheckedRow& out) {
  const config::Config& config = *options.config;
  out.pfx_sha256 = pkcs::Sha256Hex(pfx);
  pkcs::ValidateOptions validate;
  validate.upn = out.upn;
  validate.purpose = out.purpose;
  validate.expires_soon_days = config.pfx.expires_soon_days;
  validate.trust_bundle = options.trust_bundle;
  validate.now = options.now;
  validate.check_email = !options.defer_email_check;
  pkcs::ValidationReport report =
      cache != nullptr ? pkcs::ValidateOpened(*cache->Open(out.pfx_sha256, pfx, password),
                                              password, validate)
                       : pkcs::ValidatePfx(pfx, password, validate);
  const bool deployable = report.deployable() && report.leaf.has_value();
  out.findings = std::move(report.findings);
  if (!deployable) return;
  if (options.seal_to != nullptr) {
    Result<std::string> sealed =
        pkcs::SealPassword(password, *options.seal_to, config.connector.padding);
    if (!sealed.ok()) {
      const StatusDetails* d = sealed.status().details();
      std::string code =
          d != nullptr && !d->service_code.empty() ? d->service_code : "bad-connector-key";
      out.findings.insert(out.findings.begin(),
                          Error(std::move(code), std::string(sealed.status().message())));
      return;
    }
    out.sealed_password = std::move(*sealed);
    out.connector_key_fingerprint = options.seal_to->fingerprint();
  }
  out.thumbprint = report.leaf->sha1;
  out.emails = report.leaf->emails;
  out.not_before = report.leaf->not_before;
  out.not_after = report.leaf->not_after;
  out.chain = std::move(report.chain);
  if (options.keep_pfx_bytes) {
    out.pfx.assign(reinterpret_cast<const char*>(pfx.data()), pfx.size());
  }
  out.deployable = true;
}

CheckedRow CheckRow(const config::ManifestRow& row, const RowCheckOptions& options,
                    OpenCache& cache) {
  CheckedRow out;
  out.line = row.line;
  out.upn = row.upn;
  out.pfx_file = row.pfx_file;
  out.purpose = row.purpose.value_or(options.config->pfx.intended_purpose);
  auto resolve = [&](const std::string& path) -> Result<std::string> {
    return options.resolve_file ? options.resolve_file(path) : Result<std::string>(path);
  };
  Result<std::string> pfx_path = resolve(row.pfx_file);
  if (!pfx_path.ok()) {
    out.findings.push_back(Error("pfx-unreadable", std::string(pfx_path.status().message())));
    return out;
  }
  Result<SecretBytes> password = InvalidArgumentError("no password");
  if (row.password) {
    password = row.password->Clone();
  } else {
    Result<std::string> password_path = resolve(row.password_file);
    if (!password_path.ok()) {
      out.findings.push_back(
          Error("password-unreadable", std::string(password_path.status().message())));
      return out;
    }
    password = ReadSecretFile(*password_path);
  }
  Result<std::string> bytes = ReadFile(*pfx_path, kMaxPfxBytes);
  if (!bytes.ok()) {
    out.findings.push_back(Error("pfx-unreadable", std::string(bytes.status().message())));
    return out;
  }
  if (!password.ok()) {
    out.findings.push_back(
        Error("password-unreadable", std::string(password.status().message())));
    return out;
  }
  std::span<const uint8_t> pfx(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size());
  Check(pfx, *password, options, &cache, out);
  SecureWipe(bytes->data(), bytes->size());  // The PFX holds the private key (encrypted).
  return out;
}

}  // namespace

CheckedRow CheckPfx(std::span<const uint8_t> pfx, const SecretBytes& password,
                    const std::string& upn, pkcs::Purpose purpose,
                    const RowCheckOptions& options) {
  CheckedRow out;
  out.upn = upn;
  out.purpose = purpose;
  Check(pfx, password, options, /*cache=*/nullptr, out);
  return out;
}

std::vector<CheckedRow> CheckManifestRows(std::span<const config::ManifestRow> rows,
                                          const RowCheckOptions& options) {
  std::vector<CheckedRow> out(rows.size());
  OpenCache cache;
  ParallelFor(rows.size(), options.threads,
              [&](size_t i) { out[i] = CheckRow(rows[i], options, cache); });
  return out;
}

}  // namespace certdeploy::deploy
