#!/usr/bin/env bash
# The libFuzzer campaign (docs/fuzzing.md):
#   scripts/fuzz.sh [SECONDS] [FUZZER...]   build, then fuzz each FUZZER (default: all) for SECONDS
#                                           (default 60) on a copy of its committed seed corpus
#   scripts/fuzz.sh --regress [FUZZER...]   build, then run each committed seed and regression
#                                           input once (no fuzzing): fast, for CI
# Installs missing packages (clang 14, libFuzzer, llvm-symbolizer), configures build/fuzz with
# clang + ASan + UBSan (+ LeakSanitizer), builds only the fuzzers and the libraries they link.
# Fuzzers run one at a time. Prints one line per fuzzer; exits non-zero on any crash, leak, timeout
# or out-of-memory, keeping the reproducer under build/fuzz/artifacts/<fuzzer>/.
# Environment: CERTDEPLOY_FUZZ_JOBS (build parallelism, default nproc), CERTDEPLOY_FUZZ_KEEP=1
# (keep the working corpus of earlier runs instead of starting from the seeds).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

all_fuzzers=(pkcs12_fuzzer connector_key_fuzzer manifest_fuzzer config_fuzzer api_body_fuzzer)
mode=fuzz
seconds=60
fuzzers=()
for arg in "$@"; do
  case "$arg" in
    --regress) mode=regress ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *_fuzzer) fuzzers+=("$arg") ;;
    *[!0-9]*|'') echo "usage: scripts/fuzz.sh [--regress | SECONDS] [FUZZER...]" >&2; exit 2 ;;
    *) seconds=$arg ;;
  esac
done
((${#fuzzers[@]})) || fuzzers=("${all_fuzzers[@]}")
for f in "${fuzzers[@]}"; do
  [[ " ${all_fuzzers[*]} " == *" $f "* ]] || { echo "unknown fuzzer: $f" >&2; exit 2; }
done

# Packages: the project's (scripts/deps.sh), then the fuzzing toolchain the same way.
source scripts/deps.sh
certdeploy_install_deps
CERTDEPLOY_PACKAGES=(clang clang-14 libclang-rt-14-dev llvm-14)  # clang: /usr/bin/clang++
certdeploy_install_deps

build=build/fuzz
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
start=$SECONDS
cmake -S . -B "$build" -G Ninja -C tests/fuzz/fuzz-flags.cmake "${launcher[@]}" >/dev/null
ninja -C "$build" -j "${CERTDEPLOY_FUZZ_JOBS:-$(nproc)}" "${fuzzers[@]}"
echo "built in $((SECONDS - start)) s"

symbolizer=$(command -v llvm-symbolizer-14 || command -v llvm-symbolizer || true)
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1${symbolizer:+:external_symbolizer_path=$symbolizer}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export ASAN_SYMBOLIZER_PATH="$symbolizer"

mkdir -p "$build/logs"
failed=0
for f in "${fuzzers[@]}"; do
  exe="$build/tests/fuzz/$f"
  artifacts="$build/artifacts/$f"
  log="$build/logs/$f.log"
  mkdir -p "$artifacts"
  flags=(-rss_limit_mb=2048 -timeout=10 -artifact_prefix="$artifacts/" -print_final_stats=1)
  t0=$SECONDS
  if [[ $mode == regress ]]; then
    mapfile -t inputs < <(find "tests/fuzz/corpus/$f" "tests/fuzz/regressions/$f" -type f \
                            ! -name '.*' 2>/dev/null | sort)
    rc=0
    # Files as arguments: libFuzzer runs each once and exits (a directory would start fuzzing).
    ((${#inputs[@]})) && { "$exe" "${flags[@]}" "${inputs[@]}" >"$log" 2>&1 || rc=$?; }
    if ((rc == 0)); then
      printf '%-22s ok      %4d inputs, %d s\n' "$f" "${#inputs[@]}" $((SECONDS - t0))
    else
      printf '%-22s FAILED  (exit %d) see %s\n' "$f" "$rc" "$log"
      failed=1
    fi
    continue
  fi
  # The working corpus is a copy: the committed seeds are never written to.
  work="$build/work/$f"
  [[ ${CERTDEPLOY_FUZZ_KEEP:-0} == 1 ]] || rm -rf "$work"
  mkdir -p "$work"
  find "tests/fuzz/corpus/$f" "tests/fuzz/regressions/$f" -type f ! -name '.*' \
    -exec cp -n -t "$work" {} + 2>/dev/null || true
  rc=0
  "$exe" "${flags[@]}" -max_total_time="$seconds" "$work" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -1)
  if ((rc == 0)); then status=ok; else status=FAILED; failed=1; fi
  printf '%-22s %-7s %8s execs  %-34s %d s\n' "$f" "$status" "${execs:-?}" "${cov:-?}" \
    $((SECONDS - t0))
  if ((rc != 0)); then
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|fuzz invariant|artifact_prefix|Test unit written)' \
      "$log" | head -5 | sed 's/^/    /'
    echo "    log: $log; artifacts: $artifacts/"
  fi
done
echo "total $((SECONDS - start)) s"
exit "$failed"
