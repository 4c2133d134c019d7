# Shared by scripts/bench-http.sh and scripts/bench-selfhosted.sh (sourced, not run).
# Everything binds 127.0.0.1; callers own `work` (a temp dir) and `pids` (killed on exit).

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
