#include "adapters/memory/simulated_clock.hpp"

#include <chrono>

namespace gavel::adapters::memory {

domain::Timestamp SimulatedClock::default_start() {
  return domain::Timestamp{std::chrono::sys_days{std::chrono::year{2026} / 1 / 1}};
}

SimulatedClock::SimulatedClock(domain::Timestamp start) : now_(start) {}

domain::Timestamp SimulatedClock::now() const {
  std::lock_guard lock(mutex_);
  return now_;
}

ports::Clock::TimerId SimulatedClock::call_at(domain::Timestamp at, std::function<void()> fn) {
  std::lock_guard lock(mutex_);
  const TimerId id = next_id_++;
  timers_.emplace(Key{at, id}, std::move(fn));
  due_by_id_.emplace(id, at);
  return id;
}

bool SimulatedClock::cancel(TimerId id) {
  std::lock_guard lock(mutex_);
  const auto found = due_by_id_.find(id);
  if (found == due_by_id_.end()) return false;
  timers_.erase(Key{found->second, id});
  due_by_id_.erase(found);
  return true;
}

void SimulatedClock::advance_to(domain::Timestamp to) {
  for (;;) {
    std::function<void()> fn;
    {
      std::lock_guard lock(mutex_);
      const auto first = timers_.begin();
      if (first == timers_.end() || first->first.first > to) {
        if (to > now_) now_ = to;
        return;
      }
      if (first->first.first > now_) now_ = first->first.first;
      fn = std::move(first->second);
      due_by_id_.erase(first->first.second);
      timers_.erase(first);
    }
    fn();
  }
}

void SimulatedClock::advance_by(domain::Duration by) {
  advance_to(now() + by);
}

std::size_t SimulatedClock::pending_timers() const {
  std::lock_guard lock(mutex_);
  return timers_.size();
}

}  // namespace gavel::adapters::memory
