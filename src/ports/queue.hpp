#pragma once
// The bid queue (the seed's SQS BidQueue + DLQ): at-least-once, ordered per ordering key,
// deduplicated by id, redelivered until acknowledged, dead-lettered after N deliveries.
// Shaped to fit SQS FIFO (MessageGroupId = ordering key, MessageDeduplicationId = dedup id,
// redrive policy) and Redis Streams (consumer groups, XAUTOCLAIM, a DLQ stream).

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "domain/time.hpp"
#include "ports/message.hpp"
#include "ports/result.hpp"

namespace gavel::ports {

/// What send() did with one message.
struct SendReceipt {
  std::string message_id;  ///< the id of the message in the queue (the first one, if duplicate)
  bool duplicate = false;  ///< the dedup id was seen within the window: nothing was enqueued
  /// For a duplicate: the body of the first message while the queue still holds it (waiting,
  /// in flight or dead-lettered), so a sender that retries learns what it sent first (the
  /// gateway: the bid id of a retried Idempotency-Key). Absent once that message was
  /// acknowledged (its effects are durable by then, so the sender can look them up), and for
  /// backends that cannot tell (SQS answers the message id only).
  std::optional<std::string> first_body;
};

struct ReceiveOptions {
  std::size_t max_messages = 10;  ///< SQS allows at most 10 per call
  domain::Duration wait =
      std::chrono::seconds(0);  ///< long-poll: wait this long for a first message
  domain::Duration visibility = std::chrono::seconds(30);  ///< unacked: delivered again after this
};

/// A message that failed too often, or could not be parsed.
struct DeadLetter {
  std::string message_id;
  std::string ordering_key;
  std::string dedup_id;
  domain::Timestamp event_time{};
  std::string body;
  int delivery_count = 0;
  std::string reason;
  domain::Timestamp first_failure{};
  domain::Timestamp last_failure{};
};

/// A snapshot of the queue for monitoring (/metrics), not for decisions: other processes may
/// change the queue right after it is taken.
struct QueueStats {
  std::size_t waiting = 0;    ///< visible messages, held back by their key or not
  std::size_t in_flight = 0;  ///< received and neither acknowledged nor returned yet
  /// The event time of the oldest message waiting or in flight (none when the queue is empty).
  /// For the bid queue that is when the gateway enqueued it: send() refuses event times older
  /// than the lateness bound.
  std::optional<domain::Timestamp> oldest_event_time;
  std::size_t dead_letters = 0;  ///< messages in the dead-letter queue

  std::size_t depth() const { return waiting + in_flight; }
};

class Queue {
 public:
  virtual ~Queue() = default;

  /// Enqueues `messages` in order. Messages with one ordering key are delivered in send order.
  /// A message whose dedup id was sent within the deduplication window is not enqueued again
  /// (receipt.duplicate, with the first message's id and, while it is held, its body). A
  /// message whose event_time is older than the queue's lateness bound is refused with
  /// ErrorKind::permanent: that bound is what lets watermark() promise anything
  /// (docs/design/fair-close.md).
  virtual void send(std::vector<OutgoingMessage> messages,
                    Callback<std::vector<SendReceipt>> done) = 0;

  /// Receives up to `options.max_messages`, waiting up to `options.wait` for the first one.
  /// While a message is in flight (received, neither acked nor returned), no later message
  /// with its ordering key is delivered. An in-flight message becomes visible again after
  /// `options.visibility`, with delivery_count + 1; when that count would pass the queue's
  /// max deliveries it goes to the dead-letter queue instead.
  virtual void receive(ReceiveOptions options, Callback<std::vector<Delivery>> done) = 0;

  /// Acknowledges deliveries: their messages are deleted. Call only once their effects are
  /// durable. Unknown or expired receipts are ignored (the message will come again).
  virtual void ack(std::vector<std::string> receipts, Callback<void> done) = 0;

  /// Returns deliveries to the queue at once (processing failed), recording `reason`; a message
  /// that has reached the max deliveries goes to the dead-letter queue.
  virtual void nack(std::vector<std::string> receipts, std::string reason, Callback<void> done) = 0;

  /// Moves deliveries straight to the dead-letter queue (say, a body that cannot be parsed).
  virtual void dead_letter(std::vector<std::string> receipts, std::string reason,
                           Callback<void> done) = 0;

  /// Up to `limit` dead letters, oldest first.
  virtual void list_dead_letters(std::size_t limit, Callback<std::vector<DeadLetter>> done) = 0;

  /// Puts dead letters back at the end of the queue (delivery count reset). Ids not in the
  /// dead-letter queue are skipped, so redriving twice is harmless. Answers how many moved.
  virtual void redrive(std::vector<std::string> message_ids, Callback<std::size_t> done) = 0;

  /// Deletes every dead letter; answers how many.
  virtual void purge_dead_letters(Callback<std::size_t> done) = 0;

  /// A time W such that every message with event_time < W that will ever be accepted by send()
  /// has already been acknowledged or dead-lettered: delivered is not enough, since another
  /// consumer may still be deciding it. The engine closes an auction only when its end is below
  /// the watermark, so no bid received in time is still on its way or being judged by another
  /// engine. A redriven dead letter does not count again (it is late by then).
  virtual void watermark(Callback<domain::Timestamp> done) = 0;

  /// Counts for monitoring, taken at one moment; meant to be called on every metrics scrape, so
  /// an adapter keeps it cheap and documents its cost and any approximation of the oldest time.
  /// Deliveries whose visibility has ended count as waiting again (or as dead letters).
  virtual void stats(Callback<QueueStats> done) = 0;

  /// Whether this process is, as far as it knows, the one receiving `ordering_key`'s messages
  /// now: always, unless the queue hands each key to one receiver at a time (the Redis
  /// queue's partition leases). Work tied to a key but not to a message (an engine closing an
  /// auction) goes by it, so that normally one process does it; a hint, not a lock (a lease
  /// can move meanwhile), so that work still needs its own fence.
  virtual bool receives(const std::string& ordering_key) const {
    (void)ordering_key;
    return true;
  }
};

using QueuePtr = std::unique_ptr<Queue>;

}  // namespace gavel::ports
