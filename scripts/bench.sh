#!/usr/bin/env bash
# certdeploy benchmarks: the five figures of docs/performance.md, from one run.
#
#   scripts/bench.sh [--users N] [--plan-users N] [--only 1,2,3,4,5] [--skip-build] [--no-doc]
#
#   1. rollout vs the write budget   `apply` of N users (default 2000) against `certdeploy sandbox`
#                                    (latency 50 ms, --write-limit 100 --window 2)
#   2. versus the serial way         the same with `apply --serial`; both again at 150 ms latency
#   3. PFX work per user             bench/pfx_bench (Google Benchmark) vs bare OpenSSL, one core
#   4. HR intake                     wrk: POST /v1/enrollments over TLS at 100 req/s
#   5. plan at scale                 `plan` for 100 000 users who all have their record already
#
# Installs what it needs (wrk, GNU time, sqlite3, Google Benchmark), builds Release with the
# benchmarks in build/bench, keeps every raw result under build/bench/results/, and rewrites the
# block between the bench markers in docs/performance.md (unless --no-doc). Every process it
# starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

users=2000
plan_users=100000
build=1
write_doc=1
only=1,2,3,4,5
while [ $# -gt 0 ]; do
  case "$1" in
    --users) users=$2; shift 2 ;;
    --plan-users) plan_users=$2; shift 2 ;;
    --only) only=$2; write_doc=0; shift 2 ;;
    --skip-build) build=0; shift ;;
    --no-doc) write_doc=0; shift ;;
    *) echo "usage: scripts/bench.sh [--users N] [--plan-users N] [--only 1,2,3,4,5] [--skip-build] [--no-doc]" >&2
       exit 2 ;;
  esac
done

