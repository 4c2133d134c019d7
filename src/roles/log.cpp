#include "roles/log.hpp"

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <mutex>

#include "domain/time.hpp"

namespace gavel::roles {

namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::info)};
std::mutex g_write;

constexpr std::string_view kNames[] = {"debug", "info", "warn", "error"};

}  // namespace

std::optional<LogLevel> log_level_from_string(std::string_view name) {
  for (std::size_t i = 0; i < std::size(kNames); ++i) {
    if (name == kNames[i]) return static_cast<LogLevel>(i);
  }
  return std::nullopt;
}

void set_log_level(LogLevel level) {
  g_level.store(static_cast<int>(level));
}

bool log_enabled(LogLevel level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

void log(LogLevel level, std::string_view component, std::string_view message,
         const boost::json::object& fields) {
  if (!log_enabled(level)) return;
  boost::json::object line;
  line["ts"] = domain::format_rfc3339(
      std::chrono::time_point_cast<domain::Duration>(std::chrono::system_clock::now()));
  line["level"] = kNames[static_cast<int>(level)];
  line["component"] = component;
  line["msg"] = message;
  for (const auto& field : fields) line[field.key()] = field.value();
  std::string text = boost::json::serialize(line);
  text += '\n';
  // One write per line under a lock: lines from several threads never interleave.
  std::lock_guard lock{g_write};
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

}  // namespace gavel::roles
