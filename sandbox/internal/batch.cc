// POST /{version}/$batch: JSON batching as Graph documents it.
//
// The envelope is checked first and refused whole (400, nothing executed) when malformed: not 1
// to 20 requests, a missing or duplicate id, an unknown method, an absolute url, a body without a
// Content-Type header, a dependsOn naming an id that does not come earlier. Items then run in
// order; each is admitted against the budget on its own and may be throttled at random (a
// throttled item answers 429 with a Retry-After item header), and an item whose dependency did not
// succeed answers 424. The envelope answers 200 whatever the items did.

#include <set>

#include "base/encoding.h"
#include "base/log.h"
#include "base/strings.h"
#include "sandbox/internal/tenant.h"

namespace certdeploy::sandbox::internal {
namespace {

constexpr size_t kMaxBatch = 20;

struct BatchItem {
  std::string id;
  std::string method;
  std::string url;
  http::HeaderMap headers;
  std::optional<std::string> body;
  std::vector<std::string> depends_on;
};

std::variant<std::vector<BatchItem>, std::string> ParseEnvelope(const json& body) {
  for (const auto& [key, value] : body.items()) {
    if (key != "requests") return "Unexpected property '" + key + "' in the batch payload.";
  }
  if (!body.contains("requests") || !body["requests"].is_array()) {
    return std::string("Invalid batch payload format: 'requests' must be an array.");
  }
  const json& requests = body["requests"];
  if (requests.empty()) return std::string("Invalid batch payload format: no requests.");
  if (requests.size() > kMaxBatch) {
    return "The number of batch requests exceeds the maximum of " + std::to_string(kMaxBatch) + ".";
  }
  std::vector<BatchItem> items;
  std::set<std::string> ids;
  for (const json& r : requests) {
    if (!r.is_object()) return std::string("Each batch request must be an object.");
    BatchItem item;
    for (const auto& [key, value] : r.items()) {
      if (key == "id" && value.is_string()) {
        item.id = value;
      } else if (key == "method" && value.is_string()) {
        item.method = value;
      } else if (key == "url" && value.is_string()) {
        item.url = value;
      } else if (key == "headers" && value.is_object()) {
        for (const auto& [name, v] : value.items()) {
          if (!v.is_string()) return "Header '" + name + "' must be a string.";
          item.headers.emplace(AsciiToLower(name), v.get<std::string>());
        }
      } else if (key == "body") {
        item.body = value.is_string() ? value.get<std::string>() : value.dump();
      } else if (key == "dependsOn" && value.is_array()) {
        for (const auto& dep : value) {
          if (!dep.is_string() || !ids.count(dep.get<std::string>())) {
            return "Request '" + item.id + "' depends on an unknown or later request.";
          }
          item.depends_on.push_back(dep);
        }
      } else {
        return "Invalid property '" + key + "' in a batch request.";
      }
    }
    if (item.id.empty()) return std::string("Each batch request requires an 'id'.");
    if (!ids.insert(item.id).second) return "Duplicate batch request id '" + item.id + "'.";
    static const std::set<std::string> kMethods = {"GET", "POST", "PATCH", "PUT", "DELETE"};
    if (!kMethods.count(item.method)) {
      return "Request '" + item.id + "' has an invalid method '" + item.method + "'.";
    }
    if (item.url.empty() || item.url.find("://") != std::string::npos) {
      return "Request '" + item.id + "' must have a relative url.";
    }
    if (item.body && !item.headers.count("content-type")) {
      return "Write request id : " + item.id + " does not contain Content-Type header or body.";
    }
    // A JSON body arrives as a JSON value; any other content type as base64.
    if (item.body &&
        AsciiToLower(item.headers.find("content-type")->second).rfind("application/json", 0) != 0) {
      auto raw = Base64Decode(*item.body);
      if (!raw) return "Request '" + item.id + "' has a body that is not base64.";
      item.body = *raw;
    }
    items.push_back(std::move(item));
  }
  return items;
}

json ItemResponse(const std::string& id, const Reply& reply) {
  json headers = json::object();
  for (const auto& [name, value] : reply.headers) headers[name] = value;
  if (reply.body) headers["Content-Type"] = "application/json; charset=utf-8";
  json out = {{"id", id}, {"status", reply.status}, {"headers", headers}};
  if (reply.body) out["body"] = *reply.body;
  return out;
}

}  // namespace

Reply SandboxTenantImpl::HandleBatch(const Operation& op) {
  const RequestContext& ctx = *op.context;
  if (op.method != "POST") return MethodNotAllowed(op);
  auto parsed = ParseJsonBody(op, "$batch");
  if (auto* refusal = std::get_if<Refusal>(&parsed)) return FromRefusal(ctx, *refusal);
  auto envelope = ParseEnvelope(std::get<json>(parsed));
  if (auto* error = std::get_if<std::string>(&envelope)) {
    Reply reply = GraphError(ctx, 400, "BadRequest", *error);
    reply.rejection = "$batch: invalid envelope";
    return reply;
  }
  std::map<std::string, int> status_of;
  json responses = json::array();
  Reply envelope_reply;
  envelope_reply.batch_envelope = true;
  for (const BatchItem& item : std::get<std::vector<BatchItem>>(envelope)) {
    stats_.CountBatchItem();
    Reply reply;
    bool failed_dependency = false;
    for (const auto& dep : item.depends_on) {
      int status = status_of[dep];
      failed_dependency = failed_dependency || status < 200 || status > 299;
    }
    std::string url = item.url.front() == '/' ? item.url : "/" + item.url;
    size_t q = url.find('?');
    Operation item_op;
    item_op.method = item.method;
    item_op.version = op.version;
    item_op.headers = item.headers;
    item_op.body = item.body.value_or("");
    item_op.context = &ctx;
    bool parsed_ok = true;
    if (auto query = ParseQuery(q == std::string::npos ? "" : url.substr(q + 1))) {
      item_op.query = std::move(*query);
    } else {
      parsed_ok = false;
    }
    const std::string path = url.substr(0, q);
    if (auto segments = SplitPath(path, /*decode=*/true)) {
      item_op.segments = std::move(*segments);
    } else {
      parsed_ok = false;
    }
    if (failed_dependency) {
      reply = GraphError(ctx, 424, "FailedDependency", "A request this one depends on failed.");
    } else if (!parsed_ok) {
      reply = GraphError(ctx, 400, "BadRequest", "Malformed request URL.");
    } else if (std::optional<Reply> injected = MaybeInjectThrottle(ctx)) {
      reply = std::move(*injected);
    } else if (auto retry = budget_.TryAdmit(clock_.SteadyNow(), item_op.IsWrite())) {
      reply = Throttled(ctx, *retry);
    } else {
      if (item_op.IsWrite()) stats_.CountAdmittedWrite();
      reply = Dispatch(item_op);
    }
    stats_.RecordReply(reply);
    LogRefusal(item.method, "$batch item " + item.id + " " + path, reply);
    envelope_reply.write_committed = envelope_reply.write_committed || reply.write_committed;
    status_of[item.id] = reply.status;
    responses.push_back(ItemResponse(item.id, reply));
  }
  envelope_reply.body = json{{"responses", std::move(responses)}};
  return envelope_reply;
}

}  // namespace certdeploy::sandbox::internal
