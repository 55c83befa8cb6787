// Client-credentials TokenSource: form bodies, caching on a FakeClock, errors, retries, and the
// PS256 client assertion verified with OpenSSL.

#include "graph/token_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>

#include "base/encoding.h"
#include "base/strings.h"
#include "tests/support/fake_clock.h"
#include "tests/support/fake_http_transport.h"
#include "tests/support/status_matchers.h"
#include "tests/unit/graph/graph_test_util.h"

namespace certdeploy::graph {
namespace {

using certdeploy::testing::FakeClock;
using certdeploy::testing::FakeHttpTransport;
using certdeploy::testing::IsOk;
using certdeploy::testing::Response;
using certdeploy::testing::StatusIs;
using nlohmann::json;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kTokenUrl[] = "https://login.test/tenant-1/oauth2/v2.0/token";
constexpr char kSecret[] = "s3cr&t=+ value";

std::string TokenBody(const std::string& token, int expires_in = 3599) {
  return json{{"token_type", "Bearer"}, {"expires_in", expires_in}, {"access_token", token}}.dump();
}

std::map<std::string, std::string> ParseForm(const std::string& body) {
  std::map<std::string, std::string> form;
  for (std::string_view pair : SplitString(body, '&')) {
    size_t eq = pair.find('=');
    std::optional<std::string> key = PercentDecode(pair.substr(0, eq), /*plus_is_space=*/true);
    std::optional<std::string> value =
        PercentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
    EXPECT_TRUE(key && value) << "malformed form pair: " << pair;
    form[key.value_or("")] = value.value_or("");
  }
  return form;
}

// The JWT segments are checked against OpenSSL's base64 (an independent implementation), not
// against base/encoding.h, which produced them.

std::string Base64UrlDecode(std::string s) {
  for (char& c : s) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (s.size() % 4) s.push_back('=');
  std::string out(s.size(), '\0');
  int n =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  EXPECT_GE(n, 0);
  out.resize(static_cast<size_t>(n) - std::count(s.begin(), s.end(), '='));
  return out;
}

std::string Base64UrlEncode(const unsigned char* data, size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

// The decoded claims of a compact JWS.
json Claims(const std::string& jwt) {
  size_t dot1 = jwt.find('.'), dot2 = jwt.rfind('.');
  return json::parse(Base64UrlDecode(jwt.substr(dot1 + 1, dot2 - dot1 - 1)));
}

// A self-signed RSA certificate and key made with OpenSSL, once per test binary.
struct TestApp {
  std::string cert_pem;
  std::string key_pem;
  std::string cert_der;
  EVP_PKEY* key = nullptr;  // Leaked on purpose: lives as long as the test binary.
};

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

TestApp MakeApp(EVP_PKEY* key) {
  TestApp app;
  app.key = key;
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("certdeploy test app"), -1, -1,
                             0);
  X509_set_issuer_name(x, name);
  X509_sign(x, key, EVP_sha256());
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, x);
  app.cert_pem = BioText(bio);
  bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  app.key_pem = BioText(bio);
  int len = i2d_X509(x, nullptr);
  app.cert_der.resize(static_cast<size_t>(len));
  auto* out = reinterpret_cast<unsigned char*>(app.cert_der.data());
  i2d_X509(x, &out);
  X509_free(x);
  return app;
}

const TestApp& App() {
  static const TestApp app = MakeApp(EVP_RSA_gen(2048));
  return app;
}

class TokenSourceTest : public ::testing::Test {
 protected:
  ClientCredentialsOptions SecretOptions() {
    ClientCredentialsOptions o;
    o.authority_url = "https://login.test";
    o.graph_url = "https://graph.test";
    o.tenant_id = "tenant-1";
    o.client_id = "11111111-2222-3333-4444-555555555555";
    o.client_secret = SecretBytes(std::string_view(kSecret));
    return o;
  }
  ClientCredentialsOptions CertificateOptions(const TestApp& app) {
    ClientCredentialsOptions o = SecretOptions();
    o.client_secret.reset();
    o.certificate = ClientCertificateCredential{app.cert_pem, SecretBytes(app.key_pem)};
    return o;
  }
  std::unique_ptr<TokenSource> Make(ClientCredentialsOptions options) {
    Result<std::unique_ptr<TokenSource>> source =
        NewClientCredentialsTokenSource(std::move(options), http_, clock_, random_);
    EXPECT_THAT(source, IsOk());
    return source.ok() ? std::move(source).value() : nullptr;
  }

