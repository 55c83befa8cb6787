// YAML configuration loading with key-path-and-line errors (yaml-cpp stays in this file).

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "base/file.h"
#include "config/config.h"

namespace certdeploy::config {
namespace {

// Thrown inside this file only, turned into a Status at the boundary.
struct ConfigError {
  std::string message;
};

class Loader {
 public:
  Loader(std::string origin, std::filesystem::path base)
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
        Fail(kv.first, path + "." + key, "unknown key (expected one of: " + list + ")");
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

  std::string Path(const std::string& p) const {
    if (p.empty()) return p;
    std::filesystem::path path(p);
    if (path.is_relative()) path = base_ / path;
    return path.lexically_normal().string();
  }

  Config Load(const YAML::Node& root) {
    if (!root.IsMap()) Fail(root, "(top level)", "expected a mapping of sections");
    CheckKeys(root, "config", {"tenant", "auth", "connector", "profiles", "pfx", "limits",
                               "service", "logging"});
    Config c;
    LoadTenant(root, c.tenant);
    LoadAuth(root, c.auth);
    LoadConnector(root, c.connector);
    LoadProfiles(root, c.profiles);
    LoadPfx(root, c.pfx);
    LoadLimits(root, c.limits);
    return c;
  }

 private:
  YAML::Node Section(const YAML::Node& root, const char* name, bool required) const {
    YAML::Node n = root[name];
    if (!n.IsDefined() || n.IsNull()) {
      if (required) Fail(root, name, "section is required");
      return YAML::Node(YAML::NodeType::Map);
    }
    return n;
  }

  void LoadTenant(const YAML::Node& root, TenantConfig& t) {
    YAML::Node n = Section(root, "tenant", true);
    CheckKeys(n, "tenant", {"id", "cloud", "graphUrl", "authorityUrl", "caFile"});
    t.id = String(n, "tenant", "id", true);
    t.cloud = String(n, "tenant", "cloud", false, "global");
    static const std::set<std::string> kClouds = {"global", "usgov", "usgovdod", "china"};
    if (!kClouds.count(t.cloud)) {
      Fail(n["cloud"], "tenant.cloud", "'" + t.cloud + "' is not one of global, usgov, usgovdod, china");
    }
    t.graph_url = String(n, "tenant", "graphUrl", false);
    t.authority_url = String(n, "tenant", "authorityUrl", false);
    t.ca_file = Path(String(n, "tenant", "caFile", false));
  }

  void LoadAuth(const YAML::Node& root, AuthConfig& a) {
    YAML::Node n = Section(root, "auth", true);
    if (n["clientSecret"].IsDefined()) {
      Fail(n["clientSecret"], "auth.clientSecret",
           "secrets are never written in the config; use clientSecretEnv or clientSecretFile");
    }
    CheckKeys(n, "auth", {"clientId", "clientSecretEnv", "clientSecretFile", "certificateFile",
                          "keyFile"});
    a.client_id = String(n, "auth", "clientId", true);
    a.client_secret_env = String(n, "auth", "clientSecretEnv", false);
    a.client_secret_file = Path(String(n, "auth", "clientSecretFile", false));
    a.certificate_file = Path(String(n, "auth", "certificateFile", false));
    a.key_file = Path(String(n, "auth", "keyFile", false));
    int kinds = !a.client_secret_env.empty() + !a.client_secret_file.empty() +
                !a.certificate_file.empty();
    if (kinds != 1) {
      Fail(n, "auth", "give exactly one credential: clientSecretEnv, clientSecretFile, or "
                      "certificateFile with keyFile");
    }
    if (a.certificate_file.empty() != a.key_file.empty()) {
      Fail(n, "auth", "certificateFile and keyFile go together");
    }
  }

  void LoadConnector(const YAML::Node& root, ConnectorConfig& k) {
    YAML::Node n = Section(root, "connector", true);
    CheckKeys(n, "connector", {"providerName", "keyName", "publicKeyFile", "paddingScheme"});
    k.provider_name = String(n, "connector", "providerName", false, k.provider_name);
    k.key_name = String(n, "connector", "keyName", false, k.key_name);
    k.public_key_file = Path(String(n, "connector", "publicKeyFile", true));
    std::string padding = String(n, "connector", "paddingScheme", false, "oaepSha512");
    Result<pkcs::PaddingScheme> p = pkcs::ParsePaddingScheme(padding);
    if (!p.ok()) Fail(n["paddingScheme"], "connector.paddingScheme", std::string(p.status().message()));
    k.padding = *p;
  }

