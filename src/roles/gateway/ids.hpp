#pragma once
// Time-ordered ids (ULID layout: 48 bits of milliseconds + 80 random bits, Crockford base32,
// 26 characters). Sorting bid ids sorts them by when the gateway received them, across nodes.
// Thread-safe; monotonic within one generator even when the clock stands still.

#include <array>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>

#include "domain/time.hpp"

namespace gavel::gateway {

class IdGenerator {
 public:
  IdGenerator();
  std::string next(domain::Timestamp now);

 private:
  std::mutex mutex_;
  std::mt19937_64 random_;
  std::uint64_t last_millis_ = 0;
  std::array<std::uint8_t, 10> last_random_{};
};

}  // namespace gavel::gateway
