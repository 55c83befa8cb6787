#!/usr/bin/env bash
# Renders the results of scripts/bench.sh (a folder of JSON files) as Markdown and puts it between
# the "bench:begin" and "bench:end" markers of a document (docs/performance.md).
#
#   scripts/bench_report.sh build/bench/results docs/performance.md
set -euo pipefail
res=$1
doc=$2
[ -f "$res/machine.json" ] || { echo "bench_report: no results in $res" >&2; exit 1; }

mark() { if [ "$1" = true ]; then echo "met"; else echo "**missed**"; fi; }
num() { jq -r "$1" "$2"; }

block=$(mktemp)
{
  m=$res/machine.json
  echo "Run of $(num .date "$m") on commit \`$(num .commit "$m")\`: $(num .cpu "$m"), $(num .cores "$m") cores,"
  echo "$(num .memory "$m"), $(num .os "$m"). All five benchmarks took $(num .seconds "$m") s (build excluded)."
  echo
  echo "### 1–2. Rollout vs the write budget, and vs the serial way"
  echo
  a=$res/apply-50.json
  echo "$(num .users "$a") users, $(num .writes "$a") writes (profiles, assignments, records); budget 100 writes / 2 s,"
  echo "so the minimum is $(num '.minimumSeconds' "$a") s. *Execute* is the write phase (\`summary.elapsedSeconds\`);"
  echo "*total* is the whole \`apply\` command (reading and validating the manifest's PFX files, reading the"
  echo "tenant, planning, executing)."
  echo
  echo "| latency | strategy | execute s | total s | execute ÷ minimum | failed | 429s | peak concurrency | max writes in a window |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for n in apply-50 serial-50 apply-150 serial-150; do
    f=$res/$n.json
    jq -r '"| \(.latencyMs) ms | \(.mode) | \(.executeSeconds * 10 | round / 10) | \(.totalSeconds * 10 | round / 10) | \(.ratio * 1000 | round / 1000) | \(.failed) | \(.throttled) (\(.throttledPercent * 100 | round / 100) %) | \(.peakConcurrency) | \(.maxWritesPerWindow) |"' "$f"
  done
  echo
  for l in 50 150; do
    p=$res/apply-$l.json s=$res/serial-$l.json
    sp=$(jq -n --slurpfile p "$p" --slurpfile s "$s" '$s[0].executeSeconds / $p[0].executeSeconds * 100 | round / 100')
    ok=$(jq '.ratio <= 1.05 and .failed == 0 and .throttledPercent <= 1' "$p")
    echo "- ${l} ms: pipelined is **${sp}×** faster than serial; target (≤ 1.05 × minimum, 0 failed, 429s ≤ 1 %): $(mark "$ok")."
  done
  echo
  echo "### 3. PFX work per user (one core)"
  echo
  echo "| PFX | certdeploy (validate + chain + seal) /s | OpenSSL floor (PKCS12_parse + RSA-OAEP) /s | ratio | target ≥ 0.9 |"
  echo "|---|---|---|---|---|"
  for kind in modern legacy; do
    jq -r --arg k "$kind" '
      (map(select(.label == $k and (.name | startswith("BM_Certdeploy"))))[0].perSecond) as $c |
      (map(select(.label == $k and (.name | startswith("BM_OpenSslFloor"))))[0].perSecond) as $f |
      "| \($k) | \($c | round) | \($f | round) | \($c / $f * 100 | round / 100) | \(if $c / $f >= 0.9 then "met" else "**missed**" end) |"' \
      "$res/pfx.json"
  done
  echo
  jq -r '"Breakdown: validate only \(map(select(.name | startswith("BM_ValidateOnly"))) | map("\(.label) \(.perSecond | round)/s") | join(", ")); seal only \(map(select(.name | startswith("BM_SealOnly")))[0].perSecond | round)/s."' "$res/pfx.json"
  echo
  echo "### 4. HR intake (wrk, TLS, distinct users)"
  echo
  i=$res/intake.json
  jq -r '"| offered | achieved req/s | p50 ms | p90 ms | p99 ms | max ms | non-202 | socket errors | accepted | in the store |",
         "|---|---|---|---|---|---|---|---|---|---|",
         "| 100 req/s | \(.requestsPerSecond) | \(.latencyMs.p50) | \(.latencyMs.p90) | \(.latencyMs.p99) | \(.latencyMs.max) | \(.rejected) | \(.socketErrors + .timeouts) | \(.accepted) | \(.stored) |"' "$i"
  ok=$(jq '.latencyMs.p99 < 250 and .rejected == 0 and .socketErrors == 0 and .timeouts == 0 and .stored >= .accepted' "$i")
  echo
  echo "Target (p99 < 250 ms at 100 req/s, zero errors, every accepted job in the store): $(mark "$ok")."
  echo "(The store may hold a few more items than wrk counted: requests in flight when wrk stopped"
  echo "were still committed and answered, after wrk stopped counting.)"
  echo
  echo "### 5. Plan at scale"
  echo
  p=$res/plan.json
  jq -r '"| users | wall s | Graph reads | bound (records ÷ 1000 + 10) | peak RSS MB | already present | to import | invalid |",
         "|---|---|---|---|---|---|---|---|",
         "| \(.users) | \(.wallSeconds) | \(.graphReads) | \(.readBound) | \(.peakRssMb | round) | \(.alreadyPresent) | \(.imports) | \(.invalid) |"' "$p"
  ok=$(jq '.graphReads <= .readBound and .peakRssMb < 500' "$p")
  echo
  echo "Target (reads ≤ records ÷ page size + a small constant, peak RSS < 500 MB): $(mark "$ok")."
} >"$block"

awk -v block="$block" '
  /<!-- bench:begin -->/ { print; while ((getline line < block) > 0) print line; skip = 1; next }
  /<!-- bench:end -->/ { skip = 0 }
  !skip { print }
' "$doc" >"$doc.tmp"
mv "$doc.tmp" "$doc"
rm -f "$block"
