// tests/unit/sandbox/sandbox_test_support.h: a tenant on a FakeClock and helpers to call it.
//
// Requests go straight to SandboxTenant::Handle (no sockets). The fixture creates a tenant with
// the test PKI's connector key and a client secret, and fetches a bearer token, so each test
// starts authenticated.

#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <span>
#include <string>

#include "base/encoding.h"
#include "base/random.h"
#include "base/strings.h"
#include "base/time_format.h"
#include "pkcs/certificate.h"
#include "pkcs/pkcs12.h"
#include "pkcs/seal.h"
#include "sandbox/internal/wire.h"
#include "sandbox/sandbox.h"
#include "tests/support/fake_clock.h"
#include "tests/support/status_matchers.h"
#include "tests/support/test_pki.h"

namespace certdeploy::sandbox::testing {

using certdeploy::testing::FakeClock;
using nlohmann::json;
using http::ServerRequest;
using http::ServerResponse;

inline constexpr char kHost[] = "sandbox.test:8443";
inline constexpr char kBase[] = "http://sandbox.test:8443";
inline constexpr char kSecret[] = "s3cret-value";
inline constexpr char kClientId[] = "11111111-2222-3333-4444-555555555555";

inline ServerRequest MakeRequest(std::string method, std::string target, std::string body = "",
                                 std::map<std::string, std::string> headers = {}) {
  ServerRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.body = std::move(body);
  r.headers.emplace("host", kHost);
  for (auto& [k, v] : headers) r.headers.emplace(AsciiToLower(k), v);
  return r;
}

inline json BodyOf(const ServerResponse& r) {
  return r.body.empty() ? json() : json::parse(r.body, nullptr, false);
}

inline std::string HeaderOf(const ServerResponse& r, const std::string& name) {
  auto it = r.headers.find(name);
  return it == r.headers.end() ? "" : it->second;
}

inline std::string Base64(const std::vector<uint8_t>& bytes) {
  return Base64Encode(bytes);
}

inline std::string FormEncode(const std::map<std::string, std::string>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += '&';
    out += PercentEncode(k) + "=" + PercentEncode(v);
  }
  return out;
}

// The certificate inside a fixture PFX.
inline pkcs::Certificate LeafOf(const std::string& pfx_name) {
  auto bytes = certdeploy::testing::ReadPkiBytes(pfx_name);
  auto contents = pkcs::ParsePkcs12(bytes, certdeploy::testing::FixturePassword());
  EXPECT_TRUE(contents.ok()) << contents.status();
  return contents.ok() ? contents->leaf : pkcs::Certificate{};
}

class SandboxTest : public ::testing::Test {
 protected:
  SandboxTest() : clock_(certdeploy::testing::FixtureNow()) {
    options_.connector_key_file = certdeploy::testing::PkiPath("connector.key");
    options_.client_id = kClientId;
    options_.client_secret = SecretBytes(std::string_view(kSecret));
    options_.page_size = 10;
  }

  // Creates the tenant from options_ and fetches a token.
  void Start() {
    auto tenant = SandboxTenant::Create(options_, clock_, random_);
    ASSERT_TRUE(tenant.ok()) << tenant.status();
    tenant_ = std::move(tenant).value();
    token_ = FetchToken();
  }

  std::string FetchToken() {
    ServerResponse r =
        tenant_->Handle(MakeRequest("POST", "/contoso.onmicrosoft.com/oauth2/v2.0/token",
                                    FormEncode({{"grant_type", "client_credentials"},
                                                {"client_id", kClientId},
                                                {"client_secret", kSecret},
                                                {"scope", "https://graph.microsoft.com/.default"}}),
                                    {{"Content-Type", "application/x-www-form-urlencoded"}}));
    EXPECT_EQ(r.status, 200) << r.body;
    return BodyOf(r).value("access_token", "");
  }

  // An authenticated Graph call; a JSON body gets Content-Type application/json.
  ServerResponse Call(const std::string& method, const std::string& target,
                      const json& body = json()) {
    std::map<std::string, std::string> headers = {{"Authorization", "Bearer " + token_}};
    std::string text;
    if (!body.is_null()) {
      text = body.dump();
      headers["Content-Type"] = "application/json";
    }
    return tenant_->Handle(MakeRequest(method, target, text, headers));
  }

  // A valid userPfxCertificate create body for a fixture PFX and UPN.
  json PfxBody(const std::string& pfx_name, const std::string& upn,
               const std::string& padding = "oaepSha256") {
    pkcs::Certificate leaf = LeafOf(pfx_name);
    auto key = pkcs::ConnectorPublicKey::LoadFile(certdeploy::testing::PkiPath("connector.pub"));
    EXPECT_TRUE(key.ok()) << key.status();
    auto scheme = pkcs::ParsePaddingScheme(padding);
    std::string sealed;
    if (key.ok() && scheme.ok()) {
      auto s = pkcs::SealPassword(certdeploy::testing::FixturePassword(), *key, *scheme);
      EXPECT_TRUE(s.ok()) << s.status();
      sealed = s.value_or("");
    }
    return json{{"@odata.type", "#microsoft.graph.userPFXCertificate"},
                {"id", ""},
                {"thumbprint", leaf.sha1},
                {"intendedPurpose", "smimeEncryption"},
                {"userPrincipalName", upn},
                {"startDateTime", FormatRfc3339Utc(leaf.not_before)},
                {"expirationDateTime", FormatRfc3339Utc(leaf.not_after)},
                {"providerName", "Microsoft Software Key Storage Provider"},
                {"keyName", "PFXEncryptionKey"},
                {"paddingScheme", padding},
                {"encryptedPfxBlob", Base64(certdeploy::testing::ReadPkiBytes(pfx_name))},
                {"encryptedPfxPassword", sealed}};
  }

  // A valid trusted root profile body (the test PKI's issuing CA).
  json RootBody(const std::string& type = "iosTrustedRootCertificate",
                const std::string& cert = "ca.der") {
    return json{{"@odata.type", "#microsoft.graph." + type},
                {"displayName", "Test CA R36"},
                {"description", "issuing CA"},
                {"roleScopeTagIds", {"0"}},
                {"certFileName", cert},
                {"trustedRootCertificate", Base64(certdeploy::testing::ReadPkiBytes(cert))}};
  }

  static std::string UserIdCompact(const std::string& user_id) {
    std::string out;
    for (char c : user_id) {
      if (c != '-') out += c;
    }
    return out;
  }

  SandboxStats Stats() { return tenant_->Stats(); }

  FakeClock clock_;
  SeededRandom random_{42};
  SandboxOptions options_;
  std::unique_ptr<SandboxTenant> tenant_;
  std::string token_;
};

}  // namespace certdeploy::sandbox::testing
