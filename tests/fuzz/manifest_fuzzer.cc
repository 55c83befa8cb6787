// manifest_fuzzer: rollout manifests (RFC 4180 CSV with a header row) through ParseCsv and
// ParseManifest, as `certdeploy plan/apply` and POST /v1/rollouts read them. Nothing is read
// from disk: password files are never opened, only inline passwords are taken.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/manifest.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace certdeploy::config;
  const std::string_view csv(reinterpret_cast<const char*>(data), size);

  const std::vector<CsvRecord> records = ParseCsv(csv);
  int previous_line = 0;
  for (const CsvRecord& r : records) {
    CD_FUZZ_CHECK(r.line > previous_line);  // Records come in order, one per starting line.
    previous_line = r.line;
  }

  certdeploy::Result<Manifest> manifest = ParseManifest(csv, "/fuzz-inbox/manifest.csv");
  if (!manifest.ok()) return 0;
  CD_FUZZ_CHECK(manifest->rows.size() + manifest->problems.size() <= records.size());
  for (const ManifestRow& row : manifest->rows) {
    CD_FUZZ_CHECK(row.line >= 1);
    CD_FUZZ_CHECK(!row.upn.empty());
    CD_FUZZ_CHECK(!row.pfx_file.empty() && row.pfx_file.front() == '/');
    CD_FUZZ_CHECK(row.password.has_value() != !row.password_file.empty());
    if (row.password) {
      certdeploy::Result<certdeploy::SecretBytes> password = row.ReadPassword();
      CD_FUZZ_CHECK(password.ok());
    }
  }
  for (const ManifestProblem& p : manifest->problems) {
    CD_FUZZ_CHECK(p.line >= 1);
    CD_FUZZ_CHECK(!p.message.empty());
  }
  return 0;
}
