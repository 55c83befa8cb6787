// GraphClientImpl::Batch: JSON batching (reference 5.4). At most 20 requests per $batch; the
// envelope answers 200 whatever the items did, and throttling is per item, so items answered 429
// are collected and resent in a new batch after the largest per-item Retry-After.

#include <algorithm>
#include <unordered_set>

#include "base/log.h"
#include "base/status_macros.h"
#include "graph/internal/graph_client_impl.h"
#include "graph/internal/graph_errors.h"
#include "graph/internal/url.h"

namespace certdeploy::graph::internal {
namespace {

constexpr size_t kMaxBatchSize = 20;

bool IsWriteMethod(std::string_view method) { return !IsSafeToResend(method); }

}  // namespace

Result<std::vector<std::optional<GraphClientImpl::ItemResponse>>> GraphClientImpl::SendBatch(
    const std::vector<BatchItem>& items, const std::vector<size_t>& indices) {
  nlohmann::json requests = nlohmann::json::array();
  Call call;
  call.method = "POST";
  ASSIGN_OR_RETURN(call.url, Resolve("/$batch"));
  call.log_path = std::string(ParseUrl(call.url)->Path());
  call.safe_to_resend = true;
  for (size_t index : indices) {
    const BatchItem& item = items[index];
    nlohmann::json request = {{"id", item.id}, {"method", item.method}, {"url", item.url}};
    if (item.body) {
      request["body"] = *item.body;
      request["headers"] = {{"Content-Type", "application/json"}};
    }
    requests.push_back(std::move(request));
    const bool write = IsWriteMethod(item.method);
    ++(write ? call.write_slots : call.read_slots);
    // Resending the envelope resends every item: only safe when all of them are reads.
    if (write) call.safe_to_resend = false;
  }
  call.body = nlohmann::json{{"requests", std::move(requests)}}.dump();

  ASSIGN_OR_RETURN(HttpResponse envelope, Execute(call));
  const std::string request_id = envelope.Header("request-id").value_or("");
  nlohmann::json json = nlohmann::json::parse(envelope.body, nullptr, false);
  auto responses = json.is_object() ? json.find("responses") : json.end();
  if (!json.is_object() || responses == json.end() || !responses->is_array()) {
    return InternalError("POST " + call.log_path +
                         ": batch response has no \"responses\" array (request-id " + request_id +
                         ")");
  }
  std::vector<std::optional<ItemResponse>> out(items.size());
  for (const nlohmann::json& entry : *responses) {
    if (!entry.is_object() || !entry.contains("id") || !entry["id"].is_string()) continue;
    const std::string& id = entry["id"].get_ref<const std::string&>();
    auto match =
        std::find_if(indices.begin(), indices.end(), [&](size_t i) { return items[i].id == id; });
    if (match == indices.end()) continue;
    ItemResponse item;
    item.status = entry.value("status", 0);
    item.as_http.status = item.status;
    if (auto headers = entry.find("headers"); headers != entry.end() && headers->is_object()) {
      for (const auto& [name, value] : headers->items()) {
        if (value.is_string()) item.as_http.headers.emplace_back(name, value.get<std::string>());
      }
    }
    if (auto body = entry.find("body"); body != entry.end()) {
      item.body = *body;
      item.as_http.body = body->dump();
    }
    budget_.RecordResponse(item.status);
    out[*match] = std::move(item);
  }
  return out;
}

Result<std::vector<BatchItemResult>> GraphClientImpl::Batch(const std::vector<BatchItem>& items) {
  std::unordered_set<std::string> ids;
  for (const BatchItem& item : items) {
    if (item.id.empty() || !ids.insert(item.id).second) {
      return InvalidArgumentError("batch item ids must be unique and non-empty (\"" + item.id +
                                  "\")");
    }
    if (!item.url.starts_with("/") || item.method.empty()) {
      return InvalidArgumentError("batch item " + item.id +
                                  " needs a method and a url relative to the API root");
    }
  }
  std::vector<BatchItemResult> results(items.size());
  for (size_t i = 0; i < items.size(); ++i) results[i].id = items[i].id;

  std::vector<size_t> pending(items.size());
  for (size_t i = 0; i < items.size(); ++i) pending[i] = i;
  for (int round = 0; !pending.empty(); ++round) {
    const bool last_round = round >= options_.max_batch_retry_rounds;
    std::vector<size_t> throttled;
    Duration wait{0};
    bool throttled_write = false;
    for (size_t start = 0; start < pending.size(); start += kMaxBatchSize) {
      std::vector<size_t> chunk(pending.begin() + static_cast<std::ptrdiff_t>(start),
                                pending.begin() + static_cast<std::ptrdiff_t>(std::min(
                                                      pending.size(), start + kMaxBatchSize)));
      ASSIGN_OR_RETURN(auto responses, SendBatch(items, chunk));
      for (size_t index : chunk) {
        BatchItemResult& result = results[index];
        const BatchItem& item = items[index];
        const std::string what = item.method + " " + std::string(StripQuery(item.url));
        if (!responses[index]) {
          result.http_status = 0;
          result.status = IsWriteMethod(item.method)
                              ? UnknownOutcomeError(what +
                                                    ": the batch response did not mention "
                                                    "this item; its outcome is unknown")
                              : InternalError(what + ": the batch response did not mention it");
          continue;
        }
        ItemResponse& response = *responses[index];
        result.http_status = response.status;
        result.body = std::move(response.body);
        std::optional<Duration> retry_after = ParseRetryAfter(response.as_http, clock_.Now());
        if (response.status == 429 && !last_round) {
          throttled.push_back(index);
          throttled_write = throttled_write || IsWriteMethod(item.method);
          wait = std::max(wait, retry_after.value_or(options_.retry.Backoff(round + 1, random_)));
          continue;
        }
        result.status = response.status >= 200 && response.status < 300
                            ? OkStatus()
                            : StatusFromResponse(response.as_http, item.method,
                                                 StripQuery(item.url), retry_after);
      }
    }
    if (throttled.empty()) break;
    wait = std::min(wait, options_.retry.max_delay);
    CD_LOG_DEBUG("graph: $batch: {} items throttled, resending in {} ms", throttled.size(),
                 std::chrono::duration_cast<std::chrono::milliseconds>(wait).count());
    budget_.PauseUntil(clock_.SteadyNow() + wait, /*writes_only=*/throttled_write);
    if (options_.observer != nullptr) {
      options_.observer->OnRetry({.what = "$batch (" + std::to_string(throttled.size()) +
                                          " items throttled)",
                                  .http_status = 429,
                                  .reason = "429 in $batch",
                                  .retry = round + 1,
                                  .max_retries = options_.max_batch_retry_rounds,
                                  .delay = wait});
    }
    if (wait > Duration::zero()) clock_.SleepFor(wait);
    pending = std::move(throttled);
  }
  return results;
}

}  // namespace certdeploy::graph::internal
