#pragma once
// Fan-out of auction events (the seed's SNS AuctionEventsTopic): every subscription gets every
// message published after it was created, at least once, until it acknowledges it. Shaped for
// SNS → one SQS queue per subscriber, and for Redis Streams with a consumer group each.

#include <memory>
#include <string>
#include <vector>

#include "ports/message.hpp"
#include "ports/result.hpp"

namespace gavel::ports {

/// A durable subscription. Deliveries carry the publisher's message id (the event id) so that
/// consumers deduplicate redeliveries.
class Subscription {
 public:
  virtual ~Subscription() = default;

  /// Up to `max_messages`, waiting up to `wait` for the first. Unacknowledged deliveries come
  /// again after `visibility`, with delivery_count + 1.
  virtual void receive(std::size_t max_messages, domain::Duration wait, domain::Duration visibility,
                       Callback<std::vector<Delivery>> done) = 0;

  /// Acknowledges deliveries; unknown receipts are ignored.
  virtual void ack(std::vector<std::string> receipts, Callback<void> done) = 0;
};

using SubscriptionPtr = std::unique_ptr<Subscription>;

class Topic {
 public:
  virtual ~Topic() = default;

  /// Publishes to every existing subscription. `message.dedup_id` is the message id consumers
  /// see; publishing the same id again within the window is a no-op.
  virtual void publish(std::vector<OutgoingMessage> messages, Callback<void> done) = 0;

  /// Opens (creating if needed) the durable subscription `name`. Two calls with the same name
  /// share one subscription, as competing consumers.
  virtual SubscriptionPtr subscribe(const std::string& name) = 0;
};

using TopicPtr = std::unique_ptr<Topic>;

}  // namespace gavel::ports
