#pragma once
// The API's handlers (internal to the gateway): one Api object per request, on the
// connection's strand. gateway_api.cpp routes and holds the auction and bid handlers;
// gateway_account.cpp the caller's notices and preferences; gateway_admin.cpp the operators'.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "ports/wire/command_json.hpp"
#include "roles/gateway/api_error.hpp"
#include "roles/gateway/async_call.hpp"
#include "roles/gateway/gateway.hpp"

namespace gavel::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using domain::Reason;

/// A request target split into path segments and query parameters.
struct Target {
  std::vector<std::string> segments;
  std::vector<std::pair<std::string, std::string>> query;

  std::optional<std::string> param(std::string_view name) const {
    for (const auto& [key, value] : query) {
      if (key == name) return value;
    }
    return std::nullopt;
  }
};

/// Splits a request target into percent-decoded path segments and query parameters.
Target parse_target(std::string_view target);

/// A whole decimal integer, or nullopt.
std::optional<std::int64_t> parse_integer(const std::string& text);

/// The handlers. One instance per request; runs on the connection's strand.
class Api {
 public:
  Api(Gateway& gateway, Request& request, std::string request_id,
      const asio::any_io_executor& executor)
      : g_(gateway),
        request_(request),
        request_id_(std::move(request_id)),
        target_(parse_target(request.target())),
        executor_(executor) {}

  asio::awaitable<Response> dispatch();

 private:
  // --- plumbing ---------------------------------------------------------------------------
  Response ok(unsigned status, const json::value& body) const {
    return g_.json_response(request_, status, body);
  }
  Response fail(unsigned status, std::string code, std::string message,
                std::string field = "") const {
    return g_.error_response(
        request_, ApiError{status, std::move(code), std::move(message), std::move(field)});
  }
  Response fail(Reason reason, std::string message) const {
    return fail(status_for(reason), std::string(domain::to_string(reason)), std::move(message));
  }
  bool route_is(http::verb verb, std::initializer_list<std::string_view> pattern) const {
    if (request_.method() != verb || target_.segments.size() != pattern.size()) return false;
    std::size_t i = 0;
    for (const auto part : pattern) {
      if (part != "*" && target_.segments[i] != part) return false;
      ++i;
    }
    return true;
  }
  const std::string& segment(std::size_t i) const { return target_.segments[i]; }

  /// The caller, or an error response (401 no or bad token, 503 keys not loaded yet).
  std::variant<ports::Principal, Response> authenticate() const {
    const auto header = request_[http::field::authorization];
    if (header.empty())
      return fail(401, "unauthenticated", "an Authorization: Bearer <token> header is required");
    if (!header.starts_with("Bearer "))
      return fail(401, "unauthenticated", "the Authorization header must be 'Bearer <token>'");
    auto principal = g_.deps_.auth.verify(header.substr(7));
    if (!principal) {
      if (principal.error().kind == ports::ErrorKind::retryable) {
        return fail(503, "auth_unavailable", principal.error().message);
      }
      return fail(401, "invalid_token", principal.error().message);
    }
    return principal.value();
  }

  /// The body as a JSON object, or an error response.
  std::variant<json::object, Response> body_object(bool optional = false) const {
    if (request_.body().empty() && optional) return json::object{};
    boost::system::error_code ec;
    json::value value = json::parse(request_.body(), ec);
    if (ec) return fail(400, "malformed_json", "the body is not valid JSON: " + ec.message());
    if (!value.is_object()) return fail(400, "malformed_json", "the body must be a JSON object");
    return std::move(value.get_object());
  }

  /// The `limit` query parameter (1..100, default 20), or nullopt with `error` set.
  std::optional<std::size_t> page_limit(Response& error) const;

  /// Enqueues a command and waits for its decision (bounded). `ack_only`: answer as soon as
  /// the command is safely queued (networked queues), without waiting for the decision.
  struct Enqueued {
    std::optional<roles::DecidedCommand> decided;
    std::optional<Response> error;
    /// The queue had the dedup id already: nothing was enqueued, and nothing was waited for
    /// (the command's own id will never be decided). The receipt names the first message.
    std::optional<ports::SendReceipt> duplicate;
  };
  asio::awaitable<Enqueued> enqueue_and_wait(wire::CommandEnvelope& envelope,
                                             const std::string& dedup_id,
                                             std::chrono::milliseconds wait);

  // --- handlers ---------------------------------------------------------------------------
  asio::awaitable<Response> dev_token();
  asio::awaitable<Response> create_auction();
  asio::awaitable<Response> get_auction();
  asio::awaitable<Response> list_auctions();
  asio::awaitable<Response> place_bid();
  asio::awaitable<Response> get_bid();
  asio::awaitable<Response> list_bids();
  asio::awaitable<Response> simple_command(std::string_view op);
  Response static_file() const;
  /// GET /readyz: every dependency's probe, and whether the gateway is draining.
  asio::awaitable<Response> readiness();
  // The caller's own notices and preferences (gateway_account.cpp).
  /// The caller, or the 401 (no token) / 404 (no notice store on this gateway) response.
  std::variant<domain::UserId, Response> notices_owner() const;
  asio::awaitable<Response> list_notifications();
  asio::awaitable<Response> mark_notifications_read();
  asio::awaitable<Response> get_preferences();
  asio::awaitable<Response> put_preferences();
  // Operators (gateway_admin.cpp): the audit trail and the dead-letter queue.
  asio::awaitable<Response> audit_entries();
  asio::awaitable<Response> dead_letters();
  asio::awaitable<Response> dead_letter();
  asio::awaitable<Response> redrive_dead_letters();
  asio::awaitable<Response> purge_dead_letters();
  /// The caller if an admin, or the 401/403 response.
  std::variant<ports::Principal, Response> authenticate_admin() const;

  Response bid_answer(const std::string& bid_id, const roles::DecidedCommand& decided) const;
  /// 409 idempotency_key_in_use with Retry-After: the key's first bid is queued but cannot be
  /// named here (the IETF Idempotency-Key draft's answer for a request still in progress).
  Response key_in_use() const;
  /// The bid stored under the caller's Idempotency-Key, answered as its retry gets it (202 with
  /// its id, or with ?wait= its decision); nullopt when the store has none or does not answer.
  asio::awaitable<std::optional<Response>> stored_bid_answer(const ports::Principal& principal,
                                                             const std::string& idempotency_key,
                                                             bool wait);
  /// A keyed bid the queue called a duplicate: the answer of the bid queued first, waiting
  /// for its decision up to `limit` (a retried request gets the first answer, never a bid of
  /// its own).
  asio::awaitable<Response> duplicate_bid_answer(
      const ports::Principal& principal, const std::string& idempotency_key,
      const std::string& scoped_key, const std::string& bid_id, const ports::SendReceipt& receipt,
      std::optional<std::chrono::milliseconds> wait, std::chrono::milliseconds limit);
  json::object stored_bid_json(const ports::StoredBid& bid, bool owner) const;

  template <typename T, typename Start>
  asio::awaitable<ports::Result<T>> async_call_here(Start start) {
    return async_call<T>(executor_, std::move(start));  // executor_ outlives the call
  }

  Gateway& g_;
  Request& request_;
  std::string request_id_;
  Target target_;
  asio::any_io_executor executor_;  ///< the connection's strand
};

}  // namespace gavel::gateway
