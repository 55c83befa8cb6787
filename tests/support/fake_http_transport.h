// tests/support/fake_http_transport.h: a scriptable HttpTransport that records what it was sent.
//
//   FakeHttpTransport http;
//   http.Enqueue(Response(429).WithHeader("Retry-After", "7"))
//       .Enqueue(Response(200, R"({"value":[]})"))
//       .EnqueueError(UnknownOutcomeError("connection reset after write"));
//   ... code under test calls http.Send(...) ...
//   EXPECT_EQ(http.requests().size(), 2u);
//
// Scripted answers are consumed in order; when the script is empty Send fails with kInternal
// "no scripted response" (so an unexpected extra request fails the test instead of hanging). A
// handler, when set, answers instead of the script: useful for routing by URL. Thread-safe.

#pragma once

#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "graph/http_transport.h"

namespace certdeploy::testing {

// Builds an HttpResponse fluently: Response(429).WithHeader("Retry-After", "7").
struct Response {
  explicit Response(int status, std::string body = "") {
    response.status = status;
    response.body = std::move(body);
  }
  Response& WithHeader(std::string name, std::string value) {
    response.headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  operator graph::HttpResponse() const { return response; }  // NOLINT: implicit on purpose.

  graph::HttpResponse response;
};

class FakeHttpTransport : public graph::HttpTransport {
 public:
  using Handler = std::function<Result<graph::HttpResponse>(const graph::HttpRequest&)>;

  FakeHttpTransport& Enqueue(graph::HttpResponse response) {
    std::lock_guard<std::mutex> lock(mu_);
    script_.emplace_back(std::move(response));
    return *this;
  }
  FakeHttpTransport& Enqueue(const Response& response) { return Enqueue(response.response); }
  // `error` must not be OK: a transport failure (kUnavailable, kUnknownOutcome, ...).
  FakeHttpTransport& EnqueueError(Status error) {
    std::lock_guard<std::mutex> lock(mu_);
    script_.emplace_back(std::move(error));
    return *this;
  }
  void SetHandler(Handler handler) {
    std::lock_guard<std::mutex> lock(mu_);
    handler_ = std::move(handler);
  }

  // graph::HttpTransport:
  Result<graph::HttpResponse> Send(const graph::HttpRequest& request, Duration timeout) override {
    Handler handler;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(request);
      timeouts_.push_back(timeout);
      handler = handler_;
      if (!handler) {
        if (script_.empty()) {
          return InternalError("FakeHttpTransport: no scripted response for " + request.method +
                               " " + request.url);
        }
        Result<graph::HttpResponse> next = std::move(script_.front());
        script_.pop_front();
        return next;
      }
    }
    return handler(request);
  }

  std::vector<graph::HttpRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  std::vector<Duration> timeouts() const {
    std::lock_guard<std::mutex> lock(mu_);
    return timeouts_;
  }
  // Scripted answers not consumed yet.
  size_t remaining() const {
    std::lock_guard<std::mutex> lock(mu_);
    return script_.size();
  }

 private:
  mutable std::mutex mu_;
  std::deque<Result<graph::HttpResponse>> script_;
  Handler handler_;
  std::vector<graph::HttpRequest> requests_;
  std::vector<Duration> timeouts_;
};

}  // namespace certdeploy::testing
