#!/usr/bin/env bash
# Side-by-side figures of the selfhosted profile for docs/benchmarks.md, in one run:
#   1. nginx (1 worker) answering a fixed 202: the machine's HTTP ceiling;
#   2. redis-benchmark against the same Redis (AOF, fsync always): the queue's own ceiling;
#   3. gavel: 1 gateway + 1 engine, 1 gateway + 2 engines, 2 gateways + 2 engines (a notifier and
#      an auditor always run too), each with the bid POST without ?wait= (202 once the command
#      is in Redis) and with ?wait= (the decision, durably committed in PostgreSQL) on one hot
#      auction, then with ?wait= spread over 16 auctions.
# Everything binds 127.0.0.1 on free ports in a temp dir and is stopped at the end.
# Usage: scripts/bench-selfhosted.sh [seconds per run, default 10]
# GAVEL_BIN=path runs another gavel binary than build/gavel (bench/http/lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${BENCH_CONNECTIONS:-64}
source bench/http/lib.sh
bench_require bench-selfhosted "apt-get install nginx-light wrk redis-server" nginx wrk redis-server redis-benchmark

bench_work_dir

echo "# $(date -u +%FT%TZ) $(nproc) cores; $gavel_bin; ${seconds}s per run, wrk -t1 -c${connections} in all (split over the gateways)"
start_nginx
echo "## nginx fixed 202"
wrk_post "http://127.0.0.1:$nginx_port" /v1/auctions/x/bids none "$connections" "$seconds"

start_redis always
echo "## redis-benchmark (AOF, appendfsync always; 50 clients, no pipelining)"
redis-benchmark -p "$redis_port" -q -t set,lpush,xadd -n 100000 -c 50 2>/dev/null | tr '\r' '\n' | grep -E "requests per second" || true

start_postgres
selfhosted_settings
roles=()   # PIDs of the current configuration's gavel processes

# drained PORT: waits (at most 180 s) until the bid queue is empty, so that a run does not start
# behind the bids the previous one left queued (intake outruns the durable decisions).
drained() {
  local depth
  for _ in $(seq 900); do
    depth=$(curl -s "http://127.0.0.1:$1/metrics" | awk '/^gavel_queue_depth / {print $2}')
    [ "${depth:-1}" = 0 ] && return 0
    sleep 0.2
  done
  echo "  (the queue still held ${depth:-?} bids after 180 s)"
}

# run GATEWAYS ENGINES: one configuration, both POSTs.
run() {
  local gateways=$1 engines=$2 ports=() i
  start notifier notifier
  start auditor auditor
  for i in $(seq "$engines"); do start "engine-$i" engine; done
  for i in $(seq "$gateways"); do
    start "gateway-$i" gateway
    ports+=("$started_port")
  done
  read -r auction bidder < <(bench_auction "http://127.0.0.1:${ports[0]}")
  # The third run spreads its bids over 16 auctions (so over the queue's partitions, and the
  # engines' leases); the first two send every bid to one hot auction.
  local spread="" one _
  for _ in $(seq 16); do
    read -r one _ < <(bench_auction "http://127.0.0.1:${ports[0]}")
    spread+="/v1/auctions/$one/bids?wait=5000 "
  done
  local per=$((connections / gateways)) query
  for query in "" "?wait=5000" "spread"; do
    local what="without ?wait= (202 once in Redis)" paths=""
    [ "$query" = "?wait=5000" ] && what="with ?wait= (the durable decision)"
    [ "$query" = spread ] && what="with ?wait=, over 16 auctions" paths=$spread query="?wait=5000"
    echo "## $gateways gateway(s), $engines engine(s), bid POST $what"
    for port in "${ports[@]}"; do
      BID_PATHS=$paths wrk_post "http://127.0.0.1:$port" "/v1/auctions/$auction/bids$query" "$bidder" "$per" "$seconds" > "$work/wrk-$port.txt" &
    done
    wait $(jobs -p | tail -n "${#ports[@]}") 2>/dev/null || true
    for port in "${ports[@]}"; do sed "s/^/  [gateway :$port] /" "$work/wrk-$port.txt"; done
    awk '/Requests\/sec/ {sum += $2} END {printf "  total %.0f req/s\n", sum}' "$work"/wrk-*.txt
    rm -f "$work"/wrk-*.txt
    drained "${ports[0]}"
  done
  stop_roles
}
run 1 1
run 1 2
run 2 2
