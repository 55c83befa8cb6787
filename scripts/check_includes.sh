#!/usr/bin/env bash
# The module rules of docs/architecture.md, checked on the source tree (run by ctest as
# `module_rules`):
#   1. a module includes only the public headers of other modules, never their internal/;
#   2. a module includes only the modules it may depend on (the layers below);
#   3. no production source file is longer than 600 lines.
# Prints every violation and exits 1 if there is one.
set -euo pipefail
cd "$(dirname "$0")/.."

# module: the modules it may include besides itself (docs/architecture.md, "Modules").
rules='
base:
pkcs: base
config: base pkcs
graph: base
deploy: base pkcs config graph
http: base
store: base
service: base pkcs config graph deploy http store
sandbox: base pkcs http
cli: base pkcs config graph deploy http store service sandbox
'
modules=$(awk -F: 'NF { printf "%s ", $1 }' <<<"$rules")
# shellcheck disable=SC2086
files=$(find $modules -type f \( -name '*.h' -o -name '*.cc' \) | sort)

# shellcheck disable=SC2086
awk -v rules="$rules" '
  BEGIN {
    n = split(rules, lines, "\n")
    for (i = 1; i <= n; i++) {
      if (lines[i] == "") continue
      split(lines[i], kv, ":")
      module[kv[1]] = 1
      m = split(kv[2], deps, " ")
      for (j = 1; j <= m; j++) allowed[kv[1], deps[j]] = 1
    }
    bad = 0
  }
  FNR == 1 {
    if (prev != "" && prev_lines > 600) {
      printf "%s: %d lines; split it by responsibility (limit 600)\n", prev, prev_lines; bad = 1
    }
    prev = FILENAME
    split(FILENAME, parts, "/")
    self = parts[1]
  }
  { prev_lines = FNR }
  /^#include "/ {
    path = $0
    sub(/^#include "/, "", path)
    sub(/".*/, "", path)
    split(path, p, "/")
    target = p[1]
    if (!(target in module) || target == self) next
    if (path ~ /\/internal\//) {
      printf "%s:%d: includes %s, an internal header of %s/\n", FILENAME, FNR, path, target; bad = 1
    }
    if (!((self, target) in allowed)) {
      printf "%s:%d: %s/ may not depend on %s/ (includes %s)\n", FILENAME, FNR, self, target, path
      bad = 1
    }
  }
  END {
    if (prev != "" && prev_lines > 600) {
      printf "%s: %d lines; split it by responsibility (limit 600)\n", prev, prev_lines; bad = 1
    }
    exit bad
  }
' $files && echo "module rules: ok ($modules)"
