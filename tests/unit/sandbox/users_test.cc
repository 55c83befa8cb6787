// The users directory: lookups by UPN and id, percent-encoding, $filter, closed and open modes.

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "sandbox/internal/directory.h"
#include "tests/support/upn_cases.h"
#include "tests/unit/sandbox/sandbox_test_support.h"

namespace certdeploy::sandbox::testing {
namespace {

class UsersTest : public SandboxTest {
 protected:
  void SetUp() override {
    options_.users_file = certdeploy::testing::PkiPath("manifest.csv");
    Start();
  }
};

TEST_F(UsersTest, LooksUpByUpnCaseInsensitivelyAndById) {
  ServerResponse r = Call("GET", "/v1.0/users/Alice@Contoso.COM");
  ASSERT_EQ(r.status, 200) << r.body;
  json user = BodyOf(r);
  EXPECT_EQ(user["userPrincipalName"], "alice@contoso.com");
  EXPECT_EQ(user["mail"], "alice@contoso.com");
  EXPECT_FALSE(user["displayName"].get<std::string>().empty());
  std::string id = user["id"];
  EXPECT_TRUE(internal::IsValidUpn("alice@contoso.com"));
  EXPECT_EQ(id, internal::UserIdForUpn("ALICE@contoso.com"));
  EXPECT_EQ(id.size(), 36u);

  ServerResponse by_id = Call("GET", "/beta/users/" + id);
  ASSERT_EQ(by_id.status, 200);
  EXPECT_EQ(BodyOf(by_id)["userPrincipalName"], "alice@contoso.com");
  // Stable: a second tenant derives the same id.
  EXPECT_EQ(internal::UserIdForUpn("alice@contoso.com"), id);
  EXPECT_NE(internal::UserIdForUpn("bob@contoso.com"), id);
}

TEST(SandboxDirectoryTest, UpnRuleIsEntrasDocumentedPolicy) {
  for (const certdeploy::testing::UpnCase& c : certdeploy::testing::UpnCases()) {
    EXPECT_EQ(internal::IsValidUpn(c.upn), c.valid) << c.upn.substr(0, 80);
  }
}

TEST_F(UsersTest, PercentEncodedApostrophe) {
  ServerResponse r = Call("GET", "/v1.0/users/o%27neil%40contoso.com");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(BodyOf(r)["userPrincipalName"], "o'neil@contoso.com");
  EXPECT_EQ(Call("GET", "/v1.0/users/o'neil@contoso.com").status, 200);
}

TEST_F(UsersTest, UnknownUserIs404) {
  ServerResponse r = Call("GET", "/v1.0/users/dave@fabrikam.com");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(BodyOf(r)["error"]["code"], "Request_ResourceNotFound");
  EXPECT_EQ(Call("GET", "/beta/users/" + internal::UserIdForUpn("dave@fabrikam.com")).status, 404);
}

TEST_F(UsersTest, FilterOnUpnUnescapesODataQuotes) {
  std::string filter = PercentEncode("userPrincipalName eq 'o''neil@contoso.com'");
  ServerResponse r = Call("GET", "/beta/users?$filter=" + filter);
  ASSERT_EQ(r.status, 200) << r.body;
  json list = BodyOf(r);
  ASSERT_EQ(list["value"].size(), 1u);
  EXPECT_EQ(list["value"][0]["id"], internal::UserIdForUpn("o'neil@contoso.com"));

  std::string none = PercentEncode("userPrincipalName eq 'dave@fabrikam.com'");
  EXPECT_TRUE(BodyOf(Call("GET", "/beta/users?$filter=" + none))["value"].empty());
  // An unescaped quote leaves a dangling literal: refused, as OData does.
  std::string bad = PercentEncode("userPrincipalName eq 'o'neil@contoso.com'");
  EXPECT_EQ(Call("GET", "/beta/users?$filter=" + bad).status, 400);
  std::string other = PercentEncode("startswith(displayName,'a')");
  EXPECT_EQ(Call("GET", "/beta/users?$filter=" + other).status, 400);
}

TEST_F(UsersTest, ListsTheDirectory) {
  json list = BodyOf(Call("GET", "/beta/users"));
  EXPECT_EQ(list["value"].size(), 4u);
}

TEST(DirectoryTest, OpenDirectoryAcceptsEveryValidUpn) {
  auto dir = internal::Directory::Load("");
  ASSERT_TRUE(dir.ok());
  EXPECT_TRUE((*dir)->open());
  EXPECT_TRUE((*dir)->FindByUpn("anyone@example.org").has_value());
  EXPECT_FALSE((*dir)->FindByUpn("no-at-sign").has_value());
  EXPECT_FALSE((*dir)->FindByUpn("two@@example.org").has_value());
  EXPECT_FALSE((*dir)->FindByUpn("space here@example.org").has_value());
  EXPECT_FALSE((*dir)->FindByUpn("a@nodot").has_value());
  // An id resolves once its user has been seen.
  EXPECT_TRUE((*dir)->FindByIdOrUpn(internal::UserIdForUpn("anyone@example.org")).has_value());
  EXPECT_FALSE((*dir)->FindByIdOrUpn(internal::UserIdForUpn("unseen@example.org")).has_value());
}

TEST(DirectoryTest, MailAndProxyAddressesColumnsAndTheirDefaults) {
  std::string path = ::testing::TempDir() + "/sandbox_mail_" + std::to_string(::getpid()) + ".csv";
  {
    std::ofstream out(path);
    out << "userPrincipalName,mail,proxyAddresses\n"
           "asmith@corp.contoso.com,alice.smith@contoso.com,"
           "SMTP:alice.smith@contoso.com; smtp:asmith@corp.contoso.com\n"
           "bob@contoso.com,,\n";
  }
  auto dir = internal::Directory::Load(path);
  ASSERT_TRUE(dir.ok()) << dir.status();
  std::optional<internal::DirectoryUser> alice = (*dir)->FindByUpn("asmith@corp.contoso.com");
  ASSERT_TRUE(alice.has_value());
  EXPECT_EQ(alice->mail, "alice.smith@contoso.com");
  EXPECT_THAT(alice->proxy_addresses,
              ::testing::ElementsAre("SMTP:alice.smith@contoso.com", "smtp:asmith@corp.contoso.com"));
  std::optional<internal::DirectoryUser> bob = (*dir)->FindByUpn("bob@contoso.com");
  ASSERT_TRUE(bob.has_value());
  EXPECT_EQ(bob->mail, "bob@contoso.com");  // Defaults: the UPN is the mailbox.
  EXPECT_THAT(bob->proxy_addresses, ::testing::ElementsAre("SMTP:bob@contoso.com"));
  std::remove(path.c_str());
}

TEST_F(UsersTest, ProxyAddressesOnlyOnSelect) {
  json plain = BodyOf(Call("GET", "/v1.0/users/alice@contoso.com"));
  EXPECT_EQ(plain["mail"], "alice@contoso.com");
  EXPECT_FALSE(plain.contains("proxyAddresses")) << plain.dump();
  json selected = BodyOf(
      Call("GET", "/v1.0/users/alice@contoso.com?$select=id,mail,proxyAddresses"));
  EXPECT_EQ(selected["proxyAddresses"], json::array({"SMTP:alice@contoso.com"}));
}

TEST(DirectoryTest, PlainListWithCommentsAndErrors) {
  std::string path = ::testing::TempDir() + "/sandbox_users_" + std::to_string(::getpid()) + ".txt";
  {
    std::ofstream out(path);
    out << "# users\n\nalice@contoso.com\r\n  Bob@Contoso.com  \n";
  }
  auto dir = internal::Directory::Load(path);
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_FALSE((*dir)->open());
  EXPECT_EQ((*dir)->List().size(), 2u);
  EXPECT_TRUE((*dir)->FindByUpn("bob@contoso.com").has_value());
  EXPECT_FALSE((*dir)->FindByUpn("carol@contoso.com").has_value());
  {
    std::ofstream out(path);
    out << "alice@contoso.com\nnot a upn\n";
  }
  EXPECT_THAT(
      internal::Directory::Load(path),
      certdeploy::testing::StatusIs(StatusCode::kInvalidArgument, ::testing::HasSubstr("line 2")));
  {
    std::ofstream out(path);
    out << "name,mail\nAlice,alice@contoso.com\n";
  }
  EXPECT_THAT(internal::Directory::Load(path),
              certdeploy::testing::StatusIs(StatusCode::kInvalidArgument));
  std::remove(path.c_str());
}

}  // namespace
}  // namespace certdeploy::sandbox::testing
