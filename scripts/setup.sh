#!/usr/bin/env bash
# Installs every Debian package that building and testing Gavel needs.
# Fast when everything is already there: it asks dpkg first and only calls apt-get for what is missing.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build ccache pkg-config clang-format clang-tidy clang libclang-rt-14-dev
  # libraries
  libboost1.81-dev libboost-json1.81-dev libssl-dev libsqlite3-dev libcurl4-openssl-dev
  # tests and benchmarks (chromium: the web UI's browser test; nodejs/npm come with the machine)
  libgtest-dev libgmock-dev libbenchmark-dev librapidcheck-dev chromium
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} Debian packages present"
else
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages of the integration and browser tests (ws, playwright-core), from the lock file.
cd "$(dirname "$0")/.."
if ! command -v npm >/dev/null 2>&1; then
  echo "setup: npm not found: the integration and browser tests will be skipped" >&2
elif [ ! -d node_modules/ws ] || [ ! -d node_modules/playwright-core ] || [ package-lock.json -nt node_modules ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules
fi
echo "setup: done"
