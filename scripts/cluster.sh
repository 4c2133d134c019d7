#!/usr/bin/env bash
# A local selfhosted cluster on loopback: Redis (append-only file, fsync always), PostgreSQL,
# two gateways, two engines, a notifier and an auditor, each its own `gavel serve` process.
# Prints where to point a browser; Ctrl-C (or SIGTERM) stops everything and removes the temp dir.
#
# Usage: scripts/cluster.sh [first gateway port, default 8080]   (the second gets the next one)
#   GAVEL_CLUSTER_DEMO=false  no demo auctions
#   GAVEL_CLUSTER_DIR=DIR     keep state and logs in DIR (kept afterwards) instead of a temp dir
set -euo pipefail
cd "$(dirname "$0")/.."
port=${1:-8080}
[ -x build/gavel ] || scripts/build.sh
for tool in redis-server redis-cli; do
  command -v "$tool" >/dev/null || { echo "cluster: $tool is missing (scripts/setup.sh)" >&2; exit 2; }
done

if [ -n "${GAVEL_CLUSTER_DIR:-}" ]; then work=$GAVEL_CLUSTER_DIR; keep=1; mkdir -p "$work"; else work=$(mktemp -d /tmp/gavel-cluster.XXXXXX); keep=0; fi
chmod 755 "$work"  # PostgreSQL runs as its own user and needs to reach its folder
pids=()
redis_pid=
stopping=0
stop_all() {
  [ "$stopping" = 1 ] && return
  stopping=1
  echo "cluster: stopping"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ -n "$redis_pid" ] && { kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; }
  tests/support/postgres-server.sh stop "$work/pg" >/dev/null 2>&1 || true
  [ "$keep" = 1 ] || rm -rf "$work"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# Redis: the queue must survive a restart of Redis, so every write is fsynced to the AOF.
redis_port=$(free_port)
mkdir -p "$work/redis"
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work/redis" --save '' \
  --appendonly yes --appendfsync always --daemonize no --logfile "$work/redis/redis.log" &
redis_pid=$!
for _ in $(seq 100); do redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done
export GAVEL_REDIS_URL="redis://127.0.0.1:$redis_port"

tests/support/postgres-server.sh start "$work/pg" >/dev/null
export GAVEL_POSTGRES_URL=$(cat "$work/pg/url")
./build/gavel migrate

export GAVEL_PROFILE=selfhosted
export GAVEL_DATA_DIR="$work/data"
# The gateways share the dev signing secret, so a token from one is good at the other.
export GAVEL_DEV_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
mkdir -p "$work/logs"
start() {  # name roles http-addr [extra flags]
  local name=$1 roles=$2 addr=$3
  shift 3
  ./build/gavel serve --roles "$roles" --node-id "$name" --http-addr "$addr" "$@" \
    > "$work/logs/$name.out" 2> "$work/logs/$name.log" &
  pids+=($!)
  for _ in $(seq 200); do grep -q listening "$work/logs/$name.out" 2>/dev/null && return; sleep 0.05; done
  echo "cluster: $name did not start; see $work/logs/$name.log" >&2
  tail -5 "$work/logs/$name.log" >&2
  exit 1
}
start engine-1 engine 127.0.0.1:0
start engine-2 engine 127.0.0.1:0
start notifier notifier 127.0.0.1:0
start auditor auditor 127.0.0.1:0
start gateway-1 gateway "127.0.0.1:$port" "--demo=${GAVEL_CLUSTER_DEMO:-true}"
start gateway-2 gateway "127.0.0.1:$((port + 1))"

echo "cluster: up (state and logs in $work)"
echo "  web UI and API:  http://127.0.0.1:$port/  and  http://127.0.0.1:$((port + 1))/"
echo "  Redis:           $GAVEL_REDIS_URL"
echo "  PostgreSQL:      $GAVEL_POSTGRES_URL"
for name in engine-1 engine-2 notifier auditor; do
  echo "  $name metrics:  http://$(sed 's/^listening //' "$work/logs/$name.out")/metrics"
done
echo "  Ctrl-C stops everything"
wait "${pids[@]}"
