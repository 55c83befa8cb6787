#include "base/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace certdeploy {
namespace {

Status ErrnoStatus(const std::string& what, const std::string& path, int err) {
  std::string message = what + " '" + path + "': " + std::strerror(err);
  switch (err) {
    case ENOENT: return NotFoundError(std::move(message));
    case EACCES:
    case EPERM: return PermissionDeniedError(std::move(message));
    case EISDIR: return InvalidArgumentError(std::move(message));
    default: return UnavailableError(std::move(message));
  }
}

// Reads up to max_bytes + 1 bytes from fd into `out`.
Status ReadAll(int fd, const std::string& path, size_t max_bytes, auto& out) {
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("cannot read", path, errno);
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_bytes) {
      return InvalidArgumentError("file '" + path + "' is larger than " +
                                  std::to_string(max_bytes) + " bytes");
    }
    out.insert(out.end(), buf, buf + n);
  }
  SecureWipe(buf, sizeof(buf));
  return OkStatus();
}

}  // namespace

Result<std::string> ReadFile(const std::string& path, size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open", path, errno);
  std::string out;
  Status s = ReadAll(fd, path, max_bytes, out);
  ::close(fd);
  if (!s.ok()) return s;
  return out;
}

Result<SecretBytes> ReadSecretFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open", path, errno);
  std::vector<char, ZeroizingAllocator<char>> raw;
  raw.reserve(4096);
  Status s = ReadAll(fd, path, 64 * 1024, raw);
  ::close(fd);
  if (!s.ok()) return s;
  size_t n = raw.size();
  if (n > 0 && raw[n - 1] == '\n') --n;
  if (n > 0 && raw[n - 1] == '\r') --n;
  if (n == 0) return InvalidArgumentError("secret file '" + path + "' is empty");
  return SecretBytes(std::string_view(raw.data(), n));
}

Result<SecretBytes> ReadSecretEnv(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return InvalidArgumentError("environment variable " + name + " is not set");
  if (*value == '\0') return InvalidArgumentError("environment variable " + name + " is empty");
  return SecretBytes(std::string_view(value));
}

Status WriteFileAtomic(const std::string& path, std::string_view data, unsigned mode) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoStatus("cannot create", tmp, errno);
  size_t written = 0;
  while (written < data.size()) {
    ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return ErrnoStatus("cannot write", tmp, err);
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return ErrnoStatus("cannot flush", tmp, err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return ErrnoStatus("cannot rename into", path, err);
  }
  return OkStatus();
}

}  // namespace certdeploy
