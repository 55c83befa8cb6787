// HttpRequest / HttpResponse helpers shared by every transport.

#include <ostream>

#include "base/strings.h"
#include "graph/http_transport.h"

namespace certdeploy::graph {

std::optional<std::string> FindHeader(const HttpHeaders& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCaseAscii(key, name)) return value;
  }
  return std::nullopt;
}

std::ostream& operator<<(std::ostream& os, const HttpRequest& request) {
  // Never the body, never header values (Authorization): method, URL and header names only.
  os << request.method << " " << request.url << " [";
  for (size_t i = 0; i < request.headers.size(); ++i) {
    os << (i ? ", " : "") << request.headers[i].first;
  }
  return os << "] body " << request.body.size() << " bytes";
}

std::ostream& operator<<(std::ostream& os, const HttpResponse& response) {
  os << "HTTP " << response.status << " [";
  for (size_t i = 0; i < response.headers.size(); ++i) {
    os << (i ? ", " : "") << response.headers[i].first << ": " << response.headers[i].second;
  }
  return os << "] body " << response.body.size() << " bytes";
}

}  // namespace certdeploy::graph
