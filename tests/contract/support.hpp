#pragma once
// Small helpers shared by the contract suites.

#include <gtest/gtest.h>

#include <string>

#include "domain/time.hpp"
#include "ports/result.hpp"

namespace gavel::contract {

/// A timestamp as text, so that failures print readable times.
inline std::string rfc(domain::Timestamp at) {
  return domain::format_rfc3339(at);
}

inline const char* kind_name(ports::ErrorKind kind) {
  switch (kind) {
    case ports::ErrorKind::retryable:
      return "retryable";
    case ports::ErrorKind::conflict:
      return "conflict";
    case ports::ErrorKind::not_found:
      return "not_found";
    case ports::ErrorKind::permanent:
      return "permanent";
  }
  return "?";
}

/// "ok", or "<kind>: <message>": compare a result with EXPECT_EQ and see why it failed.
template <typename Result>
std::string describe(const Result& result) {
  if (result.ok()) return "ok";
  return std::string(kind_name(result.error().kind)) + ": " + result.error().message;
}

/// The kind of a failed result, or nothing when it succeeded (for EXPECT_EQ).
template <typename Result>
std::string error_kind(const Result& result) {
  return result.ok() ? "none (ok)" : kind_name(result.error().kind);
}

}  // namespace gavel::contract

/// Time-dependent cases skip on adapters whose factory cannot move their time (a real server
/// on real time). The factory says so with `static constexpr bool kSimulatedTime`.
#define GAVEL_REQUIRE_SIMULATED_TIME() \
  if (TypeParam::kSimulatedTime) {     \
  } else                               \
    GTEST_SKIP() << "needs simulated time, which this adapter's factory cannot provide"

#define EXPECT_TIME_EQ(actual, expected) \
  EXPECT_EQ(::gavel::contract::rfc(actual), ::gavel::contract::rfc(expected))
