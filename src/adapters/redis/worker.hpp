#pragma once
// The threads of a Redis adapter. A Worker owns the command connection and runs jobs on it one
// at a time, in order, so an adapter's state needs no lock if only jobs touch it; callbacks of
// the ports are called from its thread. A WakeListener holds a second connection SUBSCRIBEd to
// a channel, so that a message published by another process (a send, a release) wakes this
// process's long polls without blocking the worker.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "adapters/redis/connection.hpp"

namespace gavel::adapters::redis {

class Worker {
 public:
  using Job = std::function<void(Connection&)>;

  Worker(Endpoint endpoint, ConnectionOptions options);
  /// Runs the jobs already posted, then stops. From a job of this worker (a callback dropped
  /// the last owner), the thread is detached instead and exits after that job.
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void post(Job job);

  /// Posts `job` and waits up to `timeout` for it to finish (at once, inline, when called on
  /// the worker's own thread). Answers whether it finished; a job that did not still runs.
  bool run(Job job, std::chrono::milliseconds timeout);

 private:
  struct State;
  static void loop(const std::shared_ptr<State>& state);

  std::shared_ptr<State> state_;
  std::thread thread_;
};

/// Calls that arrive while the worker is busy, gathered so that one job serves them all (one
/// script call instead of one round trip each: the queue's sends, the cache's lookups).
/// `add` posts the job only for the first call since the last one ran; the job takes every call
/// added until it starts. Any thread; the owner keeps it alive until its worker has stopped.
template <typename Call>
class Coalescer {
 public:
  using Serve = std::function<void(Connection&, std::vector<Call>)>;

  explicit Coalescer(Serve serve) : serve_(std::move(serve)) {}

  void add(Worker& worker, Call call) {
    {
      std::lock_guard lock{mutex_};
      calls_.push_back(std::move(call));
      if (posted_) return;
      posted_ = true;
    }
    worker.post([this](Connection& connection) {
      std::vector<Call> calls;
      {
        std::lock_guard lock{mutex_};
        calls.swap(calls_);
        posted_ = false;
      }
      serve_(connection, std::move(calls));
    });
  }

 private:
  const Serve serve_;
  std::mutex mutex_;
  std::vector<Call> calls_;
  bool posted_ = false;
};

/// Posts `work` (Connection& → ports::Result<T>) to `worker` and answers `done` with what it
/// returns, on the worker's thread: the shape of every simple adapter call.
template <typename T, typename Work>
void answer_on(Worker& worker, ports::Callback<T> done, Work work) {
  worker.post([done = std::move(done), work = std::move(work)](Connection& connection) mutable {
    done(work(connection));
  });
}

class WakeListener {
 public:
  /// Calls `on_wake` (on the listener's thread) for each message on `channel`, and once after
  /// every (re)connection, since messages may have been missed while it was away.
  WakeListener(Endpoint endpoint, std::string channel, std::function<void()> on_wake);
  ~WakeListener();
  WakeListener(const WakeListener&) = delete;
  WakeListener& operator=(const WakeListener&) = delete;

 private:
  void loop();

  Connection connection_;
  const std::string channel_;
  const std::function<void()> on_wake_;
  std::mutex mutex_;
  std::condition_variable stop_signal_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace gavel::adapters::redis
