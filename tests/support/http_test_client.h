// tests/support/http_test_client.h: a tiny blocking HTTP/1.1 client over POSIX sockets
// (optionally TLS through OpenSSL) and self-signed test certificates, for the HTTP server tests.
//
// Deliberately not Beast: it keeps the test build light and lets the tests send malformed,
// oversized or half-finished requests byte by byte.

#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "base/strings.h"

namespace certdeploy::http::testing {

using std::chrono::milliseconds;

struct RawResponse {
  int status = 0;
  std::multimap<std::string, std::string> headers;  // Lower-cased names.
  std::string body;

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class TestClient {
 public:
  // Connects to 127.0.0.1:port, with the unconnected TCP socket `fd` when given (takes it);
  // nullptr when the connection is refused.
  static std::unique_ptr<TestClient> Connect(int port, int fd = -1) {
    ::signal(SIGPIPE, SIG_IGN);  // SSL_write uses write(2); a closed peer must not kill us.
    if (fd < 0) fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd);
      return nullptr;
    }
    return std::unique_ptr<TestClient>(new TestClient(fd));
  }

  // Connects and performs a TLS handshake with `ctx` (not owned). nullptr on failure, with the
  // OpenSSL reason code of the first queued error in *reason.
  static std::unique_ptr<TestClient> ConnectTls(int port, SSL_CTX* ctx, int* reason = nullptr) {
    std::unique_ptr<TestClient> client = Connect(port);
    if (client == nullptr) return nullptr;
    ERR_clear_error();
    client->ssl_ = SSL_new(ctx);
    SSL_set_fd(client->ssl_, client->fd_);
    if (SSL_connect(client->ssl_) != 1) {
      if (reason != nullptr) *reason = ERR_GET_REASON(ERR_peek_error());
      ERR_clear_error();
      return nullptr;
    }
    return client;
  }

  ~TestClient() {
    if (ssl_ != nullptr) {
      SSL_shutdown(ssl_);
      SSL_free(ssl_);
    }
    ::close(fd_);
  }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      long n = ssl_ != nullptr ? SSL_write(ssl_, data.data(), static_cast<int>(data.size()))
                               : ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads one response: status line, headers and a Content-Length body (none for HEAD or 1xx).
  // nullopt on EOF, error or timeout.
  std::optional<RawResponse> ReadResponse(milliseconds timeout = milliseconds(5000),
                                          bool head = false) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    size_t end;
    while ((end = pending_.find("\r\n\r\n")) == std::string::npos) {
      if (Fill(deadline) <= 0) return std::nullopt;
    }
    RawResponse r;
    std::string head_text = pending_.substr(0, end);
    pending_.erase(0, end + 4);
    size_t line_end = head_text.find("\r\n");
    std::string status_line = head_text.substr(0, line_end);
    if (status_line.size() < 12 || status_line.compare(0, 5, "HTTP/") != 0) return std::nullopt;
    r.status = std::atoi(status_line.c_str() + 9);
    size_t pos = line_end == std::string::npos ? head_text.size() : line_end + 2;
    while (pos < head_text.size()) {
      size_t next = head_text.find("\r\n", pos);
      if (next == std::string::npos) next = head_text.size();
      std::string line = head_text.substr(pos, next - pos);
      size_t colon = line.find(':');
      std::string name = AsciiToLower(line.substr(0, colon));
      std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      r.headers.emplace(name, value);
      pos = next + 2;
    }
    size_t length = 0;
    if (!head && r.status >= 200 && !r.Header("content-length").empty()) {
      length = std::strtoul(r.Header("content-length").c_str(), nullptr, 10);
    }
    while (pending_.size() < length) {
      if (Fill(deadline) <= 0) return std::nullopt;
    }
    r.body = pending_.substr(0, length);
    pending_.erase(0, length);
    return r;
  }

  // True when the server closes the connection (EOF or reset) within `timeout`. Data received
  // meanwhile is kept for ReadResponse.
  bool WaitForClose(milliseconds timeout = milliseconds(5000)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      int n = Fill(deadline);
      if (n == 0 || n == -1) return true;
      if (n == -2) return false;
    }
  }

  // Bytes received but not consumed by ReadResponse.
  const std::string& pending() const { return pending_; }

 private:
  explicit TestClient(int fd) : fd_(fd) {}

  // Reads more bytes into pending_: >0 bytes read, 0 EOF, -1 error, -2 timeout.
  int Fill(std::chrono::steady_clock::time_point deadline) {
    if (ssl_ == nullptr || SSL_pending(ssl_) == 0) {
      auto left =
          std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return -2;
      pollfd p{fd_, POLLIN, 0};
      int ready = ::poll(&p, 1, static_cast<int>(left.count()));
      if (ready == 0) return -2;
      if (ready < 0) return -1;
    }
    char buf[16384];
    long n;
    if (ssl_ != nullptr) {
      n = SSL_read(ssl_, buf, sizeof(buf));
      if (n <= 0) {
        int err = SSL_get_error(ssl_, static_cast<int>(n));
        ERR_clear_error();
        return err == SSL_ERROR_ZERO_RETURN ? 0 : -1;
      }
    } else {
      n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n < 0) return -1;
      if (n == 0) return 0;
    }
    pending_.append(buf, static_cast<size_t>(n));
    return static_cast<int>(n);
  }

  int fd_;
  SSL* ssl_ = nullptr;
  std::string pending_;
};

// Polls `pred` for up to 2 s. Server-side counters may be bumped just after the client already
// saw the effect (a closed socket), so tests read them through this.
template <typename Pred>
bool Eventually(Pred pred) {
  for (int i = 0; i < 200; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return pred();
}

// A self-signed P-256 certificate, written as PEM files. With `ip_san` it carries
// subjectAltName IP:127.0.0.1 (a server certificate clients can verify).
struct TestCert {
  std::string cert_file;
  std::string key_file;
};

inline bool MakeSelfSignedCert(const std::string& dir, const std::string& name,
                               const std::string& common_name, bool ip_san, TestCert* out) {
  static long serial = 1;
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  bool ok = key != nullptr && x != nullptr;
  if (ok) {
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600);
    X509_set_pubkey(x, key);
    X509_NAME* subject = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("certdeploy-test"), -1, -1,
                               0);
    X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                               0);
    X509_set_issuer_name(x, subject);
    if (ip_san) {
      X509V3_CTX v3;
      X509V3_set_ctx_nodb(&v3);
      X509V3_set_ctx(&v3, x, x, nullptr, nullptr, 0);
      X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, "IP:127.0.0.1");
      ok = ext != nullptr && X509_add_ext(x, ext, -1) == 1;
      X509_EXTENSION_free(ext);
    }
    ok = ok && X509_sign(x, key, EVP_sha256()) > 0;
  }
  out->cert_file = dir + "/" + name + ".crt";
  out->key_file = dir + "/" + name + ".key";
  if (ok) {
    FILE* f = std::fopen(out->cert_file.c_str(), "w");
    ok = f != nullptr && PEM_write_X509(f, x) == 1;
    if (f != nullptr) std::fclose(f);
    f = std::fopen(out->key_file.c_str(), "w");
    ok = ok && f != nullptr &&
         PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
    if (f != nullptr) std::fclose(f);
  }
  X509_free(x);
  EVP_PKEY_free(key);
  return ok;
}

}  // namespace certdeploy::http::testing
