// YAML configuration loading with key-path-and-line errors (the reads: internal/yaml_reader.h).

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>

#include "base/file.h"
#include "base/strings.h"
#include "config/config.h"
#include "config/internal/yaml_reader.h"

namespace certdeploy::config {
namespace {

using internal::ConfigError;
using internal::YamlReader;

class Loader : public YamlReader {
 public:
  using YamlReader::YamlReader;

  Config Load(const YAML::Node& root) {
    if (!root.IsMap()) Fail(root, "(top level)", "expected a mapping of sections");
    CheckKeys(root, "config", {"tenant", "auth", "connector", "profiles", "pfx", "limits",
                               "outlook", "service", "logging"});
    Config c;
    LoadTenant(root, c.tenant);
    LoadAuth(root, c.auth);
    LoadConnector(root, c.connector);
    LoadProfiles(root, c.profiles);
    LoadPfx(root, c.pfx);
    LoadLimits(root, c.limits);
    LoadOutlook(root, c.profiles, c.outlook);
    LoadService(root, c.pfx, c.service);
    LoadLogging(root, c.logging);
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
                              "trustBundle", "takeOverAssignments"});
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
    p.take_over_assignments = Bool(n, "profiles", "takeOverAssignments", false);
    p.trust_bundle = Path(String(n, "profiles", "trustBundle", false));
    YAML::Node assign = n["assignTo"];
    if (assign.IsDefined() && !assign.IsNull()) {
      CheckKeys(assign, "profiles.assignTo", {"groups", "excludeGroups"});
      p.assign_to.groups = Groups(assign, "groups");
      p.assign_to.exclude_groups = Groups(assign, "excludeGroups");
    }
  }

  // A list of group ids or names, each checked by ValidateGroupReference.
  std::vector<std::string> Groups(const YAML::Node& assign, const char* key) {
    const std::string path = std::string("profiles.assignTo.") + key;
    std::vector<std::string> groups = Strings(assign, "profiles.assignTo", key);
    for (size_t i = 0; i < groups.size(); ++i) {
      if (Status valid = ValidateGroupReference(groups[i]); !valid.ok()) {
        Fail(assign[key][i], path + "[" + std::to_string(i) + "]", std::string(valid.message()));
      }
    }
    return groups;
  }

  void LoadPfx(const YAML::Node& root, PfxConfig& p) {
    YAML::Node n = Section(root, "pfx", false);
    CheckKeys(n, "pfx", {"intendedPurpose", "expiresSoonDays", "pruneExpired",
                         "pruneExpiredEncryption"});
    std::string purpose = String(n, "pfx", "intendedPurpose", false, "smimeEncryption");
    Result<pkcs::Purpose> parsed = pkcs::ParseImportPurpose(purpose);
    if (!parsed.ok()) Fail(n["intendedPurpose"], "pfx.intendedPurpose", std::string(parsed.status().message()));
    p.intended_purpose = *parsed;
    p.expires_soon_days = Int(n, "pfx", "expiresSoonDays", 30, 0, 3650);
    p.prune_expired = Bool(n, "pfx", "pruneExpired", false);
    p.prune_expired_encryption = Bool(n, "pfx", "pruneExpiredEncryption", false);
    if (p.prune_expired_encryption && !p.prune_expired) {
      Fail(n["pruneExpiredEncryption"], "pfx.pruneExpiredEncryption",
           "takes effect only with pruneExpired: true");
    }
  }

  void LoadLimits(const YAML::Node& root, LimitsConfig& l) {
    YAML::Node n = Section(root, "limits", false);
    CheckKeys(n, "limits", {"writesPer20s", "requestsPer20s", "windowSeconds", "concurrency"});
    l.writes_per_20s = Int(n, "limits", "writesPer20s", 100, 1, 100000);
    l.requests_per_20s = Int(n, "limits", "requestsPer20s", 1000, 1, 1000000);
    l.window = std::chrono::seconds(Int(n, "limits", "windowSeconds", 20, 1, 3600));
    l.concurrency = Int(n, "limits", "concurrency", 8, 1, 256);
  }

