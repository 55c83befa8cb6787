#!/usr/bin/env bash
# Clang's thread-safety analysis over the modules that annotate their locks (graph/, store/,
# service/; see base/thread_annotations.h and base/mutex.h):
#   scripts/thread_safety.sh     configure build/thread-safety with clang++ and compile those
#                                modules' sources with -Wthread-safety -Werror=thread-safety
# Compiles only the three modules' own object files (not the libraries they link, nor tests), at
# -O0 without debug info: the analysis runs in the compiler's front end, so that is all it needs.
# Incremental: a second run recompiles only what changed. Exits non-zero on any thread-safety
# warning (or compile error). scripts/test.sh --ci runs it.
# Environment: CERTDEPLOY_TSA_JOBS (build parallelism, default nproc).
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/deps.sh
certdeploy_install_deps
CERTDEPLOY_PACKAGES=(clang clang-14)  # clang: /usr/bin/clang++
certdeploy_install_deps

build=build/thread-safety
modules=(graph store service)
start=$SECONDS
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS_DEBUG=-O0 -DCMAKE_CXX_FLAGS='-Wthread-safety -Werror=thread-safety' \
  -DCERTDEPLOY_BUILD_TESTS=OFF "${launcher[@]}" >/dev/null

# The object files of certdeploy_<module> for each module, e.g.
# graph/CMakeFiles/certdeploy_graph.dir/internal/write_budget.cc.o.
pattern=$(IFS='|'; echo "^(${modules[*]})/CMakeFiles/certdeploy_(${modules[*]})\\.dir/.*\\.o:")
mapfile -t objects < <(ninja -C "$build" -t targets all | grep -E "$pattern" | cut -d: -f1)
if ((${#objects[@]} == 0)); then
  echo "thread_safety.sh: no object files found for ${modules[*]}" >&2
  exit 1
fi
ninja -C "$build" -j "${CERTDEPLOY_TSA_JOBS:-$(nproc)}" "${objects[@]}"
echo "thread_safety.sh: ${#objects[@]} files of ${modules[*]} clean in $((SECONDS - start)) s"
