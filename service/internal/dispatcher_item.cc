// Work items from received PFX files, the stored-PFX envelope, and desired state from items.

#include "service/internal/dispatcher_item.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "deploy/desired_state.h"
#include "pkcs/digest.h"

namespace certdeploy::service {
namespace {

constexpr std::string_view kMagic = "CDPFX1\n";

int64_t ToMillis(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

SystemTime FromMillis(int64_t ms) {
  return SystemTime(
      std::chrono::duration_cast<SystemTime::duration>(std::chrono::milliseconds(ms)));
}

pkcs::Finding Error(std::string code, std::string message) {
  return {std::move(code), pkcs::Severity::kError, std::move(message)};
}

}  // namespace

std::vector<uint8_t> EncodeStoredPfx(std::string_view pfx, const CertificateFacts& facts) {
  nlohmann::json header;
  header["notBefore"] = ToMillis(facts.not_before);
  header["notAfter"] = ToMillis(facts.not_after);
  header["chain"] = nlohmann::json::array();
  for (const pkcs::ChainElement& e : facts.chain) {
    std::string_view der(reinterpret_cast<const char*>(e.cert.der.data()), e.cert.der.size());
    header["chain"].push_back({{"der", pkcs::Base64Encode(der)},
                               {"role", std::string(pkcs::ChainRoleName(e.role))},
                               {"selfSigned", e.self_signed}});
  }
  const std::string text = header.dump();
  std::vector<uint8_t> out;
  out.reserve(kMagic.size() + text.size() + 1 + pfx.size());
  out.insert(out.end(), kMagic.begin(), kMagic.end());
  out.insert(out.end(), text.begin(), text.end());
  out.push_back('\n');
  out.insert(out.end(), pfx.begin(), pfx.end());
  return out;
}

Result<StoredPfx> DecodeStoredPfx(std::span<const uint8_t> blob) {
  std::string_view all(reinterpret_cast<const char*>(blob.data()), blob.size());
  StoredPfx out;
  if (all.substr(0, kMagic.size()) != kMagic) {
    out.pfx = std::string(all);
    return out;
  }
  all.remove_prefix(kMagic.size());
  const size_t eol = all.find('\n');
  if (eol == std::string_view::npos) return DataLossError("stored PFX envelope has no header end");
  nlohmann::json header = nlohmann::json::parse(all.substr(0, eol), nullptr, false);
  if (header.is_discarded() || !header.is_object() || !header["notBefore"].is_number_integer() ||
      !header["notAfter"].is_number_integer() || !header["chain"].is_array()) {
    return DataLossError("stored PFX envelope header is malformed");
  }
  out.facts.not_before = FromMillis(header["notBefore"].get<int64_t>());
  out.facts.not_after = FromMillis(header["notAfter"].get<int64_t>());
  for (const nlohmann::json& e : header["chain"]) {
    std::string der;
    if (!e.is_object() || !e["der"].is_string() ||
        !pkcs::Base64Decode(e["der"].get<std::string>(), der)) {
      return DataLossError("stored PFX envelope has a malformed chain certificate");
    }
    Result<pkcs::Certificate> cert = pkcs::ParseCertificateDer(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(der.data()), der.size()));
    if (!cert.ok()) return DataLossError("stored PFX envelope has an undecodable CA certificate");
    pkcs::ChainElement element;
    element.cert = std::move(*cert);
    element.role =
        e.value("role", "") == "root" ? pkcs::ChainRole::kRoot : pkcs::ChainRole::kIntermediate;
    element.self_signed = e.value("selfSigned", false);
    out.facts.chain.push_back(std::move(element));
  }
  out.pfx = std::string(all.substr(eol + 1));
  out.has_facts = true;
  return out;
}

PreparedItem PrepareItem(const PrepareContext& ctx, std::span<const uint8_t> pfx,
                         const SecretBytes& password, const std::string& upn,
                         pkcs::Purpose purpose) {
  PreparedItem out;
  pkcs::ValidateOptions options;
  options.upn = upn;
  options.purpose = purpose;
  options.expires_soon_days = ctx.config.pfx.expires_soon_days;
  options.trust_bundle = ctx.trust_bundle;
  options.now = ctx.now;
  pkcs::ValidationReport report = pkcs::ValidatePfx(pfx, password, options);
  const bool deployable = report.deployable() && report.leaf.has_value();
  out.findings = std::move(report.findings);
  if (!deployable) return out;

  Result<std::string> sealed =
      pkcs::SealPassword(password, ctx.connector_key, ctx.config.connector.padding);
  if (!sealed.ok()) {
    const StatusDetails* d = sealed.status().details();
    std::string code =
        d != nullptr && !d->service_code.empty() ? d->service_code : "bad-connector-key";
    out.findings.insert(out.findings.begin(), Error(code, std::string(sealed.status().message())));
    return out;
  }
  out.facts.not_before = report.leaf->not_before;
  out.facts.not_after = report.leaf->not_after;
  out.facts.chain = std::move(report.chain.elements);

  std::string_view bytes(reinterpret_cast<const char*>(pfx.data()), pfx.size());
  store::WorkItem& item = out.item;
  item.user_principal_name = upn;
  item.intended_purpose = std::string(pkcs::PurposeName(purpose));
  item.thumbprint = report.leaf->sha1;
  item.pfx_sha256 = pkcs::Sha256Hex(pfx);
  item.pfx_blob = EncodeStoredPfx(bytes, out.facts);
  item.sealed_password = std::move(*sealed);
  item.padding_scheme = std::string(pkcs::PaddingSchemeName(ctx.config.connector.padding));
  item.connector_key_fingerprint = ctx.connector_key.fingerprint();
  item.status = store::ItemStatus::kQueued;
  item.step = "sealed";
  out.deployable = true;
  return out;
}

deploy::DesiredState DesiredStateForItems(const config::Config& config,
                                          const std::vector<PlannedItem>& items) {
  deploy::DesiredState desired;
  desired.assign_to = config.profiles.assign_to;
  desired.prune_expired = config.pfx.prune_expired;
  std::map<std::string, pkcs::ChainElement> cas;  // By SHA-1: one profile per CA certificate.
  std::vector<pkcs::Purpose> purposes;
  for (const PlannedItem& item : items) {
    for (const pkcs::ChainElement& e : item.facts.chain) cas.emplace(e.cert.sha1, e);
    if (std::find(purposes.begin(), purposes.end(), item.purpose) == purposes.end()) {
      purposes.push_back(item.purpose);
    }
    deploy::DesiredUserPfx pfx;
    pfx.line = item.line;
    pfx.upn = item.upn;
    pfx.pfx_file = "(job store)";
    pfx.pfx_sha256 = item.pfx_sha256;
    pfx.thumbprint = item.thumbprint;
    pfx.not_before = item.facts.not_before;
    pfx.not_after = item.facts.not_after;
    pfx.purpose = item.purpose;
    desired.pfx.push_back(std::move(pfx));
  }
  std::sort(purposes.begin(), purposes.end());
  for (config::Platform platform : config.profiles.platforms) {
    for (const auto& [sha1, element] : cas) {
      desired.trusted.push_back(
          {platform, element.cert, element.role,
           deploy::TrustedProfileName(config.profiles.name_prefix, element.cert, platform)});
    }
    if (!config.profiles.imported_pfx_profile) continue;
    for (pkcs::Purpose purpose : purposes) {
      desired.imported.push_back(
          {platform, purpose,
           deploy::ImportedProfileName(config.profiles.name_prefix, purpose, platform)});
    }
  }
  return desired;
}

std::string SummarizeFindings(const std::vector<pkcs::Finding>& findings) {
  std::vector<const pkcs::Finding*> ordered;
  for (const pkcs::Finding& f : findings) {
    if (f.severity == pkcs::Severity::kError) ordered.push_back(&f);
  }
  for (const pkcs::Finding& f : findings) {
    if (f.severity != pkcs::Severity::kError) ordered.push_back(&f);
  }
  std::string out;
  for (const pkcs::Finding* f : ordered) {
    std::string part = f->code + ": " + f->message;
    if (out.size() + part.size() > 900) {
      out += (out.empty() ? "" : "; ") + std::string("...");
      break;
    }
    out += (out.empty() ? "" : "; ") + part;
  }
  return out;
}

}  // namespace certdeploy::service
