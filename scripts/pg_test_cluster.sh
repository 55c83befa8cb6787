#!/usr/bin/env bash
# scripts/pg_test_cluster.sh: a throwaway PostgreSQL 15 cluster for the store tests.
#
# Usage: scripts/pg_test_cluster.sh start [DIR]   start (or find) the cluster, print its URL
#        scripts/pg_test_cluster.sh stop  [DIR]   stop it and delete DIR
#        scripts/pg_test_cluster.sh url   [DIR]   print the URL of a running cluster
#
# DIR defaults to $CERTDEPLOY_PG_DIR, else /tmp/certdeploy-pg-test. The server listens only on a
# Unix socket in DIR (no TCP), trusts local connections, and runs with fsync off: it holds test
# data only. `start` prints one line, e.g.
#   postgresql:///postgres?host=/tmp/certdeploy-pg-test&user=postgres
# suitable for CERTDEPLOY_TEST_PG_URL. Both subcommands are idempotent and print nothing else
# unless something fails (then the server log goes to stderr).
#
# initdb and pg_ctl refuse to run as root, so as root they run as the `postgres` OS user
# (runuser), in a DIR owned by that user; otherwise they run as the calling user.
set -euo pipefail

cmd=${1:-start}
dir=${2:-${CERTDEPLOY_PG_DIR:-/tmp/certdeploy-pg-test}}
bindir=${CERTDEPLOY_PG_BINDIR:-/usr/lib/postgresql/15/bin}
data="$dir/data"
log="$dir/server.log"

if [ "$(id -u)" -eq 0 ]; then
  run_as=(runuser -u postgres --)
  db_user=postgres
else
  run_as=()
  db_user=$(id -un)
fi

pg() { "${run_as[@]}" "$@"; }

url() { echo "postgresql:///postgres?host=$dir&user=$db_user"; }

running() { [ -f "$data/PG_VERSION" ] && pg "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; }

fail() {
  echo "pg_test_cluster: $1" >&2
  [ -f "$log" ] && tail -n 30 "$log" >&2
  exit 1
}

case "$cmd" in
  start)
    if running; then
      url
      exit 0
    fi
    [ -x "$bindir/initdb" ] || fail "no PostgreSQL binaries in $bindir (apt-get install postgresql)"
    # The socket path must stay under the kernel's ~107-byte limit.
    [ ${#dir} -le 80 ] || fail "directory path too long for a Unix socket: $dir"
    mkdir -p "$dir"
    chmod 700 "$dir"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
    if [ ! -f "$data/PG_VERSION" ]; then
      rm -rf "$data"
      pg "$bindir/initdb" -D "$data" -U "$db_user" -A trust -E UTF8 --locale=C --no-sync \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; fail "initdb failed"; }
    fi
    pg "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 60 \
      -o "-c listen_addresses='' -k $dir -c fsync=off -c synchronous_commit=off \
          -c full_page_writes=off -c max_connections=200" \
      start >/dev/null 2>&1 || fail "pg_ctl start failed"
    url
    ;;
  stop)
    if running; then
      pg "$bindir/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
        fail "pg_ctl stop failed"
    fi
    rm -rf "$dir"
    ;;
  url)
    running || fail "no cluster running in $dir"
    url
    ;;
  *)
    echo "usage: $0 start|stop|url [DIR]" >&2
    exit 2
    ;;
esac
