// config/manifest.h: the rollout manifest, a CSV file of users and their PFX files.
//
// RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF, a UTF-8 BOM is tolerated). The header
// row names the columns, in any order:
//   userPrincipalName,pfxFile,passwordFile[,intendedPurpose]
//   userPrincipalName,pfxFile,password[,intendedPurpose]
// Paths resolve against the manifest's folder. A malformed row is reported with its line number
// and skipped; it never aborts the other rows. A bad header is an error for the whole file.
// Rows and fields are bounded (kMaxCsvRecordBytes, kMaxCsvFieldBytes): a longer one is a
// malformed row like any other, reported with a short excerpt, and costs bounded memory.

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

// The whole manifest file is read into memory; larger files are refused.
inline constexpr size_t kMaxManifestBytes = 256 << 20;
// A row (a CSV record, all its lines) and any one field. A row holds a UPN (at most 113
// characters), two paths (PATH_MAX is 4096) and a password: these leave ample room.
inline constexpr size_t kMaxCsvRecordBytes = 16 << 10;
inline constexpr size_t kMaxCsvFieldBytes = 4 << 10;
// What is kept of each field of a row over a bound, for messages.
inline constexpr size_t kCsvExcerptBytes = 40;

struct ManifestProblem {
  int line = 0;
  // A finding code: "upn-invalid" (the UPN breaks config/upn.h's rule), "row-too-large" (over
  // kMaxCsvRecordBytes or kMaxCsvFieldBytes), or "manifest-row" (any other malformed row).
  std::string code = "manifest-row";
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
// skipped. A leading UTF-8 BOM is ignored. A record longer than kMaxCsvRecordBytes, or with a
// field longer than kMaxCsvFieldBytes, is malformed too ("the row is N bytes long; ..."): it
// keeps at most the first kCsvExcerptBytes of each of its first fields (none for a record that
// failed on its quotes), and parsing goes on after it.
struct CsvRecord {
  int line = 0;
  std::vector<std::string> fields;
  std::string error;        // Empty when well-formed.
  size_t record_bytes = 0;  // Its length in the text, line breaks inside quotes included.
  bool too_large = false;   // The error is a bound.
};
std::vector<CsvRecord> ParseCsv(std::string_view text);

}  // namespace certdeploy::config
