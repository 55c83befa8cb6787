// The token endpoint (client secret and JWT client assertion) and Graph's bearer check.

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "tests/unit/sandbox/sandbox_test_support.h"

namespace certdeploy::sandbox::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kTokenPath[] = "/contoso.onmicrosoft.com/oauth2/v2.0/token";
constexpr char kTokenUrl[] = "http://sandbox.test:8443/contoso.onmicrosoft.com/oauth2/v2.0/token";

std::string HexToBytes(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return out;
}

// Signs `input` with the PEM private key at `key_path`. salt_len applies to PS256 only.
std::string Sign(const std::string& key_path, const std::string& alg, const std::string& input,
                 int salt_len = RSA_PSS_SALTLEN_DIGEST) {
  std::string pem = certdeploy::testing::ReadFileText(key_path);
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  EXPECT_NE(key, nullptr);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), nullptr, key);
  if (alg == "PS256") {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt_len);
  }
  size_t len = 0;
  EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                 input.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  return sig;
}

class AuthTest : public SandboxTest {
 protected:
  AuthTest() {
    // alice's certificate plays the app registration's certificate credential.
    options_.app_cert_file = certdeploy::testing::PkiPath("alice.pem");
  }
  void SetUp() override { Start(); }

  struct Jwt {
    std::string alg = "PS256";
    json header;
    json claims;
    std::string key = certdeploy::testing::PkiPath("alice.key");
    int salt_len = RSA_PSS_SALTLEN_DIGEST;
  };

  Jwt ValidJwt() {
    Jwt jwt;
    int64_t now =
        std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
    jwt.header = {{"alg", "PS256"},
                  {"typ", "JWT"},
                  {"x5t#S256", Base64UrlEncode(
                                   HexToBytes(certdeploy::testing::ExpectedSha256("alice")))}};
    jwt.claims = {{"aud", kTokenUrl},        {"iss", kClientId}, {"sub", kClientId},
                  {"jti", NewGuid(random_)}, {"nbf", now},       {"exp", now + 600}};
    return jwt;
  }

  std::string Encode(const Jwt& jwt) {
    std::string input = Base64UrlEncode(jwt.header.dump()) + "." +
                        Base64UrlEncode(jwt.claims.dump());
    return input + "." +
           Base64UrlEncode(
               Sign(jwt.key, jwt.header.value("alg", ""), input, jwt.salt_len));
  }

  ServerResponse PostToken(std::map<std::string, std::string> form,
                           std::map<std::string, std::string> headers = {}) {
    headers.emplace("Content-Type", "application/x-www-form-urlencoded");
    return tenant_->Handle(MakeRequest("POST", kTokenPath, FormEncode(form), headers));
  }

