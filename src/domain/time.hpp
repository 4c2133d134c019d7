#pragma once
// Server time as the rules see it. The domain never reads a clock: every time comes in as a value.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace gavel::domain {

using Duration = std::chrono::microseconds;
/// A point in UTC with microsecond resolution; RFC 3339 on the wire.
using Timestamp = std::chrono::sys_time<Duration>;

/// Parses an RFC 3339 date-time ("2026-11-28T12:00:00Z", "...T12:00:00.250+01:00").
/// Returns nothing for anything else, including out-of-range fields and fractions finer than 1 µs.
std::optional<Timestamp> parse_rfc3339(std::string_view text);

/// Formats as RFC 3339 UTC with "Z"; the fraction is printed only when non-zero (3 or 6 digits).
std::string format_rfc3339(Timestamp at);

constexpr Duration seconds(std::int64_t n) {
  return std::chrono::seconds(n);
}

}  // namespace gavel::domain
