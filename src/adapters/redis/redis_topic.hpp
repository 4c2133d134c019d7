#pragma once
// The topic port on Redis Streams (the selfhosted profile's event fan-out to every gateway,
// notifier and auditor).
//
// - One stream per topic, `{<prefix>:topic:<name>}:log`, each entry holding the message id
//   (the dedup id: the event id consumers see), ordering key, event time and body. It is
//   capped with XADD MAXLEN ~ max_length: a subscriber that falls further behind than that
//   loses the oldest messages (a gateway then resynchronises its subscribers from snapshots).
// - One consumer group per subscription name, created by subscribe() at "$" (messages published
//   after it); handles of one name are competing consumers of that group. New messages come
//   with XREADGROUP; XACK acknowledges.
// - Visibility and delivery counts are kept beside the group, per subscription: an in-flight
//   sorted set (stream id → visible-again time), the receipt and count of each delivery. Times
//   come from the clock port and are passed to the scripts, so visibility follows the same
//   clock as the memory topic (XAUTOCLAIM's idle time would follow the server's instead). An
//   expired delivery comes back ahead of newer messages, with delivery_count + 1 and a new
//   receipt (`<stream id>#<count>`); acknowledging with an old receipt does nothing.
// - Publishing a dedup id seen within dedup_window is a no-op (a key per id holding when it was
//   first published; expired by the server a little after the window). An empty dedup id gets
//   a generated id (t-<n>) and is never a duplicate.
// - Every publish PUBLISHes on `{...}:wake`: long polls of every process wake up at once.
// - If a subscription's group is missing when it is read (its creation failed, or the stream
//   was deleted), it is created then, at "$".
//
// Calls answer from the adapter's worker thread. Subscriptions outlive the topic object. A
// handle's destructor answers its pending long polls with ErrorKind::retryable.

#include <cstddef>
#include <memory>
#include <string>

#include "adapters/redis/connection.hpp"
#include "domain/time.hpp"
#include "ports/clock.hpp"
#include "ports/topic.hpp"

namespace gavel::adapters::redis {

struct RedisTopicOptions {
  /// Namespace of the keys.
  std::string prefix = "gavel";
  /// Publishing a dedup id seen within this long is a no-op.
  domain::Duration dedup_window = std::chrono::minutes(5);
  /// Approximate cap of the stream (XADD MAXLEN ~).
  std::size_t max_length = 100000;
  ConnectionOptions connection;
};

class RedisTopic final : public ports::Topic {
 public:
  using Options = RedisTopicOptions;

  /// `url`: redis://[[user]:password@]host[:port][/db]; `name`: the topic (e.g. "events").
  /// Throws std::invalid_argument for a malformed URL; connects lazily.
  RedisTopic(const std::string& url, const std::string& name, ports::ClockPtr clock,
             Options options = {});
  ~RedisTopic() override;
  RedisTopic(const RedisTopic&) = delete;
  RedisTopic& operator=(const RedisTopic&) = delete;

  void publish(std::vector<ports::OutgoingMessage> messages, ports::Callback<void> done) override;
  /// Creates the subscription's group if needed (waits for the server up to the command
  /// timeout; on failure the first receive creates it).
  ports::SubscriptionPtr subscribe(const std::string& name) override;

  /// Removes the subscriptions whose names start with `prefix` and whose every consumer has
  /// been idle for longer than `idle` (a gateway that is gone: its group would otherwise keep
  /// the stream's entries pending forever), with their bookkeeping. Answers the names removed.
  /// A live subscriber reads several times a second, so a limit of minutes never touches one;
  /// one that comes back after removal gets a new group and resynchronises (topic_pumps.hpp).
  void prune_idle_subscriptions(const std::string& prefix, domain::Duration idle,
                                ports::Callback<std::vector<std::string>> done);

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace gavel::adapters::redis
