#!/usr/bin/env bash
# certdeploy demo: builds the binary, makes a demo PKI (a Sectigo-shaped cross-signed chain and a
# few users' PFX files) under demo/, and shows what certdeploy sees in a PFX.
#   scripts/demo.sh
# Idempotent: run it as often as you like. Later parts of the flow (plan, apply, serve) are added
# as those commands land.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/deps.sh
certdeploy_install_deps

heading() { printf '\n\033[1m== %s ==\033[0m\n' "$1"; }

heading "Build (Release)"
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DCERTDEPLOY_BUILD_TESTS=OFF >/dev/null
cmake --build build/release --target certdeploy
bin=build/release/certdeploy

heading "Demo PKI"
bash scripts/make_test_pki.sh demo/pki
pki=demo/pki
echo "Users' PFX files, chain and connector key pair are in $pki/"

heading "validate: a good PFX (legacy encryption, cross-signed chain)"
"$bin" validate --pfx "$pki/alice-legacy.pfx" --upn alice@contoso.com \
  --password-file "$pki/password.txt" --connector-key "$pki/connector.pub"

heading "validate: a PFX issued to another address (expected to fail)"
set +e
"$bin" validate --pfx "$pki/mismatch.pfx" --upn alice@contoso.com --password-file "$pki/password.txt"
status=$?
set -e
if [ "$status" -ne 1 ]; then
  echo "unexpected exit status $status" >&2
  exit 1
fi
echo "(exit status 1: not deployable, as expected)"
