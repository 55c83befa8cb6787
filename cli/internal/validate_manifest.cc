// `certdeploy validate --manifest CSV`: every row of a manifest checked offline, in parallel.
//
// The rows go through deploy::CheckManifestRows, the check `plan` runs before it reads the tenant
// (on a pool of one worker per core, results in manifest order), so the output order never
// depends on the threads. Rows with identical findings are told once (deploy/finding_groups.h).

#include <algorithm>
#include <ostream>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/parallel_for.h"
#include "base/time_format.h"
#include "cli/commands.h"
#include "config/config.h"
#include "config/manifest.h"
#include "deploy/finding_groups.h"
#include "deploy/row_check.h"
#include "pkcs/certificate.h"
#include "pkcs/seal.h"

namespace certdeploy::cli {
namespace {

constexpr size_t kGroupExamples = 5;

// What the rows are checked against: the config's pfx and connector settings (and its trust
// bundle and connector key) with --config, else the flags.
struct CheckSetup {
  config::Config config;
  std::vector<pkcs::Certificate> trust_bundle;
  std::optional<pkcs::ConnectorPublicKey> key;
};

Result<CheckSetup> Setup(const ValidateArgs& args) {
  CheckSetup s;
  std::string trust_bundle = args.trust_bundle;
  std::string connector_key = args.connector_key;
  if (!args.config.empty()) {
    Result<config::Config> loaded = config::LoadConfig(args.config);
    if (!loaded.ok()) return loaded.status();
    s.config = std::move(*loaded);
    if (trust_bundle.empty()) trust_bundle = s.config.profiles.trust_bundle;
    if (connector_key.empty()) connector_key = s.config.connector.public_key_file;
  } else {
    Result<pkcs::Purpose> purpose = pkcs::ParseImportPurpose(args.purpose);
    if (!purpose.ok()) return Status(purpose.status()).WithContext("--purpose");
    Result<pkcs::PaddingScheme> padding = pkcs::ParsePaddingScheme(args.padding);
    if (!padding.ok()) return Status(padding.status()).WithContext("--padding");
    s.config.pfx.intended_purpose = *purpose;
    s.config.pfx.expires_soon_days = args.expires_soon_days;
    s.config.connector.padding = *padding;
  }
  if (!trust_bundle.empty()) {
    Result<std::vector<pkcs::Certificate>> bundle = pkcs::LoadCertificatesPemFile(trust_bundle);
    if (!bundle.ok()) return Status(bundle.status()).WithContext("trust bundle");
    s.trust_bundle = std::move(*bundle);
  }
  if (!connector_key.empty()) {
    Result<pkcs::ConnectorPublicKey> key = pkcs::ConnectorPublicKey::LoadFile(connector_key);
    if (!key.ok()) return Status(key.status()).WithContext("connector key");
    s.key = std::move(*key);
  }
  return s;
}

// One checked row or one row the manifest reader skipped, as the output sees it.
struct Row {
  int line = 0;
  std::string upn;
  std::string pfx_file;
  bool malformed = false;
  const deploy::CheckedRow* checked = nullptr;  // Null for a malformed row.
  std::vector<pkcs::Finding> findings;
};

nlohmann::json FindingsJson(const std::vector<pkcs::Finding>& findings) {
  nlohmann::json out = nlohmann::json::array();
  for (const pkcs::Finding& f : findings) {
    out.push_back(
        {{"code", f.code}, {"severity", pkcs::SeverityName(f.severity)}, {"message", f.message}});
  }
  return out;
}

struct Totals {
  int deployable = 0, not_deployable = 0, malformed = 0, with_warnings = 0;
};

nlohmann::json ReportJson(const std::string& manifest, const std::vector<Row>& rows,
                          const std::vector<deploy::RowFindings>& view,
                          const std::vector<deploy::FindingGroup>& groups, const Totals& t) {
  nlohmann::json items = nlohmann::json::array();
  for (const Row& r : rows) {
    nlohmann::json j = {{"line", r.line},
                        {"userPrincipalName", r.upn},
                        {"pfxFile", r.pfx_file},
                        {"malformed", r.malformed},
                        {"deployable", r.checked != nullptr && r.checked->deployable},
                        {"findings", FindingsJson(r.findings)}};
    if (r.checked != nullptr) {
      j["intendedPurpose"] = pkcs::PurposeName(r.checked->purpose);
      if (r.checked->deployable) {
        j["thumbprint"] = r.checked->thumbprint;
        j["notAfter"] = FormatRfc3339Utc(r.checked->not_after);
      }
    }
    items.push_back(std::move(j));
  }
  nlohmann::json grouped = nlohmann::json::array();
  for (const deploy::FindingGroup& g : groups) {
    nlohmann::json lines = nlohmann::json::array();
    for (size_t m : g.members) lines.push_back(view[m].line);
    grouped.push_back(
        {{"rows", g.members.size()}, {"findings", FindingsJson(g.findings)}, {"lines", lines}});
  }
  return {{"manifest", manifest},
          {"summary",
           {{"rows", rows.size()},
            {"deployable", t.deployable},
            {"notDeployable", t.not_deployable},
            {"malformed", t.malformed},
            {"withWarnings", t.with_warnings}}},
          {"groups", std::move(grouped)},
          {"rows", std::move(items)}};
}

void PrintText(const std::string& manifest, const std::vector<Row>& rows,
               const std::vector<deploy::RowFindings>& view,
               const std::vector<deploy::FindingGroup>& groups, const Totals& t,
               std::ostream& out) {
  out << "Manifest    " << manifest << "  (" << rows.size() << " rows)\n";
  if (!groups.empty()) out << "Findings\n";
  for (const deploy::FindingGroup& g : groups) {
    const Row& first = rows[g.members.front()];
    const bool blocking = first.malformed || !first.checked->deployable;
    out << "  " << (blocking ? "! " : "  ");
    if (g.members.size() == 1) {
      out << deploy::DescribeMembers(view, g.members, kGroupExamples) << ": ";
    } else {
      out << g.members.size() << " rows: ";
    }
    out << deploy::FindingsHeadline(g.findings) << "\n";
    if (g.findings.size() > 1) {
      for (const pkcs::Finding& f : g.findings) {
        out << "        " << pkcs::SeverityName(f.severity) << " " << f.code << ": " << f.message
            << "\n";
      }
    }
    if (g.members.size() > 1) {
      out << "        " << deploy::DescribeMembers(view, g.members, kGroupExamples) << "\n";
    }
  }
  out << "Result      " << t.deployable << " deployable, " << t.not_deployable
      << " not deployable, " << t.malformed << " malformed";
  if (t.with_warnings > 0) out << " (" << t.with_warnings << " deployable with warnings)";
  out << "\n";
}

}  // namespace

int RunValidateManifest(const ValidateArgs& args, std::ostream& out, std::ostream& err) {
  auto usage = [&err](std::string_view message) {
    err << "certdeploy validate: " << message << "\n";
    return kExitUsage;
  };
  if (!args.pfx_file.empty() || !args.upn.empty() || !args.email.empty() ||
      !args.password_env.empty() || !args.password_file.empty()) {
    return usage(
        "--manifest checks the rows' own files and passwords: leave out --pfx, --upn, --email, "
        "--password-env and --password-file");
  }
  if (args.expires_soon_days < 0) return usage("--expires-soon-days must be >= 0");
  Result<CheckSetup> setup = Setup(args);
  if (!setup.ok()) return usage(setup.status().message());
  Result<config::Manifest> manifest = config::LoadManifest(args.manifest);
  if (!manifest.ok()) return usage(manifest.status().message());

  deploy::RowCheckOptions options;
  options.config = &setup->config;
  options.trust_bundle = setup->trust_bundle;
  options.now = RealClock().Now();
  options.seal_to = setup->key ? &*setup->key : nullptr;
  options.threads = HardwareThreads();
  const std::vector<deploy::CheckedRow> checked =
      deploy::CheckManifestRows(manifest->rows, options);

  // Checked rows and skipped ones, in manifest order.
  std::vector<Row> rows;
  Totals totals;
  for (const deploy::CheckedRow& c : checked) {
    rows.push_back({c.line, c.upn, c.pfx_file, false, &c, c.findings});
    if (!c.deployable) {
      ++totals.not_deployable;
    } else {
      ++totals.deployable;
      if (!c.findings.empty()) ++totals.with_warnings;
    }
  }
  for (const config::ManifestProblem& p : manifest->problems) {
    rows.push_back({p.line, "", "", true, nullptr,
                    {{p.code, pkcs::Severity::kError, p.message}}});
    ++totals.malformed;
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const Row& a, const Row& b) { return a.line < b.line; });
  std::vector<deploy::RowFindings> view;
  for (const Row& r : rows) view.push_back({r.line, r.upn, &r.findings});
  const std::vector<deploy::FindingGroup> groups = deploy::GroupRowsByFindings(view);

  if (args.output == "json") {
    out << ReportJson(manifest->path, rows, view, groups, totals).dump(2) << "\n";
  } else {
    PrintText(manifest->path, rows, view, groups, totals, out);
  }
  return totals.not_deployable + totals.malformed == 0 ? kExitOk : kExitFindings;
}

}  // namespace certdeploy::cli
