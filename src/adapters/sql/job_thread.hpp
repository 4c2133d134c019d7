#pragma once
// One worker thread and its queue, as the SQL stores use them: callers queue jobs and never wait;
// the thread takes everything queued (up to a limit) at once, so a store can put many queued
// writes into one transaction. Stopping finishes the queue, joins the thread, and then runs
// whatever the last jobs' callbacks queued, on the stopping thread, until nothing is left: every
// job queued before close runs exactly once. After that, push refuses.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ports/thread_name.hpp"

namespace gavel::adapters::sql {

template <typename Job>
class JobThread {
 public:
  /// `run` gets up to `max_batch` jobs at a time (at least 1), in queue order, on a thread
  /// called `name` (ports::name_this_thread).
  JobThread(std::string name, std::size_t max_batch, std::function<void(std::vector<Job>&)> run)
      : max_batch_(max_batch == 0 ? 1 : max_batch), run_(std::move(run)) {
    thread_ = std::thread([this, name = std::move(name)] {
      ports::name_this_thread(name);
      loop();
    });
  }
  ~JobThread() { stop(); }
  JobThread(const JobThread&) = delete;
  JobThread& operator=(const JobThread&) = delete;

  /// Queues a job; false (and `job` untouched) once stopped.
  bool push(Job& job) {
    {
      std::lock_guard lock(mutex_);
      if (closed_) return false;
      jobs_.push_back(std::move(job));
    }
    ready_.notify_one();
    return true;
  }

  /// Runs everything queued, then joins. Idempotent.
  void stop() {
    {
      std::lock_guard lock(mutex_);
      if (closed_) return;
      stopping_ = true;
    }
    ready_.notify_all();
    if (thread_.joinable()) thread_.join();
    for (;;) {
      std::vector<Job> batch;
      {
        std::lock_guard lock(mutex_);
        if (jobs_.empty()) {
          closed_ = true;
          return;
        }
        batch.assign(std::make_move_iterator(jobs_.begin()), std::make_move_iterator(jobs_.end()));
        jobs_.clear();
      }
      run_(batch);
    }
  }

 private:
  void loop() {
    for (;;) {
      std::vector<Job> batch;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        while (!jobs_.empty() && batch.size() < max_batch_) {
          batch.push_back(std::move(jobs_.front()));
          jobs_.pop_front();
        }
      }
      run_(batch);
    }
  }

  std::size_t max_batch_;
  std::function<void(std::vector<Job>&)> run_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  bool closed_ = false;
  std::thread thread_;
};

}  // namespace gavel::adapters::sql
