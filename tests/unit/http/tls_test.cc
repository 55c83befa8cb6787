// The HTTPS server over real loopback sockets: round trip with a verified server certificate,
// TLS 1.1 refused, handshake timeout, client certificates, and bad certificate files. The
// certificates are self-signed P-256, generated once per suite into a temporary directory.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "http/server.h"
#include "tests/support/status_matchers.h"
#include "tests/support/http_test_client.h"

namespace certdeploy::http {
namespace {

using ::certdeploy::http::testing::Eventually;
using ::certdeploy::http::testing::MakeSelfSignedCert;
using ::certdeploy::http::testing::RawResponse;
using ::certdeploy::http::testing::TestCert;
using ::certdeploy::http::testing::TestClient;
using ::certdeploy::testing::IsOk;
using ::certdeploy::testing::StatusIs;
using std::chrono::milliseconds;
using ::testing::HasSubstr;

// Answers with the verified client certificate subject (or "-").
ServerResponse Whoami(const ServerRequest& r) {
  return ServerResponse::Text(200, r.client_cert_subject.empty() ? "-" : r.client_cert_subject);
}

const char kGet[] = "GET /whoami HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

class HttpTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char pattern[] = "/tmp/certdeploy-http-tls-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = new std::string(pattern);
    server_cert_ = new TestCert;
    client_cert_ = new TestCert;
    other_cert_ = new TestCert;
    ASSERT_TRUE(MakeSelfSignedCert(*dir_, "server", "127.0.0.1", true, server_cert_));
    ASSERT_TRUE(MakeSelfSignedCert(*dir_, "client", "test-client", false, client_cert_));
    ASSERT_TRUE(MakeSelfSignedCert(*dir_, "other", "other", false, other_cert_));
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
    delete server_cert_;
    delete client_cert_;
    delete other_cert_;
  }

  void TearDown() override {
    for (SSL_CTX* ctx : contexts_) SSL_CTX_free(ctx);
  }

  static ServerOptions TlsOptionsFor(bool require_client_cert) {
    ServerOptions options;
    options.tls = TlsOptions{server_cert_->cert_file, server_cert_->key_file,
                             require_client_cert ? client_cert_->cert_file : ""};
    return options;
  }

  // A client context that trusts only the test server certificate and checks its IP SAN.
  SSL_CTX* ClientContext(const TestCert* client_cert = nullptr) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    contexts_.push_back(ctx);
    EXPECT_EQ(SSL_CTX_load_verify_locations(ctx, server_cert_->cert_file.c_str(), nullptr), 1);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_CTX_get0_param(ctx), "127.0.0.1");
    if (client_cert != nullptr) {
      EXPECT_EQ(SSL_CTX_use_certificate_file(ctx, client_cert->cert_file.c_str(), SSL_FILETYPE_PEM),
                1);
      EXPECT_EQ(SSL_CTX_use_PrivateKey_file(ctx, client_cert->key_file.c_str(), SSL_FILETYPE_PEM),
                1);
    }
    return ctx;
  }

  static std::string* dir_;
  static TestCert* server_cert_;
  static TestCert* client_cert_;
  static TestCert* other_cert_;
  std::vector<SSL_CTX*> contexts_;
};

std::string* HttpTlsTest::dir_ = nullptr;
TestCert* HttpTlsTest::server_cert_ = nullptr;
TestCert* HttpTlsTest::client_cert_ = nullptr;
TestCert* HttpTlsTest::other_cert_ = nullptr;

TEST_F(HttpTlsTest, RoundTripWithVerifiedServerCertificate) {
  auto server = Server::Start(TlsOptionsFor(false), Whoami);
  ASSERT_THAT(server, IsOk());
  EXPECT_EQ((*server)->url(), "https://127.0.0.1:" + std::to_string((*server)->port()));
  auto client = TestClient::ConnectTls((*server)->port(), ClientContext());
  ASSERT_NE(client, nullptr);
  for (int i = 0; i < 2; ++i) {  // Keep-alive over TLS too.
    ASSERT_TRUE(client->Send(kGet));
    std::optional<RawResponse> response = client->ReadResponse();
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "-");
  }
  EXPECT_EQ((*server)->stats().tls_handshake_failures, 0u);
}

