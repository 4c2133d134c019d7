#include "roles/gateway/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace gavel::gateway {

namespace {
constexpr std::size_t kSweepEvery = 4096;

double seconds_between(domain::Timestamp from, domain::Timestamp to) {
  return std::chrono::duration<double>(to - from).count();
}
}  // namespace

std::optional<domain::Duration> RateLimiter::take(const std::string& user, domain::Timestamp now) {
  if (per_second_ <= 0) return std::nullopt;
  std::lock_guard lock{mutex_};
  if (++takes_since_sweep_ >= kSweepEvery) forget_full_buckets(now);
  auto [it, inserted] = buckets_.try_emplace(user, Bucket{burst_, now});
  Bucket& bucket = it->second;
  if (!inserted) {
    const double elapsed = std::max(0.0, seconds_between(bucket.updated, now));
    bucket.tokens = std::min(burst_, bucket.tokens + elapsed * per_second_);
    bucket.updated = std::max(bucket.updated, now);
  }
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return std::nullopt;
  }
  const double wait = (1.0 - bucket.tokens) / per_second_;
  return std::chrono::duration_cast<domain::Duration>(std::chrono::duration<double>(wait));
}

void RateLimiter::forget_full_buckets(domain::Timestamp now) {
  takes_since_sweep_ = 0;
  std::erase_if(buckets_, [&](const auto& entry) {
    const Bucket& bucket = entry.second;
    return bucket.tokens + seconds_between(bucket.updated, now) * per_second_ >= burst_;
  });
}

}  // namespace gavel::gateway
