#include "base/log.h"

#include <spdlog/sinks/stdout_sinks.h>

namespace certdeploy {

Status InitLogging(const LogOptions& options) {
  spdlog::level::level_enum level = spdlog::level::from_str(options.level);
  // from_str maps unknown names to "off"; only accept "off" when it was asked for.
  if (level == spdlog::level::off && options.level != "off") {
    return InvalidArgumentError("unknown log level '" + options.level +
                                "' (expected trace, debug, info, warn, error or off)");
  }
  const char* name = options.to_stderr ? "certdeploy-stderr" : "certdeploy-stdout";
  spdlog::drop(name);
  std::shared_ptr<spdlog::logger> logger =
      options.to_stderr ? spdlog::stderr_logger_mt(name) : spdlog::stdout_logger_mt(name);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  logger->set_level(level);
  spdlog::set_default_logger(logger);
  spdlog::set_level(level);
  return OkStatus();
}

}  // namespace certdeploy
