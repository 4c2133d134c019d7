#include "adapters/memory/system_clock.hpp"

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "ports/thread_name.hpp"

namespace gavel::adapters::memory {

struct SystemClock::State {
  using Key = std::pair<domain::Timestamp, TimerId>;

  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  TimerId next_id = 1;
  std::map<Key, std::function<void()>> timers;
  std::unordered_map<TimerId, domain::Timestamp> due_by_id;
};

namespace {
domain::Timestamp system_now() {
  return std::chrono::time_point_cast<domain::Duration>(std::chrono::system_clock::now());
}
}  // namespace

SystemClock::SystemClock() : state_(std::make_shared<State>()) {
  thread_ = std::thread([state = state_] {
    ports::name_this_thread("clock-timers");
    run(state);
  });
}

SystemClock::~SystemClock() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
  }
  state_->wake.notify_all();
  if (thread_.get_id() == std::this_thread::get_id()) {
    thread_.detach();  // destroyed from a timer callback: the thread exits once it returns
  } else {
    thread_.join();
  }
}

domain::Timestamp SystemClock::now() const {
  return system_now();
}

ports::Clock::TimerId SystemClock::call_at(domain::Timestamp at, std::function<void()> fn) {
  TimerId id = 0;
  bool earliest = false;
  {
    std::lock_guard lock(state_->mutex);
    id = state_->next_id++;
    const auto inserted = state_->timers.emplace(State::Key{at, id}, std::move(fn)).first;
    state_->due_by_id.emplace(id, at);
    earliest = inserted == state_->timers.begin();
  }
  if (earliest) state_->wake.notify_all();
  return id;
}

bool SystemClock::cancel(TimerId id) {
  std::lock_guard lock(state_->mutex);
  const auto found = state_->due_by_id.find(id);
  if (found == state_->due_by_id.end()) return false;
  state_->timers.erase(State::Key{found->second, id});
  state_->due_by_id.erase(found);
  return true;
}

void SystemClock::run(const std::shared_ptr<State>& state) {
  std::unique_lock lock(state->mutex);
  while (!state->stopping) {
    if (state->timers.empty()) {
      state->wake.wait(lock);
      continue;
    }
    const auto first = state->timers.begin();
    const domain::Timestamp due = first->first.first;
    if (due > system_now()) {
      state->wake.wait_until(lock, due);
      continue;
    }
    std::function<void()> fn = std::move(first->second);
    state->due_by_id.erase(first->first.second);
    state->timers.erase(first);
    lock.unlock();
    fn();
    fn = nullptr;  // release what the callback captured before taking the lock again
    lock.lock();
  }
}

}  // namespace gavel::adapters::memory