  FakeClock clock_;
  FakeHttpTransport http_;
  testing::FixedRandom random_;
};

TEST_F(TokenSourceTest, PostsClientSecretForm) {
  http_.Enqueue(Response(200, TokenBody("tok-1")));
  auto tokens = Make(SecretOptions());
  EXPECT_EQ(tokens->Token().value_or(""), "tok-1");
  ASSERT_EQ(http_.requests().size(), 1u);
  const HttpRequest request = http_.requests()[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, kTokenUrl);
  EXPECT_EQ(request.Header("Content-Type"), "application/x-www-form-urlencoded");
  EXPECT_TRUE(request.sensitive_body);
  EXPECT_THAT(ParseForm(request.body),
              ::testing::UnorderedElementsAre(
                  ::testing::Pair("grant_type", "client_credentials"),
                  ::testing::Pair("client_id", "11111111-2222-3333-4444-555555555555"),
                  ::testing::Pair("scope", "https://graph.test/.default"),
                  ::testing::Pair("client_secret", kSecret)));
}

TEST_F(TokenSourceTest, CachesUntilFiveMinutesBeforeExpiry) {
  http_.Enqueue(Response(200, TokenBody("tok-1", 3600))).Enqueue(Response(200, TokenBody("tok-2")));
  auto tokens = Make(SecretOptions());
  EXPECT_EQ(tokens->Token().value_or(""), "tok-1");
  clock_.Advance(seconds(3600 - 300 - 1));
  EXPECT_EQ(tokens->Token().value_or(""), "tok-1");
  EXPECT_EQ(http_.requests().size(), 1u);
  clock_.Advance(seconds(1));
  EXPECT_EQ(tokens->Token().value_or(""), "tok-2");
  EXPECT_EQ(http_.requests().size(), 2u);
}

TEST_F(TokenSourceTest, ShortLivedTokensRefreshAtHalfLife) {
  http_.Enqueue(Response(200, TokenBody("tok-1", 60))).Enqueue(Response(200, TokenBody("tok-2")));
  auto tokens = Make(SecretOptions());
  EXPECT_EQ(tokens->Token().value_or(""), "tok-1");
  clock_.Advance(seconds(29));
  EXPECT_EQ(tokens->Token().value_or(""), "tok-1");
  clock_.Advance(seconds(1));
  EXPECT_EQ(tokens->Token().value_or(""), "tok-2");
}

TEST_F(TokenSourceTest, InvalidateForcesARefresh) {
  http_.Enqueue(Response(200, TokenBody("tok-1"))).Enqueue(Response(200, TokenBody("tok-2")));
  auto tokens = Make(SecretOptions());
  EXPECT_EQ(tokens->Token().value_or(""), "tok-1");
  tokens->Invalidate();
  EXPECT_EQ(tokens->Token().value_or(""), "tok-2");
}

TEST_F(TokenSourceTest, RejectedCredentialsAreUnauthenticatedWithTheDescription) {
  http_.Enqueue(Response(401, json{{"error", "invalid_client"},
                                   {"error_description",
                                    "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: "
                                    "t-1\r\nTimestamp: 2026-01-01"},
                                   {"trace_id", "t-1"}}
                                  .dump()));
  auto tokens = Make(SecretOptions());
  Result<std::string> token = tokens->Token();
  EXPECT_THAT(token, StatusIs(StatusCode::kUnauthenticated,
                              HasSubstr("invalid_client: AADSTS7000215: Invalid client secret "
                                        "provided. (request-id t-1)")));
  EXPECT_THAT(std::string(token.status().message()), Not(HasSubstr("s3cr")));
  EXPECT_EQ(http_.requests().size(), 1u);
}

TEST_F(TokenSourceTest, RetriesThrottlingAndConnectionFailures) {
  http_.Enqueue(Response(429).WithHeader("Retry-After", "3"))
      .EnqueueError(UnavailableError("connection refused"))
      .EnqueueError(UnknownOutcomeError("timeout after write"))  // Safe: no side effect.
      .Enqueue(Response(503))
      .Enqueue(Response(200, TokenBody("tok-1")));
  auto tokens = Make(SecretOptions());
  EXPECT_EQ(tokens->Token().value_or(""), "tok-1");
  EXPECT_THAT(clock_.sleeps(),
              ::testing::ElementsAre(seconds(3), seconds(1), seconds(2), seconds(4)));
}

TEST_F(TokenSourceTest, ValidatesOptions) {
  ClientCredentialsOptions both = SecretOptions();
  both.certificate = ClientCertificateCredential{App().cert_pem, SecretBytes(App().key_pem)};
  EXPECT_THAT(NewClientCredentialsTokenSource(std::move(both), http_, clock_, random_),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("exactly one")));
  ClientCredentialsOptions none = SecretOptions();
  none.client_secret.reset();
  EXPECT_THAT(NewClientCredentialsTokenSource(std::move(none), http_, clock_, random_),
              StatusIs(StatusCode::kInvalidArgument));
  ClientCredentialsOptions no_tenant = SecretOptions();
  no_tenant.tenant_id.clear();
  EXPECT_THAT(NewClientCredentialsTokenSource(std::move(no_tenant), http_, clock_, random_),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("tenant")));
}

