#!/usr/bin/env bash
# Sets up, builds and runs every test: unit, contract, property, the replay example, integration
# (node, real sockets), the browser test, and the style checks (clang-format, clang-tidy).
# Builds once, in build-test/ with ASan + UBSan.
# Usage: scripts/test.sh            (GAVEL_TEST_BUILD_TYPE=Debug to skip the sanitizers)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build_type=${GAVEL_TEST_BUILD_TYPE:-Sanitize}
build_dir=build-test
if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="$build_type"
fi
cmake --build "$build_dir"

echo "--- style: clang-format"
cmake --build "$build_dir" --target format-check

echo "--- tests"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build_dir" --output-on-failure -j2 --timeout 300

if [ "${GAVEL_SKIP_FUZZ:-0}" != 1 ]; then
  echo "--- fuzz: a short run of each libFuzzer target (scripts/fuzz.sh SECONDS runs longer)"
  scripts/fuzz.sh "${GAVEL_FUZZ_SECONDS:-10}"
fi

if [ "${GAVEL_SKIP_TIDY:-0}" != 1 ]; then
  echo "--- style: clang-tidy (GAVEL_SKIP_TIDY=1 skips it)"
  cmake --build "$build_dir" --target tidy
fi
echo "--- all tests passed"
