# Shared by the scripts/bench-*.sh scripts (sourced, not run). Everything binds 127.0.0.1.
# A script calls bench_work_dir first: it gets `work` (a temp dir) and `pids` (processes killed
# on exit, when PostgreSQL, if one was started in $work/pg, is stopped and $work removed).
# GAVEL_BIN names the gavel binary to run (default build/gavel), e.g. another build tree's, or a
# copy of an older build to compare against in the same session.
gavel_bin=${GAVEL_BIN:-build/gavel}

# bench_require SCRIPT HINT TOOL...: exits 2 naming what is missing (the tools, or the gavel
# binary).
bench_require() {
  local script=$1 hint=$2 tool
  shift 2
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "$script: $tool is missing ($hint)" >&2; exit 2; }
  done
  [ -x "$gavel_bin" ] || { echo "$script: $gavel_bin is missing (scripts/build.sh)" >&2; exit 2; }
}

bench_work_dir() {
  work=$(mktemp -d)
  chmod 755 "$work"  # PostgreSQL runs as another user and needs to reach $work/pg
  pids=()
  roles=()  # gavel processes of the selfhosted scripts (start, stop_roles)
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

bench_cleanup() {
  for pid in "${pids[@]}" "${roles[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -d "$work/pg" ] && tests/support/postgres-server.sh stop "$work/pg" >/dev/null 2>&1
  rm -rf "$work"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# nginx (1 worker) answering a fixed 202 to any POST: the machine's HTTP ceiling. Sets
# nginx_port (call it directly, not in $(...): its PID must reach the caller's `pids`).
start_nginx() {
  local port
  port=$(free_port)
  cat > "$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work; proxy_temp_path $work; fastcgi_temp_path $work; uwsgi_temp_path $work; scgi_temp_path $work;
  server {
    listen 127.0.0.1:$port;
    location / { default_type application/json; return 202 '{"bidId":"01JDZ8X4K2M7Q9R3T5V7W9Y1AB","status":"queued"}'; }
  }
}
CONF
  nginx -c "$work/nginx.conf" -g 'daemon off;' > /dev/null 2>&1 &
  pids+=($!)
  sleep 0.5
  nginx_port=$port
}

# dev_token API SUB ROLE: a dev-mode token.
dev_token() { curl -s -XPOST "$1/v1/auth/dev-token" -d "{\"sub\":\"$2\",\"roles\":[\"$3\"]}" | sed 's/.*"token":"\([^"]*\)".*/\1/'; }

# bench_auction API: an open auction with a first bid, so that identical later bids are full
# engine decisions (not_raising_max for the leader). Echoes "AUCTION TOKEN".
bench_auction() {
  local api=$1 seller bidder auction
  seller=$(dev_token "$api" bench-seller seller)
  bidder=$(dev_token "$api" bench-bidder bidder)
  auction=$(curl -s -XPOST "$api/v1/auctions" -H "Authorization: Bearer $seller" -d '{"title":"bench","currency":"EUR","startingPrice":100,"durationSeconds":3600}' | sed 's/.*"id":"\([^"]*\)".*/\1/')
  curl -s -XPOST "$api/v1/auctions/$auction/bids?wait=5000" -H "Authorization: Bearer $bidder" -d '{"amount":1000,"maxAmount":1500}' > /dev/null
  echo "$auction $bidder"
}

# wrk_post URL PATH TOKEN CONNECTIONS SECONDS: the bid POST; prints req/s, p50, p99.
wrk_post() {
  TOKEN=$3 BID_PATH=$2 wrk -t1 -c"$4" -d"${5}s" --latency -s bench/http/post_bid.lua "$1" | grep -E "Requests/sec|50%|99%|Non-2xx"
}

# ---- the selfhosted profile (callers also own `roles`, the PIDs of their gavel processes) ----

# start_redis FSYNC: Redis on a free port in $work/redis, with the AOF fsynced FSYNC (always,
# everysec, or "no" for no AOF). Sets redis_port and redis_url.
start_redis() {
  redis_port=$(free_port)
  mkdir -p "$work/redis"
  local aof=(--appendonly yes --appendfsync "$1")
  [ "$1" = no ] && aof=(--appendonly no)
  redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work/redis" --save '' \
    "${aof[@]}" --daemonize no --logfile "$work/redis/redis.log" &
  pids+=($!)
  for _ in $(seq 100); do redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done
  redis_url="redis://127.0.0.1:$redis_port"
}

# start_postgres: PostgreSQL in $work/pg (tests/support/postgres-server.sh; the caller's cleanup
# stops it), migrated. Sets postgres_url.
start_postgres() {
  tests/support/postgres-server.sh start "$work/pg" >/dev/null
  postgres_url=$(cat "$work/pg/url")
  "$gavel_bin" migrate --postgres-url "$postgres_url" >/dev/null
}

# selfhosted_settings: the flags every selfhosted process of a run shares (sets `common`).
selfhosted_settings() {
  local secret
  secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
  common=(--profile selfhosted --redis-url "$redis_url" --postgres-url "$postgres_url"
    --dev-secret "$secret" --rate-per-second 0 --data-dir "$work/data")
}

# start NAME ROLE [FLAGS...]: one gavel process; sets started_port and started_pid (call it
# directly, not in $(...): its PID goes to `roles`).
start() {
  local name=$1 role=$2
  shift 2
  "$gavel_bin" serve "${common[@]}" --roles "$role" --node-id "$name" --http-addr 127.0.0.1:0 "$@" \
    > "$work/$name.out" 2> "$work/$name.log" &
  started_pid=$!
  roles+=($started_pid)
  for _ in $(seq 200); do grep -q listening "$work/$name.out" 2>/dev/null && break; sleep 0.05; done
  started_port=$(sed 's/^listening 127.0.0.1://' "$work/$name.out")
}

stop_roles() {
  for pid in "${roles[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${roles[@]}"; do wait "$pid" 2>/dev/null || true; done
  roles=()
  rm -f "$work"/*.out
}
