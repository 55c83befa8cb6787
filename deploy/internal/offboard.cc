#include "deploy/offboard.h"

#include <algorithm>
#include <cctype>

#include "base/strings.h"
#include "base/time_format.h"

namespace certdeploy::deploy {
namespace {

Action DeleteAction(const graph::UserPfxCertificate& r) {
  Action a;
  a.kind = ActionKind::kDeleteUserPfx;
  a.upn = r.user_principal_name;
  a.thumbprint = AsciiToLower(r.thumbprint);
  a.key = "pfx/" + AsciiToLower(r.user_principal_name) + "/" + a.thumbprint;
  a.record_id = r.id;
  a.not_before = r.start_date_time;
  a.not_after = r.expiration_date_time;
  a.description = r.user_principal_name + "  " + a.thumbprint + "  " +
                  std::string(graph::ToString(r.intended_purpose)) + "  expires " +
                  FormatRfc3339Utc(r.expiration_date_time) + "  (offboarding)";
  return a;
}

}  // namespace

Result<std::string> ParseThumbprint(std::string_view text) {
  const bool hex = std::all_of(text.begin(), text.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) != 0;
  });
  if (text.size() != 40 || !hex) {
    return InvalidArgumentError("a thumbprint is 40 hex digits (a SHA-1), got '" +
                                ForLog(text.substr(0, 64)) + "'");
  }
  return AsciiToLower(text);
}

Result<RemovalPlan> PlanRemoval(graph::IntuneApi& intune, std::string_view upn,
                                const std::vector<std::string>& thumbprints) {
  Result<std::vector<graph::UserPfxCertificate>> records =
      intune.ListUserPfxCertificatesForUser(upn);
  if (!records.ok()) return records.status();
  RemovalPlan out;
  out.missing = thumbprints;
  for (const graph::UserPfxCertificate& r : *records) {
    const std::string thumbprint = AsciiToLower(r.thumbprint);
    if (!thumbprints.empty() &&
        std::find(thumbprints.begin(), thumbprints.end(), thumbprint) == thumbprints.end()) {
      continue;
    }
    out.missing.erase(std::remove(out.missing.begin(), out.missing.end(), thumbprint),
                      out.missing.end());
    out.plan.actions.push_back(DeleteAction(r));
  }
  return out;
}

}  // namespace certdeploy::deploy
