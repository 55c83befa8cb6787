// pkcs/internal/validate.cc: the deployability checks behind `certdeploy validate`.
//
// Every check adds findings and carries on, so one run reports everything wrong with a PFX.
// Messages name certificates by subject and never include a password or key material.

#include "pkcs/validate.h"

#include <algorithm>
#include <chrono>

#include "base/status_macros.h"
#include "base/strings.h"
#include "base/time_format.h"
#include "pkcs/pkcs12.h"
#include "pkcs/seal.h"

namespace certdeploy::pkcs {
namespace {

constexpr std::string_view kPurposeNames[] = {"unassigned", "smimeEncryption", "smimeSigning",
                                              "vpn", "wifi"};

// Built by appending: GCC 12 warns (-Wrestrict, a known false positive) on "'" + std::string.
std::string Quoted(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('\'');
  out.append(text);
  out.push_back('\'');
  return out;
}

void Add(ValidationReport& report, std::string_view code, std::string message,
         Severity severity = Severity::kError) {
  report.findings.push_back(Finding{std::string(code), severity, std::move(message)});
}

bool IsSmime(Purpose purpose) {
  return purpose == Purpose::kSmimeEncryption || purpose == Purpose::kSmimeSigning;
}

// `what` names the certificate in messages: "the certificate" or "CA certificate 'CN=...'".
void CheckValidity(const Certificate& cert, const std::string& what, const ValidateOptions& options,
                   ValidationReport& report) {
  if (options.now < cert.not_before) {
    Add(report, "not-yet-valid",
        what + " is not valid before " + FormatRfc3339Utc(cert.not_before));
  } else if (options.now > cert.not_after) {
    Add(report, "expired", what + " expired on " + FormatRfc3339Utc(cert.not_after));
  }
}

void CheckLeafValidity(const Certificate& leaf, const ValidateOptions& options,
                       ValidationReport& report) {
  size_t before = report.findings.size();
  CheckValidity(leaf, "the certificate", options, report);
  if (report.findings.size() != before || options.expires_soon_days <= 0) return;
  auto left = leaf.not_after - options.now;
  if (left < std::chrono::days(options.expires_soon_days)) {
    auto days = std::chrono::floor<std::chrono::days>(left).count();
    Add(report, "expires-soon",
        "the certificate expires on " + FormatRfc3339Utc(leaf.not_after) + ", in " +
            std::to_string(days) + " day(s) (threshold " +
            std::to_string(options.expires_soon_days) + " days); plan its renewal",
        Severity::kWarning);
  }
}

void CheckEmail(const Certificate& leaf, const ValidateOptions& options,
                ValidationReport& report) {
  const std::string& address = options.email.empty() ? options.upn : options.email;
  if (!address.empty() && CarriesEmail(leaf, address)) return;
  std::string why;
  if (leaf.emails.empty()) {
    why = "the certificate has no email address (no rfc822Name SAN, no subject emailAddress)";
  } else {
    std::string list;
    for (const std::string& e : leaf.emails) list += (list.empty() ? "" : ", ") + e;
    why = "the certificate's email address(es) " + list + " do not match";
  }
  Add(report, "email-mismatch",
      why + (options.email.empty() ? " the UPN " : " the address ") + Quoted(address) +
          " (compared ignoring case); Outlook picks the certificate by the account's address");
}

bool IsWeakKey(const Certificate& cert) {
  return (cert.key_type == KeyType::kRsa && cert.key_bits < 2048) ||
         (cert.key_type == KeyType::kEc && cert.key_bits < 256);
}

bool IsWeakDigest(std::string_view digest) {
  return digest == "sha1" || digest == "md5" || digest == "md4" || digest == "md2";
}

std::string KeyDescription(const Certificate& cert) {
  std::string type = cert.key_type == KeyType::kRsa ? "RSA" : "EC";
  return type + " " + std::to_string(cert.key_bits) + "-bit key";
}

void CheckCryptography(const Certificate& cert, const std::string& what, bool check_signature,
                       ValidationReport& report) {
  if (IsWeakKey(cert)) {
    Add(report, "weak-key",
        what + " has a weak " + KeyDescription(cert) +
            " (RSA needs at least 2048 bits, EC at least 256)");
  }
  if (check_signature && IsWeakDigest(cert.signature_digest)) {
    Add(report, "weak-signature",
        what + " is signed with " + cert.signature_digest + " (" + cert.signature_algorithm +
            "), which clients reject; reissue it with SHA-256 or better");
  }
}

void CheckChain(const Certificate& leaf, const ValidateOptions& options, ValidationReport& report) {
  const Chain& chain = report.chain;
  if (!chain.complete) {
    const std::string& last =
        chain.elements.empty() ? leaf.subject : chain.elements.back().cert.subject;
    Add(report, "chain-incomplete",
        "chain incomplete: issuer " + Quoted(chain.missing_issuer) + " of " + Quoted(last) +
            " not found in the PFX or trust bundle; re-export with 'Include all certificates "
            "in the certification path' or pass --trust-bundle");
  }
  for (const std::string& subject : chain.bad_signatures) {
    Add(report, "bad-chain-signature",
        "the signature on " + Quoted(subject) +
            " does not verify with its issuer's key; the chain certificates do not belong "
            "together");
  }
  for (const ChainElement& element : chain.elements) {
    std::string what = "CA certificate " + Quoted(element.cert.subject);
    CheckValidity(element.cert, what, options, report);
    // A root's self-signature is never checked by clients, so its digest does not matter.
    CheckCryptography(element.cert, what, /*check_signature=*/!element.self_signed, report);
  }
}

bool HasEku(const Certificate& leaf, std::string_view oid) {
  return std::find(leaf.extended_key_usages.begin(), leaf.extended_key_usages.end(), oid) !=
         leaf.extended_key_usages.end();
}

void CheckUsage(const Certificate& leaf, Purpose purpose, ValidationReport& report) {
  if (!IsSmime(purpose)) return;
  std::string name(PurposeName(purpose));
  // No EKU extension at all means no restriction (RFC 5280 4.2.1.12).
  if (!leaf.extended_key_usages.empty() && !HasEku(leaf, kEkuEmailProtection) &&
      !HasEku(leaf, kEkuAny)) {
    Add(report, "missing-eku",
        "the certificate's extended key usage lacks emailProtection (" +
            std::string(kEkuEmailProtection) + "), which " + name + " needs");
  }
  // Likewise an absent keyUsage extension allows every use.
  const KeyUsage& ku = leaf.key_usage;
  if (!ku.present) return;
  if (purpose == Purpose::kSmimeSigning && !ku.digital_signature) {
    Add(report, "missing-key-usage",
        "the certificate's key usage lacks digitalSignature, which smimeSigning needs");
  } else if (purpose == Purpose::kSmimeEncryption) {
    if (leaf.key_type == KeyType::kRsa && !ku.key_encipherment) {
      Add(report, "missing-key-usage",
          "the certificate's key usage lacks keyEncipherment, which smimeEncryption with an RSA "
          "key needs");
    } else if (leaf.key_type == KeyType::kEc && !ku.key_agreement) {
      Add(report, "missing-key-usage",
          "the certificate's key usage lacks keyAgreement, which smimeEncryption with an EC key "
          "needs");
    }
  }
}

}  // namespace

std::string_view PurposeName(Purpose purpose) {
  return kPurposeNames[static_cast<size_t>(purpose)];
}

Result<Purpose> ParsePurpose(std::string_view name) {
  for (size_t i = 0; i < std::size(kPurposeNames); ++i) {
    if (EqualsIgnoreCaseAscii(name, kPurposeNames[i])) return static_cast<Purpose>(i);
  }
  std::string valid;
  for (std::string_view n : kPurposeNames) valid += (valid.empty() ? "" : ", ") + std::string(n);
  return InvalidArgumentError("unknown purpose " + Quoted(name) + "; valid purposes: " + valid);
}

bool CarriesEmail(const Certificate& cert, std::string_view address) {
  return std::any_of(cert.emails.begin(), cert.emails.end(),
                     [&](const std::string& e) { return EqualsIgnoreCaseAscii(e, address); });
}

Result<Purpose> ParseImportPurpose(std::string_view name) {
  ASSIGN_OR_RETURN(Purpose purpose, ParsePurpose(name));
  if (purpose == Purpose::kVpn) {
    return InvalidArgumentError(
        "purpose 'vpn' is not supported for imported PFX certificates (Intune does not deliver "
        "them to VPN profiles); valid purposes: unassigned, smimeEncryption, smimeSigning, wifi");
  }
  return purpose;
}

std::string_view SeverityName(Severity severity) {
  return severity == Severity::kWarning ? "warning" : "error";
}

bool ValidationReport::deployable() const {
  return std::none_of(findings.begin(), findings.end(),
                      [](const Finding& f) { return f.severity == Severity::kError; });
}

bool ValidationReport::HasFinding(std::string_view code) const {
  return std::any_of(findings.begin(), findings.end(),
                     [code](const Finding& f) { return f.code == code; });
}

ValidationReport ValidatePfx(std::span<const uint8_t> pfx, const SecretBytes& password,
                             const ValidateOptions& options) {
  return ValidateOpened(ParsePkcs12(pfx, password), password, options);
}

ValidationReport ValidateOpened(const Result<Pkcs12Contents>& contents, const SecretBytes& password,
                                const ValidateOptions& options) {
  ValidationReport report;
  // Reported, but the PFX is still opened so that every other problem shows up in one run.
  if (Status encodable = CheckPasswordEncodable(password); !encodable.ok()) {
    const StatusDetails* details = encodable.details();
    Add(report,
        details != nullptr && !details->service_code.empty() ? details->service_code
                                                             : "non-ascii-password",
        std::string(encodable.message()));
  }
  if (!contents.ok()) {
    std::string_view code = Pkcs12FailureCode(contents.status());
    Add(report, code.empty() ? "corrupt-pkcs12" : code, std::string(contents.status().message()));
    return report;
  }
  ValidateCertificate(contents->leaf, contents->others, options, report);
  return report;
}

void ValidateCertificate(const Certificate& leaf, const std::vector<Certificate>& others,
                         const ValidateOptions& options, ValidationReport& report) {
  report.leaf = leaf;
  CheckLeafValidity(leaf, options, report);
  if (options.check_email) CheckEmail(leaf, options, report);

  std::vector<Certificate> candidates = others;
  candidates.insert(candidates.end(), options.trust_bundle.begin(), options.trust_bundle.end());
  report.chain = BuildChain(leaf, candidates);
  CheckChain(leaf, options, report);

  CheckCryptography(leaf, "the certificate", /*check_signature=*/true, report);
  CheckUsage(leaf, options.purpose, report);
}

}  // namespace certdeploy::pkcs
