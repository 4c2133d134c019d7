#pragma once
// What a gateway reads from the topics, each on a thread of its own:
//  - EventPump: auction events → the WebSocket hub (each event id fanned out once, though the
//    topic delivers at least once);
//  - push_notices: the notifier's in-app notices → the users' sockets on this gateway;
//  - DecisionFeed: the audit feed's command records → the requests waiting with ?wait= (for a
//    gateway whose engine runs in another process; in one process the engine host tells the
//    waiters directly).

#include <atomic>
#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "ports/cache.hpp"
#include "ports/topic.hpp"
#include "roles/gateway/waiters.hpp"
#include "roles/gateway/ws_hub.hpp"

namespace gavel::gateway {

/// Receives batches from a subscription, hands each to `handle`, then acknowledges them.
/// run_once() drives it step by step (tests); start()/stop() run it on its own thread.
class TopicPump {
 public:
  using Handler = std::function<void(const std::vector<ports::Delivery>&)>;

  TopicPump(ports::SubscriptionPtr subscription, Handler handle);
  ~TopicPump();
  TopicPump(const TopicPump&) = delete;
  TopicPump& operator=(const TopicPump&) = delete;

  void start();
  void stop();
  /// One receive (waiting up to `wait`), handle, ack. Answers how many deliveries it handled.
  std::size_t run_once(domain::Duration wait);

 private:
  ports::SubscriptionPtr subscription_;
  Handler handle_;
  std::atomic<bool> running_{false};
  std::thread thread_;
};

/// Remembers the last `capacity` ids seen; says whether an id is new.
class RecentIds {
 public:
  explicit RecentIds(std::size_t capacity) : capacity_(capacity) {}
  bool first_time(const std::string& id);

 private:
  std::size_t capacity_;
  std::unordered_set<std::string> seen_;
  std::deque<std::string> order_;
};

/// Auction events from the topic → hub.publish, each event id once (the last 100k remembered:
/// redeliveries come within a visibility timeout, long before that many newer events).
TopicPump::Handler fan_out_events(WsHub& hub);

/// The notifier's notices from the notice topic → the user's sockets on this gateway, each
/// notice id once.
TopicPump::Handler push_notices(WsHub& hub);

/// The audit feed's command records → waiters.complete, with the auction's view from the cache.
TopicPump::Handler complete_waiters(DecisionWaiters& waiters, ports::Cache& cache);

}  // namespace gavel::gateway
