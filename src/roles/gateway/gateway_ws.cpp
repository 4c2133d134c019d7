// WebSocket sessions: subscribe, snapshots, events with seq, conflation, close on drain.
#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include "ports/wire/auction_json.hpp"
#include "roles/gateway/api_error.hpp"
#include "roles/gateway/ws_session.hpp"

namespace gavel::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;

namespace {

/// The token of a WebSocket upgrade: `access_token` in the query, or a bearer header.
std::string upgrade_token(const Request& request) {
  const auto auth = request[http::field::authorization];
  if (auth.starts_with("Bearer ")) return std::string(auth.substr(7));
  const std::string_view target = request.target();
  const auto query = target.find('?');
  if (query == std::string_view::npos) return {};
  std::string_view rest = target.substr(query + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    if (pair.starts_with("access_token=")) return std::string(pair.substr(13));
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return {};
}

/// A snapshot message: the cache's copy of the auction when there is one, else the store's,
/// else "not found".
std::shared_ptr<const std::string> snapshot_message(const domain::AuctionId& auction_id,
                                                    const ports::CachedAuction* cached,
                                                    const ports::StoredAuction* stored) {
  json::object snapshot{{"type", "snapshot"}, {"auctionId", auction_id.view()}};
  if (cached != nullptr) {
    snapshot["seq"] = cached->seq;
    snapshot["auction"] = json::parse(cached->body);
  } else if (stored != nullptr) {
    snapshot["seq"] = stored->state.seq;
    snapshot["auction"] = wire::public_view(domain::Auction{stored->terms, stored->state});
  } else {
    snapshot["seq"] = 0;
    snapshot["auction"] = nullptr;
    snapshot["error"] =
        json::object{{"code", "auction_not_found"}, {"message", "no such auction (yet)"}};
  }
  return std::make_shared<const std::string>(json::serialize(snapshot));
}

}  // namespace

void Gateway::start_websocket(beast::tcp_stream stream, Request request) {
  auto executor = stream.get_executor();
  asio::co_spawn(
      executor,
      [this, stream = std::move(stream),
       request = std::move(request)]() mutable -> asio::awaitable<void> {
        const std::string path{request.target().substr(0, request.target().find('?'))};
        std::string user_id;
        std::optional<ApiError> refusal;
        if (path != "/v1/ws") {
          refusal = ApiError{404, "not_found", "WebSocket upgrades are served at /v1/ws", ""};
        } else if (draining_.load()) {
          refusal = ApiError{503, "draining", "the gateway is shutting down", ""};
        } else if (const std::string token = upgrade_token(request); !token.empty()) {
          // Anonymous watchers are welcome; a token that is given must be valid.
          auto principal = deps_.auth.verify(token);
          if (!principal) {
            refusal = ApiError{principal.error().kind == ports::ErrorKind::retryable ? 503u : 401u,
                               "invalid_token", principal.error().message, ""};
          } else {
            user_id = principal.value().user_id.str();
          }
        }
        if (refusal) {
          Response response = error_response(request, *refusal);
          response.keep_alive(false);
          boost::system::error_code ec;
          co_await http::async_write(stream, response,
                                     asio::redirect_error(asio::use_awaitable, ec));
          co_return;
        }
        // The socket alone goes on: Beast's websocket stream keeps its own timer for the
        // handshake, pings and idle timeout, so the tcp_stream's three timers would be idle
        // weight (about 1 KB per socket).
        auto session = std::make_shared<WsSession>(*this, stream.release_socket(), user_id);
        {
          std::lock_guard lock{sessions_mutex_};
          std::erase_if(ws_sessions_, [](const auto& weak) { return weak.expired(); });
          ws_sessions_.push_back(session);
        }
        co_await session->run(std::move(request));
        // Done here: the session goes on in its read and write handlers, without this frame.
      },
      asio::detached);
}

WsSession::WsSession(Gateway& gateway, asio::ip::tcp::socket socket, std::string user_id)
    : gateway_(gateway), ws_(std::move(socket)), user_id_(std::move(user_id)) {}

asio::awaitable<void> WsSession::run(Request request) {
  const auto& limits = gateway_.options_.limits;
  websocket::stream_base::timeout timeouts =
      websocket::stream_base::timeout::suggested(beast::role_type::server);
  timeouts.idle_timeout = limits.idle_timeout;  // pings at half of it; a silent peer is dropped
  timeouts.keep_alive_pings = true;
  ws_.set_option(timeouts);
  ws_.read_message_max(limits.ws_max_message_bytes);
  // Messages go out whole: no fragmentation buffer per socket (memory per idle subscriber).
  ws_.auto_fragment(false);
  boost::system::error_code ec;
  co_await ws_.async_accept(request, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  gateway_.deps_.hub.add_user(shared_from_this(), user_id_);
  start_writer();  // anything queued before the accept completed
  read_next();
}

void WsSession::read_next() {
  // A completion handler rather than a coroutine: an idle subscriber then holds one pending
  // read (Beast's operation state, holding `self`) instead of a chain of coroutine frames, about
  // 2 KB per socket (docs/benchmarks.md). Small pieces: Beast prepares the buffer before it
  // waits, so the piece is what an idle socket holds; messages are still limited as a whole by
  // read_message_max.
  constexpr std::size_t kReadPiece = 64;
  ws_.async_read_some(read_buffer_, kReadPiece,
                      [self = shared_from_this()](const boost::system::error_code& ec,
                                                  std::size_t /*bytes*/) { self->on_read(ec); });
}

void WsSession::on_read(const boost::system::error_code& ec) {
  if (ec) {
    if (ec == websocket::error::message_too_big) {
      send_error("message_too_large",
                 "messages are limited to " +
                     std::to_string(gateway_.options_.limits.ws_max_message_bytes) + " bytes");
    }
    closed_ = true;
    gateway_.deps_.hub.remove(this, user_id_, subscribed_);
    return;
  }
  if (ws_.is_message_done()) {
    handle_text(beast::buffers_to_string(read_buffer_.data()));
    read_buffer_.consume(read_buffer_.size());
    read_buffer_.shrink_to_fit();  // a long message does not leave a long buffer behind
  }
  read_next();
}

bool WsSession::watches(const domain::AuctionId& auction_id) const {
  return std::find(subscribed_.begin(), subscribed_.end(), auction_id) != subscribed_.end();
}

void WsSession::handle_text(const std::string& text) {
  boost::system::error_code ec;
  json::value parsed = json::parse(text, ec);
  if (ec || !parsed.is_object()) {
    send_error("malformed_json",
               "send a JSON object such as {\"op\": \"subscribe\", \"auctions\": [\"...\"]}");
    return;
  }
  const json::object& message = parsed.get_object();
  const json::value* op = message.if_contains("op");
  if (op == nullptr || !op->is_string()) {
    send_error("invalid_request", "op is required");
    return;
  }
  const std::string_view name = op->get_string();
  if (name == "ping") {
    enqueue({std::make_shared<const std::string>(R"({"type":"pong"})"), {}});
    return;
  }
  const json::value* auctions = message.if_contains("auctions");
  if (name != "subscribe" && name != "unsubscribe" && name != "snapshot") {
    send_error("invalid_request", "op must be subscribe, unsubscribe, snapshot or ping");
    return;
  }
  if (auctions == nullptr || !auctions->is_array() ||
      auctions->get_array().size() > WsHub::kMaxSubscriptions) {
    send_error("invalid_request", "auctions must be an array of at most " +
                                      std::to_string(WsHub::kMaxSubscriptions) + " ids");
    return;
  }
  for (const json::value& id_value : auctions->get_array()) {
    if (!id_value.is_string() || !domain::is_valid_id(id_value.get_string())) {
      send_error("invalid_request", "auction ids are 1-64 printable characters");
      return;
    }
  }
  auto self = shared_from_this();
  for (const json::value& id_value : auctions->get_array()) {
    const domain::AuctionId id{std::string_view{id_value.get_string()}};
    if (name == "unsubscribe") {
      if (const auto it = std::find(subscribed_.begin(), subscribed_.end(), id);
          it != subscribed_.end()) {
        subscribed_.erase(it);
        gateway_.deps_.hub.unsubscribe(this, id);
      }
      continue;
    }
    if (name == "subscribe" && !watches(id)) {
      if (subscribed_.size() >= WsHub::kMaxSubscriptions) {
        send_error(
            "too_many_subscriptions",
            "a socket watches at most " + std::to_string(WsHub::kMaxSubscriptions) + " auctions");
        return;
      }
      gateway_.deps_.hub.subscribe(self, id);
      subscribed_.push_back(id);
    }
    enqueue({nullptr, id});  // the snapshot comes first, then the events
  }
}

void WsSession::send_error(const std::string& code, const std::string& message) {
  json::object error{{"type", "error"},
                     {"error", json::object{{"code", code}, {"message", message}}}};
  enqueue({std::make_shared<const std::string>(json::serialize(error)), {}});
}

void WsSession::deliver(std::shared_ptr<const std::string> message,
                        const domain::AuctionId& auction_id) {
  asio::post(ws_.get_executor(),
             [self = shared_from_this(), message = std::move(message), auction_id]() mutable {
               // A snapshot request (a resync) for an auction unsubscribed meanwhile is moot.
               if (message == nullptr && !self->watches(auction_id)) return;
               self->enqueue({std::move(message), auction_id});
             });
}

void WsSession::enqueue(Outgoing outgoing) {
  if (closed_) return;
  if (queue_.size() >= gateway_.options_.limits.ws_write_queue) {
    conflate();
    if (outgoing.message == nullptr || outgoing.snapshot_of.empty()) return;
    // An event of a watched auction is covered by the snapshot just queued.
    if (watches(outgoing.snapshot_of)) return;
  }
  queue_.push_back(std::move(outgoing));
  start_writer();
}

void WsSession::start_writer() {
  // The writer runs only while there is something to send, as a chain of completion handlers:
  // an idle subscriber holds nothing for writing, and one waiting for a snapshot's data holds a
  // callback, not coroutine frames of some 3 KB (they were most of the peak when thousands of
  // sockets subscribed at once: memory per connection, docs/benchmarks.md). Posted, so what
  // the caller queues next goes out behind it, and the writer never runs inside the caller.
  if (writing_ || closed_ || !ws_.is_open()) return;
  writing_ = true;
  asio::post(ws_.get_executor(), [self = shared_from_this()] { self->write_next(); });
}

void WsSession::conflate() {
  queue_.clear();
  for (const auto& id : subscribed_) queue_.push_back({nullptr, id});
}

void WsSession::write_next() {
  if (closed_) {
    writing_ = false;
    return;
  }
  if (close_requested_) {
    // The close frame is a write: sent here, so it never overlaps another write.
    closed_ = true;
    ws_.async_close(websocket::close_reason(websocket::close_code::going_away, "draining"),
                    [self = shared_from_this()](const boost::system::error_code& /*ec*/) {
                      self->writing_ = false;
                    });
    return;
  }
  if (queue_.empty()) {
    writing_ = false;
    return;
  }
  Outgoing next = std::move(queue_.front());
  queue_.pop_front();
  if (next.message != nullptr) {
    write(std::move(next.message));
  } else {
    send_snapshot(next.snapshot_of);
  }
}

void WsSession::write(std::shared_ptr<const std::string> text) {
  ws_.text(true);
  const asio::const_buffer buffer = asio::buffer(*text);
  ws_.async_write(buffer, [self = shared_from_this(), text = std::move(text)](
                              const boost::system::error_code& ec, std::size_t /*bytes*/) {
    if (ec) {
      self->closed_ = true;
      self->writing_ = false;
      return;
    }
    self->write_next();
  });
}

void WsSession::send_snapshot(const domain::AuctionId& auction_id) {
  // The ports answer on their own threads: each answer is posted back to this socket's strand.
  gateway_.deps_.cache.get(
      {auction_id}, [self = shared_from_this(), executor = ws_.get_executor(), auction_id](
                        ports::Result<std::vector<std::optional<ports::CachedAuction>>> cached) {
        asio::post(executor, [self, auction_id, cached = std::move(cached)] {
          if (cached && !cached.value().empty() && cached.value()[0]) {
            self->write(snapshot_message(auction_id, &*cached.value()[0], nullptr));
          } else {
            // The cache is a copy: after a wipe (a Redis restarted without its data, when the
            // feed resyncs) it misses open auctions until the engines' rescan, so a miss asks
            // the store.
            self->send_stored_snapshot(auction_id);
          }
        });
      });
}

void WsSession::send_stored_snapshot(const domain::AuctionId& auction_id) {
  gateway_.deps_.store.get_auction(
      auction_id, [self = shared_from_this(), executor = ws_.get_executor(),
                   auction_id](ports::Result<std::optional<ports::StoredAuction>> found) {
        asio::post(executor, [self, auction_id, found = std::move(found)] {
          const ports::StoredAuction* stored = found && found.value() ? &*found.value() : nullptr;
          self->write(snapshot_message(auction_id, nullptr, stored));
        });
      });
}

void WsSession::close_going_away() {
  asio::post(ws_.get_executor(), [self = shared_from_this()] {
    self->close_requested_ = true;
    self->start_writer();
  });
}

}  // namespace gavel::gateway
