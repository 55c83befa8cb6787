// config/internal/yaml_reader.h: the typed, key-path-and-line-checked reads the config loader
// is made of (yaml-cpp stays in config/internal/). Each failed check throws ConfigError with
// "<file>:<line>: <key.path>: <problem>", which ParseConfig turns into InvalidArgument.

#pragma once

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "base/strings.h"
#include "config/config.h"

namespace certdeploy::config::internal {

// Thrown inside the loader only, turned into a Status at ParseConfig's boundary.
struct ConfigError {
  std::string message;
};

class YamlReader {
 public:
  YamlReader(std::string origin, std::filesystem::path base)
      : origin_(std::move(origin)), base_(std::move(base)) {}

  [[noreturn]] void Fail(const YAML::Node& node, const std::string& key,
                         const std::string& problem) const {
    std::string where = origin_;
    if (node.IsDefined() && node.Mark().line >= 0) where += ":" + std::to_string(node.Mark().line + 1);
    throw ConfigError{where + ": " + key + ": " + problem};
  }

  // Refuses keys of `map` not in `allowed`.
  void CheckKeys(const YAML::Node& map, const std::string& path,
                 const std::set<std::string>& allowed) const {
    if (!map.IsMap()) Fail(map, path, "expected a mapping");
    for (const auto& kv : map) {
      std::string key = kv.first.as<std::string>();
      if (!allowed.count(key)) {
        std::string list;
        for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
        const std::string closest =
            ClosestMatch(key, std::vector<std::string>(allowed.begin(), allowed.end()));
        Fail(kv.first, path + "." + key,
             "unknown key" + (closest.empty() ? "" : "; did you mean '" + closest + "'?") +
                 " (expected one of: " + list + ")");
      }
    }
  }

  std::string String(const YAML::Node& parent, const std::string& path, const char* key,
                     bool required, const std::string& fallback = "") const {
    YAML::Node n = parent[key];
    if (!n.IsDefined() || n.IsNull()) {
      if (required) Fail(parent, path + "." + key, "is required");
      return fallback;
    }
    if (!n.IsScalar()) Fail(n, path + "." + key, "expected a string");
    std::string v = n.as<std::string>();
    if (required && v.empty()) Fail(n, path + "." + key, "must not be empty");
    return v;
  }

  int Int(const YAML::Node& parent, const std::string& path, const char* key, int fallback,
          int min, int max) const {
    YAML::Node n = parent[key];
    if (!n.IsDefined() || n.IsNull()) return fallback;
    int v = 0;
    try {
      v = n.as<int>();
    } catch (const YAML::Exception&) {
      Fail(n, path + "." + key, "expected an integer");
    }
    if (v < min || v > max) {
      Fail(n, path + "." + key,
           "must be between " + std::to_string(min) + " and " + std::to_string(max));
    }
    return v;
  }

  bool Bool(const YAML::Node& parent, const std::string& path, const char* key,
            bool fallback) const {
    YAML::Node n = parent[key];
    if (!n.IsDefined() || n.IsNull()) return fallback;
    try {
      return n.as<bool>();
    } catch (const YAML::Exception&) {
      Fail(n, path + "." + key, "expected true or false");
    }
  }

  std::vector<std::string> Strings(const YAML::Node& parent, const std::string& path,
                                   const char* key) const {
    YAML::Node n = parent[key];
    std::vector<std::string> out;
    if (!n.IsDefined() || n.IsNull()) return out;
    if (!n.IsSequence()) Fail(n, path + "." + key, "expected a list");
    for (const auto& item : n) {
      if (!item.IsScalar()) Fail(item, path + "." + key, "expected a list of strings");
      out.push_back(item.as<std::string>());
    }
    return out;
  }

  // `p` made absolute against the config file's folder ("" stays "").
  std::string Path(const std::string& p) const {
    if (p.empty()) return p;
    std::filesystem::path path(p);
    if (path.is_relative()) path = base_ / path;
    return path.lexically_normal().string();
  }

  // 127.0.0.0/8 (an IPv4 address, not a name that starts with "127."), ::1 (without brackets)
  // and localhost, any case: where plain HTTP is allowed. The same rule as the transport's
  // (graph::IsLoopbackHost), which config/ may not include.
  static bool IsLoopbackHost(const std::string& host) {
    if (EqualsIgnoreCaseAscii(host, "localhost")) return true;
    in_addr v4{};
    if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
    in6_addr v6{};
    return inet_pton(AF_INET6, host.c_str(), &v6) == 1 &&
           std::memcmp(&v6, &in6addr_loopback, sizeof(v6)) == 0;
  }

 private:
  std::string origin_;
  std::filesystem::path base_;
};

// service.webhooks (webhook_config.cc): the list under `service` node `n`, checked;
// `default_expiring_days` is the expiringDays of an entry without one.
std::vector<WebhookConfig> LoadWebhooks(const YamlReader& reader, const YAML::Node& n,
                                        int default_expiring_days);

}  // namespace certdeploy::config::internal
