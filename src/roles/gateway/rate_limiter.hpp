#pragma once
// Per-user token buckets for bid intake: `burst` bids at once, refilled at `per_second`.
// Thread-safe (one mutex; intake takes it for a few nanoseconds per bid). Buckets of users who
// have been idle long enough to be full again are dropped, so memory follows active users.

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "domain/time.hpp"

namespace gavel::gateway {

class RateLimiter {
 public:
  /// `per_second` <= 0 disables limiting.
  RateLimiter(double per_second, double burst) : per_second_(per_second), burst_(burst) {}

  /// Takes one token for `user` at `now`. Returns nothing when allowed, or how long until a
  /// token is available (for Retry-After) when not.
  std::optional<domain::Duration> take(const std::string& user, domain::Timestamp now);

 private:
  struct Bucket {
    double tokens = 0;
    domain::Timestamp updated{};
  };
  void forget_full_buckets(domain::Timestamp now);

  double per_second_;
  double burst_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
  std::size_t takes_since_sweep_ = 0;
};

}  // namespace gavel::gateway
