#!/usr/bin/env bash
# scripts/soak.sh: the long reliability campaigns (tests/e2e/campaign_test.cc, docs/reliability.md).
#
#   scripts/soak.sh [RESULTS_FILE]
#
# Builds a Release tree in build/soak, starts a throwaway PostgreSQL cluster
# (scripts/pg_test_cluster.sh), and runs campaign_test with 1000 users and 10 kills: the fault
# campaign, the crash campaigns on SQLite and PostgreSQL (plus one kill inside the store
# migration), and the PostgreSQL leader fail-over. Prints the "CAMPAIGN key=value ..." summary
# lines and, when RESULTS_FILE is given, writes them there too. The full test output goes to
# build/soak/campaign.log. Exits non-zero if any campaign failed.
#
# Overrides: CERTDEPLOY_CAMPAIGN_USERS (default 1000), CERTDEPLOY_CAMPAIGN_KILLS (10),
# CERTDEPLOY_CAMPAIGN_SEED (a fixed default in the test; set it to explore other schedules),
# CERTDEPLOY_TEST_PG_URL (use this cluster instead of starting one). Takes about half an hour on
# two cores.
set -euo pipefail
cd "$(dirname "$0")/.."

results=${1:-}
build_dir=build/soak
export CERTDEPLOY_CAMPAIGN_USERS="${CERTDEPLOY_CAMPAIGN_USERS:-1000}"
export CERTDEPLOY_CAMPAIGN_KILLS="${CERTDEPLOY_CAMPAIGN_KILLS:-10}"

source scripts/deps.sh
certdeploy_install_deps

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target campaign_test certdeploy

if [ -z "${CERTDEPLOY_TEST_PG_URL:-}" ]; then
  export CERTDEPLOY_PG_DIR="${CERTDEPLOY_PG_DIR:-/tmp/certdeploy-pg-soak-$$}"
  trap 'scripts/pg_test_cluster.sh stop "$CERTDEPLOY_PG_DIR" || true' EXIT
  CERTDEPLOY_TEST_PG_URL=$(scripts/pg_test_cluster.sh start "$CERTDEPLOY_PG_DIR")
  export CERTDEPLOY_TEST_PG_URL
fi

log="$build_dir/campaign.log"
echo "soak: campaign_test with ${CERTDEPLOY_CAMPAIGN_USERS} users, ${CERTDEPLOY_CAMPAIGN_KILLS} kills" \
  "(full output: $log)" >&2
status=0
# The test PKI first (what ctest's `pki` fixture does), then one campaign at a time through
# ctest (-V keeps their stdout).
bash scripts/make_test_pki.sh "$build_dir/test-pki" >&2
ctest --test-dir "$build_dir" -R '^campaign_test\.' -V --timeout 7200 >"$log" 2>&1 || status=$?

# ctest -V prefixes each output line with "<test number>: ".
lines=$(sed -n 's/^\([0-9]*: \)\{0,1\}\(CAMPAIGN .*\)$/\2/p' "$log")
if [ -n "$lines" ]; then
  echo "$lines"
  if [ -n "$results" ]; then
    {
      echo "# scripts/soak.sh $(date -u +%Y-%m-%dT%H:%M:%SZ) $(git rev-parse --short HEAD 2>/dev/null || echo '?')" \
        "users=${CERTDEPLOY_CAMPAIGN_USERS} kills=${CERTDEPLOY_CAMPAIGN_KILLS} nproc=$(nproc)"
      echo "$lines"
    } >"$results"
  fi
fi
grep -E '^([0-9]+: )?\[  (FAILED|SKIPPED) ' "$log" >&2 || true
if [ "$status" -ne 0 ]; then
  echo "soak: FAILED (exit $status); see $log" >&2
else
  echo "soak: all campaigns passed" >&2
fi
exit "$status"
