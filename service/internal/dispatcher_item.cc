// Work items from received PFX files, the stored-PFX envelope, and desired state from items.

#include "service/internal/dispatcher_item.h"

#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "deploy/desired_state.h"
#include "deploy/row_check.h"

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

}  // namespace

std::vector<uint8_t> EncodeStoredPfx(std::string_view pfx, const CertificateFacts& facts) {
  nlohmann::json header;
  header["notBefore"] = ToMillis(facts.not_before);
  header["notAfter"] = ToMillis(facts.not_after);
  if (facts.emails) header["emails"] = *facts.emails;
  header["chain"] = nlohmann::json::array();
  for (const pkcs::ChainElement& e : facts.chain) {
    header["chain"].push_back({{"der", Base64Encode(e.cert.der)},
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
  if (header.contains("emails")) {
    if (!header["emails"].is_array()) return DataLossError("stored PFX envelope has bad emails");
    std::vector<std::string> emails;
    for (const nlohmann::json& e : header["emails"]) {
      if (!e.is_string()) return DataLossError("stored PFX envelope has bad emails");
      emails.push_back(e.get<std::string>());
    }
    out.facts.emails = std::move(emails);
  }
  for (const nlohmann::json& e : header["chain"]) {
    std::optional<std::string> der;
    if (e.is_object() && e["der"].is_string()) {
      der = Base64Decode(e["der"].get<std::string>(), kLenientBase64);
    }
    if (!der) return DataLossError("stored PFX envelope has a malformed chain certificate");
    Result<pkcs::Certificate> cert = pkcs::ParseCertificateDer(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(der->data()), der->size()));
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

namespace {

deploy::RowCheckOptions IntakeCheckOptions(const PrepareContext& ctx) {
  deploy::RowCheckOptions options;
  options.config = &ctx.config;
  options.trust_bundle = ctx.trust_bundle;
  options.now = ctx.now;
  options.seal_to = &ctx.connector_key;  // The password is kept only sealed, from intake on.
  options.keep_pfx_bytes = true;         // The PFX bytes go into the work item.
  // The address is checked when the item is planned, against the mailbox's primary SMTP
  // address (which the directory knows, and which need not be the UPN).
  options.defer_email_check = true;
  return options;
}

PreparedItem FromChecked(deploy::CheckedRow row, const config::Config& config) {
  PreparedItem out;
  out.findings = std::move(row.findings);
  if (!row.deployable) return out;
  out.facts.not_before = row.not_before;
  out.facts.not_after = row.not_after;
  out.facts.chain = std::move(row.chain.elements);
  out.facts.emails = std::move(row.emails);
  store::WorkItem& item = out.item;
  item.user_principal_name = row.upn;
  item.intended_purpose = std::string(pkcs::PurposeName(row.purpose));
  item.thumbprint = row.thumbprint;
  item.pfx_sha256 = row.pfx_sha256;
  item.pfx_blob = EncodeStoredPfx(row.pfx, out.facts);
  SecureWipe(row.pfx.data(), row.pfx.size());
  item.sealed_password = std::move(row.sealed_password);
  item.padding_scheme = std::string(pkcs::PaddingSchemeName(config.connector.padding));
  item.connector_key_fingerprint = std::move(row.connector_key_fingerprint);
  item.status = store::ItemStatus::kQueued;
  item.step = "sealed";
  out.deployable = true;
  return out;
}

}  // namespace

PreparedItem PrepareItem(const PrepareContext& ctx, std::span<const uint8_t> pfx,
                         const SecretBytes& password, const std::string& upn,
                         pkcs::Purpose purpose) {
  return FromChecked(deploy::CheckPfx(pfx, password, upn, purpose, IntakeCheckOptions(ctx)),
                     ctx.config);
}

std::vector<PreparedItem> PrepareRows(
    const PrepareContext& ctx, std::span<const config::ManifestRow> rows,
    std::function<Result<std::string>(const std::string& path)> resolve_file, int threads) {
  deploy::RowCheckOptions options = IntakeCheckOptions(ctx);
  options.resolve_file = std::move(resolve_file);
  options.threads = threads;
  std::vector<deploy::CheckedRow> checked = deploy::CheckManifestRows(rows, options);
  std::vector<PreparedItem> out;
  out.reserve(checked.size());
  for (deploy::CheckedRow& row : checked) out.push_back(FromChecked(std::move(row), ctx.config));
  return out;
}

deploy::DesiredState DesiredStateForItems(const config::Config& config,
                                          const std::vector<PlannedItem>& items) {
  std::vector<deploy::DesiredUserPfx> pfx;
  std::vector<pkcs::ChainElement> cas;
  for (const PlannedItem& item : items) {
    cas.insert(cas.end(), item.facts.chain.begin(), item.facts.chain.end());
    deploy::DesiredUserPfx p;
    p.line = item.line;
    p.upn = item.upn;
    p.pfx_file = "(job store)";
    p.pfx_sha256 = item.pfx_sha256;
    p.thumbprint = item.thumbprint;
    p.not_before = item.facts.not_before;
    p.not_after = item.facts.not_after;
    p.purpose = item.purpose;
    p.emails = item.facts.emails;
    pfx.push_back(std::move(p));
  }
  return deploy::AssembleDesiredState(config, std::move(pfx), cas, {});
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

std::vector<pkcs::Finding> ParseFindingSummary(std::string_view summary) {
  // Finding codes are lower-case words joined by '-', so "; <code>: " starts the next one even
  // when a message itself holds "; ".
  auto code_at = [&](size_t at) -> size_t {  // Length of "<code>: " at `at`, or 0.
    size_t end = at;
    while (end < summary.size() &&
           ((summary[end] >= 'a' && summary[end] <= 'z') ||
            (summary[end] >= '0' && summary[end] <= '9') || summary[end] == '-')) {
      ++end;
    }
    if (end == at || summary.substr(end, 2) != ": ") return 0;
    return end - at + 2;
  };
  std::vector<pkcs::Finding> out;
  size_t at = 0;
  while (at < summary.size()) {
    if (summary.substr(at) == "...") break;  // Cut short: the findings before it stand.
    const size_t head = code_at(at);
    if (head == 0) return {};
    size_t next = summary.find("; ", at + head);
    while (next != std::string_view::npos && code_at(next + 2) == 0) {
      next = summary.find("; ", next + 2);
    }
    const size_t end = next == std::string_view::npos ? summary.size() : next;
    pkcs::Finding f;
    f.code = std::string(summary.substr(at, head - 2));
    f.message = std::string(summary.substr(at + head, end - at - head));
    out.push_back(std::move(f));
    at = next == std::string_view::npos ? summary.size() : next + 2;
  }
  return out;
}

}  // namespace certdeploy::service
