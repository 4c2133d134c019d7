#pragma once
// One channel's deliveries: its own queue, its own retry schedule, and (when started) its own
// thread, so a slow or failing channel never holds up another channel or the notifier's event
// consumption. Channels may block in send() (libcurl easy handles do): they block this thread.
//
// Retries back off exponentially with full jitter, capped; after `max_attempts` failures, or
// at the first permanent one, the delivery is dead-lettered in the store. Every outcome is
// written to the store, so a restarted notifier resumes what was pending.
//
// Thread-safety: enqueue() from any thread; run_due() from one thread at a time (the worker's
// own thread once started, or a test's).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "ports/clock.hpp"
#include "ports/notice_store.hpp"
#include "ports/notification_channel.hpp"

namespace gavel::roles::notifier {

struct RetryPolicy {
  int max_attempts = 5;  ///< failures before a delivery is dead-lettered
  domain::Duration base = std::chrono::seconds(2);
  domain::Duration cap = std::chrono::minutes(5);
  /// How long one send may take before it counts as a (retryable) failure.
  std::chrono::milliseconds send_timeout{30'000};
};

/// The wait before retry number `failures` (1 after the first failure): uniform in
/// [0, min(cap, base · 2^(failures-1))] ("full jitter"), drawn from `random`.
domain::Duration backoff_delay(int failures, const RetryPolicy& policy, std::mt19937_64& random);

/// A channel's counts, for /metrics.
struct ChannelCounts {
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> failed{0};  ///< attempts that failed (retried or not)
  std::atomic<std::uint64_t> dead{0};    ///< deliveries dead-lettered
};

class DeliveryWorker {
 public:
  DeliveryWorker(ports::NotificationChannel& channel, ports::NoticeStore& store,
                 ports::Clock& clock, RetryPolicy policy, std::uint64_t seed);
  ~DeliveryWorker();
  DeliveryWorker(const DeliveryWorker&) = delete;
  DeliveryWorker& operator=(const DeliveryWorker&) = delete;

  std::string_view channel() const { return channel_.name(); }

  /// Queues a pending delivery, due now; one already queued (same notice id) is not queued
  /// twice.
  void enqueue(ports::DeliveryRecord record);

  /// Attempts every queued delivery that is due, one after the other, on the calling thread.
  /// Returns how many it attempted.
  std::size_t run_due();

  /// Runs run_due() on a thread of its own until stop(). Idempotent.
  void start();
  void stop();

  /// Deliveries queued (waiting or due).
  std::size_t queued() const;
  const ChannelCounts& counts() const { return counts_; }

 private:
  struct Job {
    ports::DeliveryRecord record;
  };
  void attempt(Job job);
  void settle(const ports::DeliveryOutcome& outcome);

  ports::NotificationChannel& channel_;
  ports::NoticeStore& store_;
  ports::Clock& clock_;
  RetryPolicy policy_;
  std::mt19937_64 random_;  // used by the thread that runs run_due()

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::multimap<domain::Timestamp, Job> due_;  // by when the next attempt is due
  std::set<std::string> queued_ids_;
  bool stopping_ = false;
  std::thread thread_;
  ChannelCounts counts_;
};

}  // namespace gavel::roles::notifier