TEST_F(HttpTlsTest, Tls11ClientIsRefused) {
  auto server = Server::Start(TlsOptionsFor(false), Whoami);
  ASSERT_THAT(server, IsOk());
  SSL_CTX* ctx = ClientContext();
  // Let the client really offer TLS 1.1 (OpenSSL 3 needs security level 0 for it).
  SSL_CTX_set_security_level(ctx, 0);
  SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
  SSL_CTX_set_min_proto_version(ctx, TLS1_1_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_1_VERSION);
  int reason = 0;
  EXPECT_EQ(TestClient::ConnectTls((*server)->port(), ctx, &reason), nullptr);
  // The server's protocol_version alert, not a client-side refusal to offer TLS 1.1.
  EXPECT_EQ(reason, SSL_R_TLSV1_ALERT_PROTOCOL_VERSION);
}

TEST_F(HttpTlsTest, SilentClientIsClosedAtHandshakeTimeout) {
  ServerOptions options = TlsOptionsFor(false);
  options.handshake_timeout = milliseconds(200);
  auto server = Server::Start(options, Whoami);
  ASSERT_THAT(server, IsOk());
  auto client = TestClient::Connect((*server)->port());  // TCP only, no ClientHello.
  ASSERT_NE(client, nullptr);
  EXPECT_TRUE(client->WaitForClose(milliseconds(5000)));
  ASSERT_TRUE(Eventually([&] { return (*server)->stats().timeouts == 1; }));
  ServerStats stats = (*server)->stats();
  EXPECT_EQ(stats.tls_handshake_failures, 1u);
  EXPECT_EQ(stats.timeouts, 1u);
}

TEST_F(HttpTlsTest, PlainHttpOnTlsPortGetsNoResponse) {
  auto server = Server::Start(TlsOptionsFor(false), Whoami);
  ASSERT_THAT(server, IsOk());
  auto client = TestClient::Connect((*server)->port());
  ASSERT_TRUE(client->Send(kGet));
  EXPECT_TRUE(client->WaitForClose());
  EXPECT_EQ(client->pending().find("HTTP/1.1"), std::string::npos);
}

TEST_F(HttpTlsTest, ClientCertificateRequired) {
  auto server = Server::Start(TlsOptionsFor(true), Whoami);
  ASSERT_THAT(server, IsOk());
  int port = (*server)->port();

  // Without a certificate. With TLS 1.3 the client may finish its side of the handshake before
  // the server's alert arrives, so check that no HTTP response ever comes back.
  auto anonymous = TestClient::ConnectTls(port, ClientContext());
  if (anonymous != nullptr) {
    anonymous->Send(kGet);
    EXPECT_FALSE(anonymous->ReadResponse(milliseconds(2000)).has_value());
  }
  // With a certificate from another (untrusted) issuer.
  auto stranger = TestClient::ConnectTls(port, ClientContext(other_cert_));
  if (stranger != nullptr) {
    stranger->Send(kGet);
    EXPECT_FALSE(stranger->ReadResponse(milliseconds(2000)).has_value());
  }
  // With the trusted certificate: the handler sees its subject.
  auto trusted = TestClient::ConnectTls(port, ClientContext(client_cert_));
  ASSERT_NE(trusted, nullptr);
  ASSERT_TRUE(trusted->Send(kGet));
  std::optional<RawResponse> response = trusted->ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "CN=test-client,O=certdeploy-test");
  EXPECT_TRUE(Eventually([&] { return (*server)->stats().tls_handshake_failures == 2; }));
}

TEST_F(HttpTlsTest, BadCertificateFilesAreInvalidArgumentNamingTheFile) {
  ServerOptions options = TlsOptionsFor(false);
  options.tls->cert_file = *dir_ + "/missing.crt";
  EXPECT_THAT(Server::Start(options, Whoami),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("missing.crt")));

  std::string garbage = *dir_ + "/garbage.key";
  std::ofstream(garbage) << "not a key\n";
  options = TlsOptionsFor(false);
  options.tls->key_file = garbage;
  EXPECT_THAT(Server::Start(options, Whoami),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("garbage.key")));

  options = TlsOptionsFor(false);
  options.tls->key_file = client_cert_->key_file;  // Valid key, wrong certificate.
  EXPECT_THAT(Server::Start(options, Whoami),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("does not match")));

  options = TlsOptionsFor(false);
  options.tls->client_ca_file = garbage;
  EXPECT_THAT(Server::Start(options, Whoami),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("garbage.key")));
}

}  // namespace
}  // namespace certdeploy::http
