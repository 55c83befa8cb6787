// A real-socket smoke test: SandboxServer on 127.0.0.1 port 0, spoken to over plain HTTP/1.1.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "tests/unit/sandbox/sandbox_test_support.h"

namespace certdeploy::sandbox::testing {
namespace {

struct HttpResult {
  bool answered = false;  // False when the server closed without a response.
  int status = 0;
  std::string head;
  std::string body;
};

// Sends one request with "Connection: close" and reads until EOF.
HttpResult Send(int port, const std::string& method, const std::string& target,
                const std::string& body = "", const std::string& extra_headers = "") {
  HttpResult result;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval timeout{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    ADD_FAILURE() << "cannot connect to port " << port;
    return result;
  }
  std::string request = method + " " + target +
                        " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                        "\r\nConnection: close\r\n" + extra_headers +
                        "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string raw;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0) raw.append(buf, static_cast<size_t>(n));
  ::close(fd);
  size_t end = raw.find("\r\n\r\n");
  if (raw.size() < 12 || end == std::string::npos) return result;
  result.answered = true;
  result.status = std::stoi(raw.substr(9, 3));
  result.head = raw.substr(0, end);
  result.body = raw.substr(end + 4);
  return result;
}

int PortOf(const std::string& url) { return std::stoi(url.substr(url.rfind(':') + 1)); }

TEST(SandboxServerTest, ServesTokenGraphAndInspectionOverHttp) {
  SandboxOptions options;
  options.connector_key_file = certdeploy::testing::PkiPath("connector.key");
  options.client_id = kClientId;
  options.client_secret = SecretBytes(std::string_view(kSecret));
  options.handler_threads = 4;
  SeededRandom random{42};
  auto server = SandboxServer::Start(options, RealClock(), random);
  ASSERT_TRUE(server.ok()) << server.status();
  std::string url = (*server)->url();
  ASSERT_EQ(url.rfind("http://127.0.0.1:", 0), 0u) << url;
  int port = PortOf(url);

  HttpResult token = Send(port, "POST", "/contoso/oauth2/v2.0/token",
                          FormEncode({{"grant_type", "client_credentials"},
                                      {"client_id", kClientId},
                                      {"client_secret", kSecret},
                                      {"scope", "https://graph.microsoft.com/.default"}}),
                          "Content-Type: application/x-www-form-urlencoded\r\n");
  ASSERT_EQ(token.status, 200) << token.head << token.body;
  std::string bearer = json::parse(token.body)["access_token"];

  HttpResult user = Send(port, "GET", "/v1.0/users/o%27neil%40contoso.com", "",
                         "Authorization: Bearer " + bearer + "\r\nclient-request-id: smoke-1\r\n");
  ASSERT_EQ(user.status, 200) << user.head << user.body;
  EXPECT_EQ(json::parse(user.body)["userPrincipalName"], "o'neil@contoso.com");
  EXPECT_NE(user.head.find("client-request-id: smoke-1"), std::string::npos) << user.head;

  HttpResult unauthorized = Send(port, "GET", "/beta/deviceManagement/deviceConfigurations");
  EXPECT_EQ(unauthorized.status, 401);

  HttpResult list = Send(port, "GET", "/beta/deviceManagement/userPfxCertificates", "",
                         "Authorization: Bearer " + bearer + "\r\n");
  EXPECT_EQ(list.status, 200);
  HttpResult stats = Send(port, "GET", "/_sandbox/stats");
  ASSERT_EQ(stats.status, 200);
  EXPECT_EQ(json::parse(stats.body)["requests"], 4);
  (*server)->Stop();
}

TEST(SandboxServerTest, DropAfterCommitClosesWithoutAnswer) {
  SandboxOptions options;
  options.drop_rate = 1.0;
  options.handler_threads = 2;
  SeededRandom random{42};
  auto server = SandboxServer::Start(options, RealClock(), random);
  ASSERT_TRUE(server.ok()) << server.status();
  int port = PortOf((*server)->url());
  HttpResult token = Send(port, "POST", "/t/oauth2/v2.0/token",
                          FormEncode({{"grant_type", "client_credentials"},
                                      {"client_id", "demo"},
                                      {"client_secret", "demo"},
                                      {"scope", "https://graph.microsoft.com/.default"}}),
                          "Content-Type: application/x-www-form-urlencoded\r\n");
  ASSERT_EQ(token.status, 200) << token.body;
  std::string bearer = json::parse(token.body)["access_token"];
  json profile = {{"@odata.type", "#microsoft.graph.iosImportedPFXCertificateProfile"},
                  {"displayName", "S/MIME"},
                  {"intendedPurpose", "smimeEncryption"}};
  HttpResult created =
      Send(port, "POST", "/beta/deviceManagement/deviceConfigurations", profile.dump(),
           "Authorization: Bearer " + bearer + "\r\nContent-Type: application/json\r\n");
  EXPECT_FALSE(created.answered) << created.head;
  EXPECT_EQ((*server)->tenant().State()["deviceConfigurations"].size(), 1u);
  EXPECT_EQ((*server)->tenant().Stats().dropped, 1u);
}

}  // namespace
}  // namespace certdeploy::sandbox::testing
