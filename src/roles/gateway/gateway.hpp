#pragma once
// The gateway role: the public HTTP/1.1 + WebSocket API on one port (Boost.Beast, C++20
// coroutines), bid intake, live updates, health and metrics. Stateless apart from its sockets:
// everything it knows comes through the ports. Each connection runs on its own strand; the
// io_context may run on several threads.

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/fwd.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "ports/audit_log.hpp"
#include "ports/auth.hpp"
#include "ports/cache.hpp"
#include "ports/clock.hpp"
#include "ports/notice_store.hpp"
#include "ports/queue.hpp"
#include "ports/store.hpp"
#include "roles/gateway/ids.hpp"
#include "roles/gateway/rate_limiter.hpp"
#include "roles/gateway/waiters.hpp"
#include "roles/gateway/ws_hub.hpp"
#include "roles/metrics_text.hpp"

namespace gavel::gateway {

/// Every limit the gateway enforces, explicitly.
struct GatewayLimits {
  std::size_t max_body_bytes = std::size_t{16} * 1024;
  std::size_t max_header_bytes = std::size_t{8} * 1024;
  std::size_t max_connections = 10'000;
  std::chrono::seconds idle_timeout{60};
  std::size_t ws_max_message_bytes = std::size_t{4} * 1024;
  std::size_t ws_write_queue = 256;                   ///< then the socket is conflated
  std::chrono::milliseconds max_wait{10'000};         ///< cap of ?wait=
  std::chrono::milliseconds command_timeout{10'000};  ///< how long a command may take
};

struct GatewayOptions {
  GatewayLimits limits;
  /// POST /v1/auth/dev-token exists (dev auth mode only).
  std::function<std::string(const domain::UserId&, ports::Roles)> mint_dev_token;
  /// The queue keeps nothing across a crash (the embedded memory queue): answer 202 only once
  /// the engine has committed the bid, so nothing answered 202 can be lost.
  bool ack_after_commit = true;
  double rate_per_second = 20;
  double rate_burst = 40;
  std::string web_root;  ///< static files served at "/" (empty: none)
  std::string node_id = "gateway";
  /// False in a process that runs no gateway role: only /healthz, /readyz and /metrics answer.
  bool serve_api = true;
  /// The notice channels users may choose (besides the inbox, always on): a preference for
  /// one the server does not run is refused rather than silently never delivered.
  std::vector<std::string> notice_channels{"webhook", "email", "sms"};
};

/// One dependency /readyz asks about: `probe` answers ok or the error that makes it unready.
struct ReadinessCheck {
  std::string name;
  std::function<void(ports::Callback<void>)> probe;
};

struct GatewayDeps {
  ports::Authenticator& auth;
  ports::Queue& queue;
  ports::Cache& cache;
  ports::Store& store;
  ports::Clock& clock;
  DecisionWaiters& waiters;
  WsHub& hub;
  std::function<bool()> ready;                 ///< readiness of the dependencies
  std::function<std::string()> extra_metrics;  ///< more Prometheus text (engine, queue, ...)
  ports::NoticeStore* notices = nullptr;       ///< the inbox and preferences; null: no routes
  ports::AuditLog* audit = nullptr;            ///< the audit trail; null: no admin audit route
  std::vector<ReadinessCheck> readiness;       ///< each dependency, as /readyz reports it
};

/// Counters for /metrics.
struct GatewayMetrics {
  std::atomic<std::uint64_t> http_requests{0};
  std::atomic<std::uint64_t> http_errors{0};
  std::atomic<std::uint64_t> bids_received{0};
  std::atomic<std::uint64_t> bids_fast_rejected{0};
  std::atomic<std::uint64_t> bids_rate_limited{0};
  std::atomic<std::uint64_t> connections{0};
  std::atomic<std::uint64_t> connections_refused{0};
  std::atomic<std::uint64_t> http_server_errors{0};  ///< answers with status >= 500
  std::atomic<std::uint64_t> cache_hits{0};          ///< bid intake found the auction cached
  std::atomic<std::uint64_t> cache_misses{0};
  /// From stamping a command to its decision reaching this gateway (commands that waited).
  roles::SecondsHistogram decision_seconds;
};

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

class WsSession;
struct ApiError;

class Gateway {
 public:
  Gateway(boost::asio::io_context& io, GatewayDeps deps, GatewayOptions options);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  /// Binds `host:port` (port 0: any free port) and starts accepting. Throws std::runtime_error
  /// with the reason when the address cannot be bound.
  void listen(const std::string& host, unsigned short port);
  unsigned short port() const { return port_; }

  /// Begins a graceful stop: no new connections, new commands answered 503, keep-alive
  /// connections closed after their current response, WebSockets closed with a close frame.
  void drain();

  /// Fans an event (its JSON from the topic) out to WebSocket watchers. Thread-safe.
  void on_event(const std::string& event_json) { deps_.hub.publish(event_json); }

  const GatewayMetrics& metrics() const { return metrics_; }
  /// This gateway's name among others (its subscriptions are named after it).
  const std::string& node_id() const { return options_.node_id; }

 private:
  friend class WsSession;
  friend class Api;
  // gateway_server.cpp: connections.
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> http_session(boost::asio::ip::tcp::socket socket);
  void start_websocket(boost::beast::tcp_stream stream, Request request);

  // gateway_api.cpp: the API.
  boost::asio::awaitable<Response> handle(Request& request,
                                          const boost::asio::any_io_executor& executor);
  Response json_response(const Request& request, unsigned status,
                         const boost::json::value& body) const;
  Response error_response(const Request& request, const ApiError& error) const;
  std::string metrics_text() const;

  boost::asio::io_context& io_;
  GatewayDeps deps_;
  GatewayOptions options_;
  RateLimiter rate_limiter_;
  IdGenerator ids_;
  GatewayMetrics metrics_;
  std::atomic<bool> draining_{false};
  std::mutex intake_mutex_;  ///< commands are stamped and enqueued in one order
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  unsigned short port_ = 0;
  /// An HTTP connection as drain() sees it: closed at once when idle between requests.
  /// Touched only on the connection's strand.
  struct HttpConnection {
    boost::asio::any_io_executor executor;
    boost::beast::tcp_stream* stream = nullptr;  ///< null once the session has ended
    bool idle = false;
  };
  std::mutex sessions_mutex_;
  std::vector<std::weak_ptr<WsSession>> ws_sessions_;
  std::vector<std::weak_ptr<HttpConnection>> http_connections_;
};

}  // namespace gavel::gateway
