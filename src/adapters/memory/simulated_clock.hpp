#pragma once
// A clock that moves only when told to, so tests of time-dependent code never sleep.
// Thread-safe. Timer callbacks run on the thread that calls advance_to()/advance_by(), in time
// order (ties in scheduling order), without any lock held: they may call back into the clock.

#include <map>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "ports/clock.hpp"

namespace gavel::adapters::memory {

class SimulatedClock final : public ports::Clock {
 public:
  /// 2026-01-01T00:00:00Z: an arbitrary, fixed start so that test runs are reproducible.
  static domain::Timestamp default_start();

  explicit SimulatedClock(domain::Timestamp start = default_start());

  domain::Timestamp now() const override;
  TimerId call_at(domain::Timestamp at, std::function<void()> fn) override;
  bool cancel(TimerId id) override;

  /// Moves time forward to `to` (never backwards: an earlier `to` only runs timers already
  /// due), running every timer due at or before it. While a timer runs, now() is its due time
  /// (or the current time, if that was later). A timer scheduled by a callback for a time at or
  /// before `to` runs within the same call.
  void advance_to(domain::Timestamp to);
  /// advance_to(now() + by).
  void advance_by(domain::Duration by);

  /// How many timers are scheduled and not yet run or cancelled.
  std::size_t pending_timers() const;

 private:
  using Key = std::pair<domain::Timestamp, TimerId>;

  mutable std::mutex mutex_;
  domain::Timestamp now_;
  TimerId next_id_ = 1;
  std::map<Key, std::function<void()>> timers_;
  std::unordered_map<TimerId, domain::Timestamp> due_by_id_;
};

}  // namespace gavel::adapters::memory
