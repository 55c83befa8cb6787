#include "tests/support/loopback_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

namespace certdeploy::testing {

LoopbackReply LoopbackCall(int port, const LoopbackRequest& request) {
  LoopbackReply reply;
  if (port <= 0) return reply;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return reply;
  timeval timeout{static_cast<time_t>(request.timeout.count()), 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    std::string text = request.method + " " + request.path +
                       " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    if (!request.bearer.empty()) text += "Authorization: Bearer " + request.bearer + "\r\n";
    if (!request.idempotency_key.empty()) {
      text += "Idempotency-Key: " + request.idempotency_key + "\r\n";
    }
    if (request.method == "POST" || request.method == "PATCH") {
      text += "Content-Type: " + request.content_type + "\r\nContent-Length: " +
              std::to_string(request.body.size()) + "\r\n";
    }
    text += "\r\n" + request.body;
    if (send(fd, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size())) {
      char buf[65536];
      for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0;) response.append(buf, n);
    }
  }
  close(fd);
  const size_t split = response.find("\r\n\r\n");
  if (response.rfind("HTTP/1.1 ", 0) != 0 || split == std::string::npos) return reply;
  reply.status = std::atoi(response.c_str() + 9);
  reply.body = response.substr(split + 4);
  return reply;
}

}  // namespace certdeploy::testing
