#!/usr/bin/env bash
# Configures and builds Gavel with CMake + Ninja (+ ccache when present).
# Usage: scripts/build.sh [build-dir] [build-type]   (defaults: build Release)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
build_type=${2:-Release}
if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="$build_type"
fi
cmake --build "$build_dir"
