#!/usr/bin/env bash
# Builds the libFuzzer targets with Clang (in build-fuzz/) and runs each for a while.
# Usage: scripts/fuzz.sh [seconds per target, default 20]
# Seeds: the lines of examples/*.jsonl (commands), a few times and tokens; new inputs that the
# fuzzer finds stay in build-fuzz/corpus/ between runs. A crash leaves its input in build-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
if [ ! -f build-fuzz/build.ninja ]; then
  CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Debug -DGAVEL_BUILD_FUZZ=ON \
    -DGAVEL_BUILD_TESTS=OFF -DGAVEL_BUILD_BENCH=OFF > /dev/null
fi
cmake --build build-fuzz --target fuzz_command_json fuzz_rfc3339 fuzz_jwt

mkdir -p build-fuzz/corpus/command build-fuzz/corpus/time build-fuzz/corpus/jwt
n=0
for file in examples/*.jsonl; do
  while IFS= read -r line; do
    n=$((n + 1))
    printf '%s' "$line" > "build-fuzz/corpus/command/seed-$n"
  done < "$file"
done
printf '%s' '2026-11-28T10:00:00Z' > build-fuzz/corpus/time/seed-1
printf '%s' '2026-11-28T12:34:56.250+01:00' > build-fuzz/corpus/time/seed-2
printf '%s' 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl' > build-fuzz/corpus/jwt/seed-1

export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
for pair in command_json:command rfc3339:time jwt:jwt; do
  target=fuzz_${pair%%:*}
  corpus=build-fuzz/corpus/${pair##*:}
  echo "--- $target for ${seconds}s"
  (cd build-fuzz && "./fuzz/$target" -max_total_time="$seconds" -max_len=4096 -print_final_stats=0 \
     "../$corpus" 2>&1 | tail -2)
done
echo "--- fuzzing found nothing"
