// tests/support/loopback_http.h: one plain HTTP/1.1 request to a daemon on 127.0.0.1, for the
// end-to-end tests that drive `certdeploy serve` without TLS.

#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

namespace certdeploy::testing {

struct LoopbackReply {
  int status = 0;  // 0: no HTTP answer (connection refused or reset, daemon gone).
  std::string body;
  nlohmann::json Json() const { return nlohmann::json::parse(body, nullptr, false); }
};

struct LoopbackRequest {
  std::string method = "GET";
  std::string path;
  std::string bearer;           // Authorization: Bearer <bearer>, when not empty.
  std::string body;             // Sent with POST and PATCH.
  std::string content_type = "application/json";
  std::string idempotency_key;  // Idempotency-Key header, when not empty.
  std::chrono::seconds timeout{30};  // Send and receive timeouts of the socket.
};

// Sends `request` to 127.0.0.1:port with "Connection: close" and reads the answer to the end
// (the daemon answers with Content-Length). status 0 when there was no HTTP answer.
LoopbackReply LoopbackCall(int port, const LoopbackRequest& request);

}  // namespace certdeploy::testing
