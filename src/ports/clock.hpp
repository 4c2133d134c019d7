#pragma once
// The only source of time. Production uses the system clock; tests use a simulated one that
// moves only when told to, so nothing in a unit test sleeps.

#include <cstdint>
#include <functional>
#include <memory>

#include "domain/time.hpp"

namespace gavel::ports {

class Clock {
 public:
  using TimerId = std::uint64_t;

  virtual ~Clock() = default;

  /// The current time (UTC).
  virtual domain::Timestamp now() const = 0;

  /// Calls `fn` once, at or after `at`. System clocks call it on their timer thread; simulated
  /// clocks call it from within advance(). `fn` must not block.
  virtual TimerId call_at(domain::Timestamp at, std::function<void()> fn) = 0;

  /// Cancels a timer that has not fired; returns whether it was still pending.
  virtual bool cancel(TimerId id) = 0;
};

using ClockPtr = std::shared_ptr<Clock>;

}  // namespace gavel::ports