  void LoadProfiles(const YAML::Node& root, ProfilesConfig& p) {
    YAML::Node n = Section(root, "profiles", false);
    CheckKeys(n, "profiles", {"platforms", "namePrefix", "assignTo", "importedPfxProfile",
                              "trustBundle"});
    if (n["platforms"].IsDefined()) {
      p.platforms.clear();
      for (const std::string& name : Strings(n, "profiles", "platforms")) {
        Result<Platform> platform = ParsePlatform(name);
        if (!platform.ok()) Fail(n["platforms"], "profiles.platforms", std::string(platform.status().message()));
        if (std::find(p.platforms.begin(), p.platforms.end(), *platform) == p.platforms.end()) {
          p.platforms.push_back(*platform);
        }
      }
      if (p.platforms.empty()) Fail(n["platforms"], "profiles.platforms", "must name at least one platform");
    }
    p.name_prefix = String(n, "profiles", "namePrefix", false, p.name_prefix);
    p.imported_pfx_profile = Bool(n, "profiles", "importedPfxProfile", true);
    p.trust_bundle = Path(String(n, "profiles", "trustBundle", false));
    YAML::Node assign = n["assignTo"];
    if (assign.IsDefined() && !assign.IsNull()) {
      CheckKeys(assign, "profiles.assignTo", {"groups", "excludeGroups"});
      p.assign_to.groups = Strings(assign, "profiles.assignTo", "groups");
      p.assign_to.exclude_groups = Strings(assign, "profiles.assignTo", "excludeGroups");
    }
  }

  void LoadPfx(const YAML::Node& root, PfxConfig& p) {
    YAML::Node n = Section(root, "pfx", false);
    CheckKeys(n, "pfx", {"intendedPurpose", "expiresSoonDays", "pruneExpired"});
    std::string purpose = String(n, "pfx", "intendedPurpose", false, "smimeEncryption");
    Result<pkcs::Purpose> parsed = pkcs::ParsePurpose(purpose);
    if (!parsed.ok()) Fail(n["intendedPurpose"], "pfx.intendedPurpose", std::string(parsed.status().message()));
    p.intended_purpose = *parsed;
    p.expires_soon_days = Int(n, "pfx", "expiresSoonDays", 30, 0, 3650);
    p.prune_expired = Bool(n, "pfx", "pruneExpired", false);
  }

  void LoadLimits(const YAML::Node& root, LimitsConfig& l) {
    YAML::Node n = Section(root, "limits", false);
    CheckKeys(n, "limits", {"writesPer20s", "requestsPer20s", "concurrency"});
    l.writes_per_20s = Int(n, "limits", "writesPer20s", 100, 1, 100000);
    l.requests_per_20s = Int(n, "limits", "requestsPer20s", 1000, 1, 1000000);
    l.concurrency = Int(n, "limits", "concurrency", 8, 1, 256);
  }

  std::string origin_;
  std::filesystem::path base_;
};

}  // namespace

std::string_view PlatformName(Platform p) {
  switch (p) {
    case Platform::kIos: return "ios";
    case Platform::kMacOs: return "macos";
    case Platform::kAndroidWorkProfile: return "androidWorkProfile";
    case Platform::kAndroidDeviceOwner: return "androidDeviceOwner";
    case Platform::kWindows: return "windows";
  }
  return "ios";
}

Result<Platform> ParsePlatform(std::string_view name) {
  for (Platform p : {Platform::kIos, Platform::kMacOs, Platform::kAndroidWorkProfile,
                     Platform::kAndroidDeviceOwner, Platform::kWindows}) {
    std::string_view n = PlatformName(p);
    if (n.size() == name.size() &&
        std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return p;
    }
  }
  return InvalidArgumentError("'" + std::string(name) +
                              "' is not a platform (expected ios, macos, androidWorkProfile, "
                              "androidDeviceOwner or windows)");
}

Result<Config> ParseConfig(std::string_view yaml, const std::string& origin) {
  std::filesystem::path base = std::filesystem::absolute(origin).parent_path();
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    Loader loader(origin, base);
    Config c = loader.Load(root);
    c.path = std::filesystem::absolute(origin).lexically_normal().string();
    return c;
  } catch (const ConfigError& e) {
    return InvalidArgumentError(e.message);
  } catch (const YAML::Exception& e) {
    std::string where = origin;
    if (e.mark.line >= 0) where += ":" + std::to_string(e.mark.line + 1);
    return InvalidArgumentError(where + ": not valid YAML: " + e.msg);
  }
}

Result<Config> LoadConfig(const std::string& path) {
  Result<std::string> text = ReadFile(path, 1 << 20);
  if (!text.ok()) return text.status();
  return ParseConfig(*text, path);
}

}  // namespace certdeploy::config
