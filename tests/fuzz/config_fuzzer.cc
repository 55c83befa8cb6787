// config_fuzzer: the YAML configuration through config::ParseConfig (what LoadConfig does after
// reading the file). ParseConfig reads no other file, so every input is pure text. A loaded
// configuration must satisfy the documented post-conditions (absolute paths, a service section
// that is complete).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/config.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace certdeploy::config;
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  certdeploy::Result<Config> config = ParseConfig(yaml, "/fuzz-config/certdeploy.yaml");
  if (!config.ok()) {
    CD_FUZZ_CHECK(!config.status().message().empty());
    return 0;
  }
  CD_FUZZ_CHECK(config->path == "/fuzz-config/certdeploy.yaml");
  CD_FUZZ_CHECK(!config->connector.public_key_file.empty() &&
                config->connector.public_key_file.front() == '/');
  if (!config->profiles.trust_bundle.empty()) {
    CD_FUZZ_CHECK(config->profiles.trust_bundle.front() == '/');
  }
  CD_FUZZ_CHECK(config->limits.concurrency > 0);
  if (config->service) {
    const ServiceConfig& s = *config->service;
    CD_FUZZ_CHECK(!s.store.empty());
    for (const ApiKeyConfig& k : s.api_keys) {
      CD_FUZZ_CHECK(k.sha256.size() == 64);
      CD_FUZZ_CHECK(!k.scopes.empty());
    }
    if (!s.inbox.empty()) CD_FUZZ_CHECK(s.inbox.front() == '/');
  }
  return 0;
}
