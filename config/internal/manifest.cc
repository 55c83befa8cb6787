// The rollout manifest: header mapping, per-row validation, path resolution.

#include <algorithm>
#include <filesystem>
#include <map>

#include "base/file.h"
#include "config/manifest.h"

namespace certdeploy::config {
namespace {

constexpr size_t kMaxManifestBytes = 256 << 20;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

std::string Resolve(const std::filesystem::path& base, const std::string& p) {
  std::filesystem::path path(p);
  if (path.is_relative()) path = base / path;
  return path.lexically_normal().string();
}

// A deliberately simple UPN shape check: local@domain.tld, no spaces or control characters.
bool LooksLikeUpn(std::string_view upn) {
  size_t at = upn.find('@');
  if (at == 0 || at == std::string_view::npos || at != upn.rfind('@')) return false;
  std::string_view domain = upn.substr(at + 1);
  if (domain.empty() || domain.find('.') == std::string_view::npos || domain.front() == '.' ||
      domain.back() == '.') {
    return false;
  }
  return std::none_of(upn.begin(), upn.end(), [](unsigned char c) { return c <= 0x20 || c == 0x7f; });
}

struct Columns {
  int upn = -1, pfx = -1, password_file = -1, password = -1, purpose = -1;
};

Result<Columns> MapHeader(const CsvRecord& header) {
  Columns cols;
  std::map<std::string, int*> known = {{"userprincipalname", &cols.upn},
                                       {"pfxfile", &cols.pfx},
                                       {"passwordfile", &cols.password_file},
                                       {"password", &cols.password},
                                       {"intendedpurpose", &cols.purpose}};
  for (size_t i = 0; i < header.fields.size(); ++i) {
    std::string name = Lower(Trim(header.fields[i]));
    auto it = known.find(name);
    if (it == known.end()) {
      return InvalidArgumentError("line " + std::to_string(header.line) + ": unknown column '" +
                                  Trim(header.fields[i]) +
                                  "' (expected userPrincipalName, pfxFile, passwordFile or "
                                  "password, and optionally intendedPurpose)");
    }
    if (*it->second != -1) {
      return InvalidArgumentError("line " + std::to_string(header.line) + ": column '" +
                                  Trim(header.fields[i]) + "' appears twice");
    }
    *it->second = static_cast<int>(i);
  }
  if (cols.upn < 0 || cols.pfx < 0) {
    return InvalidArgumentError("line " + std::to_string(header.line) +
                                ": the header must name userPrincipalName and pfxFile");
  }
  if ((cols.password < 0) == (cols.password_file < 0)) {
    return InvalidArgumentError("line " + std::to_string(header.line) +
                                ": the header must have exactly one of passwordFile or password");
  }
  return cols;
}

bool IsBlank(const CsvRecord& r) {
  return std::all_of(r.fields.begin(), r.fields.end(),
                     [](const std::string& f) { return Trim(f).empty(); });
}

}  // namespace

Result<SecretBytes> ManifestRow::ReadPassword() const {
  if (password) return password->Clone();
  return ReadSecretFile(password_file);
}

Result<Manifest> ParseManifest(std::string_view csv, const std::string& origin) {
  std::vector<CsvRecord> records = ParseCsv(csv);
  Manifest manifest;
  manifest.path = origin;
  auto it = std::find_if(records.begin(), records.end(), [](const CsvRecord& r) {
    return !IsBlank(r);
  });
  if (it == records.end()) return InvalidArgumentError(origin + ": the manifest is empty");
  if (!it->error.empty()) {
    return InvalidArgumentError(origin + ": line " + std::to_string(it->line) + ": " + it->error);
  }
  Result<Columns> cols = MapHeader(*it);
  if (!cols.ok()) return Status(cols.status()).WithContext(origin);
  std::filesystem::path base = std::filesystem::absolute(origin).parent_path();

  for (++it; it != records.end(); ++it) {
    CsvRecord& r = *it;
    auto problem = [&](std::string message) {
      manifest.problems.push_back({r.line, std::move(message)});
    };
    if (!r.error.empty()) {
      problem(r.error);
      continue;
    }
    if (IsBlank(r)) continue;
    size_t expected = static_cast<size_t>(std::max({cols->upn, cols->pfx, cols->password,
                                                    cols->password_file, cols->purpose})) + 1;
    if (r.fields.size() < expected) {
      problem("expected " + std::to_string(expected) + " fields, found " +
              std::to_string(r.fields.size()));
      continue;
    }
    ManifestRow row;
    row.line = r.line;
    row.upn = Trim(r.fields[cols->upn]);
    if (!LooksLikeUpn(row.upn)) {
      problem("'" + row.upn + "' is not a user principal name (name@domain)");
      continue;
    }
    std::string pfx = Trim(r.fields[cols->pfx]);
    if (pfx.empty()) {
      problem("pfxFile is empty for " + row.upn);
      continue;
    }
    row.pfx_file = Resolve(base, pfx);
    if (cols->password_file >= 0) {
      std::string pw = Trim(r.fields[cols->password_file]);
      if (pw.empty()) {
        problem("passwordFile is empty for " + row.upn);
        continue;
      }
      row.password_file = Resolve(base, pw);
    } else {
      // Inline passwords are taken verbatim (no trimming: spaces may be part of them).
      row.password.emplace(r.fields[cols->password]);
      SecureWipe(r.fields[cols->password].data(), r.fields[cols->password].size());
      if (row.password->empty()) {
        problem("password is empty for " + row.upn);
        continue;
      }
    }
    if (cols->purpose >= 0 && !Trim(r.fields[cols->purpose]).empty()) {
      Result<pkcs::Purpose> purpose = pkcs::ParsePurpose(Trim(r.fields[cols->purpose]));
      if (!purpose.ok()) {
        problem("intendedPurpose: " + std::string(purpose.status().message()));
        continue;
      }
      row.purpose = *purpose;
    }
    manifest.rows.push_back(std::move(row));
  }
  // Inline password fields were wiped above; wipe any leftover copies in malformed records.
  for (CsvRecord& r : records) {
    for (std::string& f : r.fields) SecureWipe(f.data(), f.size());
  }
  return manifest;
}

Result<Manifest> LoadManifest(const std::string& path) {
  Result<std::string> text = ReadFile(path, kMaxManifestBytes);
  if (!text.ok()) return text.status();
  Result<Manifest> m = ParseManifest(*text, std::filesystem::absolute(path).string());
  SecureWipe(text->data(), text->size());
  return m;
}

}  // namespace certdeploy::config
