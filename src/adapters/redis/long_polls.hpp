#pragma once
// Long polls (receive with a wait) of the Redis queue and topic, shared by both. A receive that
// finds nothing waits here, in this process, and is tried again when something may have
// changed: after a local send or release, when another process announces one on the adapter's
// wake channel (WakeListener), when the earliest in-flight delivery's visibility ends (a timer
// at that time), and a last time when its wait expires (a timer). No connection ever blocks on
// the server, so a long poll never holds up the adapter's other calls.
//
// Worker thread only: every method runs inside a job of the adapter's Worker. Timers come from
// the clock port, so a simulated clock moves these waits exactly as it moves the memory ones.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "adapters/redis/connection.hpp"
#include "domain/time.hpp"
#include "ports/clock.hpp"
#include "ports/message.hpp"

namespace gavel::adapters::redis {

/// What one receive attempt found: deliveries, and when the earliest message in flight becomes
/// visible again (when to try again, if nothing was found).
struct Fetch {
  std::vector<ports::Delivery> deliveries;
  std::optional<domain::Timestamp> next_visible;
};

/// Parses a receive script's answer: {{message id, receipt, ordering key, event time µs, body,
/// delivery count}..., next visible µs or nil}.
ports::Result<Fetch> parse_fetch(const Reply& reply);

class LongPolls {
 public:
  using Job = std::function<void(Connection&)>;
  using Attempt = std::function<ports::Result<Fetch>(Connection&)>;
  /// Runs `job` on the worker at `at` (a clock timer); answers the timer's id.
  using Schedule = std::function<ports::Clock::TimerId(domain::Timestamp at, Job job)>;

  LongPolls(ports::ClockPtr clock, Schedule schedule);

  /// A long poll's place, taken on the caller's thread when the call is made: its expiry timer
  /// is set then (from the clock's time at the call), and its expiry job, queued on the worker
  /// behind the receive job, finds the poll registered (or answered) whatever the timing.
  struct Ticket {
    std::uint64_t id = 0;
    std::optional<ports::Clock::TimerId> timer;  // none: do not wait
  };
  /// Any thread. Also sets a timer at the last known end of visibility within the wait: set
  /// now, before the receive job runs, it cannot miss a clock that moves past that end while
  /// the job is on its way (the job itself may see the clock just before it).
  Ticket take_ticket(domain::Duration wait);

  /// Tries `attempt`; answers at once when it finds something, fails, or the ticket has no
  /// wait, otherwise waits for its timer. `owner` names the handle it belongs to (close()).
  void receive(Connection& connection, Ticket ticket, std::uint64_t owner, Attempt attempt,
               ports::Callback<std::vector<ports::Delivery>> done);

  /// Tries each waiting receive once, oldest first; answers those that find something.
  void serve(Connection& connection);

  /// Answers the waits of `owner` (of every owner if nullopt) with ErrorKind::retryable.
  void close(std::optional<std::uint64_t> owner, const std::string& why);

  bool empty() const { return waiters_.empty(); }

 private:
  struct Waiter {
    std::uint64_t owner = 0;
    Attempt attempt;
    ports::Callback<std::vector<ports::Delivery>> done;
    ports::Clock::TimerId timer = 0;
  };

  void expire(Connection& connection, std::uint64_t id);
  void wake_at(std::optional<domain::Timestamp> at);
  // Remembers the earliest visibility end the server last reported, for take_ticket().
  void note(const ports::Result<Fetch>& fetched);

  const ports::ClockPtr clock_;
  const Schedule schedule_;
  std::atomic<std::uint64_t> next_id_{1};
  std::map<std::uint64_t, Waiter> waiters_;  // by arrival
  std::set<domain::Timestamp> wakes_;        // visibility ends with a timer already set
  std::mutex hint_mutex_;
  std::optional<domain::Timestamp> next_visible_hint_;
};

}  // namespace gavel::adapters::redis
