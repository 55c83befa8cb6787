// graph/internal/graph_errors.h: turning a non-2xx Graph response into a Status.

#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/status.h"
#include "graph/http_transport.h"

namespace certdeploy::graph::internal {

// The parts of a Graph error body {"error":{"code","message","innerError":{"request-id"}}} that
// certdeploy uses. Missing parts are empty; a non-JSON body leaves everything empty.
struct GraphErrorBody {
  std::string code;
  std::string message;     // Intune's JSON-inside-a-string already unwrapped.
  std::string request_id;  // innerError (or innererror) "request-id".
};
GraphErrorBody ParseGraphErrorBody(std::string_view body);

// Intune often puts a JSON document in error.message ({"_version":3,"Message":"An error has
// occurred - Operation ID ...",...}). Returns its "Message" when `message` holds such a document
// (possibly after a text prefix), else `message` unchanged.
std::string UnwrapIntuneMessage(std::string_view message);

// The request-id for support: the "request-id" response header, else the body's innerError.
std::string RequestIdOf(const HttpResponse& response, const GraphErrorBody& body);

// The StatusCode for a final non-2xx HTTP status. `method` matters for 409 (POST: exists) and
// for 5xx other than 503 (a write may have been applied: kUnknownOutcome).
StatusCode StatusCodeForHttp(int http_status, std::string_view method);

// A Status for a final non-2xx response to `method` on `path` (no query string). The message is
// "<method> <path>: HTTP <status> [<code>]: <message> (request-id <id>)"; details carry the HTTP
// status, error.code, request-id and `retry_after`.
Status StatusFromResponse(const HttpResponse& response, std::string_view method,
                          std::string_view path, std::optional<Duration> retry_after);

}  // namespace certdeploy::graph::internal
