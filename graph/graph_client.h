// graph/graph_client.h: Microsoft Graph requests with auth, retries, paging, $batch and budget.
//
// GraphClient is what the rest of certdeploy uses to talk to Graph (typed Intune calls live in
// graph/intune.h on top of it). It is abstract so deploy/ tests can fake it; NewGraphClient builds
// the real one over an HttpTransport, a TokenSource and the tenant's shared WriteBudget.
//
// Every request carries "Authorization: Bearer", a fresh GUID in "client-request-id" (per attempt),
// and JSON Accept/Content-Type. It is logged at debug level as method, path (without the query),
// status, request-id and duration; bodies are never logged.
//
//   auto client = NewGraphClient(options, transport, tokens, budget, clock, random);
//   ASSIGN_OR_RETURN(std::vector<nlohmann::json> profiles,
//                    client->ListAll("/deviceManagement/deviceConfigurations"));
//
// Errors returned by every call (Status details carry http_status, service_code = Graph
// error.code, request_id and retry_after; the message names the request-id):
//   400 kInvalidArgument, 401 kUnauthenticated (after one token refresh), 403 kPermissionDenied,
//   404/410 kNotFound, 409 kAlreadyExists (POST) or kAborted (other methods), 412 kAborted,
//   429 kResourceExhausted (retries exhausted), 5xx kUnavailable, other 4xx kInvalidArgument or
//   kFailedPrecondition (424); kUnknownOutcome when a write was sent but its outcome is unknown
//   (timeout, lost connection, 504): read before resending; kDeadlineExceeded when the total
//   deadline (RetryPolicy::total_deadline) runs out. Intune's JSON-inside-a-string error messages
//   are unwrapped to their "Message".

#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/random.h"
#include "base/result.h"
#include "graph/http_transport.h"
#include "graph/request_observer.h"
#include "graph/retry_policy.h"
#include "graph/token_source.h"
#include "graph/write_budget.h"

namespace certdeploy::graph {

// A successful (2xx) answer.
struct GraphResponse {
  int status = 0;
  nlohmann::json body;     // Parsed JSON; null for an empty body (204).
  std::string request_id;  // Graph's "request-id" response header, for support.
};

// One request of a $batch. `url` is relative to the API version root: "/users/x",
// "/deviceManagement/...".
struct BatchItem {
  std::string id;      // Unique within the call.
  std::string method;  // "GET", "POST", "PATCH", "DELETE".
  std::string url;
  std::optional<nlohmann::json> body;
};

// The final answer for one BatchItem.
struct BatchItemResult {
  std::string id;
  int http_status = 0;  // 0 when the batch response did not mention the item at all.
  nlohmann::json body;
  // OK for 2xx; otherwise the mapped error (same mapping as single requests), e.g.
  // kResourceExhausted for an item still throttled after the bounded retry rounds.
  Status status;
};

struct GraphClientOptions {
  // Endpoints::graph_url, e.g. "https://graph.microsoft.com" (no version, no trailing slash).
  std::string graph_url;
  // Relative paths "/x" resolve to "{graph_url}/{api_version}/x". A path that already starts with
  // "/v1.0/" or "/beta/" resolves to "{graph_url}{path}".
  std::string api_version = "beta";
  RetryPolicy retry;
  // Timeout of one attempt (connect to last byte); also capped by what is left of the deadline.
  Duration request_timeout = std::chrono::seconds(30);
  // ListAll gives up (kInternal) after this many pages, and on a repeated nextLink.
  int max_pages = 10000;
  // $batch: items answered 429 are resent in a new batch after their Retry-After, at most this
  // many extra rounds.
  int max_batch_retry_rounds = 5;
  // Optional: told of every resend before its wait (graph/request_observer.h). Must outlive the
  // client.
  RequestObserver* observer = nullptr;
};

// Thread-safe: workers share one client.
class GraphClient {
 public:
  GraphClient() = default;
  GraphClient(const GraphClient&) = delete;
  GraphClient& operator=(const GraphClient&) = delete;
  virtual ~GraphClient() = default;

  // `path_or_url` is a relative path ("/users/x?$filter=...", already percent-encoded) or an
  // absolute URL on the same origin as graph_url (e.g. an @odata.nextLink). Other origins are
  // refused with kInvalidArgument so the token never leaves Graph.
  virtual Result<GraphResponse> Get(std::string_view path_or_url) = 0;
  // Writes draw a write slot from the WriteBudget and are never resent when their outcome is
  // unknown (kUnknownOutcome).
  virtual Result<GraphResponse> Post(std::string_view path, const nlohmann::json& body) = 0;
  virtual Result<GraphResponse> Patch(std::string_view path, const nlohmann::json& body) = 0;
  virtual Result<GraphResponse> Delete(std::string_view path) = 0;

  // GETs `path` and follows "@odata.nextLink" to the end, returning the concatenated "value"
  // arrays (an empty page is fine). kInternal on a nextLink loop, on more than max_pages pages,
  // or when a page has no "value" array.
  virtual Result<std::vector<nlohmann::json>> ListAll(std::string_view path) = 0;

  // Sends `items` through "{graph_url}/{api_version}/$batch", at most 20 per call (larger lists are
  // split), and returns one result per item in input order. Items answered 429 are resent in a
  // new batch after the largest per-item Retry-After, up to max_batch_retry_rounds. Each item
  // draws a slot (write or read) from the WriteBudget. The call itself fails only when a whole
  // $batch request fails (same errors as Post; kUnknownOutcome if it held writes) or on invalid
  // input (kInvalidArgument: duplicate or empty ids, non-relative url).
  virtual Result<std::vector<BatchItemResult>> Batch(const std::vector<BatchItem>& items) = 0;
};

// The real client. `transport`, `tokens`, `budget`, `clock` and `random` must outlive it. When
// options.graph_url is not an absolute http(s) URL, every call fails with kInvalidArgument.
std::unique_ptr<GraphClient> NewGraphClient(const GraphClientOptions& options,
                                            HttpTransport& transport, TokenSource& tokens,
                                            WriteBudget& budget, Clock& clock, Random& random);

}  // namespace certdeploy::graph
