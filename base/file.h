// base/file.h: reading and writing whole files with bounded sizes and clear errors.
//
// Every error names the path and the reason (errno text), never the content.

#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/secret.h"

namespace certdeploy {

// Reads the whole file. InvalidArgument if it is larger than `max_bytes`; NotFound if it does
// not exist; PermissionDenied or Unavailable for other I/O failures.
Result<std::string> ReadFile(const std::string& path, size_t max_bytes = 64 << 20);

// Reads a secret (password, client secret) from a file into a zeroizing buffer. One trailing
// "\n" or "\r\n" is removed, as editors add one. InvalidArgument if the result is empty.
Result<SecretBytes> ReadSecretFile(const std::string& path);

// Reads a secret from environment variable `name`. InvalidArgument if unset or empty.
Result<SecretBytes> ReadSecretEnv(const std::string& name);

// Writes `data` to `path` atomically: a temporary file in the same folder, fsync, rename.
// `mode` applies to the new file (e.g. 0600 for anything sensitive).
Status WriteFileAtomic(const std::string& path, std::string_view data, unsigned mode = 0644);

}  // namespace certdeploy