  void LoadLogging(const YAML::Node& root, LoggingConfig& l) {
    YAML::Node n = Section(root, "logging", false);
    CheckKeys(n, "logging", {"level"});
    l.level = String(n, "logging", "level", false);
    static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error", "off"};
    if (!l.level.empty() && !kLevels.count(l.level)) {
      Fail(n["level"], "logging.level",
           "'" + l.level + "' is not one of trace, debug, info, warn, error, off");
    }
  }

  void LoadOutlook(const YAML::Node& root, const ProfilesConfig& profiles,
                   std::optional<OutlookConfig>& out) {
    YAML::Node n = root["outlook"];
    if (!n.IsDefined() || n.IsNull()) return;
    if (!n.IsMap()) Fail(n, "outlook", "expected a mapping");
    CheckKeys(n, "outlook", {"smimeEnabled", "userChangeAllowed", "encryptAllMail",
                             "encryptAllMailUserChangeAllowed", "signAllMail",
                             "signAllMailUserChangeAllowed", "platforms"});
    OutlookConfig o;
    o.smime_enabled = Bool(n, "outlook", "smimeEnabled", o.smime_enabled);
    o.user_change_allowed = Bool(n, "outlook", "userChangeAllowed", o.user_change_allowed);
    o.encrypt_all_mail = Bool(n, "outlook", "encryptAllMail", o.encrypt_all_mail);
    o.encrypt_all_mail_user_change_allowed = Bool(n, "outlook", "encryptAllMailUserChangeAllowed",
                                                  o.encrypt_all_mail_user_change_allowed);
    o.sign_all_mail = Bool(n, "outlook", "signAllMail", o.sign_all_mail);
    o.sign_all_mail_user_change_allowed =
        Bool(n, "outlook", "signAllMailUserChangeAllowed", o.sign_all_mail_user_change_allowed);
    auto add = [&o](OutlookPlatform p) {
      if (std::find(o.platforms.begin(), o.platforms.end(), p) == o.platforms.end()) {
        o.platforms.push_back(p);
      }
    };
    if (n["platforms"].IsDefined()) {
      for (const std::string& name : Strings(n, "outlook", "platforms")) {
        if (EqualsIgnoreCaseAscii(name, "ios")) {
          add(OutlookPlatform::kIos);
        } else if (EqualsIgnoreCaseAscii(name, "android")) {
          add(OutlookPlatform::kAndroid);
        } else {
          Fail(n["platforms"], "outlook.platforms",
               "'" + name + "' is not an Outlook platform (expected ios or android)");
        }
      }
      if (o.platforms.empty()) {
        Fail(n["platforms"], "outlook.platforms", "must name at least one platform");
      }
    } else {
      for (Platform p : profiles.platforms) {
        if (p == Platform::kIos) add(OutlookPlatform::kIos);
        if (p == Platform::kAndroidWorkProfile || p == Platform::kAndroidDeviceOwner) {
          add(OutlookPlatform::kAndroid);
        }
      }
      if (o.platforms.empty()) {
        Fail(n, "outlook.platforms",
             "profiles.platforms names neither ios nor an Android platform; name the Outlook "
             "platforms (ios, android)");
      }
      std::sort(o.platforms.begin(), o.platforms.end());
    }
    out = std::move(o);
  }

