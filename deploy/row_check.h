// deploy/row_check.h: the one check of a user's PFX before anything is planned or queued.
//
// Every way a PFX enters certdeploy goes through here: manifest rows for `plan` and `apply`
// (BuildDesiredState), rollout manifests in the daemon's inbox, and HR enrollments over the REST
// API. A check reads the PFX (at most kMaxPfxBytes) and its password, hashes the file (SHA-256,
// pinned in plans and work items), opens and validates it against its user and purpose
// (pkcs::ValidateOpened: chain, e-mail, expiry, key and signature strength, usage) and, when the
// caller asks, seals the password to the Intune connector key at once (the daemon keeps only the
// ciphertext). Problems are findings with stable codes, never errors of the whole call, so one bad
// row never stops the others.
//
//   RowCheckOptions options{.config = &config, .trust_bundle = bundle, .now = clock.Now()};
//   std::vector<CheckedRow> rows = CheckManifestRows(manifest.rows, options);
//   for (const CheckedRow& row : rows) if (!row.deployable) ... row.findings ...
//
// Finding codes added to pkcs/validate.h's: pfx-unreadable, password-unreadable (the file
// cannot be read, is too large, or the caller's path rule refused it), and with sealing
// bad-connector-key or non-ascii-password.

#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "base/secret.h"
#include "config/config.h"
#include "config/manifest.h"
#include "pkcs/chain.h"
#include "pkcs/certificate.h"
#include "pkcs/seal.h"
#include "pkcs/validate.h"

namespace certdeploy::deploy {

// The largest PFX file certdeploy reads (a user PFX is a few KB; 16 MiB leaves room for long
// chains and is still a bound).
inline constexpr size_t kMaxPfxBytes = 16 << 20;

struct RowCheckOptions {
  // pfx.intendedPurpose (the default purpose), pfx.expiresSoonDays, connector padding. Required;
  // must outlive the call.
  const config::Config* config = nullptr;
  std::vector<pkcs::Certificate> trust_bundle{};  // profiles.trustBundle, loaded.
  SystemTime now{};                                // Validity is judged at this instant.
  // Optional: a rule every file a manifest row names must pass before it is read (the daemon's
  // "inside service.inbox" rule). Returns the path to read, or an error whose message becomes
  // the row's pfx-unreadable / password-unreadable finding.
  std::function<Result<std::string>(const std::string& path)> resolve_file{};
  // Optional: seal the password to this key (with config->connector.padding) as part of the
  // check; a failure is a finding. Must outlive the call.
  const pkcs::ConnectorPublicKey* seal_to = nullptr;
  // Leave the certificate's address to the planner, which compares it with the mailbox's
  // primary SMTP address from the directory (CheckedRow::emails carries the addresses). Off: it
  // must carry the UPN (email-mismatch).
  bool defer_email_check = false;
  // Keep the PFX bytes in CheckedRow::pfx (the daemon stores them). Off: they are dropped.
  bool keep_pfx_bytes = false;
  // Worker threads for CheckManifestRows: PFX key derivation is CPU-bound, one per core.
  int threads = 2;
};

// One checked PFX. When deployable, every field below `findings` is set; otherwise only
// line/upn/pfx_file/purpose and the findings (at least one error).
struct CheckedRow {
  int line = 0;  // Manifest line (0 for an enrollment).
  std::string upn;
  std::string pfx_file;  // As named by the row ("" for an enrollment).
  pkcs::Purpose purpose = pkcs::Purpose::kSmimeEncryption;
  bool deployable = false;
  std::vector<pkcs::Finding> findings;  // Errors when not deployable, else warnings.

  std::string pfx_sha256;     // Lowercase hex SHA-256 of the file's bytes.
  std::string thumbprint;     // Lowercase hex SHA-1 of the leaf.
  std::vector<std::string> emails;  // The leaf's rfc822Name SANs and subject emailAddress.
  SystemTime not_before{};    // The leaf's validity.
  SystemTime not_after{};
  pkcs::Chain chain;          // The leaf's CA certificates, path order.
  // The bytes, with RowCheckOptions::keep_pfx_bytes. The caller wipes them (SecureWipe) when
  // done: they hold the encrypted private key.
  std::string pfx;
  std::string sealed_password;            // With seal_to: base64 RSA-OAEP ciphertext.
  std::string connector_key_fingerprint;  // With seal_to.
};

// Checks PFX bytes received whole (an enrollment). Thread-safe.
CheckedRow CheckPfx(std::span<const uint8_t> pfx, const SecretBytes& password,
                    const std::string& upn, pkcs::Purpose purpose,
                    const RowCheckOptions& options);

// Checks every row (reading its files), on up to options.threads workers, and returns the
// outcomes in the rows' order. Rows that name the same PFX file and password are opened once.
std::vector<CheckedRow> CheckManifestRows(std::span<const config::ManifestRow> rows,
                                          const RowCheckOptions& options);

}  // namespace certdeploy::deploy
