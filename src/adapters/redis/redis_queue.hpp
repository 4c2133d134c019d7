#pragma once
// The queue port on Redis (the selfhosted profile's bid queue and DLQ), for several engine
// processes at once. Every operation is one Lua script, so each is atomic on the server and
// the processes need no other coordination.
//
// Why not consumer groups on partitioned streams: a group's cursor hands out entries in stream
// order to whoever reads, but the port must hold back every later message of an ordering key
// while one is in flight, return a nacked message ahead of its key's later ones at once, and
// answer a watermark over messages never delivered. Skipping held-back entries under a group
// cursor needs this same bookkeeping beside it, so the scripts keep the queue in plain
// structures instead (`{<prefix>:queue:<name>}:` + ...):
//
//   m:<id>        hash: ordering key, dedup id, event time, body, seq, deliveries, first
//                 failure, and the current receipt while in flight
//   k:<key>       sorted set of the key's visible messages by seq (send order; a message that
//                 comes back keeps its seq, so it goes ahead of later ones; a redriven one gets
//                 a new seq, behind everything sent since)
//   ready         sorted set of keys with visible messages and none in flight, by head seq:
//                 receive takes the oldest head first
//   busy          hash: in-flight count per key (a key is held back while it is not zero)
//   inflight      sorted set of in-flight ids by visibility end
//   unsettled     sorted set of ids sent and not yet acknowledged or dead-lettered, by event
//                 time (the watermark)
//   dd:<dedup>    "<first send time>|<message id>", expired by the server a little after the
//                 window; the time decides, so the window follows the clock port
//   dlq           the dead-letter STREAM (oldest first), dlqidx: message id → its entry id
//   wake          a pub/sub channel: sends and releases wake long polls in every process
//
// Ordering and hold-back are per key across every process (one busy count per key on the
// server); one receive may return several consecutive messages of a key, in order (as the
// memory queue and SQS do). Times (visibility ends, the dedup window, the lateness bound) come
// from the caller's clock port and travel to the scripts as integers: processes need clocks
// in step (their skew adds to visibility and to the lateness bound). Receipts are
// `<message id>#<delivery count>`, so an expired receipt never settles a later delivery.
// Every script first takes back expired deliveries (again visible, or dead-lettered with
// "max deliveries exceeded" once the last allowed delivery expires; first and last failure
// are the visibility ends). Watermark: min(oldest unsettled event time, now - max_lateness).
//
// Limits: one queue's keys share one hash tag, so on a Redis Cluster a queue lives on one
// shard (scripts need their keys in one slot); one server core bounds a queue's throughput
// (a receive of 10 is one script call). Durability is the server's: run it with AOF
// (appendfsync everysec or always) for "nothing acknowledged is lost" across its restart.
//
// Calls answer from the adapter's worker thread (one connection, in order); long polls wait in
// this process (LongPolls) and never block the connection. Destroying the queue answers its
// pending long polls with ErrorKind::retryable.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "adapters/redis/connection.hpp"
#include "domain/time.hpp"
#include "ports/clock.hpp"
#include "ports/queue.hpp"

namespace gavel::adapters::redis {

struct RedisQueueOptions {
  /// Namespace of the keys.
  std::string prefix = "gavel";
  /// A message delivered this many times goes to the dead-letter stream instead of coming again.
  int max_deliveries = 5;
  /// A dedup id seen within this long makes a send a no-op.
  domain::Duration dedup_window = std::chrono::minutes(5);
  /// send() refuses messages whose event_time < now - max_lateness. Networked: at least the
  /// gateway's send timeout plus the clock skew between gateways and engine hosts
  /// (docs/design/fair-close.md).
  domain::Duration max_lateness = std::chrono::seconds(5);
  ConnectionOptions connection;
};

class RedisQueue final : public ports::Queue {
 public:
  using Options = RedisQueueOptions;

  /// `url`: redis://[[user]:password@]host[:port][/db]; `name`: the queue (e.g. "bids").
  /// Throws std::invalid_argument for a malformed URL; connects lazily.
  RedisQueue(const std::string& url, const std::string& name, ports::ClockPtr clock,
             Options options = {});
  ~RedisQueue() override;
  RedisQueue(const RedisQueue&) = delete;
  RedisQueue& operator=(const RedisQueue&) = delete;

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
  /// One script; its cost and the approximation of the oldest time are in redis_queue.cpp.
  void stats(ports::Callback<ports::QueueStats> done) override;

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace gavel::adapters::redis
