#!/usr/bin/env bash
# Installs the Debian 12 packages certdeploy needs to build, test and run its demo, if missing.
# Sourced by scripts/test.sh and scripts/demo.sh; safe to run on its own. Needs root (or sudo).
set -euo pipefail

CERTDEPLOY_PACKAGES=(
  cmake ninja-build g++ pkg-config git ca-certificates openssl curl
  libssl-dev libcpprest-dev nlohmann-json3-dev libboost-dev libboost-system-dev
  libspdlog-dev libcli11-dev libyaml-cpp-dev libgtest-dev libgmock-dev
  libsqlite3-dev libpq-dev postgresql libbenchmark-dev jq
  chromium chromium-driver python3-selenium
)

certdeploy_install_deps() {
  local missing=()
  for p in "${CERTDEPLOY_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  echo "Installing Debian packages: ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  certdeploy_install_deps
fi
