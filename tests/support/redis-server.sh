#!/usr/bin/env bash
# A throwaway redis-server for tests: loopback only, a free port, a temporary folder, no
# persistence; stopped by its PID.
#
#   redis-server.sh start DIR     start one; its URL goes to DIR/url (and stdout), its PID to DIR/pid
#   redis-server.sh stop DIR      stop the one started in DIR and delete DIR
#   redis-server.sh run CMD...    start one, run CMD with GAVEL_TEST_REDIS_URL set, stop it;
#                                 exits with CMD's status
set -euo pipefail

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
  local dir=$1
  command -v redis-server >/dev/null || { echo "redis-server.sh: redis-server not installed (scripts/setup.sh)" >&2; exit 1; }
  mkdir -p "$dir"
  local port attempt
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly no \
      --daemonize no --logfile "$dir/redis.log" --protected-mode yes >/dev/null 2>&1 &
    echo $! >"$dir/pid"
    # Ready in ~50 ms; give it 5 s. Another process may have taken the port meanwhile: retry.
    for _ in $(seq 1 100); do
      if redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
        echo "redis://127.0.0.1:$port" | tee "$dir/url"
        return 0
      fi
      kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
      sleep 0.05
    done
    kill "$(cat "$dir/pid")" 2>/dev/null || true
  done
  echo "redis-server.sh: redis-server did not start; see $dir/redis.log" >&2
  exit 1
}

stop() {
  local dir=$1
  if [ -f "$dir/pid" ]; then
    local pid
    pid=$(cat "$dir/pid")
    if kill "$pid" 2>/dev/null; then
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    fi
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start "$2" ;;
  stop) stop "$2" ;;
  run)
    shift
    dir=$(mktemp -d "${TMPDIR:-/tmp}/gavel-redis.XXXXXX")
    trap 'stop "$dir"' EXIT
    GAVEL_TEST_REDIS_URL=$(start "$dir")
    export GAVEL_TEST_REDIS_URL
    status=0
    "$@" || status=$?
    exit "$status"
    ;;
  *)
    echo "usage: $0 start DIR | stop DIR | run CMD..." >&2
    exit 2
    ;;
esac
