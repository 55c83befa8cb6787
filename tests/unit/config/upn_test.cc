#include "config/upn.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/upn_cases.h"

namespace certdeploy::config {
namespace {

using ::testing::HasSubstr;

TEST(ValidateUpnTest, FollowsEntrasDocumentedPolicy) {
  for (const testing::UpnCase& c : testing::UpnCases()) {
    const Status s = ValidateUpn(c.upn);
    const std::string label = c.upn.substr(0, 80);
    if (c.valid) {
      EXPECT_TRUE(s.ok()) << label << ": " << s;
    } else {
      ASSERT_FALSE(s.ok()) << label;
      EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << label;
      EXPECT_THAT(std::string(s.message()), HasSubstr(c.why)) << label;
    }
  }
}

TEST(ValidateUpnTest, MessagesNeverQuoteTheInput) {
  const std::string hostile = std::string(300, 'x') + "<script>@contoso.com";
  const Status s = ValidateUpn(hostile);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), ::testing::Not(HasSubstr("xxxxxxxx")));
  EXPECT_THAT(std::string(ValidateUpn("bad<script>@contoso.com").message()),
              ::testing::Not(HasSubstr("script")));
  EXPECT_LT(ValidateUpn(std::string(1 << 20, 'a')).message().size(), 200u);
}

}  // namespace
}  // namespace certdeploy::config
