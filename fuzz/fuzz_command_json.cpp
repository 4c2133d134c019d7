// libFuzzer target: a queue message / replay line from outside. Must never crash, and whatever
// parses must survive the round trip through command_json unchanged.
#include <boost/json.hpp>
#include <cstdint>
#include <string_view>

#include "ports/wire/command_json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace json = boost::json;
  boost::system::error_code ec;
  const json::value document =
      json::parse(std::string_view(reinterpret_cast<const char*>(data), size), ec);
  if (ec || !document.is_object()) return 0;
  const auto default_time = *gavel::domain::parse_rfc3339("2026-11-28T10:00:00Z");
  auto parsed = gavel::wire::parse_command(document.get_object(), default_time);
  const auto* envelope = std::get_if<gavel::wire::CommandEnvelope>(&parsed);
  if (envelope == nullptr) return 0;
  const std::string line = json::serialize(gavel::wire::command_json(*envelope));
  auto again = gavel::wire::parse_command(json::parse(line).get_object(), default_time);
  const auto* second = std::get_if<gavel::wire::CommandEnvelope>(&again);
  if (second == nullptr || !(*second == *envelope)) __builtin_trap();
  return 0;
}
