// base/status.h: errors as values.
//
// Every fallible function in certdeploy returns a Status (or a Result<T>, see result.h). A Status
// carries a code whose meaning tells the caller what to do next (retry, refresh a token, re-plan,
// stop), a human message, and optional details from Graph (HTTP status, Graph error code,
// request-id, Retry-After) so that every surfaced error names the request-id for support.
//
// Messages must never contain secrets: callers build them from names, codes and thumbprints only.

#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace certdeploy {

// The codes follow the canonical gRPC/Abseil meanings, plus kUnknownOutcome for a write whose
// result is unknown (sent, then timed out or lost): the caller must read before resending.
enum class StatusCode {
  kOk = 0,
  kCancelled,
  kInvalidArgument,     // Bad input: flags, files, PFX, CSV, JSON. Do not retry.
  kNotFound,            // The named object (user, profile, record, file) does not exist.
  kAlreadyExists,       // A create collided with an existing object.
  kPermissionDenied,    // Authenticated but not allowed (403). Needs an operator.
  kUnauthenticated,     // Missing/expired/bad credentials (401). Refresh once, then stop.
  kResourceExhausted,   // Throttled (429) or a size limit. Honour retry_after.
  kFailedPrecondition,  // The system is not in a state to do this (stale plan, lock held).
  kAborted,             // Concurrency conflict: re-read and re-plan.
  kUnavailable,         // Transient (503, connection refused/reset). Retry with backoff.
  kDeadlineExceeded,    // A deadline passed before the operation completed.
  kUnknownOutcome,      // A write was sent but its result is unknown. Reconcile by reading.
  kDataLoss,            // Stored data is corrupt or truncated.
  kInternal,            // A bug or an unexpected answer from a dependency.
};

// Returns the stable lower-case name of `code` ("invalid-argument", "unknown-outcome", ...).
std::string_view StatusCodeName(StatusCode code);

// Extra context attached to errors that came from an HTTP peer (mostly Graph).
struct StatusDetails {
  int http_status = 0;                               // 0 when not from HTTP.
  std::string service_code;                          // e.g. Graph "error.code": "BadRequest".
  std::string request_id;                            // Graph "request-id" for support tickets.
  std::optional<std::chrono::milliseconds> retry_after;  // From Retry-After / x-ms-retry-after-ms.

  bool operator==(const StatusDetails&) const = default;
};

class [[nodiscard]] Status {
 public:
  // An OK status. Cheap: holds no allocation.
  Status() = default;
  Status(StatusCode code, std::string message);
  Status(StatusCode code, std::string message, StatusDetails details);

  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;
  ~Status() = default;

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return ok() ? StatusCode::kOk : state_->code; }
  // Empty for OK.
  std::string_view message() const;
  // Null for OK or when no details were attached.
  const StatusDetails* details() const;

  // Returns a copy whose message is "<prefix>: <message>". OK stays OK.
  Status WithContext(std::string_view prefix) const;

  // "ok" or "<code-name>: <message>[ (http 429, BadRequest, request-id ...)]". The request-id is
  // left out of the parenthesis when the message already contains it, so it shows once.
  std::string ToString() const;

  bool operator==(const Status& other) const;

 private:
  struct State {
    StatusCode code;
    std::string message;
    std::optional<StatusDetails> details;
  };
  std::unique_ptr<State> state_;
};

inline Status OkStatus() { return Status(); }

// Named factories read better at call sites than the two-argument constructor.
Status InvalidArgumentError(std::string message);
Status NotFoundError(std::string message);
Status AlreadyExistsError(std::string message);
Status PermissionDeniedError(std::string message);
Status UnauthenticatedError(std::string message);
Status ResourceExhaustedError(std::string message);
Status FailedPreconditionError(std::string message);
Status AbortedError(std::string message);
Status UnavailableError(std::string message);
Status DeadlineExceededError(std::string message);
Status UnknownOutcomeError(std::string message);
Status DataLossError(std::string message);
Status InternalError(std::string message);
Status CancelledError(std::string message);

std::ostream& operator<<(std::ostream& os, const Status& status);
std::ostream& operator<<(std::ostream& os, StatusCode code);

}  // namespace certdeploy
