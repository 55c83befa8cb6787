# tests/fuzz/fuzz-flags.cmake: initial cache for the libFuzzer build (scripts/fuzz.sh passes it
# with `cmake -C`). The sanitizer flags must reach every target, the project libraries included,
# so they go into CMAKE_CXX_FLAGS here rather than into tests/fuzz/CMakeLists.txt (which is
# processed after the sibling module directories). Only the fuzzer executables add
# -fsanitize=fuzzer (libFuzzer's main); everything else gets the coverage instrumentation alone.
set(CMAKE_C_COMPILER clang CACHE STRING "")
set(CMAKE_CXX_COMPILER clang++ CACHE STRING "")
set(CMAKE_CXX_FLAGS
    "-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -gline-tables-only"
    CACHE STRING "")
# -O1 keeps the sanitizers' reports readable; no NDEBUG, so assertions stay armed.
set(CMAKE_BUILD_TYPE Fuzz CACHE STRING "")
set(CMAKE_CXX_FLAGS_FUZZ "-O1" CACHE STRING "")
set(CERTDEPLOY_FUZZ ON CACHE BOOL "")
set(CERTDEPLOY_BUILD_TESTS OFF CACHE BOOL "")
