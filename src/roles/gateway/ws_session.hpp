#pragma once
// One WebSocket client (internal to the gateway). Lives on its connection's strand: one read
// loop, one write loop, a bounded write queue with one write in flight. When the queue is full
// the client is conflated: pending events are dropped and replaced by a fresh snapshot of each
// auction it watches, so a slow client costs bounded memory and still converges.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <deque>
#include <memory>
#include <string>
#include <unordered_set>

#include "roles/gateway/gateway.hpp"
#include "roles/gateway/ws_hub.hpp"

namespace gavel::gateway {

class WsSession final : public WsClient, public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(Gateway& gateway, boost::beast::tcp_stream stream, std::string user_id);

  /// Completes the upgrade and runs the session until it closes.
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

  boost::asio::awaitable<void> read_loop();
  boost::asio::awaitable<void> write_loop();
  void enqueue(Outgoing outgoing);
  void start_writer();
  void conflate();
  void send_error(const std::string& code, const std::string& message);
  void handle_text(const std::string& text);

  Gateway& gateway_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  std::string user_id_;
  std::deque<Outgoing> queue_;
  std::unordered_set<domain::AuctionId> subscribed_;
  bool closed_ = false;
  bool close_requested_ = false;
  bool writing_ = false;  ///< a write_loop is running
};

}  // namespace gavel::gateway
