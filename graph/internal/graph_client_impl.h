// graph/internal/graph_client_impl.h: the real GraphClient (see graph/graph_client.h).
//
// Only graph/*.cc and tests/unit/graph include this header.

#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "graph/graph_client.h"

namespace certdeploy::graph::internal {

class GraphClientImpl final : public GraphClient {
 public:
  GraphClientImpl(const GraphClientOptions& options, HttpTransport& transport, TokenSource& tokens,
                  WriteBudget& budget, Clock& clock, Random& random);

  // GraphClient:
  Result<GraphResponse> Get(std::string_view path_or_url) override;
  Result<GraphResponse> Post(std::string_view path, const nlohmann::json& body) override;
  Result<GraphResponse> Patch(std::string_view path, const nlohmann::json& body) override;
  Result<GraphResponse> Delete(std::string_view path) override;
  Result<std::vector<nlohmann::json>> ListAll(std::string_view path) override;
  Result<std::vector<BatchItemResult>> Batch(const std::vector<BatchItem>& items) override;

 private:
  // One logical request for the retry loop.
  struct Call {
    std::string method;
    std::string url;                  // Absolute.
    std::string log_path;             // The URL path without query, for logs and messages.
    std::optional<std::string> body;  // JSON text.
    bool safe_to_resend = false;
    int write_slots = 0;  // WriteBudget grants needed per attempt (a $batch needs one per item).
    int read_slots = 0;
  };

  // Sends `call` with auth, budget, retries and the total deadline. Returns the final 2xx
  // response, or the mapped error (see graph_client.h).
  Result<HttpResponse> Execute(const Call& call);

  // Execute's steps. `what` is "METHOD /path" for logs and messages.
  // One sent attempt: the transport's answer (any HTTP status, or a transport error) and the
  // client-request-id it carried.
  struct Attempt {
    Result<HttpResponse> response;
    std::string client_request_id;
  };
  // A failed attempt: its error (never OK) and the retry policy's decision about it.
  struct AttemptFailure {
    Status status;
    RetryDecision decision;
  };
  static HttpRequest MakeRequest(const Call& call, std::string_view token,
                                 const std::string& client_request_id);
  // Takes the call's budget slots and a token, then sends once and records the outcome in the
  // budget. Errors: the token source's, or kDeadlineExceeded when no time is left to send.
  Result<Attempt> SendAttempt(const Call& call, const std::string& what, int attempt,
                              SteadyTime deadline);
  AttemptFailure TransportFailure(const Call& call, const std::string& what, int attempt,
                                  const Attempt& sent);
  // For a non-2xx response; a 429 also pauses the shared budget.
  AttemptFailure ResponseFailure(const Call& call, int attempt, const HttpResponse& response);
  // Sleeps for the decided delay and returns OK when `failure` is to be retried within
  // `deadline`; otherwise returns the error Execute ends with.
  Status BackOffOrGiveUp(const std::string& what, int attempt, SteadyTime deadline,
                         const AttemptFailure& failure);

  // Absolute URL for a relative path or same-origin URL. Errors: kInvalidArgument.
  Result<std::string> Resolve(std::string_view path_or_url) const;
  Result<Call> MakeCall(std::string_view method, std::string_view path_or_url,
                        const nlohmann::json* body) const;
  Result<GraphResponse> Run(std::string_view method, std::string_view path,
                            const nlohmann::json* body);
  static Result<GraphResponse> ToGraphResponse(const Call& call, const HttpResponse& response);

  // Sends items[indices] (<= 20) as one $batch; returns the responses keyed by item index.
  struct ItemResponse {
    int status = 0;
    HttpResponse as_http;  // Status and headers, for Retry-After and error mapping.
    nlohmann::json body;
  };
  Result<std::vector<std::optional<ItemResponse>>> SendBatch(const std::vector<BatchItem>& items,
                                                             const std::vector<size_t>& indices);

  // Constant after construction.
  const GraphClientOptions options_;
  const std::string origin_;  // Scheme, host and port of graph_url.
  HttpTransport& transport_;
  TokenSource& tokens_;
  WriteBudget& budget_;
  Clock& clock_;
  Random& random_;
};

}  // namespace certdeploy::graph::internal