TEST_F(TokenSourceTest, CertificateCredentialSendsASignedPs256Assertion) {
  http_.Enqueue(Response(200, TokenBody("tok-1"))).Enqueue(Response(200, TokenBody("tok-2")));
  auto tokens = Make(CertificateOptions(App()));
  ASSERT_EQ(tokens->Token().value_or(""), "tok-1");
  tokens->Invalidate();
  ASSERT_EQ(tokens->Token().value_or(""), "tok-2");

  std::map<std::string, std::string> form = ParseForm(http_.requests()[0].body);
  EXPECT_EQ(form.count("client_secret"), 0u);
  EXPECT_EQ(form["client_assertion_type"],
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
  const std::string jwt = form["client_assertion"];
  size_t dot1 = jwt.find('.'), dot2 = jwt.rfind('.');
  ASSERT_NE(dot1, dot2);

  json header = json::parse(Base64UrlDecode(jwt.substr(0, dot1)));
  unsigned char digest[32];
  SHA256(reinterpret_cast<const unsigned char*>(App().cert_der.data()), App().cert_der.size(),
         digest);
  std::string x5t = Base64UrlEncode(digest, sizeof(digest));
  EXPECT_EQ(header, (json{{"alg", "PS256"}, {"typ", "JWT"}, {"x5t#S256", x5t}}));

  json claims = Claims(jwt);
  const int64_t now = 1767225600;
  EXPECT_EQ(claims["aud"], kTokenUrl);
  EXPECT_EQ(claims["iss"], "11111111-2222-3333-4444-555555555555");
  EXPECT_EQ(claims["sub"], claims["iss"]);
  EXPECT_EQ(claims["nbf"], now);
  EXPECT_EQ(claims["iat"], now);
  EXPECT_EQ(claims["exp"], now + 600);
  EXPECT_TRUE(std::regex_match(claims["jti"].get<std::string>(),
                               std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                                          "[0-9a-f]{12}")));
  json second = Claims(ParseForm(http_.requests()[1].body)["client_assertion"]);
  EXPECT_NE(second["jti"], claims["jti"]);

  // RSASSA-PSS, SHA-256, MGF1-SHA-256, salt length = digest length, over "header.claims".
  auto verify = [&](const std::string& signing_input, const std::string& signature) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX* pctx = nullptr;
    EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), nullptr, App().key);
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32);
    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256());
    int ok = EVP_DigestVerify(
        ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
        reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size());
    EVP_MD_CTX_free(ctx);
    return ok == 1;
  };
  const std::string signature = Base64UrlDecode(jwt.substr(dot2 + 1));
  EXPECT_EQ(signature.size(), 256u);
  EXPECT_TRUE(verify(jwt.substr(0, dot2), signature));
  EXPECT_FALSE(verify(jwt.substr(0, dot2) + "x", signature));
}

TEST_F(TokenSourceTest, RejectsUnusableCertificateCredentials) {
  static const TestApp other = MakeApp(EVP_RSA_gen(2048));
  ClientCredentialsOptions mismatched = CertificateOptions(App());
  mismatched.certificate->private_key_pem = SecretBytes(other.key_pem);
  EXPECT_THAT(NewClientCredentialsTokenSource(std::move(mismatched), http_, clock_, random_),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("does not match")));

  EVP_PKEY* ec = EVP_EC_gen("P-256");
  TestApp ec_app = MakeApp(ec);
  EXPECT_THAT(NewClientCredentialsTokenSource(CertificateOptions(ec_app), http_, clock_, random_),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("RSA")));
  EVP_PKEY_free(ec);

  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PKCS8PrivateKey(bio, App().key, EVP_aes_256_cbc(), nullptr, 0, nullptr,
                                const_cast<char*>("pw"));
  ClientCredentialsOptions encrypted = CertificateOptions(App());
  encrypted.certificate->private_key_pem = SecretBytes(BioText(bio));
  EXPECT_THAT(NewClientCredentialsTokenSource(std::move(encrypted), http_, clock_, random_),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("encrypted")));

  ClientCredentialsOptions garbage = CertificateOptions(App());
  garbage.certificate->certificate_pem = "not a certificate";
  EXPECT_THAT(NewClientCredentialsTokenSource(std::move(garbage), http_, clock_, random_),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("certificate")));
}

}  // namespace
}  // namespace certdeploy::graph
