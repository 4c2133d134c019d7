#!/usr/bin/env bash
# Sets up, builds and runs Gavel on a fresh Debian 12 machine.
# Until `gavel serve` exists, the demo is `gavel replay` on the bundled lively auction.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build Release
echo "--- gavel replay < examples/lively-auction.jsonl"
./build/gavel replay < examples/lively-auction.jsonl
