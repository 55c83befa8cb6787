// The directory's groups: seeded from a file, found by id or by `displayName eq '...'` exactly
// as "List groups" documents it, every other query refused.

#include <unistd.h>

#include <fstream>

#include "sandbox/internal/directory.h"
#include "tests/unit/sandbox/sandbox_test_support.h"

namespace certdeploy::sandbox::testing {
namespace {

constexpr char kSales1[] = "0b4a7c1e-2f3d-4e5a-9b8c-7d6e5f4a3b2c";

std::string WriteTemp(const std::string& text) {
  char path[] = "/tmp/sandbox-groups-XXXXXX";
  const int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << text;
  return path;
}

class GroupsTest : public SandboxTest {
 protected:
  void SetUp() override {
    file_ = WriteTemp(
        "# groups\n"
        "All iOS users\n"
        "\n" +
        std::string(kSales1) + ",Sales, EMEA\n"
        "Sales, EMEA\n"
        "O'Neil's team\n");
    options_.groups_file = file_;
    Start();
  }
  void TearDown() override { std::remove(file_.c_str()); }

  json Find(const std::string& odata_filter) {
    ServerResponse r = Call("GET", "/v1.0/groups?$filter=" + PercentEncode(odata_filter) +
                                       "&$select=id,displayName");
    EXPECT_EQ(r.status, 200) << r.body;
    return BodyOf(r)["value"];
  }

  std::string file_;
};

TEST_F(GroupsTest, FindsByDisplayNameExactlyAsWrittenWithODataQuotes) {
  json ios = Find("displayName eq 'All iOS users'");
  ASSERT_EQ(ios.size(), 1u);
  const std::string id = ios[0]["id"];
  EXPECT_EQ(id.size(), 36u);
  EXPECT_EQ(ios[0]["displayName"], "All iOS users");
  // $select keeps only what was asked for.
  EXPECT_FALSE(ios[0].contains("securityEnabled"));
  ASSERT_EQ(Find("displayName eq 'O''Neil''s team'").size(), 1u);
  // Two groups may share a name; the listed id is kept, the other one derived.
  json sales = Find("displayName eq 'Sales, EMEA'");
  ASSERT_EQ(sales.size(), 2u);
  EXPECT_TRUE(sales[0]["id"] == kSales1 || sales[1]["id"] == kSales1);
  EXPECT_TRUE(Find("displayName eq 'all ios users'").empty());
  EXPECT_TRUE(Find("displayName eq 'All iOS'").empty());
  // By id, and 404 for an unknown one.
  ServerResponse one = Call("GET", "/v1.0/groups/" + id);
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(BodyOf(one)["displayName"], "All iOS users");
  EXPECT_EQ(Call("GET", "/beta/groups/9a1e0b4a-7c1e-4f3d-8e5a-9b8c7d6e5f4a").status, 404);
}

TEST_F(GroupsTest, RefusesOtherFiltersOptionsAndWrites) {
  for (const std::string filter :
       {"startswith(displayName,'All')", "tolower(displayName) eq 'all ios users'",
        "mail eq 'x@contoso.com'", "displayName eq 'a' and displayName eq 'b'",
        "displayName eq 'unterminated"}) {
    ServerResponse r = Call("GET", "/v1.0/groups?$filter=" + PercentEncode(filter));
    EXPECT_EQ(r.status, 400) << filter;
    EXPECT_EQ(BodyOf(r)["error"]["code"], "Request_UnsupportedQuery") << filter;
  }
  EXPECT_EQ(Call("GET", "/v1.0/groups?$search=" + PercentEncode("\"displayName:All\"")).status,
            400);
  EXPECT_EQ(Call("POST", "/v1.0/groups", json{{"displayName", "x"}}).status, 405);
}

TEST(SandboxGroupsFileTest, RefusesNamesEntraWouldNotHoldAndRepeatedIds) {
  const std::string too_long = WriteTemp(std::string(257, 'g') + "\n");
  auto dir = internal::Directory::Load("");
  ASSERT_TRUE(dir.ok());
  Status s = (*dir)->LoadGroups(too_long);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(s.message()).find("line 1"), std::string::npos) << s;
  const std::string repeated =
      WriteTemp(std::string(kSales1) + ",A\n" + std::string(kSales1) + ",B\n");
  EXPECT_EQ((*dir)->LoadGroups(repeated).code(), StatusCode::kInvalidArgument);
  std::remove(too_long.c_str());
  std::remove(repeated.c_str());
}

}  // namespace
}  // namespace certdeploy::sandbox::testing
