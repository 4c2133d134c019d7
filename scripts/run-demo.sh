#!/usr/bin/env bash
# Sets up, builds and runs Gavel on a fresh Debian 12 machine: the embedded profile (one
# process, SQLite in ./gavel-data), demo auctions with a bidding bot, and the web UI.
# Open the printed address in a browser; Ctrl-C stops it gracefully.
# Settings pass through: scripts/run-demo.sh --http-addr 127.0.0.1:9090
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build Release
echo "--- gavel serve --demo (web UI and API at the address below; Ctrl-C to stop)"
exec ./build/gavel serve --demo --data-dir "${GAVEL_DATA_DIR:-gavel-data}" "$@"
