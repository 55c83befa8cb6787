// service/internal/dispatcher_item.h: turning a received PFX into a work item, and work items
// back into the desired state the planner diffs.
//
// The daemon sees a PFX password exactly once, when a request (or a rollout manifest row) comes
// in. PrepareItem validates the PFX with it, seals it to the connector key at once and keeps
// only the ciphertext. Everything the dispatcher later needs that lives inside the encrypted PFX
// (the leaf's validity dates for the userPfxCertificate record, the chain's CA certificates for
// the trusted-root profiles) is public, so it is extracted now and stored with the PFX bytes in
// one envelope:
//
//   "CDPFX1\n" <JSON header: notBefore, notAfter (ms), chain [{der (base64), role}]> "\n" <PFX>
//
// A PFX is DER and starts with 0x30, so a blob without the magic is a bare PFX (decoded with no
// facts). The envelope holds no secret beyond the PFX itself, which stays protected by its own
// password; the password is stored only sealed.

#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "base/secret.h"
#include "config/config.h"
#include "config/manifest.h"
#include "deploy/model.h"
#include "pkcs/chain.h"
#include "pkcs/seal.h"
#include "pkcs/validate.h"
#include "store/job_store.h"

namespace certdeploy::service {

// Public facts about a PFX's content, taken when it was opened with its password.
struct CertificateFacts {
  SystemTime not_before{};
  SystemTime not_after{};
  std::vector<pkcs::ChainElement> chain;  // The leaf's CA certificates (no leaf), path order.
  // The leaf's addresses, checked against the primary SMTP address when the item is planned;
  // nullopt for items stored before they were kept (checked against the UPN at intake).
  std::optional<std::vector<std::string>> emails;
};

// The PFX bytes as received plus their facts.
struct StoredPfx {
  std::string pfx;
  CertificateFacts facts;
  bool has_facts = false;  // False for a bare PFX blob.
};

std::vector<uint8_t> EncodeStoredPfx(std::string_view pfx, const CertificateFacts& facts);
// DataLoss for an envelope that cannot be decoded.
Result<StoredPfx> DecodeStoredPfx(std::span<const uint8_t> blob);

// What PrepareItem needs besides the PFX. All references must outlive the call.
struct PrepareContext {
  const config::Config& config;
  const pkcs::ConnectorPublicKey& connector_key;
  const std::vector<pkcs::Certificate>& trust_bundle;
  SystemTime now;
};

struct PreparedItem {
  bool deployable = false;
  std::vector<pkcs::Finding> findings;  // Errors (when not deployable) and warnings.
  // When deployable: user_principal_name, intended_purpose, thumbprint, pfx_sha256, pfx_blob
  // (the envelope), sealed_password, padding_scheme, connector_key_fingerprint, status kQueued,
  // step "sealed". The caller sets id, kind, rollout fields and idempotency fields.
  store::WorkItem item;
  CertificateFacts facts;
};

// Checks `pfx` for `upn` and `purpose` with the row check (deploy/row_check.h: the config's
// expiry warning days and trust bundle) and seals `password` to the connector key with the
// configured padding. Never fails as a whole: problems are findings (a sealing failure is
// "bad-connector-key" or "non-ascii-password"). Thread-safe.
PreparedItem PrepareItem(const PrepareContext& ctx, std::span<const uint8_t> pfx,
                         const SecretBytes& password, const std::string& upn,
                         pkcs::Purpose purpose);

// The same for every row of a rollout manifest, reading each row's files (each path must pass
// `resolve_file`, the inbox rule) on up to `threads` workers. One PreparedItem per row, in order.
std::vector<PreparedItem> PrepareRows(
    const PrepareContext& ctx, std::span<const config::ManifestRow> rows,
    std::function<Result<std::string>(const std::string& path)> resolve_file, int threads);

// One item as the planner should see it.
struct PlannedItem {
  int line = 0;  // Unique within one DesiredStateForItems call; actions carry it back.
  std::string upn;
  pkcs::Purpose purpose = pkcs::Purpose::kSmimeEncryption;
  std::string thumbprint;
  std::string pfx_sha256;
  CertificateFacts facts;
};

// The desired state for `items`: their user records, one trusted profile per distinct CA
// certificate per configured platform, one imported-PFX profile per purpose per platform (if
// enabled), and the configured assignments. Pure.
deploy::DesiredState DesiredStateForItems(const config::Config& config,
                                          const std::vector<PlannedItem>& items);

// "pfx-not-deployable: <code>: <message>; ..." for a list of findings (errors first), short
// enough for an error_message column.
std::string SummarizeFindings(const std::vector<pkcs::Finding>& findings);
// The findings back from such a summary (code and message; severity left kError), for the
// operators' item lists. Empty when `summary` is not one (e.g. a Graph error message); a summary
// cut short ("; ...") gives the findings before the cut.
std::vector<pkcs::Finding> ParseFindingSummary(std::string_view summary);

}  // namespace certdeploy::service
