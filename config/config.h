// config/config.h: the certdeploy configuration file (YAML), loaded and validated up front.
//
//   tenant:    { id: contoso.onmicrosoft.com, cloud: global }   # graphUrl / authorityUrl / caFile
//   auth:      { clientId: <guid>, clientSecretEnv: CERTDEPLOY_CLIENT_SECRET }
//              # or clientSecretFile: FILE, or certificateFile: FILE + keyFile: FILE
//   connector: { providerName: "Microsoft Software Key Storage Provider", keyName: PFXEncryptionKey,
//                publicKeyFile: connector.pub, paddingScheme: oaepSha512 }
//   profiles:  { platforms: [ios], namePrefix: "S/MIME",
//                assignTo: { groups: [<group-id>], excludeGroups: [] },
//                importedPfxProfile: true, trustBundle: extra-cas.pem,
//                takeOverAssignments: false }
//   pfx:       { intendedPurpose: smimeEncryption, expiresSoonDays: 30, pruneExpired: false,
//                pruneExpiredEncryption: false }
//   limits:    { writesPer20s: 100, requestsPer20s: 1000, concurrency: 8 }
//   outlook:   { smimeEnabled: true, userChangeAllowed: false, encryptAllMail: false,
//                signAllMail: false, platforms: [ios, android] }   # optional; see OutlookConfig
//   service:   { listen: 0.0.0.0:8443, tls: { certFile: tls.crt, keyFile: tls.key },
//                store: "sqlite:state.db", inbox: inbox,
//                apiKeys: [ { name: hr, sha256: <hex>, scopes: [enroll, read] } ] }
//              # only `certdeploy serve` reads it; see ServiceConfig
//              # webhooks: [ { url: https://hooks.example/cd, events: [enrollment.failed],
//              #               secretEnv: CD_HOOK_SECRET, expiringDays: [30, 7] } ]
//
// Secrets are referenced (an environment variable or a file), never inlined: an inline
// `clientSecret` is refused. Relative paths resolve against the config file's folder. Every
// error names the key path and line and says what is expected, e.g.
//   "config.yaml:7: connector.paddingScheme: 'pkcs1' is no longer supported by Intune; use
//    oaepSha256, oaepSha384 or oaepSha512".

#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "pkcs/seal.h"
#include "pkcs/validate.h"

