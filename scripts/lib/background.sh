# Sourced by scripts that run certdeploy processes in the background (demo.sh, bench.sh): every
# process started with start_bg is stopped on exit, Ctrl-C or failure. The caller defines die().
#
#   start_bg OUT ERR cmd...   starts cmd with stdout to OUT and stderr to ERR, waits (up to 60 s)
#                             for its first line, a URL, and sets $bg_url and $bg_pid. Not for use
#                             in $(...): the pid must reach `pids`.
#   stop_bg PID               stops one of them early.

pids=()
bg_url=""
bg_pid=""
cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_bg() {
  local out=$1 err=$2; shift 2
  : >"$out"
  "$@" >"$out" 2>"$err" &
  bg_pid=$!
  pids+=("$bg_pid")
  local i
  for i in $(seq 1 600); do
    if [ -s "$out" ] && head -n1 "$out" | grep -q '^http'; then bg_url=$(head -n1 "$out"); return 0; fi
    kill -0 "$bg_pid" 2>/dev/null || { cat "$err" >&2; die "$* exited early"; }
    sleep 0.1
  done
  cat "$err" >&2
  die "$* printed no URL"
}

stop_bg() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
