#include "graph/cloud.h"

#include "base/status_macros.h"
#include "base/strings.h"
#include "graph/internal/url.h"

namespace certdeploy::graph {
namespace {

Result<std::string> NormalizeOverride(std::string_view name, std::string_view value) {
  std::string url(value);
  if (!url.empty() && url.back() == '/') url.pop_back();
  Result<internal::Url> parsed = internal::ParseUrl(url);
  if (!parsed.ok()) {
    return InvalidArgumentError(std::string(name) + ": " + std::string(parsed.status().message()));
  }
  if (parsed->path_and_query.find('?') != std::string::npos) {
    return InvalidArgumentError(std::string(name) + " must not have a query string");
  }
  return url;
}

}  // namespace

Result<Cloud> ParseCloud(std::string_view name) {
  std::string lower = AsciiToLower(name);
  if (lower == "global") return Cloud::kGlobal;
  if (lower == "usgov") return Cloud::kUsGov;
  if (lower == "usgovdod") return Cloud::kUsGovDod;
  if (lower == "china") return Cloud::kChina;
  return InvalidArgumentError("unknown cloud \"" + std::string(name) +
                              "\" (expected global, usgov, usgovdod or china)");
}

std::string_view CloudName(Cloud cloud) {
  switch (cloud) {
    case Cloud::kGlobal:
      return "global";
    case Cloud::kUsGov:
      return "usgov";
    case Cloud::kUsGovDod:
      return "usgovdod";
    case Cloud::kChina:
      return "china";
  }
  return "global";
}

Endpoints EndpointsFor(Cloud cloud) {
  // Reference: Graph "national cloud deployments" (graph-intune.md 5.2).
  switch (cloud) {
    case Cloud::kGlobal:
      return {"https://login.microsoftonline.com", "https://graph.microsoft.com"};
    case Cloud::kUsGov:
      return {"https://login.microsoftonline.us", "https://graph.microsoft.us"};
    case Cloud::kUsGovDod:
      return {"https://login.microsoftonline.us", "https://dod-graph.microsoft.us"};
    case Cloud::kChina:
      return {"https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn"};
  }
  return {"https://login.microsoftonline.com", "https://graph.microsoft.com"};
}

Result<Endpoints> ResolveEndpoints(Cloud cloud, const EndpointOverrides& overrides) {
  Endpoints endpoints = EndpointsFor(cloud);
  if (!overrides.graph_url.empty()) {
    ASSIGN_OR_RETURN(endpoints.graph_url, NormalizeOverride("graphUrl", overrides.graph_url));
  }
  if (!overrides.authority_url.empty()) {
    ASSIGN_OR_RETURN(endpoints.authority_url,
                     NormalizeOverride("authorityUrl", overrides.authority_url));
  }
  return endpoints;
}

}  // namespace certdeploy::graph
