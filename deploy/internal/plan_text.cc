// Plan rendering for people: the terraform-style text and the --summary form.

#include <cstdint>
#include <iomanip>
#include <map>
#include <sstream>

#include "deploy/finding_groups.h"
#include "deploy/plan.h"

namespace certdeploy::deploy {
namespace {

// How many lines and UPNs a grouped line names.
constexpr size_t kGroupExamples = 5;

bool IsInvalidRow(const Action& a) { return a.kind == ActionKind::kInvalid && a.line > 0; }

void ActionLine(std::ostream& out, ActionKind kind, const std::string& text) {
  out << ActionMarker(kind) << " " << std::left << std::setw(25) << ActionKindName(kind) << " "
      << text << "\n";
}

void FindingLines(std::ostream& out, const std::vector<pkcs::Finding>& findings) {
  for (const pkcs::Finding& f : findings) {
    out << "      " << pkcs::SeverityName(f.severity) << " " << f.code << ": " << f.message
        << "\n";
  }
}

void TotalsLine(std::ostream& out, const Plan& plan) {
  PlanSummary s = plan.Summary();
  out << "Plan: " << s.add << " to add, " << s.change << " to change, " << s.remove
      << " to remove, " << s.unchanged << " unchanged, " << s.invalid << " invalid.\n";
}

}  // namespace

std::string RenderPlanText(const Plan& plan) {
  // Invalid rows, grouped by identical findings: a group of several is printed once, where its
  // first row would be.
  std::vector<RowFindings> rows;
  std::vector<size_t> row_of_action(plan.actions.size(), SIZE_MAX);
  for (size_t i = 0; i < plan.actions.size(); ++i) {
    const Action& a = plan.actions[i];
    if (!IsInvalidRow(a)) continue;
    row_of_action[i] = rows.size();
    rows.push_back({a.line, a.upn, &a.findings});
  }
  std::vector<const FindingGroup*> group_of_row(rows.size(), nullptr);
  std::vector<FindingGroup> groups = GroupRowsByFindings(rows);
  for (const FindingGroup& g : groups) {
    if (g.members.size() < 2) continue;
    for (size_t m : g.members) group_of_row[m] = &g;
  }

  std::ostringstream out;
  for (size_t i = 0; i < plan.actions.size(); ++i) {
    const Action& a = plan.actions[i];
    const size_t row = row_of_action[i];
    if (row != SIZE_MAX && group_of_row[row] != nullptr) {
      const FindingGroup& g = *group_of_row[row];
      if (g.members.front() != row) continue;  // Told with the group's first row.
      ActionLine(out, a.kind,
                 std::to_string(g.members.size()) + " rows: " + FindingsHeadline(g.findings));
      if (g.findings.size() > 1) FindingLines(out, g.findings);
      out << "      " << DescribeMembers(rows, g.members, kGroupExamples) << "\n";
      continue;
    }
    ActionLine(out, a.kind, a.description);
    if (a.kind == ActionKind::kInvalid || a.kind == ActionKind::kDeleteUserPfx) {
      FindingLines(out, a.findings);
    }
  }
  TotalsLine(out, plan);
  return out.str();
}

std::string RenderPlanSummary(const Plan& plan, size_t examples) {
  // Actions by kind, in the enum's (apply) order.
  std::map<int, std::vector<const Action*>> by_kind;
  // Rows (or other actions) by finding: (severity, code) -> (action, finding).
  struct Hit {
    const Action* action;
    const pkcs::Finding* finding;
  };
  std::map<std::pair<int, std::string>, std::vector<Hit>> by_finding;
  for (const Action& a : plan.actions) {
    by_kind[static_cast<int>(a.kind)].push_back(&a);
    for (const pkcs::Finding& f : a.findings) {
      // Errors first, then warnings.
      const int order = f.severity == pkcs::Severity::kError ? 0 : 1;
      by_finding[{order, f.code}].push_back({&a, &f});
    }
  }
  std::ostringstream out;
  out << "Actions:\n";
  for (const auto& [kind_value, actions] : by_kind) {
    const ActionKind kind = static_cast<ActionKind>(kind_value);
    out << "  " << ActionMarker(kind) << " " << std::left << std::setw(25) << ActionKindName(kind)
        << " " << std::right << std::setw(7) << actions.size() << "\n";
    for (size_t i = 0; i < actions.size() && i < examples; ++i) {
      out << "        " << actions[i]->description << "\n";
    }
    if (actions.size() > examples) {
      out << "        and " << actions.size() - examples << " more\n";
    }
  }
  if (!by_finding.empty()) out << "Findings:\n";
  for (const auto& [key, hits] : by_finding) {
    const pkcs::Finding& first = *hits.front().finding;
    out << "  " << std::left << std::setw(8) << pkcs::SeverityName(first.severity)
        << std::setw(25) << first.code << " " << std::right << std::setw(6) << hits.size()
        << (hits.size() == 1 ? " action\n" : " actions\n");
    for (size_t i = 0; i < hits.size() && i < examples; ++i) {
      const Action& a = *hits[i].action;
      out << "        ";
      if (a.line > 0) {
        out << "line " << a.line << (a.upn.empty() ? "" : " ") << a.upn;
      } else {
        out << a.key;
      }
      out << ": " << hits[i].finding->message << "\n";
    }
    if (hits.size() > examples) out << "        and " << hits.size() - examples << " more\n";
  }
  TotalsLine(out, plan);
  return out.str();
}

}  // namespace certdeploy::deploy