  void LoadService(const YAML::Node& root, const PfxConfig& pfx, std::optional<ServiceConfig>& out) {
    YAML::Node n = root["service"];
    if (!n.IsDefined() || n.IsNull()) return;
    CheckKeys(n, "service", {"listen", "tls", "store", "inbox", "apiKeys", "maxBodyBytes",
                             "retainPfxAfterSuccess", "haltOnFailurePercent", "workers",
                             "leaseSeconds", "batchSize", "pollMillis", "reconcileIntervalSeconds", "requestTimeoutMillis",
                             "idleTimeoutMillis", "maxHeaderBytes", "maxConnectionsPerClient",
                             "pfxWorkersPerKey", "pfxWorkDeadlineMillis",
                             "shutdownTimeoutSeconds", "webhooks"});
    ServiceConfig s;
    s.listen = String(n, "service", "listen", false, s.listen);
    std::string host;
    if (!SplitListen(s.listen, host)) {
      Fail(n["listen"], "service.listen", "'" + s.listen + "' is not host:port (port 0..65535)");
    }
    YAML::Node tls = n["tls"];
    if (tls.IsDefined() && !tls.IsNull()) {
      CheckKeys(tls, "service.tls", {"certFile", "keyFile", "clientCaFile"});
      ServiceTlsConfig t;
      t.cert_file = Path(String(tls, "service.tls", "certFile", true));
      t.key_file = Path(String(tls, "service.tls", "keyFile", true));
      t.client_ca_file = Path(String(tls, "service.tls", "clientCaFile", false));
      s.tls = t;
    } else if (!IsLoopbackHost(host)) {
      Fail(n["listen"].IsDefined() ? n["listen"] : n, "service.tls",
           "is required: plain HTTP is only allowed on a loopback address");
    }
    s.store = StoreUrl(n);
    s.inbox = Path(String(n, "service", "inbox", false));
    s.api_keys = ApiKeys(n);
    s.max_body_bytes =
        static_cast<size_t>(Int(n, "service", "maxBodyBytes", 1 << 20, 1024, 1 << 30));
    s.retain_pfx_after_success = Bool(n, "service", "retainPfxAfterSuccess", false);
    s.halt_on_failure_percent = Int(n, "service", "haltOnFailurePercent", 5, 0, 100);
    s.workers = Int(n, "service", "workers", 8, 1, 256);
    s.lease = std::chrono::seconds(Int(n, "service", "leaseSeconds", 120, 2, 86400));
    s.batch_size = Int(n, "service", "batchSize", 25, 1, 1000);
    s.poll = std::chrono::milliseconds(Int(n, "service", "pollMillis", 1000, 10, 60000));
    s.reconcile_interval =
        std::chrono::seconds(Int(n, "service", "reconcileIntervalSeconds", 900, 0, 86400 * 7));
    s.request_timeout = std::chrono::milliseconds(
        Int(n, "service", "requestTimeoutMillis", 10000, 100, 600000));
    s.idle_timeout =
        std::chrono::milliseconds(Int(n, "service", "idleTimeoutMillis", 30000, 100, 3600000));
    s.max_header_bytes =
        static_cast<size_t>(Int(n, "service", "maxHeaderBytes", 16384, 1024, 48 * 1024));
    s.max_connections_per_client =
        static_cast<size_t>(Int(n, "service", "maxConnectionsPerClient", 128, 1, 65536));
    s.pfx_workers_per_key = Int(n, "service", "pfxWorkersPerKey", 4, 1, 256);
    s.pfx_work_deadline = std::chrono::milliseconds(
        Int(n, "service", "pfxWorkDeadlineMillis", 20000, 100, 600000));
    s.shutdown_timeout =
        std::chrono::seconds(Int(n, "service", "shutdownTimeoutSeconds", 20, 1, 3600));
    s.webhooks = LoadWebhooks(*this, n, pfx.expires_soon_days > 0 ? pfx.expires_soon_days : 30);
    out = std::move(s);
  }

