#!/usr/bin/env bash
# Idle WebSocket subscribers on this machine, for docs/benchmarks.md: TOTAL idle sockets spread
# over selfhosted gateways (one Redis, one PostgreSQL, one engine), each gateway's memory per
# connection, and how long connecting them all took.
#
# Why several gateways: a process holds at most its open-file hard limit in sockets (`ulimit
# -Hn`; 20000 on the CI machines, and raising it needs CAP_SYS_RESOURCE). Each gateway is given
# what fits under that limit, and each `gavel load` client (limited the same way) its own
# gateway and source addresses (127.0.<n>.x), so the client side never runs out of ports.
# Everything binds 127.0.0.1 (or 127.0.x.y) and is stopped at the end.
# With `embedded` as third argument it measures one embedded `gavel serve` (every role in one
# process, no Redis or PostgreSQL) instead, so TOTAL must fit in one process.
# GAVEL_BIN=path runs another gavel binary than build/gavel (bench/http/lib.sh).
# Usage: scripts/bench-idle-ws.sh [total, default 100000] [seconds to hold, default 60]
#        [selfhosted (default) | embedded]
set -euo pipefail
cd "$(dirname "$0")/.."
total=${1:-100000}
hold=${2:-60}
profile=${3:-selfhosted}
source bench/http/lib.sh
case "$profile" in
  selfhosted) bench_require bench-idle-ws "scripts/setup.sh" redis-server redis-cli curl ;;
  embedded) bench_require bench-idle-ws "scripts/setup.sh" curl ;;
  *) echo "bench-idle-ws: the profile is selfhosted or embedded, not '$profile'" >&2; exit 2 ;;
esac

ulimit -n "$(ulimit -Hn)"
fd_limit=$(ulimit -n)
# What one process may hold: its limit less the descriptors it needs besides sockets.
per_process=$((fd_limit - 512))
gateways=$(((total + per_process - 1) / per_process))
per_gateway=$(((total + gateways - 1) / gateways))
# The connection limit counts WebSockets: leave room for the script's /metrics reads.
max_connections=$((per_gateway + 64))

if [ "$profile" = embedded ] && [ "$gateways" -gt 1 ]; then
  echo "bench-idle-ws: one embedded process holds at most $per_process sockets here" >&2
  exit 2
fi

bench_work_dir

echo "# $(date -u +%FT%TZ) $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); open-file limit $fd_limit per process; $gavel_bin"
echo "## $total idle WebSockets over $gateways $profile gateway(s) of $per_gateway, held ${hold}s"
gateway_pids=()
gateway_ports=()
if [ "$profile" = embedded ]; then
  common=(--data-dir "$work/data" --rate-per-second 0)
  start gateway-1 gateway,engine,notifier,auditor --max-connections "$max_connections"
  gateway_pids+=("$started_pid")
  gateway_ports+=("$started_port")
else
  start_redis no
  start_postgres
  selfhosted_settings
  start engine-1 engine
  for i in $(seq "$gateways"); do
    start "gateway-$i" gateway --max-connections "$max_connections"
    gateway_pids+=("$started_pid")
    gateway_ports+=("$started_port")
  done
fi
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
before=()
for pid in "${gateway_pids[@]}"; do before+=("$(rss "$pid")"); done

started=$(date +%s%N)
elapsed() { echo $(( ($(date +%s%N) - started) / 1000000000 )); }  # whole seconds since start
loads=()
for i in $(seq "$gateways"); do
  "$gavel_bin" load --target "127.0.0.1:${gateway_ports[$((i - 1))]}" --idle-watchers "$per_gateway" \
    --hold "$hold" --threads 1 --source-addresses "127.0.$i.1,127.0.$i.2" \
    > "$work/load-$i.out" 2> "$work/load-$i.err" &
  loads+=($!)
  pids+=($!)
done

connected_now() {
  local sum=0 port count
  for port in "${gateway_ports[@]}"; do
    count=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^gavel_ws_connections / {printf "%d", $2}')
    sum=$((sum + ${count:-0}))
  done
  echo "$sum"
}
# Progress every 2 s until all are connected, the loads end (bounded by --hold), or the count
# has stood still for 20 s (some handshakes failed on a busy machine: the memory is then
# measured over the sockets that did connect, while they are still held). A gateway busy with
# handshakes answers /metrics late, so the count may read 0 for a while and then jump.
connected=0
took=""
last=0
still=0
while [ "$connected" -lt "$total" ]; do
  alive=0
  for pid in "${loads[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
  [ "$alive" = 1 ] || break
  sleep 2
  connected=$(connected_now)
  printf '  %3ds: %d connected\n' "$(elapsed)" "$connected"
  if [ "$connected" -gt 0 ] && [ "$connected" = "$last" ]; then still=$((still + 1)); else still=0; fi
  last=$connected
  [ "$still" -lt 10 ] || { echo "  stalled at $connected: measuring those"; break; }
done
[ "$connected" -ge "$total" ] && took=$(elapsed)
sleep 3  # settle: handshakes' buffers freed
connected=$(connected_now)
total_delta=0
for i in $(seq "$gateways"); do
  after=$(rss "${gateway_pids[$((i - 1))]}")
  delta=$(( (after - before[i - 1]) * 1024 ))
  total_delta=$((total_delta + delta))
  count=$(curl -s "http://127.0.0.1:${gateway_ports[$((i - 1))]}/metrics" | awk '/^gavel_ws_connections / {printf "%d", $2}')
  echo "  [gateway-$i] ${count} connected; RSS ${before[i - 1]} kB -> ${after} kB: $((delta / (count > 0 ? count : 1))) bytes per connection"
done
echo "## idle WebSockets: $connected of $total connected${took:+ in ${took}s}; $((total_delta / (connected > 0 ? connected : 1))) bytes per connection on average (gateway RSS growth)"
for pid in "${loads[@]}"; do wait "$pid" 2>/dev/null || true; done
failed=$(cat "$work"/load-*.out | awk '/^failed / {sum += $2} END {print sum + 0}')
echo "  clients: $failed connection(s) failed"
