#!/usr/bin/env bash
# The one test entry point:
#   scripts/test.sh              install missing packages, build (Debug), run every test
#   scripts/test.sh --sanitize   the same with AddressSanitizer + UndefinedBehaviorSanitizer
#   scripts/test.sh --ci         what CI runs (.ci/run): Clang's thread-safety analysis
#                                (scripts/thread_safety.sh), the whole suite under ASan + UBSan
#                                (--sanitize), then every fuzzer for 60 s (scripts/fuzz.sh 60)
# Every run includes the short fault and crash campaigns (campaign_test; scripts/soak.sh runs the
# long ones) and the hostile-client and secret-hygiene suite (security_test). PostgreSQL tests run
# against a throwaway cluster on a Unix socket. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

sanitize=OFF
build_dir=build/test
fuzz_seconds=0
thread_safety=0
for arg in "$@"; do
  case "$arg" in
    --sanitize) sanitize=ON; build_dir=build/test-asan ;;
    --ci) sanitize=ON; build_dir=build/test-asan; fuzz_seconds=60; thread_safety=1 ;;
    *) echo "usage: scripts/test.sh [--sanitize | --ci]" >&2; exit 2 ;;
  esac
done

source scripts/deps.sh
certdeploy_install_deps

# CI step: Clang -Wthread-safety over graph/, store/ and service/ (base/thread_annotations.h),
# first because it fails fastest. About 1 to 2 minutes on 2 cores, in its own build/thread-safety;
# it prints its own time.
if [ "$thread_safety" = 1 ]; then
  bash scripts/thread_safety.sh
fi

started=$(date +%s)
jobs=$(nproc)
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCERTDEPLOY_SANITIZE="$sanitize"
cmake --build "$build_dir" -j "$jobs"
echo "test.sh: built $build_dir in $(( $(date +%s) - started )) s"

# A throwaway PostgreSQL cluster on a Unix socket for the PostgreSQL store and daemon tests.
export CERTDEPLOY_PG_DIR="${CERTDEPLOY_PG_DIR:-/tmp/certdeploy-pg-test-$$}"
trap 'scripts/pg_test_cluster.sh stop "$CERTDEPLOY_PG_DIR" || true' EXIT
CERTDEPLOY_TEST_PG_URL=$(scripts/pg_test_cluster.sh start "$CERTDEPLOY_PG_DIR")
export CERTDEPLOY_TEST_PG_URL

if [ "$sanitize" = ON ]; then
  # Leaks fail the run; UBSan findings abort (-fno-sanitize-recover in CMakeLists.txt).
  export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
fi
ctest --test-dir "$build_dir" --output-on-failure -j "$jobs" --timeout 900
echo "test.sh: tests done after $(( $(date +%s) - started )) s"

if [ "$fuzz_seconds" -gt 0 ]; then
  bash scripts/fuzz.sh "$fuzz_seconds"
  echo "test.sh: fuzzing done after $(( $(date +%s) - started )) s"
fi
