#pragma once
// One WebSocket client (internal to the gateway). Lives on its connection's strand: one read
// loop, one write loop, a bounded write queue with one write in flight. When the queue is full
// the client is conflated: pending events are dropped and replaced by a fresh snapshot of each
// auction it watches, so a slow client costs bounded memory and still converges.
//
// Memory per idle subscriber is a goal of its own (≤ 10 KB, docs/benchmarks.md), so an idle
// session holds only what it must: Beast's stream over a plain socket (its own timer does the
// pings and the idle timeout), one pending read with a small buffer, and no coroutine frame,
// write queue node or subscription set bigger than what it watches. Reads and writes are
// chains of completion handlers for the same reason.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "roles/gateway/gateway.hpp"
#include "roles/gateway/ws_hub.hpp"

namespace gavel::gateway {

class WsSession final : public WsClient, public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(Gateway& gateway, boost::asio::ip::tcp::socket socket, std::string user_id);

  /// Completes the upgrade and starts reading; returns once the session runs on its own
  /// (it then lives as long as a read or a write of it is pending).
  boost::asio::awaitable<void> run(Request request);

  void deliver(std::shared_ptr<const std::string> message,
               const domain::AuctionId& auction_id) override;

  /// Closes with a "going away" close frame (the gateway is draining). Thread-safe.
  void close_going_away();

 private:
  struct Outgoing {
    std::shared_ptr<const std::string> message;  ///< null: send a fresh snapshot instead
    domain::AuctionId snapshot_of;
  };

  void read_next();
  void on_read(const boost::system::error_code& ec);
  void enqueue(Outgoing outgoing);
  void start_writer();
  void write_next();
  void write(std::shared_ptr<const std::string> text);
  void send_snapshot(const domain::AuctionId& auction_id);
  void send_stored_snapshot(const domain::AuctionId& auction_id);
  void conflate();
  void send_error(const std::string& code, const std::string& message);
  void handle_text(const std::string& text);
  bool watches(const domain::AuctionId& auction_id) const;

  Gateway& gateway_;
  /// No permessage-deflate (never offered), so no compression state per socket.
  boost::beast::websocket::stream<boost::asio::ip::tcp::socket, false> ws_;
  std::string user_id_;
  boost::beast::flat_buffer read_buffer_;  ///< the message being read
  /// A list, not a deque: an empty std::deque still holds a 0.5 KB block, and most sockets'
  /// queues are empty most of the time.
  std::list<Outgoing> queue_;
  /// What this socket watches (at most WsHub::kMaxSubscriptions, usually a few: a vector is
  /// smaller than a hash set and as fast at that size). The hub keeps the reverse index.
  std::vector<domain::AuctionId> subscribed_;
  bool closed_ = false;
  bool close_requested_ = false;
  bool writing_ = false;  ///< the writer runs: a write, a snapshot's read or a close is pending
};

}  // namespace gavel::gateway
