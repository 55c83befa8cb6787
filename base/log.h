// base/log.h: logging through spdlog, with secrets refused at compile time.
//
//   CD_LOG_INFO("imported {} for {}", thumbprint, upn);
//
// Redaction rule: any type deriving from SecretTag (SecretBytes, sealed passwords, key handles)
// has a fmt::formatter that cannot be constructed, so passing one to a log call, fmt::format or
// spdlog does not compile. Free text that might carry a secret (an HTTP body of a secret-bearing
// request) must never be logged; log method, path, status and ids instead.

#pragma once

#include <string>
#include <string_view>
#include <type_traits>

#include <spdlog/spdlog.h>

#include "base/secret.h"
#include "base/status.h"

template <typename T, typename Char>
struct fmt::formatter<T, Char, std::enable_if_t<std::is_base_of_v<certdeploy::SecretTag, T>>> {
  // Deliberately not constructible: fmt reports "cannot format an argument" at compile time.
  formatter() = delete;
};

template <>
struct fmt::formatter<certdeploy::Status> : fmt::formatter<std::string_view> {
  template <typename Context>
  auto format(const certdeploy::Status& s, Context& ctx) const {
    return fmt::formatter<std::string_view>::format(s.ToString(), ctx);
  }
};

namespace certdeploy {

struct LogOptions {
  std::string level = "info";  // trace, debug, info, warn, error, off
  bool to_stderr = true;       // CLI tools log to stderr so stdout stays machine-readable.
};

// Configures the default logger (UTC timestamps). May be called again to reconfigure.
// Returns InvalidArgument for an unknown level name.
Status InitLogging(const LogOptions& options);

}  // namespace certdeploy

#define CD_LOG_TRACE(...) ::spdlog::trace(__VA_ARGS__)
#define CD_LOG_DEBUG(...) ::spdlog::debug(__VA_ARGS__)
#define CD_LOG_INFO(...) ::spdlog::info(__VA_ARGS__)
#define CD_LOG_WARN(...) ::spdlog::warn(__VA_ARGS__)
#define CD_LOG_ERROR(...) ::spdlog::error(__VA_ARGS__)
