#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests, from Debian's server binaries (no system cluster): data
# directory and unix socket in a fresh temporary directory, listening on 127.0.0.1 only on a
# free port, trust authentication (loopback, test data), fsync on (durability is what the store
# tests are about).
#
#   postgres-server.sh start STATE_DIR   starts one; writes its URL to STATE_DIR/url
#   postgres-server.sh stop STATE_DIR    stops it and removes its files
#   postgres-server.sh run -- CMD...     starts one, runs CMD with GAVEL_TEST_POSTGRES_URL set,
#                                        stops it; exits with CMD's status
#
# PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user that
# Debian's package creates (GAVEL_TEST_POSTGRES_USER overrides it).
set -euo pipefail

pg_bin=${GAVEL_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/pg_ctl" ]; then
  echo "postgres-server: no PostgreSQL server binaries (apt-get install postgresql)" >&2
  exit 1
fi

as_server=()
if [ "$(id -u)" -eq 0 ]; then
  server_user=${GAVEL_TEST_POSTGRES_USER:-postgres}
  as_server=(runuser -u "$server_user" --)
fi

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
  local state=$1
  mkdir -p "$state"
  local root
  root=$(mktemp -d "${TMPDIR:-/tmp}/gavel-pg-XXXXXX")
  echo "$root" >"$state/root"
  mkdir "$root/data" "$root/sock"
  if [ ${#as_server[@]} -gt 0 ]; then chown -R "$server_user" "$root"; fi
  "${as_server[@]}" "$pg_bin/initdb" -D "$root/data" -U postgres --auth=trust --encoding=UTF8 \
    --locale=C >"$root/initdb.log" 2>&1 || { cat "$root/initdb.log" >&2; exit 1; }
  # A random free port; another process may still take it before the server binds, so retry.
  local attempt port
  for attempt in 1 2 3 4 5 6 7 8; do
    port=$((20000 + RANDOM % 30000))
    if port_in_use "$port"; then continue; fi
    if "${as_server[@]}" "$pg_bin/pg_ctl" -D "$root/data" -l "$root/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$root/sock -c fsync=on -c synchronous_commit=on -c max_connections=200" \
      start >/dev/null; then
      local url="postgresql://postgres@127.0.0.1:$port/postgres"
      echo "$url" >"$state/url"
      echo "$url"
      return 0
    fi
    echo "postgres-server: start on port $port failed (attempt $attempt):" >&2
    tail -n 5 "$root/server.log" >&2 || true
  done
  exit 1
}

stop() {
  local state=$1
  [ -f "$state/root" ] || return 0
  local root
  root=$(cat "$state/root")
  if [ -d "$root/data" ]; then
    "${as_server[@]}" "$pg_bin/pg_ctl" -D "$root/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$root"
  rm -f "$state/root" "$state/url"
}

case "${1:-}" in
  start) start "${2:?usage: postgres-server.sh start STATE_DIR}" ;;
  stop) stop "${2:?usage: postgres-server.sh stop STATE_DIR}" ;;
  run)
    shift
    [ "${1:-}" = "--" ] && shift
    state=$(mktemp -d "${TMPDIR:-/tmp}/gavel-pg-state-XXXXXX")
    trap 'stop "$state"; rm -rf "$state"' EXIT
    GAVEL_TEST_POSTGRES_URL=$(start "$state")
    export GAVEL_TEST_POSTGRES_URL
    status=0
    "$@" || status=$?
    exit "$status"
    ;;
  *)
    echo "usage: postgres-server.sh start STATE_DIR | stop STATE_DIR | run -- COMMAND..." >&2
    exit 2
    ;;
esac
