// sandbox/internal/journal.h: the --state file, an append-only JSON-lines journal.
//
// Format (one JSON object per line, "\n"-terminated, UTF-8):
//   {"v":1,"at":"<RFC 3339>","op":"putPfx","record":{...}}
// The entries are those of TenantState::Apply. A writer flushes after every line (no fsync: a
// machine crash may lose the tail, a process crash loses nothing). A reader accepts a torn last
// line (no newline, or not parseable): it is dropped and the file truncated to the last complete
// line before anything is appended. A bad line anywhere else is corruption (DataLoss).
// Not thread-safe: the tenant calls it under its mutex.

#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "sandbox/internal/wire.h"

namespace certdeploy::sandbox::internal {

class Journal {
 public:
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Opens (creating if absent) `path` and returns the entries of its complete lines in
  // `entries`. InvalidArgument if it cannot be opened; DataLoss if a line other than the last
  // one is not a JSON object.
  static Result<std::unique_ptr<Journal>> Open(const std::string& path, std::vector<json>* entries);

  // Appends one entry as a line and flushes. Internal error if the write fails.
  Status Append(const json& entry);

 private:
  Journal(std::string path, std::FILE* file) : path_(std::move(path)), file_(file) {}
  std::string path_;
  std::FILE* file_;
};

}  // namespace certdeploy::sandbox::internal
