#pragma once
// The queue port in process memory, with SQS FIFO semantics: the embedded profile's bid queue
// and the tests' fake (it is not durable: a restart loses it).
//
// - Order: messages of one ordering key are delivered in send order. While any message of a
//   key is in flight, no message of that key is delivered to another receive(); one receive()
//   may return several consecutive messages of a key (as SQS does), so a batch can carry many
//   bids of one busy auction.
// - Time comes from the clock port: visibility timeouts, the deduplication window, long-poll
//   waits and the lateness bound all follow it, so tests on a simulated clock are exact.
// - A send() with a late message refuses the whole call (nothing of it is enqueued).
// - An empty dedup_id is never a duplicate. A duplicate's receipt carries the first message's
//   body while it is queued, in flight or dead (found by its id, no scan).
// - Dead-letter reasons: the nack or dead_letter() reason, or "max deliveries exceeded" when a
//   visibility timeout expires on the last allowed delivery.
//
// Thread-safe. Callbacks run on the caller's thread, or on the clock's timer thread for a
// long poll answered by expiry; never with the queue's lock held, so they may call the queue.
// Destroying the queue answers pending long polls with ErrorKind::retryable.

#include <cstddef>
#include <memory>

#include "domain/time.hpp"
#include "ports/clock.hpp"
#include "ports/queue.hpp"

namespace gavel::adapters::memory {

struct MemoryQueueOptions {
  /// A message delivered this many times goes to the dead-letter queue instead of coming again.
  int max_deliveries = 5;
  /// A dedup id seen within this long makes a send a no-op (SQS: 5 minutes).
  domain::Duration dedup_window = std::chrono::minutes(5);
  /// send() refuses messages whose event_time < now - max_lateness.
  domain::Duration max_lateness = std::chrono::seconds(2);
};

class MemoryQueue final : public ports::Queue {
 public:
  using Options = MemoryQueueOptions;

  explicit MemoryQueue(ports::ClockPtr clock, Options options = {});
  ~MemoryQueue() override;
  MemoryQueue(const MemoryQueue&) = delete;
  MemoryQueue& operator=(const MemoryQueue&) = delete;

  void send(std::vector<ports::OutgoingMessage> messages,
            ports::Callback<std::vector<ports::SendReceipt>> done) override;
  void receive(ports::ReceiveOptions options,
               ports::Callback<std::vector<ports::Delivery>> done) override;
  void ack(std::vector<std::string> receipts, ports::Callback<void> done) override;
  void nack(std::vector<std::string> receipts, std::string reason,
            ports::Callback<void> done) override;
  void dead_letter(std::vector<std::string> receipts, std::string reason,
                   ports::Callback<void> done) override;
  void list_dead_letters(std::size_t limit,
                         ports::Callback<std::vector<ports::DeadLetter>> done) override;
  void redrive(std::vector<std::string> message_ids, ports::Callback<std::size_t> done) override;
  void purge_dead_letters(ports::Callback<std::size_t> done) override;
  void watermark(ports::Callback<domain::Timestamp> done) override;
  /// Answers at once, on the caller's thread. The oldest event time is exact: a scan of the
  /// queued messages, which only scrapes pay for (the hot paths keep no order by time).
  void stats(ports::Callback<ports::QueueStats> done) override;

  /// Messages in the queue (visible or in flight), not counting dead letters.
  std::size_t size() const;

 private:
  class Impl;
  // Shared with the clock's timers (which hold it weakly), so a timer that fires after the
  // queue is gone does nothing.
  std::shared_ptr<Impl> impl_;
};

}  // namespace gavel::adapters::memory
