// Connections: the accept loop, HTTP/1.1 keep-alive sessions, and WebSocket sessions.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <deque>
#include <unordered_set>

#include "ports/auth.hpp"
#include "roles/gateway/api_error.hpp"
#include "roles/gateway/async_call.hpp"
#include "roles/gateway/gateway.hpp"
#include "roles/gateway/ws_session.hpp"

namespace gavel::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using asio::ip::tcp;

Gateway::Gateway(asio::io_context& io, GatewayDeps deps, GatewayOptions options)
    : io_(io),
      deps_(std::move(deps)),
      options_(std::move(options)),
      rate_limiter_(options_.rate_per_second, options_.rate_burst) {}

Gateway::~Gateway() = default;

void Gateway::listen(const std::string& host, unsigned short port) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) throw std::runtime_error("invalid listen address '" + host + "'");
  auto acceptor = std::make_unique<tcp::acceptor>(asio::make_strand(io_));
  const tcp::endpoint endpoint{address, port};
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) + ": " +
                             ec.message());
  }
  port_ = acceptor->local_endpoint().port();
  acceptor_ = std::move(acceptor);
  asio::co_spawn(acceptor_->get_executor(), accept_loop(), asio::detached);
}

namespace {
constexpr std::chrono::milliseconds kAcceptRetryPause{50};
}  // namespace

asio::awaitable<void> Gateway::accept_loop() {
  while (!draining_.load()) {
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptor_->async_accept(
        asio::make_strand(io_), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || draining_.load()) co_return;
      // E.g. out of open files: keep serving the connections we have. The refused connection
      // stays in the backlog, so trying again at once would spin on it: pause a little first.
      asio::steady_timer pause(acceptor_->get_executor(), kAcceptRetryPause);
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    // WebSockets count too: an upgraded socket leaves the HTTP count for the hub's.
    if (metrics_.connections.load() + deps_.hub.connections() >= options_.limits.max_connections) {
      ++metrics_.connections_refused;
      socket.close(ec);  // explicit limit: refuse at once rather than degrade everyone
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto executor = socket.get_executor();
    asio::co_spawn(executor, http_session(std::move(socket)), asio::detached);
  }
}

void Gateway::drain() {
  draining_ = true;
  if (acceptor_) {
    asio::post(acceptor_->get_executor(), [this] {
      boost::system::error_code ec;
      acceptor_->close(ec);
    });
  }
  std::vector<std::shared_ptr<WsSession>> sessions;
  std::vector<std::shared_ptr<HttpConnection>> connections;
  {
    std::lock_guard lock{sessions_mutex_};
    for (auto& weak : ws_sessions_) {
      if (auto session = weak.lock()) sessions.push_back(std::move(session));
    }
    ws_sessions_.clear();
    for (auto& weak : http_connections_) {
      if (auto connection = weak.lock()) connections.push_back(std::move(connection));
    }
    http_connections_.clear();
  }
  for (auto& session : sessions) session->close_going_away();
  // Idle keep-alive connections are closed now; busy ones after their current response.
  for (auto& connection : connections) {
    asio::post(connection->executor, [connection] {
      if (connection->idle && connection->stream != nullptr) {
        boost::system::error_code ignored;
        connection->stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
        connection->stream->socket().close(ignored);
      }
    });
  }
}

asio::awaitable<void> Gateway::http_session(tcp::socket socket) {
  ++metrics_.connections;
  struct Count {
    std::atomic<std::uint64_t>& n;
    ~Count() { --n; }
  } count{metrics_.connections};

  beast::tcp_stream stream{std::move(socket)};
  const asio::any_io_executor executor = stream.get_executor();
  auto connection = std::make_shared<HttpConnection>();
  connection->executor = executor;
  connection->stream = &stream;
  {
    std::lock_guard lock{sessions_mutex_};
    std::erase_if(http_connections_, [](const auto& weak) { return weak.expired(); });
    http_connections_.push_back(connection);
  }
  struct Forget {
    HttpConnection& connection;
    ~Forget() { connection.stream = nullptr; }
  } forget{*connection};
  beast::flat_buffer buffer;
  for (;;) {
    if (draining_.load() && buffer.size() == 0) break;
    http::request_parser<http::string_body> parser;
    parser.body_limit(options_.limits.max_body_bytes);
    parser.header_limit(static_cast<std::uint32_t>(options_.limits.max_header_bytes));
    stream.expires_after(options_.limits.idle_timeout);
    boost::system::error_code ec;
    connection->idle = true;
    co_await http::async_read(stream, buffer, parser,
                              asio::redirect_error(asio::use_awaitable, ec));
    connection->idle = false;
    if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor ||
        (draining_.load() && ec)) {
      break;  // closed by drain() while idle
    }
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::connection_reset || ec == asio::error::eof) {
      break;
    }
    if (ec == http::error::body_limit || ec == http::error::header_limit) {
      // Answer, then close: the rest of the oversized message is never read.
      Request stub;
      stub.version(11);
      const bool body = ec == http::error::body_limit;
      Response response = error_response(
          stub, ApiError{body ? 413u : 431u, body ? "body_too_large" : "header_too_large",
                         body ? "the body is larger than " +
                                    std::to_string(options_.limits.max_body_bytes) + " bytes"
                              : "the headers are larger than " +
                                    std::to_string(options_.limits.max_header_bytes) + " bytes",
                         ""});
      response.keep_alive(false);
      stream.expires_after(std::chrono::seconds(5));
      co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
      break;
    }
    if (ec) {
      Request stub;
      stub.version(11);
      Response response = error_response(
          stub, ApiError{400, "bad_request", "malformed HTTP request: " + ec.message(), ""});
      response.keep_alive(false);
      stream.expires_after(std::chrono::seconds(5));
      co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
      break;
    }
    Request request = parser.release();
    if (websocket::is_upgrade(request) && options_.serve_api) {
      start_websocket(std::move(stream), std::move(request));
      co_return;
    }
    Response response = co_await handle(request, executor);
    if (draining_.load()) response.keep_alive(false);
    stream.expires_after(options_.limits.idle_timeout);
    co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !response.keep_alive()) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace gavel::gateway
