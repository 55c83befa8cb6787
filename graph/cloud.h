// graph/cloud.h: which Microsoft cloud a tenant lives in, and its sign-in and Graph hosts.
//
// Tokens are not interchangeable across clouds: the token must come from the cloud's authority and
// carry the scope "{graph_url}/.default" of the same cloud. The sandbox (and tests) override both
// URLs with a local address.
//
//   ASSIGN_OR_RETURN(Cloud cloud, ParseCloud(config.cloud));
//   ASSIGN_OR_RETURN(Endpoints endpoints, ResolveEndpoints(cloud, {.graph_url = sandbox_url,
//                                                                  .authority_url = sandbox_url}));

#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace certdeploy::graph {

enum class Cloud {
  kGlobal,    // Commercial cloud, and GCC (moderate).
  kUsGov,     // US Government L4 (GCC High).
  kUsGovDod,  // US Government L5 (DoD).
  kChina,     // Operated by 21Vianet.
};

// Parses the configuration names "global", "usgov", "usgovdod" and "china" (case-insensitive).
// Errors: kInvalidArgument naming the accepted values.
Result<Cloud> ParseCloud(std::string_view name);

// The configuration name of `cloud` ("global", ...).
std::string_view CloudName(Cloud cloud);

// Base URLs without a trailing slash.
struct Endpoints {
  std::string authority_url;  // e.g. "https://login.microsoftonline.com"; token endpoint is
                              // "{authority_url}/{tenant}/oauth2/v2.0/token".
  std::string graph_url;      // e.g. "https://graph.microsoft.com"; API roots are
                              // "{graph_url}/v1.0" and "{graph_url}/beta".

  bool operator==(const Endpoints&) const = default;
};

// The public endpoints of `cloud`:
//   global    https://login.microsoftonline.com  https://graph.microsoft.com
//   usgov     https://login.microsoftonline.us   https://graph.microsoft.us
//   usgovdod  https://login.microsoftonline.us   https://dod-graph.microsoft.us
//   china     https://login.chinacloudapi.cn     https://microsoftgraph.chinacloudapi.cn
Endpoints EndpointsFor(Cloud cloud);

// Optional replacements for the cloud's URLs (configuration keys graphUrl / authorityUrl). Empty
// means "use the cloud's default".
struct EndpointOverrides {
  std::string graph_url;
  std::string authority_url;
};

// EndpointsFor(cloud) with the non-empty overrides applied. Overrides must be absolute http(s)
// URLs without query or fragment; one trailing slash is removed. (Whether http:// is acceptable is
// decided by the transport, which allows it for loopback hosts only.)
// Errors: kInvalidArgument naming the bad override.
Result<Endpoints> ResolveEndpoints(Cloud cloud, const EndpointOverrides& overrides);

}  // namespace certdeploy::graph
