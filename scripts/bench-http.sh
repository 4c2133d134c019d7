#!/usr/bin/env bash
# Side-by-side HTTP figures for docs/benchmarks.md, in one run on this machine:
#   1. nginx (1 worker) answering a fixed 202 to the bid POST: the machine's HTTP ceiling; and
#      a bare Boost.Beast server answering the same: the ceiling of the gateway's framework;
#   2. gavel serve: the same POST with ?wait= (durable decisions) and without (intake);
#   3. gavel load: realistic bidders with proxy maxima, hot and cold auctions, WebSocket watchers;
#   4. idle WebSocket subscribers held by one gavel process, and its memory per connection.
# Everything binds 127.0.0.1 on free ports in a temp dir, and is stopped at the end.
# Usage: scripts/bench-http.sh [seconds per run, default 10] [idle websockets, default 10000]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
idle=${2:-10000}
connections=${BENCH_CONNECTIONS:-64}
source bench/http/lib.sh
bench_require bench-http "apt-get install nginx-light wrk" nginx wrk

bench_work_dir

echo "# $(date -u +%FT%TZ) $(nproc) cores; ${seconds}s per run, wrk -t1 -c${connections}"

# 1. nginx
start_nginx
echo "## nginx fixed 202"
wrk_post "http://127.0.0.1:$nginx_port" /v1/auctions/x/bids none "$connections" "$seconds"

# 1b. the gateway framework's own ceiling: a Boost.Beast server answering the same fixed 202
# with none of gavel's work (bench/http/beast_floor.cpp), on 2 I/O threads as gavel, then 1.
floor_bin=$(dirname "$gavel_bin")/bench/http/gavel_beast_floor
if [ -d "$(dirname "$gavel_bin")/CMakeFiles" ]; then
  cmake --build "$(dirname "$gavel_bin")" --target gavel_beast_floor > /dev/null
fi
for floor_threads in 2 1; do
  floor_port=$(free_port)
  "$floor_bin" "$floor_port" "$floor_threads" > /dev/null &
  floor_pid=$!
  pids+=($floor_pid)
  sleep 0.3
  echo "## Boost.Beast floor, fixed 202, $floor_threads I/O thread(s)"
  wrk_post "http://127.0.0.1:$floor_port" /v1/auctions/x/bids none "$connections" "$seconds"
  kill "$floor_pid" 2>/dev/null || true
done

# 2. gavel serve
gavel_port=$(free_port)
# The connection limit counts WebSockets: room for the idle ones below and the /metrics read.
"$gavel_bin" serve --http-addr "127.0.0.1:$gavel_port" --data-dir "$work/gavel" --rate-per-second 0 \
  --max-connections $((idle + 256)) > "$work/gavel.out" 2> "$work/gavel.err" &
gavel_pid=$!
pids+=($gavel_pid)
for _ in $(seq 100); do grep -q listening "$work/gavel.out" 2>/dev/null && break; sleep 0.1; done
api="http://127.0.0.1:$gavel_port"
read -r auction bidder < <(bench_auction "$api")
echo "## gavel ?wait= (durable decisions: engine + SQLite commit per batch)"
wrk_post "$api" "/v1/auctions/$auction/bids?wait=5000" "$bidder" "$connections" "$seconds"
echo "## gavel intake without ?wait= (202 after the durable batch commit: the embedded queue is memory)"
wrk_post "$api" "/v1/auctions/$auction/bids" "$bidder" "$connections" "$seconds"

# 3. gavel load (realistic mix)
echo "## gavel load --bidders $connections --watchers 16 (proxy bidders, 1 hot + 50 cold auctions)"
"$gavel_bin" load --target "127.0.0.1:$gavel_port" --duration "$seconds" --bidders "$connections" --watchers 16 2>/dev/null
echo "## gavel load --no-wait"
"$gavel_bin" load --target "127.0.0.1:$gavel_port" --duration "$seconds" --bidders "$connections" --watchers 16 --no-wait 2>/dev/null

# 4. idle WebSockets: the server's resident memory before and after
rss() { awk '/VmRSS/ {print $2}' "/proc/$gavel_pid/status"; }
before=$(rss)
"$gavel_bin" load --target "127.0.0.1:$gavel_port" --idle-watchers "$idle" --hold 8 --threads 1 \
  --source-addresses 127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5 > "$work/idle.out" 2>/dev/null &
load_pid=$!
sleep 6
during=$(rss)
connected=$(curl -s "$api/metrics" | awk '/^gavel_ws_connections / {print $2}')
wait $load_pid || true
echo "## idle WebSockets: $connected connected to one gavel process; RSS ${before} kB -> ${during} kB: $(( (during - before) * 1024 / (connected > 0 ? connected : 1) )) bytes per connection"
