// The human plan: identical findings grouped, the --summary form (deploy/internal/plan_text.cc,
// deploy/finding_groups.h). Plans are built by hand: only the rendering is under test.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "deploy/finding_groups.h"
#include "deploy/plan.h"

namespace certdeploy::deploy {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

size_t CountOf(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

size_t Lines(const std::string& text) { return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')); }

Action InvalidRow(int line, const std::string& upn, std::vector<pkcs::Finding> findings) {
  Action a;
  a.kind = ActionKind::kInvalid;
  a.key = "row/" + std::to_string(line);
  a.line = line;
  a.upn = upn;
  a.findings = std::move(findings);
  a.description = "line " + std::to_string(line) + " " + upn + ": " + a.findings[0].code;
  return a;
}

Action Import(int line, const std::string& upn) {
  Action a;
  a.kind = ActionKind::kImportUserPfx;
  a.key = "pfx/" + upn + "/t" + std::to_string(line);
  a.line = line;
  a.upn = upn;
  a.description = upn + " (line " + std::to_string(line) + ")";
  return a;
}

const pkcs::Finding kUnreadable{"password-unreadable", pkcs::Severity::kError,
                                "secrets/pw.txt cannot be read"};

// 4000 rows naming one missing password file, 2 good rows, one row with its own problem.
Plan SharedMistake() {
  Plan plan;
  plan.actions.push_back(Import(2, "good1@contoso.com"));
  plan.actions.push_back(Import(3, "good2@contoso.com"));
  for (int i = 0; i < 4000; ++i) {
    plan.actions.push_back(InvalidRow(4 + i, "user" + std::to_string(i) + "@contoso.com",
                                      {kUnreadable}));
  }
  plan.actions.push_back(InvalidRow(
      5000, "odd@contoso.com",
      {{"email-mismatch", pkcs::Severity::kError, "the certificate is for someone@else"}}));
  return plan;
}

TEST(PlanTextTest, IdenticalFindingsAreOneGroupedLineWithTheFirstRows) {
  const std::string text = RenderPlanText(SharedMistake());
  EXPECT_THAT(text, HasSubstr("! invalid                   4000 rows: password-unreadable: "
                              "secrets/pw.txt cannot be read\n"));
  EXPECT_THAT(text, HasSubstr("      lines 4, 5, 6, 7, 8 and 3995 more: user0@contoso.com, "
                              "user1@contoso.com, user2@contoso.com, user3@contoso.com, "
                              "user4@contoso.com, ...\n"));
  EXPECT_EQ(CountOf(text, "password-unreadable"), 1u);
  // The row with its own finding is told as before.
  EXPECT_THAT(text, HasSubstr("! invalid                   line 5000 odd@contoso.com: "
                              "email-mismatch\n      error email-mismatch: the certificate is"));
  EXPECT_THAT(text, HasSubstr("+ importUserPfx"));
  EXPECT_THAT(text, HasSubstr("Plan: 2 to add, 0 to change, 0 to remove, 0 unchanged, 4001 invalid."));
  EXPECT_LT(Lines(text), 10u) << text;
}

TEST(PlanTextTest, RowsWithDifferentMessagesAreNotGrouped) {
  Plan plan;
  plan.actions.push_back(InvalidRow(2, "a@contoso.com",
                                    {{"pfx-unreadable", pkcs::Severity::kError, "a.pfx: no such file"}}));
  plan.actions.push_back(InvalidRow(3, "b@contoso.com",
                                    {{"pfx-unreadable", pkcs::Severity::kError, "b.pfx: no such file"}}));
  const std::string text = RenderPlanText(plan);
  EXPECT_THAT(text, HasSubstr("line 2 a@contoso.com"));
  EXPECT_THAT(text, HasSubstr("line 3 b@contoso.com"));
  EXPECT_THAT(text, Not(HasSubstr("rows:")));
}

TEST(PlanTextTest, AGroupOfSeveralFindingsListsEachFinding) {
  Plan plan;
  const std::vector<pkcs::Finding> two = {
      {"expired", pkcs::Severity::kError, "expired on 2020-01-01"},
      {"weak-key", pkcs::Severity::kError, "RSA-1024"}};
  plan.actions.push_back(InvalidRow(2, "a@contoso.com", two));
  plan.actions.push_back(InvalidRow(3, "b@contoso.com", two));
  const std::string text = RenderPlanText(plan);
  EXPECT_THAT(text, HasSubstr("2 rows: expired, weak-key\n"));
  EXPECT_THAT(text, HasSubstr("      error expired: expired on 2020-01-01\n"));
  EXPECT_THAT(text, HasSubstr("      error weak-key: RSA-1024\n"));
  EXPECT_THAT(text, HasSubstr("      lines 2, 3: a@contoso.com, b@contoso.com\n"));
}

TEST(PlanSummaryTest, CountsByActionAndByFindingWithTheFirstExamples) {
  const std::string text = RenderPlanSummary(SharedMistake(), 3);
  EXPECT_THAT(text, HasSubstr("Actions:\n"));
  EXPECT_THAT(text, HasSubstr("+ importUserPfx                   2\n"));
  EXPECT_THAT(text, HasSubstr("! invalid                      4001\n"));
  EXPECT_THAT(text, HasSubstr("        and 3998 more\n"));
  EXPECT_THAT(text, HasSubstr("Findings:\n"));
  EXPECT_THAT(text, HasSubstr("error   password-unreadable         4000 actions\n"));
  EXPECT_THAT(text, HasSubstr("        line 4 user0@contoso.com: secrets/pw.txt cannot be read\n"));
  EXPECT_THAT(text, HasSubstr("        line 6 user2@contoso.com: secrets/pw.txt cannot be read\n"));
  EXPECT_THAT(text, Not(HasSubstr("line 7 user3@contoso.com")));
  EXPECT_THAT(text, HasSubstr("        and 3997 more\n"));
  EXPECT_THAT(text, HasSubstr("error   email-mismatch                 1 action\n"));
  EXPECT_THAT(text, HasSubstr("Plan: 2 to add, 0 to change, 0 to remove, 0 unchanged, 4001 invalid."));
  EXPECT_LT(Lines(text), 25u) << text;
}

TEST(FindingGroupsTest, GroupsInFirstMemberOrderAndSkipsRowsWithoutFindings) {
  const std::vector<pkcs::Finding> a = {kUnreadable};
  const std::vector<pkcs::Finding> b = {{"expired", pkcs::Severity::kError, "x"}};
  const std::vector<pkcs::Finding> none;
  const std::vector<RowFindings> rows = {
      {2, "u2", &b}, {3, "u3", &a}, {4, "u4", &none}, {5, "u5", &b}, {6, "u6", &a}};
  std::vector<FindingGroup> groups = GroupRowsByFindings(rows);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].findings[0].code, "expired");
  EXPECT_EQ(groups[0].members, (std::vector<size_t>{0, 3}));
  EXPECT_EQ(groups[1].members, (std::vector<size_t>{1, 4}));
  EXPECT_EQ(DescribeMembers(rows, groups[0].members, 1), "lines 2 and 1 more: u2, ...");
  EXPECT_EQ(DescribeMembers(rows, {2}, 5), "line 4 u4");
  // A severity alone tells findings apart.
  const std::vector<pkcs::Finding> warning = {{"expired", pkcs::Severity::kWarning, "x"}};
  const std::vector<RowFindings> mixed = {{2, "u2", &b}, {3, "u3", &warning}};
  EXPECT_EQ(GroupRowsByFindings(mixed).size(), 2u);
}

}  // namespace
}  // namespace certdeploy::deploy
