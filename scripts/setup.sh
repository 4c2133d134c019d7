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
  # observability: the Prometheus that scrapes /metrics in a test, promtool for deploy/prometheus/
  prometheus
  # the PostgreSQL store: libpq, and the server binaries its tests run (tests/support/postgres-server.sh)
  postgresql libpq-dev
  # the Redis cache, queue and topic: hiredis, and the server their tests run (tests/support/redis-server.sh)
  redis-server libhiredis-dev
  # what the test scripts call: python3 (a free port in tests/support/redis-server.sh and the
  # bench scripts), pgrep (tests/integration/selfhosted.test.mjs finds PostgreSQL's processes)
  python3 procps
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
  # Debian's prometheus package would start a system Prometheus on 0.0.0.0:9090 wherever
  # services start; the tests run their own on loopback. A policy-rc.d for the install keeps it
  # from starting, and it is disabled afterwards (only when this script installed it).
  # The same for Debian's postgresql package, which creates and starts a cluster on port 5432:
  # the tests run their own server, so the system cluster is stopped and set to manual.
  # And for redis-server (a system Redis on 6379): disabled like prometheus.
  new_prometheus=0
  new_postgresql=0
  new_redis=0
  temp_policy=
  if [[ " ${missing[*]} " == *" postgresql "* ]]; then new_postgresql=1; fi
  if [[ " ${missing[*]} " == *" prometheus "* ]]; then new_prometheus=1; fi
  if [[ " ${missing[*]} " == *" redis-server "* ]]; then new_redis=1; fi
  if [ "$new_prometheus" = 1 ] || [ "$new_postgresql" = 1 ] || [ "$new_redis" = 1 ]; then
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      temp_policy=/usr/sbin/policy-rc.d
      trap '"${sudo_cmd[@]}" rm -f "$temp_policy"' EXIT
      printf '#!/bin/sh\n# scripts/setup.sh: no service starts during this install\nexit 101\n' |
        "${sudo_cmd[@]}" tee "$temp_policy" >/dev/null
      "${sudo_cmd[@]}" chmod 755 "$temp_policy"
    fi
  fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if [ -n "$temp_policy" ]; then
    "${sudo_cmd[@]}" rm -f "$temp_policy"
    trap - EXIT
  fi
  # Stops a package's system service and keeps it from starting at boot.
  keep_service_off() {
    if [ -d /run/systemd/system ]; then
      "${sudo_cmd[@]}" systemctl disable --now "$1.service" >/dev/null 2>&1 || true
    else
      "${sudo_cmd[@]}" deb-systemd-helper disable "$1.service" >/dev/null 2>&1 || true
      "${sudo_cmd[@]}" service "$1" stop >/dev/null 2>&1 || true
    fi
    "${sudo_cmd[@]}" update-rc.d "$1" disable >/dev/null 2>&1 || true
    echo "setup: installed $1; its system service is disabled (tests start their own)"
  }
  if [ "$new_prometheus" = 1 ]; then keep_service_off prometheus; fi
  if [ "$new_redis" = 1 ]; then keep_service_off redis-server; fi
  if [ "$new_postgresql" = 1 ]; then
    for conf in /etc/postgresql/*/*/start.conf; do
      [ -e "$conf" ] || continue
      cluster_dir=$(dirname "$conf")
      "${sudo_cmd[@]}" pg_ctlcluster "$(basename "$(dirname "$cluster_dir")")" "$(basename "$cluster_dir")" stop >/dev/null 2>&1 || true
      echo manual | "${sudo_cmd[@]}" tee "$conf" >/dev/null
    done
    if [ -d /run/systemd/system ]; then
      "${sudo_cmd[@]}" systemctl disable --now postgresql.service >/dev/null 2>&1 || true
    fi
    echo "setup: installed postgresql; its system cluster is stopped and manual (tests start their own)"
  fi
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
