#include "base/status.h"

#include <sstream>

namespace certdeploy {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kCancelled: return "cancelled";
    case StatusCode::kInvalidArgument: return "invalid-argument";
    case StatusCode::kNotFound: return "not-found";
    case StatusCode::kAlreadyExists: return "already-exists";
    case StatusCode::kPermissionDenied: return "permission-denied";
    case StatusCode::kUnauthenticated: return "unauthenticated";
    case StatusCode::kResourceExhausted: return "resource-exhausted";
    case StatusCode::kFailedPrecondition: return "failed-precondition";
    case StatusCode::kAborted: return "aborted";
    case StatusCode::kUnavailable: return "unavailable";
    case StatusCode::kDeadlineExceeded: return "deadline-exceeded";
    case StatusCode::kUnknownOutcome: return "unknown-outcome";
    case StatusCode::kDataLoss: return "data-loss";
    case StatusCode::kInternal: return "internal";
  }
  return "internal";
}

Status::Status(StatusCode code, std::string message) {
  if (code != StatusCode::kOk) {
    state_ = std::make_unique<State>(State{code, std::move(message), std::nullopt});
  }
}

Status::Status(StatusCode code, std::string message, StatusDetails details) {
  if (code != StatusCode::kOk) {
    state_ = std::make_unique<State>(State{code, std::move(message), std::move(details)});
  }
}

Status::Status(const Status& other)
    : state_(other.state_ ? std::make_unique<State>(*other.state_) : nullptr) {}

Status& Status::operator=(const Status& other) {
  if (this != &other) {
    state_ = other.state_ ? std::make_unique<State>(*other.state_) : nullptr;
  }
  return *this;
}

std::string_view Status::message() const { return ok() ? std::string_view() : state_->message; }

const StatusDetails* Status::details() const {
  return (ok() || !state_->details) ? nullptr : &*state_->details;
}

Status Status::WithContext(std::string_view prefix) const {
  if (ok()) return *this;
  Status copy = *this;
  copy.state_->message = std::string(prefix) + ": " + copy.state_->message;
  return copy;
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::ostringstream out;
  out << StatusCodeName(state_->code) << ": " << state_->message;
  if (state_->details) {
    const StatusDetails& d = *state_->details;
    std::string extra;
    auto add = [&extra](const std::string& part) {
      if (!extra.empty()) extra += ", ";
      extra += part;
    };
    if (d.http_status != 0) add("http " + std::to_string(d.http_status));
    if (!d.service_code.empty()) add(d.service_code);
    // Once per error: the Graph client already names the request-id in its messages.
    if (!d.request_id.empty() && state_->message.find(d.request_id) == std::string::npos) {
      add("request-id " + d.request_id);
    }
    if (!extra.empty()) out << " (" << extra << ")";
  }
  return out.str();
}

bool Status::operator==(const Status& other) const {
  if (ok() || other.ok()) return ok() == other.ok();
  return state_->code == other.state_->code && state_->message == other.state_->message &&
         state_->details == other.state_->details;
}

Status InvalidArgumentError(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
Status NotFoundError(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
Status AlreadyExistsError(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
Status PermissionDeniedError(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
Status UnauthenticatedError(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }
Status ResourceExhaustedError(std::string m) {
  return {StatusCode::kResourceExhausted, std::move(m)};
}
Status FailedPreconditionError(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
Status AbortedError(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
Status UnavailableError(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
Status DeadlineExceededError(std::string m) { return {StatusCode::kDeadlineExceeded, std::move(m)}; }
Status UnknownOutcomeError(std::string m) { return {StatusCode::kUnknownOutcome, std::move(m)}; }
Status DataLossError(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
Status InternalError(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
Status CancelledError(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }

std::ostream& operator<<(std::ostream& os, const Status& status) { return os << status.ToString(); }
std::ostream& operator<<(std::ostream& os, StatusCode code) { return os << StatusCodeName(code); }

}  // namespace certdeploy
