// tests/fuzz/fuzz_support.h: small helpers shared by the libFuzzer targets.

#pragma once

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace certdeploy::fuzz {

// A file of tests/fuzz/data/ (CERTDEPLOY_FUZZ_DATA_DIR is set by tests/fuzz/CMakeLists.txt).
inline std::string DataPath(const std::string& name) {
  return std::string(CERTDEPLOY_FUZZ_DATA_DIR) + "/" + name;
}

// Reads a data file whole; aborts if it is missing (a broken checkout, not a finding).
inline std::string ReadData(const std::string& name) {
  std::ifstream in(DataPath(name), std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "fuzzer: cannot read %s\n", DataPath(name).c_str());
    std::abort();
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Fails the run (libFuzzer records a crash) when an invariant the fuzzer checks is broken.
#define CD_FUZZ_CHECK(cond)                                                   \
  do {                                                                        \
    if (!(cond)) {                                                            \
      std::fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", #cond,      \
                   __FILE__, __LINE__);                                       \
      std::abort();                                                           \
    }                                                                         \
  } while (false)

}  // namespace certdeploy::fuzz