namespace certdeploy::config {

// Device platforms a trusted-root and imported-PFX profile can be made for.
enum class Platform { kIos, kMacOs, kAndroidWorkProfile, kAndroidDeviceOwner, kWindows };
std::string_view PlatformName(Platform p);  // "ios", "macos", "androidWorkProfile", ...
Result<Platform> ParsePlatform(std::string_view name);

struct TenantConfig {
  std::string id;              // Tenant id (GUID) or primary domain.
  std::string cloud = "global";  // global | usgov | usgovdod | china
  std::string graph_url;       // Override (sandbox): "http://127.0.0.1:PORT".
  std::string authority_url;   // Override (sandbox).
  std::string ca_file;         // Extra CA file for TLS to Graph/login (absolute after loading).
};

struct AuthConfig {
  std::string client_id;
  std::string client_secret_env;   // One of: client_secret_env,
  std::string client_secret_file;  //         client_secret_file,
  std::string certificate_file;    //         certificate_file + key_file.
  std::string key_file;
};

struct ConnectorConfig {
  std::string provider_name = "Microsoft Software Key Storage Provider";
  std::string key_name = "PFXEncryptionKey";
  std::string public_key_file;  // Required. Absolute after loading.
  pkcs::PaddingScheme padding = pkcs::PaddingScheme::kOaepSha512;
};

// Each entry names an Entra group by its object id (a GUID) or by its display name. Names are
// resolved to ids through Graph before anything is planned (deploy/groups.h), so everything past
// that step sees ids only.
struct AssignTo {
  std::vector<std::string> groups;
  std::vector<std::string> exclude_groups;
};

// A group's displayName holds at most 256 characters
// (https://learn.microsoft.com/graph/api/resources/group?view=graph-rest-1.0).
inline constexpr size_t kMaxGroupDisplayNameLength = 256;

// OK when `entry` can name a group: a GUID, or a display name that is not blank, has no
// surrounding spaces, no control characters and at most kMaxGroupDisplayNameLength characters
// (UTF-8). InvalidArgument saying which rule it breaks otherwise (without quoting it whole).
Status ValidateGroupReference(std::string_view entry);

struct ProfilesConfig {
  std::vector<Platform> platforms = {Platform::kIos};
  std::string name_prefix = "S/MIME";
  AssignTo assign_to;
  bool imported_pfx_profile = true;
  // Rewrite the assignments of profiles whose owner mark names another profiles section (see
  // deploy/model.h, AssignmentsOwnerDigest). Off: such profiles keep their assignments and the
  // plan reports assignments-owned-elsewhere.
  bool take_over_assignments = false;
  std::string trust_bundle;  // Optional PEM of extra CA certificates. Absolute after loading.
};

struct PfxConfig {
  pkcs::Purpose intended_purpose = pkcs::Purpose::kSmimeEncryption;
  int expires_soon_days = 30;
  // pruneExpired: delete expired records superseded by a newer one of the same user and purpose,
  // except encryption certificates (Outlook needs every past encryption key to read old mail).
  bool prune_expired = false;
  // pruneExpiredEncryption: with pruneExpired, delete superseded expired encryption certificates
  // too. Mail encrypted to them can then no longer be read on newly enrolled devices.
  bool prune_expired_encryption = false;
};

// `logging:`: the log level of `certdeploy serve` (the CLI's --log-level wins when given).
struct LoggingConfig {
  std::string level;  // trace, debug, info, warn, error, off; "" = not set.
};

struct LimitsConfig {
  // The tenant's budget: at most writes_per_20s writes and requests_per_20s requests in any
  // `window` (windowSeconds). Intune's window is 20 s (hence the key names); a test tenant with a
  // compressed window (`certdeploy sandbox --window 2`) sets windowSeconds to match.
  int writes_per_20s = 100;
  int requests_per_20s = 1000;
  std::chrono::seconds window{20};
  int concurrency = 8;
};

// Outlook for iOS and Android app platforms an app configuration policy can be made for. One
// Android policy serves both Android Enterprise profile platforms (managed Google Play).
enum class OutlookPlatform { kIos, kAndroid };
std::string_view OutlookPlatformName(OutlookPlatform p);  // "ios" | "android"

// The `outlook:` section: the S/MIME settings of Outlook for iOS and Android, deployed as an app
// configuration policy for managed devices (docs/outlook.md). Outlook uses the certificates only
// when S/MIME is on, and reads that setting from this policy.
struct OutlookConfig {
  bool smime_enabled = true;                        // smimeEnabled
  bool user_change_allowed = false;                 // userChangeAllowed (of smimeEnabled)
  bool encrypt_all_mail = false;                    // encryptAllMail
  bool encrypt_all_mail_user_change_allowed = true;  // encryptAllMailUserChangeAllowed
  bool sign_all_mail = false;                       // signAllMail
  bool sign_all_mail_user_change_allowed = true;    // signAllMailUserChangeAllowed
  // Never empty after loading. Default: ios when profiles.platforms has ios, android when it has
  // androidWorkProfile or androidDeviceOwner.
  std::vector<OutlookPlatform> platforms;
};

// The daemon's (`certdeploy serve`) TLS material: unencrypted PEM files (absolute after loading).
struct ServiceTlsConfig {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;  // Optional: require client certificates issued by this CA.
};

// What an API key may do. `read` covers every GET except /healthz (no key at all) and /readyz
// (any valid key).
enum class ApiScope { kEnroll, kRollouts, kRead };
std::string_view ApiScopeName(ApiScope scope);  // "enroll" | "rollouts" | "read"

// One REST API key. Only the SHA-256 of the key is configured, never the key itself.
struct ApiKeyConfig {
  std::string name;             // Unique; recorded in the audit log as the caller.
  std::string sha256;           // 64 lowercase hex digits: SHA-256 of the bearer key's bytes.
  std::vector<ApiScope> scopes;  // At least one, no duplicates.
};

// The webhook events a receiver can subscribe to (docs/daemon.md, "Webhooks").
inline constexpr std::string_view kWebhookEvents[] = {
    "enrollment.failed", "rollout.finished", "offboarding.finished", "certificate.expiring"};

// One entry of `service.webhooks`: a receiver of signed JSON notifications.
struct WebhookConfig {
  // https://host[:port]/path; http:// only to a loopback host (127.0.0.0/8, ::1, localhost). No
  // user:password@ part.
  std::string url;
  std::vector<std::string> events;  // Non-empty, each one of kWebhookEvents, no duplicates.
  // secretEnv: the NAME of the environment variable holding the HMAC-SHA256 signing secret. The
  // daemon reads it once at start (and refuses to start when it is unset or empty).
  std::string secret_env;
  // expiringDays: certificate.expiring is sent when a certificate is within this many days of
  // its expiry, once per certificate and threshold. Sorted descending, no duplicates, each
  // 1..3650. Default: [pfx.expiresSoonDays] (or [30] when that is 0).
  std::vector<int> expiring_days;
};

// The `service:` section. Loaded (and checked) whenever present; `certdeploy serve` requires it.
struct ServiceConfig {
  // host:port. A non-loopback host requires `tls` (plain HTTP only on 127.0.0.0/8, ::1 and
  // localhost). Port 0 picks a free port.
  std::string listen = "127.0.0.1:8443";
  std::optional<ServiceTlsConfig> tls;
  // "sqlite:/abs/path.db" (a relative path is resolved against the config file's folder) or a
  // libpq URI "postgresql://..." / "postgres://...". Required.
  std::string store;
  // Folder that rollout manifests must lie in (absolute after loading). Empty: rollouts refused.
  std::string inbox;
  std::vector<ApiKeyConfig> api_keys;
  size_t max_body_bytes = 1 << 20;     // Request bodies above this are refused with 413.
  bool retain_pfx_after_success = false;  // Keep PFX bytes in the store after an import.
  int halt_on_failure_percent = 5;     // Default for rollouts: pause when a wave fails more.
  int workers = 8;                     // HTTP handler threads.
  std::chrono::seconds lease{120};     // leaseSeconds: dispatcher lease on a claimed item
                                       // (renewed while busy).
  int batch_size = 25;                 // Items the dispatcher claims and plans together.
  std::chrono::milliseconds poll{1000};  // pollMillis: dispatcher/scheduler idle poll interval.
  // reconcileIntervalSeconds: how often the elected dispatcher re-reads the tenant's certificates
  // for the expiry metrics (certdeploy_certificates). 0 turns it off.
  std::chrono::seconds reconcile_interval{900};
  // Hostile-client limits of the HTTP server (see http/server.h). A request (header and
  // body together, from its first byte) must arrive within request_timeout, and a new
  // connection must start its first request within it too; slower clients are disconnected.
  std::chrono::milliseconds request_timeout{10000};  // requestTimeoutMillis.
  // idleTimeoutMillis: a keep-alive connection idle this long is closed.
  std::chrono::milliseconds idle_timeout{30000};
  // Request line plus header fields, and a chunked body's trailer with them; larger gets 431.
  // At most 48 KiB (http::kMaxHeaderLimit).
  size_t max_header_bytes = 16384;
  // Open connections from one client address; more are closed at once (the global cap is
  // fixed at 1024), so one client cannot lock everyone else out.
  size_t max_connections_per_client = 128;
  // PFX work (opening, validating and sealing a PFX: CPU-bound) per API key at once; a further
  // request from that key gets 429 with Retry-After. All keys together run at most one PFX check
  // per core, and keep two HTTP workers free for everything else (/healthz, reads).
  int pfx_workers_per_key = 4;
  // How long a request may wait for and do PFX work; past it the request gets 503 and nothing is
  // stored (the client has most likely given up).
  std::chrono::milliseconds pfx_work_deadline{20000};
  // SIGTERM/SIGINT: how long in-flight work may take to finish; then the leases still held are
  // handed back to the queue and the process exits.
  std::chrono::seconds shutdown_timeout{20};
  // Receivers of signed event notifications, delivered from the store's outbox.
  std::vector<WebhookConfig> webhooks;
};

struct Config {
  std::string path;  // The file it was loaded from (absolute).
  TenantConfig tenant;
  AuthConfig auth;
  ConnectorConfig connector;
  ProfilesConfig profiles;
  PfxConfig pfx;
  LimitsConfig limits;
  std::optional<OutlookConfig> outlook;  // Absent: certdeploy manages no app configuration.
  std::optional<ServiceConfig> service;  // Absent when the file has no `service:` section.
  LoggingConfig logging;
};

// Loads and validates `path`. InvalidArgument with "<file>:<line>: <key.path>: <problem>" for
// the first problem found; NotFound if the file does not exist.
Result<Config> LoadConfig(const std::string& path);

// The same from text; `origin` names it in errors and is the base for relative paths.
Result<Config> ParseConfig(std::string_view yaml, const std::string& origin);

}  // namespace certdeploy::config
