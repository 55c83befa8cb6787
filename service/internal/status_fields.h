// service/internal/status_fields.h: what the daemon records of a failed Graph call.

#pragma once

#include <string>

#include "base/status.h"

namespace certdeploy::service {

// Graph's error code when it sent one, else the status code's name.
inline std::string ErrorCode(const Status& s) {
  const StatusDetails* d = s.details();
  if (d != nullptr && !d->service_code.empty()) return d->service_code;
  return std::string(StatusCodeName(s.code()));
}

// The Graph request-id of the call, or "".
inline std::string RequestId(const Status& s) {
  const StatusDetails* d = s.details();
  return d == nullptr ? "" : d->request_id;
}

}  // namespace certdeploy::service
