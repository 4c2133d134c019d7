// libFuzzer target: times from outside. Never crash; what parses formats and parses back equal.
#include <cstdint>
#include <string_view>

#include "domain/time.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = gavel::domain::parse_rfc3339(text);
  if (!parsed) return 0;
  const auto again = gavel::domain::parse_rfc3339(gavel::domain::format_rfc3339(*parsed));
  if (!again || *again != *parsed) __builtin_trap();
  return 0;
}