# wants N: true when benchmark N is selected (--only; a partial run never rewrites the doc).
wants() { case ",$only," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
say() { printf '\n\033[1m== %s ==\033[0m\n' "$1"; }
die() { echo "bench: $*" >&2; exit 1; }

source scripts/lib/background.sh

source scripts/deps.sh
certdeploy_install_deps
extra=()
for p in wrk time sqlite3; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || extra+=("$p")
done
if [ ${#extra[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${extra[@]}"
fi

bdir=$root/build/bench
res=$bdir/results
work=$bdir/work
mkdir -p "$res"
rm -rf "$work"
mkdir -p "$work"

if [ "$build" = 1 ]; then
  say "build (Release, benchmarks on)"
  t0=$(date +%s)
  cmake -S . -B "$bdir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCERTDEPLOY_BENCH=ON \
    -DCERTDEPLOY_BUILD_TESTS=OFF >/dev/null
  cmake --build "$bdir" -j "$(nproc)" --target certdeploy pfx_bench bench_fixtures
  echo "build: $(( $(date +%s) - t0 )) s"
fi
bin=$bdir/certdeploy
[ -x "$bin" ] || die "no $bin (run without --skip-build)"

t_all=$(date +%s)  # The benchmarks' time excludes the build.
say "fixtures"
t0=$(date +%s)
pki=$work/pki
bash scripts/make_test_pki.sh "$pki" >/dev/null
if wants 1 || wants 2; then
  "$bdir/bench/bench_fixtures" --pki "$pki" --out "$work/rollout" --users "$users"
fi
if wants 4; then
  "$bdir/bench/bench_fixtures" --pki "$pki" --out "$work/enroll" --users 3600 --prefix hire \
    --enroll-bodies "$work/enroll/bodies.jsonl"
fi
if wants 5; then
  "$bdir/bench/bench_fixtures" --pki "$pki" --out "$work/scale" --users "$plan_users" \
    --per-pfx 200 --journal "$work/scale/journal.jsonl"
fi
echo "fixtures: $(( $(date +%s) - t0 )) s"

export BENCH_CLIENT_SECRET="bench-secret-$RANDOM$RANDOM"
client_id=5b1d4c8e-9f3a-4b7d-8e1c-4a506f0c9a1e
group=6f0c9a1e-5b1d-4c8e-9f3a-2b7d8e1c4a50

# write_config FILE URL CONCURRENCY [EXTRA YAML]
write_config() {
  cat >"$1" <<YAML
tenant:    { id: contoso.onmicrosoft.com, cloud: global, graphUrl: "$2", authorityUrl: "$2" }
auth:      { clientId: $client_id, clientSecretEnv: BENCH_CLIENT_SECRET }
connector: { publicKeyFile: $pki/connector.pub, paddingScheme: oaepSha512 }
profiles:  { platforms: [ios], namePrefix: "S/MIME", assignTo: { groups: [$group] },
             importedPfxProfile: true }
pfx:       { intendedPurpose: smimeEncryption, expiresSoonDays: 3 }
limits:    { writesPer20s: 100, requestsPer20s: 1000, windowSeconds: 2, concurrency: $3 }
${4:-}
YAML
}

# start_sandbox NAME LATENCY_MS [more flags]
start_sandbox() {
  local name=$1 latency=$2; shift 2
  start_bg "$work/$name.out" "$work/$name.log" "$bin" sandbox --listen 127.0.0.1:0 \
    --connector-key "$pki/connector.key" --client-id "$client_id" \
    --client-secret-env BENCH_CLIENT_SECRET --latency-ms "$latency" --seed 7 "$@"
  sandbox_url=$bg_url
  sandbox_pid=$bg_pid
}

# ---- 1 and 2: rollout vs the budget, and the serial baseline --------------------------------
# run_apply NAME LATENCY [--serial]: one apply on a fresh sandbox; result JSON in $res/NAME.json.
run_apply() {
  local name=$1 latency=$2 mode=${3:-}
  start_sandbox "sandbox-$name" "$latency" --write-limit 100 --window 2 --request-limit 1000 \
    --page-size 100 --users "$work/rollout/manifest.csv"
  write_config "$work/$name.yaml" "$sandbox_url" 16
  local t0 t1 status=0
  t0=$(date +%s.%N)
  "$bin" apply --config "$work/$name.yaml" --manifest "$work/rollout/manifest.csv" --yes \
    --output json $mode >"$work/$name.report.json" 2>"$work/$name.err" || status=$?
  t1=$(date +%s.%N)
  curl -fsS "$sandbox_url/_sandbox/stats" >"$work/$name.stats.json"
  stop_bg "$sandbox_pid"
  [ "$status" -eq 0 ] || { tail -n 20 "$work/$name.err" >&2; die "apply ($name) exited $status"; }
  jq -n --arg name "$name" --argjson latency "$latency" --arg mode "${mode:-pipelined}" \
    --argjson total "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')" \
    --slurpfile report "$work/$name.report.json" --slurpfile stats "$work/$name.stats.json" '
    ($report[0].summary) as $s | ($stats[0]) as $st |
    ($report[0].items | length) as $writes |
    ($writes * 2 / 100) as $minimum |
    { name: $name, mode: $mode, latencyMs: $latency, users: ($report[0].items | map(select(.kind == "importUserPfx")) | length),
      writes: $writes, executeSeconds: $s.elapsedSeconds, totalSeconds: $total,
      minimumSeconds: $minimum, ratio: ($s.elapsedSeconds / $minimum),
      succeeded: $s.succeeded, failed: $s.failed,
      throttled: $st.throttled, throttledPercent: (100 * $st.throttled / ($st.writes + $st.throttled)),
      writesReceived: ($st.writes + $st.throttled),
      peakConcurrency: $st.peakConcurrency, maxWritesPerWindow: $st.maxWritesPerWindow,
      duplicates: $st.duplicates }' >"$res/$name.json"
  jq -c . "$res/$name.json"
}

if wants 1 || wants 2; then
  say "1+2. rollout of $users users vs the write budget (100 writes / 2 s), pipelined and serial"
  run_apply apply-50 50
  run_apply serial-50 50 --serial
  run_apply apply-150 150
  run_apply serial-150 150 --serial
fi

# ---- 3: PFX work per user ---------------------------------------------------------------------
if wants 3; then
say "3. PFX work per user (one core)"
# Interleaved repetitions: a slow moment of a shared VM spreads over every benchmark instead of
# landing on one of them.
CERTDEPLOY_BENCH_PKI=$pki taskset -c 0 "$bdir/bench/pfx_bench" --benchmark_min_time=1 \
  --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true \
  --benchmark_report_aggregates_only=true \
  --benchmark_out="$res/pfx_bench.json" --benchmark_out_format=json
jq '[.benchmarks[] | select(.aggregate_name == "median")
     | {name: .run_name, label: .label, perSecond: .items_per_second, microseconds: .real_time}]' \
  "$res/pfx_bench.json" >"$res/pfx.json"
jq -c '.[]' "$res/pfx.json"
fi

# ---- 4: HR intake -----------------------------------------------------------------------------
if wants 4; then
say "4. HR intake: wrk, POST /v1/enrollments over TLS at 100 req/s"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
  -addext "subjectAltName=IP:127.0.0.1" -keyout "$work/tls.key" -out "$work/tls.crt" 2>/dev/null
start_sandbox sandbox-intake 50 --write-limit 100 --window 2 --page-size 100
api_key="bench-api-key-$RANDOM$RANDOM"
api_sha=$(printf %s "$api_key" | sha256sum | cut -d' ' -f1)
write_config "$work/intake.yaml" "$sandbox_url" 8 "service:
  listen: 127.0.0.1:0
  tls: { certFile: $work/tls.crt, keyFile: $work/tls.key }
  store: \"sqlite:$work/intake.db\"
  apiKeys: [ { name: hr, sha256: $api_sha, scopes: [enroll, read] } ]"
start_bg "$work/serve.out" "$work/serve.log" "$bin" serve --config "$work/intake.yaml"
serve_url=$bg_url
serve_pid=$bg_pid
ENROLL_BODIES=$work/enroll/bodies.jsonl ENROLL_API_KEY=$api_key ENROLL_RATE=100 \
  ENROLL_THREADS=2 ENROLL_RESULT=$work/wrk.json \
  wrk -t2 -c16 -d30s --timeout 10s -s bench/enroll.lua "$serve_url" | tee "$work/wrk.out"
stored=$(sqlite3 "$work/intake.db" "SELECT count(*) FROM work_items WHERE kind = 'enrollment'")
stop_bg "$serve_pid"
stop_bg "$sandbox_pid"
jq --argjson stored "$stored" '. + {stored: $stored}' "$work/wrk.json" >"$res/intake.json"
jq -c . "$res/intake.json"
fi

# ---- 5: plan at scale -------------------------------------------------------------------------
if wants 5; then
say "5. plan for $plan_users users with existing records"
start_sandbox sandbox-scale 50 --state "$work/scale/journal.jsonl" --page-size 1000 \
  --write-limit 100 --window 2 --request-limit 100000 --users "$work/scale/manifest.csv"
write_config "$work/scale.yaml" "$sandbox_url" 8
status=0
/usr/bin/time -f '%e %M' -o "$work/plan.time" "$bin" plan --config "$work/scale.yaml" \
  --manifest "$work/scale/manifest.csv" --output json >"$work/plan.json" 2>"$work/plan.err" || status=$?
curl -fsS "$sandbox_url/_sandbox/stats" >"$work/scale.stats.json"
stop_bg "$sandbox_pid"
[ "$status" -eq 0 ] || { tail -n 20 "$work/plan.err" >&2; die "plan exited $status"; }
read -r plan_wall plan_rss_kb <"$work/plan.time"
jq -n --argjson users "$plan_users" --argjson wall "$plan_wall" --argjson rss "$plan_rss_kb" \
  --slurpfile plan "$work/plan.json" --slurpfile stats "$work/scale.stats.json" '
  { users: $users, wallSeconds: $wall, peakRssMb: ($rss / 1024),
    graphReads: ($stats[0].requests - $stats[0].tokensIssued),
    readBound: (($users / 999 | ceil) * 2 + 10),
    alreadyPresent: ([$plan[0].actions[] | select(.kind == "skipUserPfx")] | length),
    imports: ([$plan[0].actions[] | select(.kind == "importUserPfx")] | length),
    invalid: ([$plan[0].actions[] | select(.kind == "invalid")] | length),
    actions: ($plan[0].actions | length) }' >"$res/plan.json"
jq -c . "$res/plan.json"
fi

total=$(( $(date +%s) - t_all ))
echo "bench: all five in $total s"
jq -n --argjson seconds "$total" --arg cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" \
  --argjson cores "$(nproc)" --arg mem "$(free -g | awk '/Mem:/ {print $2}') GiB" \
  --arg os "$(. /etc/os-release && echo "$PRETTY_NAME")" --arg date "$(date -u +%Y-%m-%dT%H:%MZ)" \
  --arg commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  '{seconds: $seconds, cpu: $cpu, cores: $cores, memory: $mem, os: $os, date: $date, commit: $commit}' \
  >"$res/machine.json"

if [ "$write_doc" = 1 ]; then
  bash scripts/bench_report.sh "$res" docs/performance.md
  echo "bench: docs/performance.md updated"
fi
