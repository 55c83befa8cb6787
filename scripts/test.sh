#!/usr/bin/env bash
# The one test entry point (CI runs it through .ci/run):
#   scripts/test.sh              install missing packages, build (Debug), run every test
#   scripts/test.sh --sanitize   the same with AddressSanitizer + UndefinedBehaviorSanitizer
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

sanitize=OFF
build_dir=build/test
for arg in "$@"; do
  case "$arg" in
    --sanitize) sanitize=ON; build_dir=build/test-asan ;;
    *) echo "usage: scripts/test.sh [--sanitize]" >&2; exit 2 ;;
  esac
done

source scripts/deps.sh
certdeploy_install_deps

jobs=$(nproc)
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCERTDEPLOY_SANITIZE="$sanitize"
cmake --build "$build_dir" -j "$jobs"

# A throwaway PostgreSQL cluster on a Unix socket for the PostgreSQL store and daemon tests.
export CERTDEPLOY_PG_DIR="${CERTDEPLOY_PG_DIR:-/tmp/certdeploy-pg-test-$$}"
trap 'scripts/pg_test_cluster.sh stop "$CERTDEPLOY_PG_DIR" || true' EXIT
CERTDEPLOY_TEST_PG_URL=$(scripts/pg_test_cluster.sh start "$CERTDEPLOY_PG_DIR")
export CERTDEPLOY_TEST_PG_URL

ctest --test-dir "$build_dir" --output-on-failure -j "$jobs" --timeout 600
