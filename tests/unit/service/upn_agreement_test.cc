// The manifest loader (plan, apply, rollouts) and the REST API (enrollments) apply one UPN rule:
// on the same table of UPNs they accept and refuse exactly the same ones.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/manifest.h"
#include "tests/support/upn_cases.h"
#include "tests/unit/service/daemon_harness.h"

namespace certdeploy::service::testing {
namespace {

using ::testing::HasSubstr;

// Whether a manifest row naming `upn` survives loading.
bool ManifestAccepts(const std::string& upn) {
  std::string quoted;  // RFC 4180: a quote inside a quoted field is doubled.
  for (char c : upn) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  const std::string csv =
      "userPrincipalName,pfxFile,passwordFile\n\"" + quoted + "\",user.pfx,pw.txt\n";
  Result<config::Manifest> m = config::ParseManifest(csv, "/inbox/manifest.csv");
  EXPECT_TRUE(m.ok()) << m.status();
  if (!m.ok()) return false;
  EXPECT_EQ(m->rows.size() + m->problems.size(), 1u);
  return m->rows.size() == 1;
}

// Whether POST /v1/enrollments gets past the UPN: with a PFX that is not base64, an accepted UPN
// gets the "pfx:" 400, a refused one the "userPrincipalName:" 400.
bool ApiAccepts(DaemonHarness& h, const std::string& upn) {
  const nlohmann::json body = {{"userPrincipalName", upn}, {"pfx", "!!!"}, {"password", "x"}};
  RawResponse r = h.Request("POST", "/v1/enrollments", kHrKey, body.dump());
  EXPECT_EQ(r.status, 400) << upn.substr(0, 80);
  const std::string detail = h.Json(r).value("detail", "");
  if (detail.starts_with("userPrincipalName:")) return false;
  EXPECT_THAT(detail, HasSubstr("pfx:")) << upn.substr(0, 80);
  return true;
}

TEST(UpnAgreementTest, ManifestAndRestApiAcceptTheSameUpns) {
  HarnessOptions options;
  options.max_body_bytes = 64 * 1024;
  DaemonHarness h(options);
  ASSERT_TRUE(h.ok()) << h.error();
  for (const certdeploy::testing::UpnCase& c : certdeploy::testing::UpnCases()) {
    const std::string label = c.upn.substr(0, 80);
    const bool manifest = ManifestAccepts(c.upn);
    const bool api = ApiAccepts(h, c.upn);
    EXPECT_EQ(manifest, c.valid) << label;
    EXPECT_EQ(api, manifest) << label;
  }
}

}  // namespace
}  // namespace certdeploy::service::testing
