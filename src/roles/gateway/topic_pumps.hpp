#pragma once
// What a gateway reads from the topics, each on a thread of its own:
//  - EventPump: auction events → the WebSocket hub (each event id fanned out once, though the
//    topic delivers at least once);
//  - push_notices: the notifier's in-app notices → the users' sockets on this gateway;
//  - DecisionFeed: the audit feed's command records → the requests waiting with ?wait= (for a
//    gateway whose engine runs in another process; in one process the engine host tells the
//    waiters directly).

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "ports/cache.hpp"
#include "ports/topic.hpp"
#include "roles/gateway/waiters.hpp"
#include "roles/gateway/ws_hub.hpp"

namespace gavel::gateway {

/// Receives batches from a subscription, hands each to `handle`, then acknowledges them.
/// run_once() drives it step by step (tests); start()/stop() run it on its own thread.
///
/// A failed receive means the feed was interrupted (its server away or restarting), and what
/// was published meanwhile may never come: a server restarted without its data, or a stream
/// trimmed past the subscription, loses it silently. So once a receive works again,
/// `recovered` is called (before the first batch after the failure) for the consumer to catch
/// up some other way: the event pump resends snapshots (WsHub::resync).
class TopicPump {
 public:
  using Handler = std::function<void(const std::vector<ports::Delivery>&)>;
  using Recovered = std::function<void()>;

  TopicPump(ports::SubscriptionPtr subscription, Handler handle, Recovered recovered = {});
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
  Recovered recovered_;
  bool interrupted_ = false;  ///< a receive failed since the last one that worked
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

/// The last event number seen per auction, to notice events that never came. Not
/// thread-safe: one pump's handler owns it.
class EventNumbers {
 public:
  explicit EventNumbers(std::size_t capacity) : capacity_(capacity) {}
  /// Records event `event_id` ("<auction>:<number>"); true when numbers between the last one
  /// seen of its auction and this one are missing. Malformed ids are no gap.
  bool gap_before(const std::string& event_id);

 private:
  std::size_t capacity_;
  std::unordered_map<std::string, std::uint64_t> last_;
};

/// Auction events from the topic → hub.publish, each event id once (the last 100k remembered:
/// redeliveries come within a visibility timeout, long before that many newer events).
/// A gap in an auction's event numbers (ids "<auction>:<number>", one number per event,
/// rejections included) means events were lost on the way: that auction's watchers get a
/// fresh snapshot (WsHub::resync). Numbers that come late or out of order are no gap.
TopicPump::Handler fan_out_events(WsHub& hub);

/// What the event pump does once its feed works again after a failure: every socket gets a
/// snapshot of each auction it watches.
TopicPump::Recovered resync_sockets(WsHub& hub);

/// The notifier's notices from the notice topic → the user's sockets on this gateway, each
/// notice id once.
TopicPump::Handler push_notices(WsHub& hub);

/// The audit feed's command records → waiters.complete, with the auction's view from the cache.
TopicPump::Handler complete_waiters(DecisionWaiters& waiters, ports::Cache& cache);

}  // namespace gavel::gateway
