// pkcs/validate.h: is this PFX deployable to this user through Intune?
//
// ValidatePfx opens the PFX, builds its chain and checks everything that makes an upload fail
// at Intune (an opaque 400) or makes the certificate useless in iOS Outlook. Each problem is a
// Finding with a stable code; the report is deployable when no finding is an error.
//
// Finding codes (severity):
//   not-pkcs12, corrupt-pkcs12, bad-password, no-private-key, key-mismatch      (error)
//   excessive-iterations  the file asks for more key-derivation work than pkcs12.h's limits
//                       (refused before any derivation runs)                    (error)
//   expired, not-yet-valid   the leaf, or a CA certificate of the chain, at options.now (error)
//   expires-soon        the leaf expires within options.expires_soon_days       (warning)
//   email-mismatch      the UPN equals (ignoring ASCII case) no rfc822Name SAN nor subject
//                       emailAddress                                            (error)
//   chain-incomplete    an issuer is missing; the message names it               (error)
//   bad-chain-signature a signature along the path does not verify              (error)
//   weak-key            RSA < 2048 bits, EC < 256 bits, on the leaf or the chain (error)
//   weak-signature      SHA-1 or MD5 on the leaf or an intermediate (a root's self-signature
//                       does not count)                                         (error)
//   missing-eku         S/MIME purposes need emailProtection or anyExtendedKeyUsage; a
//                       certificate without the EKU extension is unrestricted   (error)
//   missing-key-usage   smimeEncryption needs keyEncipherment (RSA) or keyAgreement (EC);
//                       smimeSigning needs digitalSignature; no keyUsage extension = no
//                       restriction                                             (error)
//   non-ascii-password  the connector decodes one byte per character            (error)
//   bad-connector-key   the password could not be sealed to the connector key   (error; reported
//                       by the validate command, not by ValidatePfx)
// Findings come in a fixed order: password, opening, leaf validity, email, chain (missing
// issuer, signatures, CA validity and strength), leaf strength, usage.

#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "base/secret.h"
#include "pkcs/certificate.h"
#include "pkcs/chain.h"
#include "pkcs/pkcs12.h"

namespace certdeploy::pkcs {

// userPfxIntendedPurpose values, spelled as Graph spells them.
enum class Purpose { kUnassigned, kSmimeEncryption, kSmimeSigning, kVpn, kWifi };
std::string_view PurposeName(Purpose purpose);  // "smimeEncryption", ...
// Accepts the Graph spelling, case-insensitively. InvalidArgument lists the valid names.
Result<Purpose> ParsePurpose(std::string_view name);
// ParsePurpose for what a user asks to import: also refuses "vpn", which Intune does not support
// as the intended purpose of an imported PFX ("Configure and use imported PKCS certificates with
// Intune", https://learn.microsoft.com/intune/intune-service/protect/certificates-imported-pfx-configure).
Result<Purpose> ParseImportPurpose(std::string_view name);

enum class Severity { kError, kWarning };
std::string_view SeverityName(Severity severity);  // "error" | "warning"

struct Finding {
  std::string code;
  Severity severity = Severity::kError;
  std::string message;  // Human text. Never contains a password or key material.

  bool operator==(const Finding&) const = default;
};

struct ValidateOptions {
  std::string upn;  // Required: the user the PFX is for.
  Purpose purpose = Purpose::kSmimeEncryption;
  int expires_soon_days = 30;
  std::vector<Certificate> trust_bundle;  // Extra CA certificates for chain building.
  SystemTime now;                          // Validity is judged at this instant.
  // The address the certificate must carry (rfc822Name SAN or subject emailAddress, ignoring
  // case): "" means the UPN. `validate --email` sets it.
  std::string email;
  // False: no address check here, because the caller checks the mailbox's primary SMTP address
  // from the directory later (plan, apply and the daemon do, in deploy's planner).
  bool check_email = true;
};

// Whether `cert` carries `address` as an rfc822Name SAN or subject emailAddress (ignoring case).
bool CarriesEmail(const Certificate& cert, std::string_view address);

struct ValidationReport {
  std::optional<Certificate> leaf;  // Absent when the PFX could not be opened.
  Chain chain;
  std::vector<Finding> findings;

  bool deployable() const;
  bool HasFinding(std::string_view code) const;
};

ValidationReport ValidatePfx(std::span<const uint8_t> pfx, const SecretBytes& password,
                             const ValidateOptions& options);

// ValidatePfx for a PFX the caller already opened with ParsePkcs12 (the result, success or
// failure): callers that see the same file many times open it once.
ValidationReport ValidateOpened(const Result<Pkcs12Contents>& opened, const SecretBytes& password,
                                const ValidateOptions& options);

// The checks after the PFX was opened (exposed for callers that already hold the contents).
void ValidateCertificate(const Certificate& leaf, const std::vector<Certificate>& others,
                         const ValidateOptions& options, ValidationReport& report);

}  // namespace certdeploy::pkcs
