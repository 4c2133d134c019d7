// libFuzzer target: bearer tokens from outside. Never crash, and never accept a token that was
// not signed with the secret (the fuzzer cannot forge HMAC-SHA256, so any acceptance is a bug).
#include <cstdint>
#include <memory>
#include <string_view>

#include "adapters/jwt/dev_authenticator.hpp"
#include "adapters/memory/simulated_clock.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto clock = std::make_shared<gavel::adapters::memory::SimulatedClock>(
      *gavel::domain::parse_rfc3339("2026-11-28T10:00:00Z"));
  static const gavel::adapters::jwt::DevAuthenticator verifier{
      "fuzzing-secret-fuzzing-secret-0123456789",
      clock,
      "gavel-dev",
      "gavel",
      gavel::domain::seconds(30),
      0};
  const auto result = verifier.verify(std::string_view(reinterpret_cast<const char*>(data), size));
  if (result.ok()) __builtin_trap();
  return 0;
}
