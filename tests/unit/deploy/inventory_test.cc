// Inventory rows from userPfxCertificates: status by expiry, supersededBy per user and purpose,
// the --expiring-within filter, and the text, JSON and CSV renderings.

#include "deploy/inventory.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace certdeploy::deploy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

const SystemTime kNow = SystemTime(std::chrono::seconds(1798000000));

graph::UserPfxCertificate Record(const std::string& upn, const std::string& thumbprint,
                                 graph::UserPfxIntendedPurpose purpose, SystemTime expires) {
  graph::UserPfxCertificate r;
  r.id = upn + "-" + thumbprint;
  r.user_principal_name = upn;
  r.thumbprint = thumbprint;
  r.intended_purpose = purpose;
  r.start_date_time = expires - 365 * 24h;
  r.expiration_date_time = expires;
  return r;
}

std::vector<graph::UserPfxCertificate> Tenant() {
  using P = graph::UserPfxIntendedPurpose;
  return {Record("bob@contoso.com", "B1", P::kSmimeEncryption, kNow + 200 * 24h),
          Record("Alice@Contoso.com", "A2", P::kSmimeEncryption, kNow + 300 * 24h),
          Record("alice@contoso.com", "A1", P::kSmimeEncryption, kNow - 10 * 24h),
          Record("alice@contoso.com", "AS", P::kSmimeSigning, kNow + 20 * 24h)};
}

std::vector<std::string> Lines(const std::vector<InventoryRow>& rows) {
  std::vector<std::string> out;
  for (const InventoryRow& r : rows) {
    out.push_back(r.thumbprint + " " + std::string(CertificateStatusName(r.status)) + " " +
                  r.superseded_by);
  }
  return out;
}

TEST(InventoryTest, StatusAndSupersededByPerUserAndPurpose) {
  InventoryOptions options;
  options.now = kNow;
  std::vector<InventoryRow> rows = BuildInventory(Tenant(), options);
  // Sorted by user (ignoring case), purpose, expiration; thumbprints lowercase.
  EXPECT_THAT(Lines(rows), ElementsAre("a1 expired a2", "a2 valid ", "as expiring ", "b1 valid "));
}

TEST(InventoryTest, ExpiringWithinKeepsOnlyThoseAndTheExpired) {
  InventoryOptions options;
  options.now = kNow;
  options.expiring_within = 30;
  EXPECT_THAT(Lines(BuildInventory(Tenant(), options)),
              ElementsAre("a1 expired a2", "as expiring "));
  options.expiring_within = 0;
  EXPECT_THAT(Lines(BuildInventory(Tenant(), options)), ElementsAre("a1 expired a2"));
}

TEST(InventoryTest, TextJsonAndCsv) {
  InventoryOptions options;
  options.now = kNow;
  std::vector<InventoryRow> rows = BuildInventory(Tenant(), options);
  const std::string text = RenderInventoryText(rows, options);
  EXPECT_THAT(text, HasSubstr("alice@contoso.com  a1  smimeEncryption  expires "));
  EXPECT_THAT(text, HasSubstr("expired  superseded by a2"));
  EXPECT_THAT(text, HasSubstr("4 certificates, 1 expiring within 30 days, 1 expired.\n"));

  nlohmann::json j = InventoryRowJson(rows[0]);
  EXPECT_EQ(j["userPrincipalName"], "alice@contoso.com");
  EXPECT_EQ(j["status"], "expired");
  EXPECT_EQ(j["supersededBy"], "a2");
  EXPECT_TRUE(InventoryRowJson(rows[1])["supersededBy"].is_null());
  EXPECT_EQ(j["expirationDateTime"].get<std::string>().back(), 'Z');

  rows[0].user_principal_name = "o'neil,jr@contoso.com";
  const std::string csv = RenderInventoryCsv(rows);
  EXPECT_EQ(csv.substr(0, csv.find("\r\n")),
            "userPrincipalName,thumbprint,intendedPurpose,startDateTime,expirationDateTime,status,"
            "supersededBy");
  EXPECT_THAT(csv, HasSubstr("\r\n\"o'neil,jr@contoso.com\",a1,smimeEncryption,"));
  EXPECT_THAT(csv, HasSubstr(",expired,a2\r\n"));
}

}  // namespace
}  // namespace certdeploy::deploy
