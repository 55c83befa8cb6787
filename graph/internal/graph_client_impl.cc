#include "graph/internal/graph_client_impl.h"

#include <algorithm>
#include <unordered_set>

#include "base/log.h"
#include "base/status_macros.h"
#include "graph/internal/graph_errors.h"
#include "graph/internal/url.h"

namespace certdeploy::graph {
namespace internal {
namespace {

std::string OriginOf(const std::string& url) {
  Result<Url> parsed = ParseUrl(url);
  return parsed.ok() ? parsed->Origin() : std::string();
}

bool IsWrite(std::string_view method) { return !IsSafeToResend(method); }

int64_t Millis(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// Copies the details of `from` (if any) onto a new status with `code` and `message`.
Status WithDetailsOf(StatusCode code, std::string message, const Status& from) {
  if (const StatusDetails* details = from.details())
    return Status(code, std::move(message), *details);
  return Status(code, std::move(message));
}

}  // namespace

GraphClientImpl::GraphClientImpl(const GraphClientOptions& options, HttpTransport& transport,
                                 TokenSource& tokens, WriteBudget& budget, Clock& clock,
                                 Random& random)
    : options_(options),
      origin_(OriginOf(options.graph_url)),
      transport_(transport),
      tokens_(tokens),
      budget_(budget),
      clock_(clock),
      random_(random) {}

Result<std::string> GraphClientImpl::Resolve(std::string_view path_or_url) const {
  if (origin_.empty()) {
    return InvalidArgumentError("graph URL \"" + options_.graph_url + "\" is not an absolute URL");
  }
  std::string url;
  if (path_or_url.starts_with("https://") || path_or_url.starts_with("http://")) {
    ASSIGN_OR_RETURN(Url parsed, ParseUrl(path_or_url));
    if (parsed.Origin() != origin_) {
      // Never send the bearer token anywhere but Graph (e.g. a forged nextLink).
      return InvalidArgumentError("refusing to send a Graph request to " + parsed.Origin() +
                                  " (expected " + origin_ + ")");
    }
    url = std::string(path_or_url);
  } else if (path_or_url.starts_with("/")) {
    std::string base = options_.graph_url;
    if (!base.empty() && base.back() == '/') base.pop_back();
    if (path_or_url.starts_with("/v1.0/") || path_or_url.starts_with("/beta/")) {
      url = base + std::string(path_or_url);
    } else {
      url = base + "/" + options_.api_version + std::string(path_or_url);
    }
  } else {
    return InvalidArgumentError("Graph path \"" + std::string(StripQuery(path_or_url)) +
                                "\" must start with / or be an absolute URL");
  }
  RETURN_IF_ERROR(ParseUrl(url).status());  // Rejects unencoded spaces and the like.
  return url;
}

Result<GraphClientImpl::Call> GraphClientImpl::MakeCall(std::string_view method,
                                                        std::string_view path_or_url,
                                                        const nlohmann::json* body) const {
  Call call;
  call.method = std::string(method);
  ASSIGN_OR_RETURN(call.url, Resolve(path_or_url));
  call.log_path = std::string(ParseUrl(call.url)->Path());
  if (body != nullptr) call.body = body->dump();
  call.safe_to_resend = IsSafeToResend(method);
  (IsWrite(method) ? call.write_slots : call.read_slots) = 1;
  return call;
}

Result<HttpResponse> GraphClientImpl::Execute(const Call& call) {
  const SteadyTime deadline = clock_.SteadyNow() + options_.retry.total_deadline;
  const std::string what = call.method + " " + call.log_path;
  bool refreshed_token = false;
  for (int attempt = 1;;) {
    ASSIGN_OR_RETURN(Attempt sent, SendAttempt(call, what, attempt, deadline));
    AttemptFailure failure;
    if (!sent.response.ok()) {
      failure = TransportFailure(call, what, attempt, sent);
    } else {
      const HttpResponse& response = *sent.response;
      if (response.status >= 200 && response.status < 300) return std::move(sent.response).value();
      if (response.status == 401 && !refreshed_token) {
        // The token may have been revoked or expired early: refresh once, then resend (the
        // resend does not count as an attempt).
        tokens_.Invalidate();
        refreshed_token = true;
        continue;
      }
      failure = ResponseFailure(call, attempt, response);
    }
    RETURN_IF_ERROR(BackOffOrGiveUp(what, attempt, deadline, failure));
    ++attempt;
  }
}

HttpRequest GraphClientImpl::MakeRequest(const Call& call, std::string_view token,
                                         const std::string& client_request_id) {
  HttpRequest request;
  request.method = call.method;
  request.url = call.url;
  request.headers = {{"Authorization", "Bearer " + std::string(token)},
                     {"client-request-id", client_request_id},
                     {"Accept", "application/json"}};
  if (call.body) {
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = *call.body;
    request.sensitive_body = true;  // Writes may carry PFX material.
  }
  return request;
}

Result<GraphClientImpl::Attempt> GraphClientImpl::SendAttempt(const Call& call,
                                                              const std::string& what, int attempt,
                                                              SteadyTime deadline) {
  for (int i = 0; i < call.write_slots; ++i) budget_.Acquire(/*is_write=*/true);
  for (int i = 0; i < call.read_slots; ++i) budget_.Acquire(/*is_write=*/false);
  ASSIGN_OR_RETURN(std::string token, tokens_.Token());
  const SteadyTime sent_at = clock_.SteadyNow();
  if (sent_at >= deadline) {
    return DeadlineExceededError(what + ": total deadline exhausted before attempt " +
                                 std::to_string(attempt));
  }
  std::string client_request_id = NewGuid(random_);
  Result<HttpResponse> sent =
      transport_.Send(MakeRequest(call, token, client_request_id),
                      std::min(options_.request_timeout, deadline - sent_at));
  const Duration took = clock_.SteadyNow() - sent_at;
  if (!sent.ok()) {
    budget_.RecordTransportError();
    CD_LOG_DEBUG("graph: {} failed after {} ms (attempt {}, client-request-id {}): {}", what,
                 Millis(took), attempt, client_request_id, sent.status().ToString());
  } else {
    budget_.RecordResponse(sent->status);
    const std::string request_id = sent->Header("request-id").value_or("-");
    CD_LOG_DEBUG("graph: {} -> {} request-id {} in {} ms (attempt {})", what, sent->status,
                 request_id, Millis(took), attempt);
  }
  return Attempt{std::move(sent), std::move(client_request_id)};
}

GraphClientImpl::AttemptFailure GraphClientImpl::TransportFailure(const Call& call,
                                                                  const std::string& what,
                                                                  int attempt,
                                                                  const Attempt& sent) {
  const Status& error = sent.response.status();
  RetryDecision decision =
      options_.retry.DecideAfterTransportError(attempt, call.safe_to_resend, error, random_);
  if (decision.action == RetryAction::kStopUnknownOutcome) {
    return AttemptFailure{
        UnknownOutcomeError(what + ": sent, but the outcome is unknown (" +
                            std::string(error.message()) +
                            "); read the current state before resending (client-request-id " +
                            sent.client_request_id + ")"),
        std::move(decision)};
  }
  return AttemptFailure{error.WithContext(what), std::move(decision)};
}

GraphClientImpl::AttemptFailure GraphClientImpl::ResponseFailure(const Call& call, int attempt,
                                                                 const HttpResponse& response) {
  const RetryPolicy& policy = options_.retry;
  RetryDecision decision =
      policy.DecideAfterResponse(attempt, call.safe_to_resend, response, clock_.Now(), random_);
  if (response.status == 429) {
    // Hold every writer (every request, for a throttled read) of this tenant+app.
    Duration pause =
        decision.action == RetryAction::kRetry
            ? decision.delay
            : std::min(decision.server_retry_after.value_or(policy.base_delay), policy.max_delay);
    budget_.PauseUntil(clock_.SteadyNow() + pause, /*writes_only=*/call.write_slots > 0);
  }
  Status failure =
      StatusFromResponse(response, call.method, call.log_path, decision.server_retry_after);
  if (response.status == 401) {
    failure = WithDetailsOf(StatusCode::kUnauthenticated,
                            std::string(failure.message()) + " (after a token refresh)", failure);
  }
  if (decision.action == RetryAction::kStopUnknownOutcome) {
    failure = WithDetailsOf(StatusCode::kUnknownOutcome,
                            std::string(failure.message()) +
                                ": the write may have been applied; read the current state "
                                "before resending",
                            failure);
  }
  return AttemptFailure{std::move(failure), std::move(decision)};
}

Status GraphClientImpl::BackOffOrGiveUp(const std::string& what, int attempt, SteadyTime deadline,
                                        const AttemptFailure& failure) {
  const RetryDecision& decision = failure.decision;
  // A write that may have been applied is surfaced as it is, and never resent.
  if (decision.action == RetryAction::kStopUnknownOutcome) return failure.status;
  Status last = failure.status;
  if (decision.attempts_exhausted) {
    last = WithDetailsOf(
        last.code(),
        std::string(last.message()) + " (gave up after " + std::to_string(attempt) + " attempts)",
        last);
  }
  if (decision.action != RetryAction::kRetry) return last;
  if (clock_.SteadyNow() + decision.delay >= deadline) {
    return WithDetailsOf(StatusCode::kDeadlineExceeded,
                         what + ": total deadline of " +
                             std::to_string(Millis(options_.retry.total_deadline) / 1000) +
                             " s exhausted after " + std::to_string(attempt) +
                             " attempts; last error: " + std::string(last.message()),
                         last);
  }
  CD_LOG_DEBUG("graph: {} retrying in {} ms ({})", what, Millis(decision.delay), decision.reason);
  if (options_.observer != nullptr) {
    const StatusDetails* details = last.details();
    options_.observer->OnRetry({.what = what,
                                .http_status = details != nullptr ? details->http_status : 0,
                                .reason = decision.reason,
                                .retry = attempt,
                                .max_retries = options_.retry.max_attempts - 1,
                                .delay = decision.delay});
  }
  clock_.SleepFor(decision.delay);
  return OkStatus();
}

Result<GraphResponse> GraphClientImpl::ToGraphResponse(const Call& call,
                                                       const HttpResponse& response) {
  GraphResponse out;
  out.status = response.status;
  out.request_id = response.Header("request-id").value_or("");
  if (!response.body.empty()) {
    out.body = nlohmann::json::parse(response.body, nullptr, false);
    if (out.body.is_discarded()) {
      return InternalError(call.method + " " + call.log_path + ": HTTP " +
                           std::to_string(response.status) +
                           " with a body that is not JSON (request-id " + out.request_id + ")");
    }
  }
  return out;
}

Result<GraphResponse> GraphClientImpl::Run(std::string_view method, std::string_view path,
                                           const nlohmann::json* body) {
  ASSIGN_OR_RETURN(Call call, MakeCall(method, path, body));
  ASSIGN_OR_RETURN(HttpResponse response, Execute(call));
  return ToGraphResponse(call, response);
}

Result<GraphResponse> GraphClientImpl::Get(std::string_view path_or_url) {
  return Run("GET", path_or_url, nullptr);
}
Result<GraphResponse> GraphClientImpl::Post(std::string_view path, const nlohmann::json& body) {
  return Run("POST", path, &body);
}
Result<GraphResponse> GraphClientImpl::Patch(std::string_view path, const nlohmann::json& body) {
  return Run("PATCH", path, &body);
}
Result<GraphResponse> GraphClientImpl::Delete(std::string_view path) {
  return Run("DELETE", path, nullptr);
}

Result<std::vector<nlohmann::json>> GraphClientImpl::ListAll(std::string_view path) {
  std::vector<nlohmann::json> items;
  ASSIGN_OR_RETURN(std::string next, Resolve(path));
  std::unordered_set<std::string> seen = {next};
  for (int pages = 1;; ++pages) {
    if (pages > options_.max_pages) {
      return InternalError("GET " + std::string(StripQuery(path)) + ": more than " +
                           std::to_string(options_.max_pages) + " pages; giving up");
    }
    ASSIGN_OR_RETURN(GraphResponse page, Get(next));
    auto value = page.body.is_object() ? page.body.find("value") : page.body.end();
    if (!page.body.is_object() || value == page.body.end() || !value->is_array()) {
      return InternalError("GET " + std::string(StripQuery(path)) +
                           ": response is not a collection (no \"value\" array; request-id " +
                           page.request_id + ")");
    }
    for (nlohmann::json& item : *value) items.push_back(std::move(item));
    auto link = page.body.find("@odata.nextLink");
    if (link == page.body.end() || !link->is_string() ||
        link->get_ref<const std::string&>().empty()) {
      return items;
    }
    next = link->get<std::string>();
    if (!seen.insert(next).second) {
      return InternalError("GET " + std::string(StripQuery(path)) +
                           ": @odata.nextLink points back to a page already read (request-id " +
                           page.request_id + "); stopping");
    }
  }
}

}  // namespace internal

std::unique_ptr<GraphClient> NewGraphClient(const GraphClientOptions& options,
                                            HttpTransport& transport, TokenSource& tokens,
                                            WriteBudget& budget, Clock& clock, Random& random) {
  return std::make_unique<internal::GraphClientImpl>(options, transport, tokens, budget, clock,
                                                     random);
}

}  // namespace certdeploy::graph
