#pragma once
// What the Redis queue and topic share: the clock, the worker (the command connection and the
// only thread that touches adapter state), the long polls, and the wake-up listener of the
// adapter's channel. Owned through a shared_ptr: clock timers hold it weakly, so a timer that
// fires after the adapter is gone does nothing.

#include <chrono>
#include <memory>
#include <string>

#include "adapters/redis/connection.hpp"
#include "adapters/redis/long_polls.hpp"
#include "adapters/redis/worker.hpp"
#include "ports/clock.hpp"

namespace gavel::adapters::redis {

class AdapterCore : public std::enable_shared_from_this<AdapterCore> {
 public:
  AdapterCore(const std::string& url, ConnectionOptions options, ports::ClockPtr clock,
              std::string wake_channel);
  virtual ~AdapterCore();
  AdapterCore(const AdapterCore&) = delete;
  AdapterCore& operator=(const AdapterCore&) = delete;

 protected:
  /// Stops the listener, then runs the jobs already posted and stops the worker. Derived
  /// destructors call it first: the jobs use their members.
  void stop();

  /// Any thread: a receive that may wait (LongPolls), answered from the worker.
  void long_poll(std::uint64_t owner, LongPolls::Attempt attempt, domain::Duration wait,
                 ports::Callback<std::vector<ports::Delivery>> done);

  /// Posts a job that serves the long polls (after a wake-up from another process).
  void serve_later();

  const ports::ClockPtr clock_;
  LongPolls polls_;
  std::unique_ptr<Worker> worker_;

 private:
  std::unique_ptr<WakeListener> listener_;
};

}  // namespace gavel::adapters::redis
