// config/manifest.h: the rollout manifest, a CSV file of users and their PFX files.
//
// RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF, a UTF-8 BOM is tolerated). The header
// row names the columns, in any order:
//   userPrincipalName,pfxFile,passwordFile[,intendedPurpose]
//   userPrincipalName,pfxFile,password[,intendedPurpose]
// Paths resolve against the manifest's folder. A malformed row is reported with its line number
// and skipped; it never aborts the other rows. A bad header is an error for the whole file.

#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/secret.h"
#include "pkcs/validate.h"

namespace certdeploy::config {

struct ManifestRow {
  int line = 0;                 // 1-based line of the row's first character.
  std::string upn;
  std::string pfx_file;         // Absolute.
  std::string password_file;    // Absolute; empty when the password is inline.
  std::optional<SecretBytes> password;  // Inline password column. Moved, never copied.
  std::optional<pkcs::Purpose> purpose;  // Per-row override of pfx.intendedPurpose.

  // The password: the inline value, or read from password_file.
  Result<SecretBytes> ReadPassword() const;
};

struct ManifestProblem {
  int line = 0;
  std::string message;  // Never contains a password.
};

struct Manifest {
  std::string path;
  std::vector<ManifestRow> rows;
  std::vector<ManifestProblem> problems;  // Rows that were skipped, and why.
};

// Reads `path`. Fails (InvalidArgument) only when the file is unreadable, not CSV at all or has
// a bad header; row-level problems go to Manifest::problems.
Result<Manifest> LoadManifest(const std::string& path);
Result<Manifest> ParseManifest(std::string_view csv, const std::string& origin);

// Splits RFC 4180 CSV text into records of fields, each with the line it started on. Never
// fails: a malformed record (text after a closing quote, a quote left open) carries an error and
// parsing resumes on the next line, so one bad row cannot swallow the rest. Blank lines are
// skipped. A leading UTF-8 BOM is ignored.
struct CsvRecord {
  int line = 0;
  std::vector<std::string> fields;
  std::string error;  // Empty when well-formed.
};
std::vector<CsvRecord> ParseCsv(std::string_view text);

}  // namespace certdeploy::config
