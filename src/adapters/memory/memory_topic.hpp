#pragma once
// The topic port in process memory: the embedded profile's event fan-out and the tests' fake
// (not durable). Each named subscription keeps its own copy of every message published after
// it was first opened, in publish order, until a consumer acknowledges it; handles opened with
// the same name compete for one copy. There is no ordering-key locking and no dead-letter
// queue: an unacknowledged message comes back after its visibility timeout, for ever.
//
// Time (visibility, the deduplication window, long-poll waits) comes from the clock port.
// Thread-safe. Callbacks run on the caller's thread or on the clock's timer thread, never with
// the lock held. A subscription handle's destructor answers its pending long polls with
// ErrorKind::retryable; the subscription itself lives on (it is durable) while the topic or
// another handle of it exists.

#include <memory>

#include "domain/time.hpp"
#include "ports/clock.hpp"
#include "ports/topic.hpp"

namespace gavel::adapters::memory {

struct MemoryTopicOptions {
  /// Publishing a dedup id seen within this long is a no-op.
  domain::Duration dedup_window = std::chrono::minutes(5);
};

class MemoryTopic final : public ports::Topic {
 public:
  using Options = MemoryTopicOptions;

  explicit MemoryTopic(ports::ClockPtr clock, Options options = {});
  ~MemoryTopic() override;
  MemoryTopic(const MemoryTopic&) = delete;
  MemoryTopic& operator=(const MemoryTopic&) = delete;

  /// A message with an empty dedup_id gets a generated id and is never a duplicate.
  void publish(std::vector<ports::OutgoingMessage> messages, ports::Callback<void> done) override;
  ports::SubscriptionPtr subscribe(const std::string& name) override;

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace gavel::adapters::memory