  ServerResponse PostAssertion(const std::string& assertion) {
    return PostToken(
        {{"grant_type", "client_credentials"},
         {"client_id", kClientId},
         {"scope", "https://graph.microsoft.com/.default"},
         {"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
         {"client_assertion", assertion}});
  }

  // Expects an AAD error with `aadsts` among its error_codes.
  static void ExpectAadError(const ServerResponse& r, int status, int aadsts) {
    EXPECT_EQ(r.status, status) << r.body;
    json body = BodyOf(r);
    EXPECT_TRUE(body.contains("error")) << r.body;
    EXPECT_EQ(body["error_codes"], json::array({aadsts})) << r.body;
    EXPECT_THAT(body.value("error_description", ""),
                HasSubstr("AADSTS" + std::to_string(aadsts) + ":"));
    EXPECT_TRUE(body.contains("trace_id") && body.contains("correlation_id") &&
                body.contains("timestamp"));
  }
};

TEST_F(AuthTest, ClientSecretIssuesAUsableToken) {
  ServerResponse r = PostToken({{"grant_type", "client_credentials"},
                                {"client_id", kClientId},
                                {"client_secret", kSecret},
                                {"scope", "https://graph.microsoft.com/.default"}});
  ASSERT_EQ(r.status, 200) << r.body;
  json body = BodyOf(r);
  EXPECT_EQ(body["token_type"], "Bearer");
  EXPECT_EQ(body["expires_in"], 3599);
  std::string token = body["access_token"];
  EXPECT_FALSE(token.empty());
  token_ = token;
  EXPECT_EQ(Call("GET", "/v1.0/users/alice@contoso.com").status, 200);
  EXPECT_EQ(Stats().tokens_issued, 2u);  // The fixture's and this one.
}

TEST_F(AuthTest, ClientSecretOverHttpBasic) {
  std::string basic =
      Base64Encode(std::string(kClientId) + ":" + PercentEncode(kSecret));
  ServerResponse r = PostToken(
      {{"grant_type", "client_credentials"}, {"scope", "https://graph.microsoft.com/.default"}},
      {{"Authorization", "Basic " + basic}});
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(AuthTest, SecretRequestRefusals) {
  std::map<std::string, std::string> good = {{"grant_type", "client_credentials"},
                                             {"client_id", kClientId},
                                             {"client_secret", kSecret},
                                             {"scope", "https://graph.microsoft.com/.default"}};
  auto with = [&](const std::string& k, const std::string& v) {
    auto f = good;
    f[k] = v;
    return f;
  };
  ExpectAadError(PostToken(with("client_secret", "wrong")), 401, 7000215);
  ExpectAadError(PostToken(with("scope", "https://graph.microsoft.com/User.Read")), 400, 1002012);
  ExpectAadError(PostToken(with("client_id", "99999999-2222-3333-4444-555555555555")), 400, 700016);
  ExpectAadError(PostToken(with("grant_type", "password")), 400, 70003);
  auto no_secret = good;
  no_secret.erase("client_secret");
  ExpectAadError(PostToken(no_secret), 401, 7000216);
  auto no_scope = good;
  no_scope.erase("scope");
  ExpectAadError(PostToken(no_scope), 400, 900144);
  EXPECT_EQ(Stats().auth_failures, 6u);
  EXPECT_EQ(Stats().tokens_issued, 1u);
}

TEST_F(AuthTest, JwtAssertionPs256AndRs256) {
  ServerResponse r = PostAssertion(Encode(ValidJwt()));
  ASSERT_EQ(r.status, 200) << r.body;
  token_ = BodyOf(r)["access_token"];
  EXPECT_EQ(Call("GET", "/beta/users/alice@contoso.com").status, 200);

  Jwt rs = ValidJwt();
  rs.header = {
      {"alg", "RS256"},
      {"typ", "JWT"},
      {"x5t", Base64UrlEncode(HexToBytes(certdeploy::testing::ExpectedSha1("alice")))}};
  EXPECT_EQ(PostAssertion(Encode(rs)).status, 200);
}

TEST_F(AuthTest, JwtAssertionIsSingleUse) {
  std::string assertion = Encode(ValidJwt());
  EXPECT_EQ(PostAssertion(assertion).status, 200);
  ExpectAadError(PostAssertion(assertion), 401, 700025);
}

TEST_F(AuthTest, JwtAssertionRefusals) {
  Jwt wrong_aud = ValidJwt();
  wrong_aud.claims["aud"] = "https://login.microsoftonline.com/contoso/oauth2/v2.0/token";
  ExpectAadError(PostAssertion(Encode(wrong_aud)), 401, 700212);

  Jwt wrong_iss = ValidJwt();
  wrong_iss.claims["iss"] = "someone-else";
  ExpectAadError(PostAssertion(Encode(wrong_iss)), 401, 700021);

  Jwt expired = ValidJwt();
  expired.claims["nbf"] = expired.claims["nbf"].get<int64_t>() - 3600;
  expired.claims["exp"] = expired.claims["nbf"].get<int64_t>() + 600;
  ExpectAadError(PostAssertion(Encode(expired)), 401, 700024);

  Jwt other_key = ValidJwt();  // Signed by bob's key, announced as alice's certificate.
  other_key.key = certdeploy::testing::PkiPath("bob.key");
  ExpectAadError(PostAssertion(Encode(other_key)), 401, 7000274);

  Jwt max_salt = ValidJwt();  // OpenSSL's default PSS salt length; Entra wants 32.
  max_salt.salt_len = RSA_PSS_SALTLEN_MAX;
  ExpectAadError(PostAssertion(Encode(max_salt)), 401, 7000274);

  Jwt wrong_thumb = ValidJwt();
  wrong_thumb.header["x5t#S256"] =
      Base64UrlEncode(HexToBytes(certdeploy::testing::ExpectedSha256("bob")));
  ExpectAadError(PostAssertion(Encode(wrong_thumb)), 401, 700027);

  Jwt no_jti = ValidJwt();
  no_jti.claims.erase("jti");
  ExpectAadError(PostAssertion(Encode(no_jti)), 400, 50027);

  ExpectAadError(PostAssertion("not.a-jwt"), 400, 50027);
  EXPECT_EQ(Stats().tokens_issued, 1u);
}

TEST_F(AuthTest, GraphRequiresAValidUnexpiredBearer) {
  ServerResponse none = tenant_->Handle(MakeRequest("GET", "/v1.0/users/alice@contoso.com"));
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(BodyOf(none)["error"]["code"], "InvalidAuthenticationToken");
  EXPECT_FALSE(HeaderOf(none, "www-authenticate").empty());

  ServerResponse garbage = tenant_->Handle(MakeRequest("GET", "/v1.0/users/alice@contoso.com", "",
                                                       {{"Authorization", "Bearer nonsense"}}));
  EXPECT_EQ(garbage.status, 401);

  EXPECT_EQ(Call("GET", "/v1.0/users/alice@contoso.com").status, 200);
  clock_.Advance(std::chrono::seconds(3598));
  EXPECT_EQ(Call("GET", "/v1.0/users/alice@contoso.com").status, 200);
  clock_.Advance(std::chrono::seconds(2));
  ServerResponse expired = Call("GET", "/v1.0/users/alice@contoso.com");
  EXPECT_EQ(expired.status, 401);
  EXPECT_THAT(BodyOf(expired)["error"]["message"].get<std::string>(), HasSubstr("expired"));
  EXPECT_EQ(Stats().auth_failures, 3u);
  // Inspection needs no token.
  EXPECT_EQ(tenant_->Handle(MakeRequest("GET", "/_sandbox/stats")).status, 200);
}

TEST_F(AuthTest, EveryResponseCarriesRequestIdsAndDate) {
  ServerResponse r = tenant_->Handle(
      MakeRequest("GET", "/v1.0/users/no-such-id", "",
                  {{"Authorization", "Bearer " + token_}, {"client-request-id", "my-id-1"}}));
  EXPECT_EQ(HeaderOf(r, "client-request-id"), "my-id-1");
  EXPECT_FALSE(HeaderOf(r, "request-id").empty());
  EXPECT_FALSE(HeaderOf(r, "date").empty());
  json inner = BodyOf(r)["error"]["innerError"];
  EXPECT_EQ(inner["client-request-id"], "my-id-1");
  EXPECT_EQ(inner["request-id"], HeaderOf(r, "request-id"));
}

}  // namespace
}  // namespace certdeploy::sandbox::testing
