#pragma once
// Structured logs: one JSON object per line on standard error, e.g.
//   {"ts":"2026-11-28T10:00:00.123456Z","level":"info","component":"gateway","msg":"...",
//    "requestId":"01J...",...}
// The request id a gateway gives a request (or takes from X-Request-Id) travels with the
// command into the engine's decision and events and into the notices they cause, so one
// grep follows a bid end to end. Thread-safe; lines never interleave.

#include <boost/json/object.hpp>
#include <optional>
#include <string_view>

namespace gavel::roles {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3 };

/// Parses "debug", "info", "warn" or "error".
std::optional<LogLevel> log_level_from_string(std::string_view name);

/// Lines below `level` are dropped (default: info).
void set_log_level(LogLevel level);
bool log_enabled(LogLevel level);

/// Writes one line if `level` is enabled; `fields` are added after ts, level, component, msg.
void log(LogLevel level, std::string_view component, std::string_view message,
         const boost::json::object& fields = {});

}  // namespace gavel::roles