  // "host:port" or "[v6]:port" with a port 0..65535.
  static bool SplitListen(const std::string& listen, std::string& host) {
    size_t colon = listen.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) return false;
    host = listen.substr(0, colon);
    if (host.front() == '[') {
      if (host.back() != ']' || host.size() < 3) return false;
      host = host.substr(1, host.size() - 2);
    } else if (host.find(':') != std::string::npos) {
      return false;
    }
    const std::string port = listen.substr(colon + 1);
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit)) return false;
    return std::stoi(port) <= 65535;
  }

  std::string StoreUrl(const YAML::Node& n) const {
    std::string url = String(n, "service", "store", true);
    if (url.rfind("sqlite:", 0) == 0) {
      std::string file = url.substr(7);
      if (file.empty()) Fail(n["store"], "service.store", "'sqlite:' needs a file path");
      return "sqlite:" + Path(file);
    }
    if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) return url;
    // Never echo the value: a PostgreSQL URL may carry a password.
    Fail(n["store"], "service.store",
         "expected sqlite:PATH or a postgresql:// connection URI");
  }

  std::vector<ApiKeyConfig> ApiKeys(const YAML::Node& n) const {
    std::vector<ApiKeyConfig> keys;
    YAML::Node list = n["apiKeys"];
    if (!list.IsDefined() || list.IsNull()) return keys;
    if (!list.IsSequence()) Fail(list, "service.apiKeys", "expected a list");
    std::set<std::string> names;
    for (size_t i = 0; i < list.size(); ++i) {
      const YAML::Node k = list[i];
      const std::string path = "service.apiKeys[" + std::to_string(i) + "]";
      CheckKeys(k, path, {"name", "sha256", "scopes"});
      ApiKeyConfig key;
      key.name = String(k, path, "name", true);
      if (!names.insert(key.name).second) Fail(k["name"], path + ".name", "duplicate key name");
      key.sha256 = String(k, path, "sha256", true);
      key.sha256 = AsciiToLower(key.sha256);
      if (key.sha256.size() != 64 ||
          !std::all_of(key.sha256.begin(), key.sha256.end(), ::isxdigit)) {
        Fail(k["sha256"], path + ".sha256",
             "expected 64 hex digits (sha256sum of the key), never the key itself");
      }
      for (const std::string& scope : Strings(k, path, "scopes")) {
        std::optional<ApiScope> parsed;
        for (ApiScope a : {ApiScope::kEnroll, ApiScope::kRollouts, ApiScope::kRead}) {
          if (ApiScopeName(a) == scope) parsed = a;
        }
        if (!parsed) {
          Fail(k["scopes"], path + ".scopes",
               "'" + scope + "' is not one of enroll, rollouts, read");
        }
        if (std::find(key.scopes.begin(), key.scopes.end(), *parsed) != key.scopes.end()) {
          Fail(k["scopes"], path + ".scopes", "'" + scope + "' is listed twice");
        }
        key.scopes.push_back(*parsed);
      }
      if (key.scopes.empty()) Fail(k, path + ".scopes", "must list at least one scope");
      keys.push_back(std::move(key));
    }
    return keys;
  }
};

}  // namespace

std::string_view ApiScopeName(ApiScope scope) {
  switch (scope) {
    case ApiScope::kEnroll: return "enroll";
    case ApiScope::kRollouts: return "rollouts";
    case ApiScope::kRead: return "read";
  }
  return "read";
}

std::string_view OutlookPlatformName(OutlookPlatform p) {
  return p == OutlookPlatform::kAndroid ? "android" : "ios";
}

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
    if (EqualsIgnoreCaseAscii(PlatformName(p), name)) return p;
  }
  return InvalidArgumentError("'" + std::string(name) +
                              "' is not a platform (expected ios, macos, androidWorkProfile, "
                              "androidDeviceOwner or windows)");
}

Status ValidateGroupReference(std::string_view entry) {
  if (IsGuid(entry)) return OkStatus();
  if (TrimAsciiWhitespace(entry).empty()) {
    return InvalidArgumentError("is empty; give a group's object id (GUID) or display name");
  }
  if (TrimAsciiWhitespace(entry).size() != entry.size()) {
    return InvalidArgumentError("starts or ends with a space; a group's display name does not");
  }
  size_t characters = 0;
  for (char c : entry) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7f) {
      return InvalidArgumentError("holds a control character; give a group's object id (GUID) "
                                  "or display name");
    }
    if ((b & 0xc0) != 0x80) ++characters;  // UTF-8 continuation bytes are not characters.
  }
  if (characters > kMaxGroupDisplayNameLength) {
    return InvalidArgumentError("is " + std::to_string(characters) +
                                " characters long; a group's display name has at most " +
                                std::to_string(kMaxGroupDisplayNameLength));
  }
  return OkStatus();
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
