// pkcs12_fuzzer: hostile PFX files through what `certdeploy validate` and the enrollment API do
// with them: ValidatePfx (ParsePkcs12, the leaf checks and BuildChain against a fixed trust
// bundle) with the test PKI's password. The same bytes are also read as a DER certificate and as
// a PEM bundle, and a chain is built from whatever certificates they hold: the MAC of a real PFX
// keeps mutations from reaching the certificates inside it, so this path fuzzes certificate
// decoding and chain building directly (seeds: PEM chains and PFX files without MAC or
// encryption as well as ordinary ones).

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "pkcs/certificate.h"
#include "pkcs/chain.h"
#include "pkcs/pkcs12.h"
#include "pkcs/validate.h"
#include "tests/fuzz/fuzz_support.h"

namespace certdeploy::pkcs {
namespace {

constexpr char kPassword[] = "Test-Pa55word!";

struct Fixture {
  std::vector<Certificate> trust_bundle;
  // Validity is judged at the seeds' generation time + 1 hour (tests/fuzz/make_corpus.sh).
  SystemTime now = SystemTime(std::chrono::seconds(std::stoll(fuzz::ReadData("now.txt"))));
  Fixture() {
    Result<std::vector<Certificate>> bundle =
        ParseCertificatesPem(fuzz::ReadData("trust-bundle.pem"));
    CD_FUZZ_CHECK(bundle.ok());
    trust_bundle = std::move(*bundle);
  }
};

const Fixture& GetFixture() {
  static const Fixture* fixture = new Fixture();
  return *fixture;
}

void CheckChain(const Chain& chain) {
  for (const ChainElement& e : chain.elements) CD_FUZZ_CHECK(!e.cert.der.empty());
  if (chain.complete) CD_FUZZ_CHECK(!chain.elements.empty() || chain.missing_issuer.empty());
}

}  // namespace
}  // namespace certdeploy::pkcs

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace certdeploy::pkcs;
  using certdeploy::Result;
  const Fixture& fixture = GetFixture();
  const std::span<const uint8_t> bytes(data, size);
  const certdeploy::SecretBytes password{std::string_view(kPassword)};

  ValidateOptions options;
  options.upn = "alice@contoso.com";
  options.trust_bundle = fixture.trust_bundle;
  options.now = fixture.now;
  ValidationReport report = ValidatePfx(bytes, password, options);
  CD_FUZZ_CHECK(report.leaf.has_value() || !report.findings.empty());
  CD_FUZZ_CHECK(report.leaf.has_value() || !report.deployable());
  CheckChain(report.chain);

  // The same input as certificates for chain building.
  std::vector<Certificate> certs;
  if (Result<Certificate> der = ParseCertificateDer(bytes); der.ok()) certs.push_back(*der);
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (Result<std::vector<Certificate>> pem = ParseCertificatesPem(text); pem.ok()) {
    CD_FUZZ_CHECK(!pem->empty());
    certs.insert(certs.end(), pem->begin(), pem->end());
  }
  if (!certs.empty()) {
    std::vector<Certificate> candidates(certs.begin() + 1, certs.end());
    candidates.insert(candidates.end(), fixture.trust_bundle.begin(), fixture.trust_bundle.end());
    CheckChain(BuildChain(certs.front(), candidates));
    CheckChain(BuildChain(certs.back(), certs));
    ValidationReport leaf_report;
    ValidateCertificate(certs.front(), certs, options, leaf_report);
  }
  return 0;
}
