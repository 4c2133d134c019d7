#pragma once
// Real UTC time (std::chrono::system_clock, in microseconds). Timers run on one internal timer
// thread, one at a time, in due order; a slow callback delays the others, so callbacks must
// not block. Thread-safe. The destructor stops the thread: timers not yet run are dropped.

#include <memory>
#include <thread>

#include "ports/clock.hpp"

namespace gavel::adapters::memory {

class SystemClock final : public ports::Clock {
 public:
  SystemClock();
  ~SystemClock() override;
  SystemClock(const SystemClock&) = delete;
  SystemClock& operator=(const SystemClock&) = delete;

  domain::Timestamp now() const override;
  TimerId call_at(domain::Timestamp at, std::function<void()> fn) override;
  bool cancel(TimerId id) override;

 private:
  struct State;
  static void run(const std::shared_ptr<State>& state);

  // Shared with the timer thread, so that a callback that drops the last reference to the
  // clock (and so runs the destructor on the timer thread) leaves the thread valid memory.
  std::shared_ptr<State> state_;
  std::thread thread_;
};

}  // namespace gavel::adapters::memory
