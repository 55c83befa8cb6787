// service.webhooks: receivers of signed event notifications (docs/daemon.md, "Webhooks").

#include <algorithm>
#include <cctype>
#include <functional>
#include <set>

#include "base/strings.h"
#include "config/internal/yaml_reader.h"

namespace certdeploy::config::internal {
namespace {

// The host of an absolute http(s) URL ("[::1]" gives "::1"), or "" when the URL has none. Sets
// `userinfo` when the authority carries a "user:password@" part.
std::string UrlHost(const std::string& url, size_t scheme_end, bool& userinfo) {
  const size_t start = scheme_end + 3;  // After "://".
  const size_t end = url.find_first_of("/?#", start);
  std::string authority = url.substr(start, end == std::string::npos ? end : end - start);
  userinfo = authority.find('@') != std::string::npos;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    return close == std::string::npos ? "" : authority.substr(1, close - 1);
  }
  const size_t colon = authority.find(':');
  return authority.substr(0, colon);
}

// The URL rule: https, or http to loopback; a host; no credentials. An error problem, or "".
// The URL is not echoed: a receiver URL may carry a token in its path.
std::string UrlProblem(const std::string& url) {
  const size_t scheme_end = url.find("://");
  const std::string scheme =
      scheme_end == std::string::npos ? "" : AsciiToLower(url.substr(0, scheme_end));
  if (scheme != "https" && scheme != "http") return "expected an absolute https:// URL";
  if (std::any_of(url.begin(), url.end(),
                  [](unsigned char c) { return c <= 0x20 || c == 0x7f; })) {
    return "must not contain spaces or control characters";
  }
  bool userinfo = false;
  const std::string host = UrlHost(url, scheme_end, userinfo);
  if (userinfo) return "must not carry user:password@ credentials (the body is signed instead)";
  if (host.empty()) return "has no host";
  if (scheme == "http" && !YamlReader::IsLoopbackHost(host)) {
    return "must be https:// (plain http:// is only allowed to a loopback host: 127.0.0.0/8, "
           "::1, localhost)";
  }
  return "";
}

// An environment variable name as POSIX shells accept it.
bool IsEnvName(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front()))) return false;
  return std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_';
  });
}

}  // namespace

std::vector<WebhookConfig> LoadWebhooks(const YamlReader& reader, const YAML::Node& n,
                                        int default_expiring_days) {
  std::vector<WebhookConfig> hooks;
  const YAML::Node list = n["webhooks"];
  if (!list.IsDefined() || list.IsNull()) return hooks;
  if (!list.IsSequence()) reader.Fail(list, "service.webhooks", "expected a list");
  for (size_t i = 0; i < list.size(); ++i) {
    const YAML::Node h = list[i];
    const std::string path = "service.webhooks[" + std::to_string(i) + "]";
    if (!h.IsMap()) reader.Fail(h, path, "expected a mapping {url, events, secretEnv}");
    if (h["secret"].IsDefined()) {
      reader.Fail(h["secret"], path + ".secret",
                  "secrets are never written in the config; name an environment variable in "
                  "secretEnv");
    }
    reader.CheckKeys(h, path, {"url", "events", "secretEnv", "expiringDays"});
    WebhookConfig hook;
    hook.url = reader.String(h, path, "url", true);
    if (const std::string problem = UrlProblem(hook.url); !problem.empty()) {
      reader.Fail(h["url"], path + ".url", problem);
    }
    if (!h["events"].IsDefined()) reader.Fail(h, path + ".events", "is required");
    for (const std::string& event : reader.Strings(h, path, "events")) {
      if (std::find(std::begin(kWebhookEvents), std::end(kWebhookEvents), event) ==
          std::end(kWebhookEvents)) {
        reader.Fail(h["events"], path + ".events",
                    "'" + event + "' is not one of enrollment.failed, rollout.finished, "
                    "offboarding.finished, certificate.expiring");
      }
      if (std::find(hook.events.begin(), hook.events.end(), event) != hook.events.end()) {
        reader.Fail(h["events"], path + ".events", "'" + event + "' is listed twice");
      }
      hook.events.push_back(event);
    }
    if (hook.events.empty()) reader.Fail(h["events"], path + ".events", "must list an event");
    hook.secret_env = reader.String(h, path, "secretEnv", true);
    if (!IsEnvName(hook.secret_env)) {
      reader.Fail(h["secretEnv"], path + ".secretEnv",
                  "expected the name of an environment variable (letters, digits, _), never "
                  "the secret itself");
    }
    const YAML::Node days = h["expiringDays"];
    if (days.IsDefined() && !days.IsNull()) {
      if (!days.IsSequence() || days.size() == 0) {
        reader.Fail(days, path + ".expiringDays", "expected a non-empty list of days, e.g. [30, 7]");
      }
      std::set<int, std::greater<int>> unique;
      for (size_t d = 0; d < days.size(); ++d) {
        int v = 0;
        try {
          v = days[d].as<int>();
        } catch (const YAML::Exception&) {
          reader.Fail(days[d], path + ".expiringDays", "expected whole days, e.g. [30, 7]");
        }
        if (v < 1 || v > 3650) {
          reader.Fail(days[d], path + ".expiringDays", "each must be between 1 and 3650");
        }
        if (!unique.insert(v).second) {
          reader.Fail(days, path + ".expiringDays", std::to_string(v) + " is listed twice");
        }
      }
      hook.expiring_days.assign(unique.begin(), unique.end());
    } else {
      hook.expiring_days = {default_expiring_days};
    }
    hooks.push_back(std::move(hook));
  }
  return hooks;
}

}  // namespace certdeploy::config::internal
