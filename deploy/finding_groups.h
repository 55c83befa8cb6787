// deploy/finding_groups.h: rows with identical findings, told once.
//
// A shared mistake (one missing password file named by every row) gives thousands of rows the
// very same findings. The human output of `plan`, `apply` and `validate --manifest` prints such
// rows as one group: "4000 rows: password-unreadable: secrets/pw.txt cannot be read", followed by
// the first few lines and UPNs. JSON output and plan files stay per row.
//
//   std::vector<RowFindings> rows = ...;  // In manifest order.
//   for (const FindingGroup& g : GroupRowsByFindings(rows)) {
//     out << g.members.size() << " rows: " << FindingsHeadline(g.findings) << "\n"
//         << "      " << DescribeMembers(rows, g.members, 5) << "\n";
//   }

#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "pkcs/validate.h"

namespace certdeploy::deploy {

// One row as the grouping sees it. `findings` must outlive the call.
struct RowFindings {
  int line = 0;  // Manifest line (0 when the row has none).
  std::string upn;
  const std::vector<pkcs::Finding>* findings = nullptr;
};

// Rows whose findings are identical: same codes, severities and messages, in the same order.
struct FindingGroup {
  std::vector<pkcs::Finding> findings;  // The shared findings.
  std::vector<size_t> members;          // Indices into the input, ascending.
};

// Pure. Groups `rows` by their findings; groups come out in the order of their first member.
// Rows without findings are left out.
std::vector<FindingGroup> GroupRowsByFindings(std::span<const RowFindings> rows);

// "password-unreadable: secrets/pw.txt cannot be read" for one finding; the codes joined by ", "
// for several ("email-mismatch, expired").
std::string FindingsHeadline(const std::vector<pkcs::Finding>& findings);

// The first `examples` members: "lines 2, 3, 4 and 3997 more: alice@contoso.com,
// bob@contoso.com, carol@contoso.com, ...". One member: "line 2 alice@contoso.com".
std::string DescribeMembers(std::span<const RowFindings> rows, const std::vector<size_t>& members,
                            size_t examples);

}  // namespace certdeploy::deploy
