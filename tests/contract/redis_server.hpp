#pragma once
// The Redis server of a test run, for the contract suites of the Redis adapters. Found in
// GAVEL_TEST_REDIS_URL, or in the file GAVEL_TEST_REDIS_URL_FILE names (ctest's redis fixture,
// started by tests/support/redis-server.sh). Without either the Redis cases skip, except under
// CI, where a missing server is a failure: CI must never pass by skipping them.

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <string>

namespace gavel::contract {

inline std::string find_test_redis_url() {
  if (const char* url = std::getenv("GAVEL_TEST_REDIS_URL"); url != nullptr && *url != '\0') {
    return url;
  }
  if (const char* file = std::getenv("GAVEL_TEST_REDIS_URL_FILE"); file != nullptr) {
    std::ifstream in(file);
    std::string url;
    if (in >> url) return url;
  }
  return {};
}

/// Sets `url` to the server's, or skips (fails under CI) and leaves it empty. Call it from a
/// factory's make() and return nothing when `url` stays empty: the test body then never runs.
inline void require_test_redis(std::string& url) {
  url = find_test_redis_url();
  if (!url.empty()) return;
  if (std::getenv("CI") != nullptr) {
    FAIL() << "CI is set but no Redis server was given: set GAVEL_TEST_REDIS_URL or run "
              "through ctest (tests/support/redis-server.sh starts one)";
  }
  GTEST_SKIP() << "no Redis server: set GAVEL_TEST_REDIS_URL (tests/support/redis-server.sh run "
                  "CMD starts one) or run through ctest";
}

/// A key prefix no other test (of this or a parallel process) uses, so suites share a server.
inline std::string unique_redis_prefix() {
  static std::atomic<int> counter{0};
  return "gavel-test:" + std::to_string(::getpid()) + ":" + std::to_string(++counter);
}

}  // namespace gavel::contract
