// The rollout manifest: header mapping, per-row validation, path resolution.

#include <algorithm>
#include <filesystem>
#include <map>

#include "base/file.h"
#include "base/strings.h"
#include "config/manifest.h"
#include "config/upn.h"

namespace certdeploy::config {
namespace {

// Fields lose surrounding spaces and tabs (a CSV convenience); nothing else is trimmed.
std::string_view TrimField(std::string_view s) { return TrimAny(s, " \t"); }
std::string Trim(std::string_view s) { return std::string(TrimField(s)); }

std::string Resolve(const std::filesystem::path& base, const std::string& p) {
  std::filesystem::path path(p);
  if (path.is_relative()) path = base / path;
  return path.lexically_normal().string();
}

// The UPN as a problem message may show it: quoted when short and printable, else by length
// only (the manifest is the operator's own file, but a bad row must not flood the terminal).
std::string ShownUpn(std::string_view upn) {
  const bool printable = std::all_of(upn.begin(), upn.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f;
  });
  if (printable && upn.size() <= kMaxUpnLength) return "'" + std::string(upn) + "'";
  return "(" + std::to_string(upn.size()) + " bytes)";
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
    std::string name = AsciiToLower(Trim(header.fields[i]));
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
                     [](const std::string& f) { return TrimField(f).empty(); });
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
    auto problem = [&](std::string message, std::string code = "manifest-row") {
      manifest.problems.push_back({r.line, std::move(code), std::move(message)});
    };
    if (!r.error.empty()) {
      if (!r.too_large) {
        problem(r.error);
        continue;
      }
      // Name the row by the start of its UPN (never another column: one may be a password).
      std::string shown;
      if (static_cast<size_t>(cols->upn) < r.fields.size()) {
        std::string_view start = TrimField(r.fields[cols->upn]);
        if (!start.empty()) {
          shown = " (userPrincipalName starts '" + ForLog(start, kCsvExcerptBytes) + "...')";
        }
      }
      problem(r.error + shown, "row-too-large");
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
    if (Status upn = ValidateUpn(row.upn); !upn.ok()) {
      problem(ShownUpn(row.upn) + " is not a user principal name: " + std::string(upn.message()),
              "upn-invalid");
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
      Result<pkcs::Purpose> purpose = pkcs::ParseImportPurpose(Trim(r.fields[cols->purpose]));
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
