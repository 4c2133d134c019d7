#pragma once
// Live fan-out to WebSocket clients: who watches which auction, and which user is on which
// sockets. Events come from the topic (one subscriber thread per gateway); the hub copies the
// weak pointers of the interested clients under its lock and delivers after releasing it, so a
// slow client never holds the lock (the Beast chat-multi pattern). Thread-safe.

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "domain/ids.hpp"

namespace gavel::gateway {

/// One connected socket, as the hub sees it.
class WsClient {
 public:
  virtual ~WsClient() = default;
  /// Queues a message about `auction_id` (thread-safe; the client writes on its own strand and
  /// conflates when it falls behind). A null `message` asks for a fresh snapshot of the
  /// auction instead, if the client still watches it; the snapshot is read when it is sent,
  /// after the messages queued before it.
  virtual void deliver(std::shared_ptr<const std::string> message,
                       const domain::AuctionId& auction_id) = 0;
  /// Queues a fresh snapshot of `auction_id` (thread-safe).
  void resync(const domain::AuctionId& auction_id) { deliver(nullptr, auction_id); }
};

/// The hub keeps only the index from auctions to their watchers: each socket keeps the list of
/// what it watches (and enforces kMaxSubscriptions), so the hub holds no second copy of it per
/// socket (memory per idle subscriber, docs/benchmarks.md).
class WsHub {
 public:
  /// Limits per socket (enforced by the socket, which knows what it watches).
  static constexpr std::size_t kMaxSubscriptions = 100;

  /// `client` watches `auction_id` from now on. Precondition: it does not already (the
  /// client checks its own list).
  void subscribe(const std::shared_ptr<WsClient>& client, const domain::AuctionId& auction_id);
  void unsubscribe(const WsClient* client, const domain::AuctionId& auction_id);
  /// Registers a socket of an authenticated user, for their own notices.
  void add_user(const std::shared_ptr<WsClient>& client, const std::string& user_id);
  /// Forgets a closed socket everywhere: its user's sockets, and the auctions it watched.
  void remove(const WsClient* client, const std::string& user_id,
              std::span<const domain::AuctionId> watched);

  /// Fans out one event (its JSON as published on the topic) to the auction's watchers. The
  /// users' own notices come from the notifier, through push().
  void publish(const std::string& event_json);

  /// Sends `message` to every socket of `user_id` (conflated with the auction's other
  /// messages when a socket falls behind). Answers how many sockets it reached.
  std::size_t push(const std::string& user_id, const std::string& message,
                   const domain::AuctionId& auction_id);

  /// Every socket gets a fresh snapshot of each auction it watches: the event feed was
  /// interrupted, and events may have been lost on the way (docs/api/README.md: a client
  /// takes a snapshot as the state, and ignores events it already covers). Answers how many
  /// snapshots were queued.
  std::size_t resync();
  /// The same for the watchers of one auction (a gap in its events). Answers how many.
  std::size_t resync(const domain::AuctionId& auction_id);

  std::size_t connections() const { return connections_.load(); }
  std::uint64_t messages_sent() const { return messages_.load(); }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<domain::AuctionId, std::vector<std::weak_ptr<WsClient>>> watchers_;
  std::unordered_map<std::string, std::vector<std::weak_ptr<WsClient>>> users_;
  std::atomic<std::size_t> connections_{0};
  std::atomic<std::uint64_t> messages_{0};
};

}  // namespace gavel::gateway
