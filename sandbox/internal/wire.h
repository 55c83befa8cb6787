// sandbox/internal/wire.h: encodings and error bodies shared by every sandbox handler.
//
// Query parsing, the date-time syntax Graph accepts, the Graph and AAD error shapes, and the two
// value types the handlers trade in: Operation (one Graph call, top-level or a $batch item) and
// Reply (its answer plus what the statistics need to know about it). The encodings themselves
// (base64, percent-encoding, RFC 3339 and HTTP dates, ASCII case) come from base/; the sandbox
// decides only how strict to be: base64 with the default (strict) Base64DecodeOptions, dates with
// kGraphDateTimeOptions.

#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/time_format.h"
#include "http/server.h"

namespace certdeploy::sandbox::internal {

using nlohmann::json;

// First value of header `name` (matched case-insensitively), or nullopt.
std::optional<std::string> HeaderValue(const http::HeaderMap& headers, std::string_view name);

// Per-request identity and addressing, fixed when the request arrives.
struct RequestContext {
  std::string request_id;         // Fresh GUID, echoed in headers and innerError.
  std::string client_request_id;  // From the client's client-request-id, else request_id.
  std::string base_url;           // "http://HOST" from the Host header: nextLink/@odata.context.
  SystemTime now;
};

// One Graph call after parsing: a top-level request or a $batch item.
struct Operation {
  std::string method;                 // Upper case.
  std::string version;                // "beta" or "v1.0".
  std::vector<std::string> segments;  // Decoded path segments after the version.
  std::vector<std::pair<std::string, std::string>> query;  // Decoded, in order.
  http::HeaderMap headers;                              // Lower-cased names.
  std::string body;
  const RequestContext* context = nullptr;

  bool IsWrite() const { return method != "GET" && method != "HEAD"; }
  std::optional<std::string> Header(std::string_view name) const {
    return HeaderValue(headers, name);
  }
  std::optional<std::string> Query(std::string_view name) const;
};

// A refusal decided by a validator: HTTP status, Graph error code, message for the client and the
// stable reason counted in the statistics ("userPfxCertificate: unknown property", ...).
struct Refusal {
  int status = 400;
  std::string code = "BadRequest";
  std::string message;
  std::string reason;
};

// The answer to one Operation (or to a token request).
struct Reply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // Besides the standard ones.
  std::optional<json> body;      // Serialized as application/json when present.
  bool write_committed = false;  // State changed: eligible for drop-after-commit.
  std::string rejection;         // Statistics reason when refused by validation.
  bool duplicate = false;        // A duplicate create (statistics).
  bool auth_failure = false;     // Token endpoint refusal or bearer 401 (statistics).
  bool batch_envelope = false;   // Its items were counted one by one (statistics).
};

// --- Encodings -------------------------------------------------------------------------------

// The non-empty '/'-separated segments of a URL path, percent-decoded when `decode` ('+' is kept):
// "/beta//users/o%27neil" -> {"beta", "users", "o'neil"}. nullopt for a malformed escape.
std::optional<std::vector<std::string>> SplitPath(std::string_view path, bool decode);
// Splits "a=1&b=2" and decodes both sides. nullopt for a malformed escape.
std::optional<std::vector<std::pair<std::string, std::string>>> ParseQuery(std::string_view raw);

// True when `value` is the string "#microsoft.graph.<name>", or (with `hash_optional`)
// "microsoft.graph.<name>". Graph's request examples write nested and target types both ways.
bool IsGraphType(const json& value, std::string_view name, bool hash_optional);

// --- Time ------------------------------------------------------------------------------------

// Edm.DateTimeOffset as Graph (.NET) reads it, for ParseRfc3339: a mandatory offset ("Z" or
// "+hh:mm"/"-hh:mm"), any fraction, upper-case 'T' and 'Z' only, no leap second. Graph accepts
// 0001-01-01 to 9999-12-31; beyond what SystemTime holds the sandbox clamps. Graph writes them
// back as FormatRfc3339UtcTicks does ("2026-01-01T00:00:00Z", "...00.25Z").
inline constexpr Rfc3339Options kGraphDateTimeOptions = {
    .lower_case = false, .leap_second = false, .clamp_to_representable = true};

// Milliseconds since the epoch, for the journal.
int64_t ToUnixMillis(SystemTime t);
SystemTime FromUnixMillis(int64_t ms);

// --- Error shapes ----------------------------------------------------------------------------

// {"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}.
json GraphErrorBody(const RequestContext& ctx, std::string_view code, std::string_view message);
Reply GraphError(const RequestContext& ctx, int status, std::string_view code,
                 std::string_view message);
Reply FromRefusal(const RequestContext& ctx, const Refusal& refusal);
// 429 TooManyRequests with Graph's throttling body and Retry-After: seconds.
Reply Throttled(const RequestContext& ctx, int64_t retry_after_seconds);
// Intune's opaque import failure: code BadRequest, message a JSON document in a string.
std::string IntuneOpaqueMessage(const RequestContext& ctx, std::string_view url_path);

// Serializes a Reply as an HTTP response with the standard headers (request-id,
// client-request-id, Date, Content-Type).
http::ServerResponse ToServerResponse(const RequestContext& ctx, const Reply& reply);

}  // namespace certdeploy::sandbox::internal
