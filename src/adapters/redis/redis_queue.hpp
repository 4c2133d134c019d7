#pragma once
// The queue port on Redis (the selfhosted profile's bid queue and DLQ), for several engine
// processes at once. Every operation is one Lua script, so each is atomic on the server and
// the processes need no other coordination.
//
// Partitions: ordering keys are spread over `partitions` partitions by a hash of the key
// (FNV-1a, the same in every process). Each partition is a queue of its own, under its own hash
// tag `{<prefix>:queue:<name>:p<i>}:`, so a Redis Cluster can place partitions on different
// shards; a call that touches several partitions runs one script per partition, pipelined.
// Message ids and receipts carry their partition: `<i>.m-<n>`, `<i>.m-<n>#<delivery>`. The
// count is recorded in `{<prefix>:queue:<name>}:partitions` by the first process and fixed from
// then on: a process configured with another count gets a permanent error naming both.
//
// Why not consumer groups on partitioned streams: a group's cursor hands out entries in stream
// order to whoever reads, but the port must hold back every later message of an ordering key
// while one is in flight, return a nacked message ahead of its key's later ones at once, and
// answer a watermark over messages never delivered. Skipping held-back entries under a group
// cursor needs this same bookkeeping beside it, so the scripts keep each partition in plain
// structures instead (`{<prefix>:queue:<name>:p<i>}:` + ...):
//
//   m:<id>        hash: ordering key, dedup id, event time, body, seq, deliveries, first
//                 failure, and the current receipt and receiver while in flight
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
//                 window; the time decides, so the window follows the clock port. Per
//                 partition: a dedup id reused with an ordering key of another partition is
//                 not recognised (the gateway's dedup ids name one bid on one auction)
//   dlq           the dead-letter STREAM (oldest first), dlqidx: message id → its entry id
//   lease         the receiver holding the partition (with leases), expiring after the lease
//
// and `{<prefix>:queue:<name>}:wake`, a pub/sub channel: sends and releases in any partition
// wake long polls in every process.
//
// Leases (`lease` > 0; the selfhosted engines): a process joins the receivers with its first
// receive (so gateways, which only send, never do), keeps a heartbeat in
// `{<prefix>:queue:<name>}:receivers` (a sorted set by expiry, on the server's clock), and
// holds the leases of ceil(partitions / receivers alive) partitions, renewed every third of the
// lease; it receives from those only (the receive script checks the lease, so a receiver whose
// lease lapsed gets nothing from that partition). Over its share it gives leases back, under
// it it takes free ones. A receiver that dies stops renewing: within one lease time its leases
// and heartbeat lapse, another receiver takes the partitions at its next round (a third of the
// lease later at most), and the deliveries the dead one left in flight come back at once
// instead of after their visibility. A receiver that closes gives its leases back. Without
// leases every receiver reads every partition (competing consumers; the contract suite).
// A receiver only slow to renew can lose a partition while it still decides a batch: the
// store's write fence, not the lease, keeps a bid from being decided twice.
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
// Limits: one partition's keys share one hash tag, so on a Redis Cluster a partition lives on
// one shard (scripts need their keys in one slot); one server core bounds a partition's
// throughput (a receive of 10 is one script call). A receive asks each partition it reads
// for a share of its maximum, in proportion to what each gave last time. Durability is the
// server's: run it with AOF (appendfsync everysec or always) for "nothing acknowledged is lost"
// across its restart.
//
// Calls answer from the adapter's worker thread (one connection, in order); long polls wait in
// this process (LongPolls) and never block the connection. Destroying the queue answers its
// pending long polls with ErrorKind::retryable.

#include <chrono>
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
  /// Partitions the ordering keys are spread over; fixed for the life of a queue.
  std::size_t partitions = 1;
  /// Zero: every receiver reads every partition. Otherwise each receiving process holds leases
  /// on its share of the partitions, and a lease not renewed within this long lapses and is
  /// taken over (with the dead receiver's deliveries in flight).
  std::chrono::milliseconds lease{0};
  /// Names this process among the receivers (a random suffix is added).
  std::string receiver = "receiver";
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
  /// With leases: whether this process held the key's partition at its last lease round.
  bool receives(const std::string& ordering_key) const override;

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace gavel::adapters::redis
