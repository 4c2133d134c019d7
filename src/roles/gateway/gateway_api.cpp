// The public API (API.md): routing, authentication, bid intake, reads, health and metrics.
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ports/wire/auction_json.hpp"
#include "ports/wire/command_json.hpp"
#include "roles/gateway/api.hpp"
#include "roles/gateway/api_error.hpp"
#include "roles/gateway/async_call.hpp"
#include "roles/gateway/gateway.hpp"
#include "roles/log.hpp"
#include "roles/metrics_text.hpp"

namespace gavel::gateway {

namespace {

constexpr std::size_t kDefaultPage = 20;
constexpr std::size_t kMaxPage = 100;
constexpr std::size_t kMaxIdempotencyKey = 64;
constexpr auto kDevTokenTtl = std::chrono::hours(12);
// A retry that finds its key held by a request of this gateway whose send is still on its way.
constexpr auto kHolderSendWait = std::chrono::seconds(5);
constexpr auto kHolderPoll = std::chrono::milliseconds(5);

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      int value = 0;
      const auto [ptr, ec] = std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
      if (ec == std::errc{} && ptr == text.data() + i + 3) {
        out += static_cast<char>(value);
        i += 2;
        continue;
      }
    }
    out += text[i] == '+' ? ' ' : text[i];
  }
  return out;
}

bool is_money_field(const std::string& field) {
  return field == "amount" || field == "maxAmount" || field == "startingPrice" ||
         field == "reservePrice" || field == "buyNowPrice";
}

/// Sets when a command happened (receivedAt for bids and buy-now, `at` for the others).
void stamp(domain::Command& command, domain::Timestamp now) {
  std::visit(
      [&](auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, domain::PlaceBid>) {
          c.bid.received_at = now;
        } else if constexpr (std::is_same_v<T, domain::BuyNow>) {
          c.received_at = now;
        } else {
          c.at = now;
        }
      },
      command);
}

/// An IMF-fixdate, e.g. "Sat, 28 Nov 2026 08:00:00 GMT".
std::string http_date(domain::Timestamp now) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(
      std::chrono::time_point_cast<std::chrono::system_clock::duration>(now));
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char buffer[64];
  const std::size_t n = std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S GMT", &parts);
  return std::string(buffer, n);
}

json::value parse_json_value(const std::string& text) {
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  return ec ? json::value(nullptr) : value;
}

}  // namespace

Target parse_target(std::string_view target) {
  Target out;
  const auto question = target.find('?');
  std::string_view path = target.substr(0, question);
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const auto slash = path.find('/');
    out.segments.push_back(percent_decode(path.substr(0, slash)));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
  if (question != std::string_view::npos) {
    std::string_view query = target.substr(question + 1);
    while (!query.empty()) {
      const auto amp = query.find('&');
      const std::string_view pair = query.substr(0, amp);
      const auto equals = pair.find('=');
      out.query.emplace_back(
          percent_decode(pair.substr(0, equals)),
          equals == std::string_view::npos ? "" : percent_decode(pair.substr(equals + 1)));
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
  }
  return out;
}

std::optional<std::int64_t> parse_integer(const std::string& text) {
  std::int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

asio::awaitable<Response> Api::readiness() {
  bool ready = !g_.draining_.load() && (!g_.deps_.ready || g_.deps_.ready());
  json::object checks;
  for (const auto& check : g_.deps_.readiness) {
    auto answer = co_await async_call_here<void>([&](auto done) { check.probe(std::move(done)); });
    checks[check.name] = answer ? "ok" : answer.error().message;
    ready = ready && answer.ok();
  }
  json::object body{{"status", ready ? "ready" : "not_ready"}, {"checks", std::move(checks)}};
  if (g_.draining_.load()) body["draining"] = true;
  co_return ok(ready ? 200 : 503, body);
}

std::optional<std::size_t> Api::page_limit(Response& error) const {
  const auto text = target_.param("limit");
  if (!text) return kDefaultPage;
  const auto value = parse_integer(*text);
  if (!value || *value < 1 || *value > static_cast<std::int64_t>(kMaxPage)) {
    error = fail(400, "invalid_request", "limit must be an integer in 1..100", "limit");
    return std::nullopt;
  }
  return static_cast<std::size_t>(*value);
}

asio::awaitable<Response> Api::dispatch() {
  using http::verb;
  if (route_is(verb::get, {"healthz"})) co_return ok(200, json::object{{"status", "ok"}});
  if (route_is(verb::get, {"readyz"})) co_return co_await readiness();
  if (route_is(verb::get, {"metrics"})) {
    Response response{http::status::ok, request_.version()};
    response.set(http::field::content_type, "text/plain; version=0.0.4");
    response.body() = g_.metrics_text();
    response.keep_alive(request_.keep_alive());
    response.prepare_payload();
    co_return response;
  }
  if (!g_.options_.serve_api) {
    co_return fail(404, "not_found",
                   "this process runs no gateway role: only /healthz, /readyz and /metrics");
  }
  if (route_is(verb::post, {"v1", "auth", "dev-token"}) && g_.options_.mint_dev_token)
    co_return co_await dev_token();
  if (route_is(verb::post, {"v1", "auctions"})) co_return co_await create_auction();
  if (route_is(verb::get, {"v1", "auctions"})) co_return co_await list_auctions();
  if (route_is(verb::get, {"v1", "auctions", "*"})) co_return co_await get_auction();
  if (route_is(verb::post, {"v1", "auctions", "*", "bids"})) co_return co_await place_bid();
  if (route_is(verb::get, {"v1", "auctions", "*", "bids"})) co_return co_await list_bids();
  if (route_is(verb::get, {"v1", "bids", "*"})) co_return co_await get_bid();
  if (route_is(verb::post, {"v1", "auctions", "*", "buy-now"}))
    co_return co_await simple_command("buyNow");
  if (route_is(verb::post, {"v1", "auctions", "*", "cancel"}))
    co_return co_await simple_command("cancel");
  if (route_is(verb::post, {"v1", "auctions", "*", "bids", "*", "void"}))
    co_return co_await simple_command("void");
  if (route_is(verb::get, {"v1", "me", "notifications"})) co_return co_await list_notifications();
  if (route_is(verb::post, {"v1", "me", "notifications", "read"}))
    co_return co_await mark_notifications_read();
  if (route_is(verb::get, {"v1", "me", "preferences"})) co_return co_await get_preferences();
  if (route_is(verb::put, {"v1", "me", "preferences"})) co_return co_await put_preferences();
  if (route_is(verb::get, {"v1", "admin", "audit"})) co_return co_await audit_entries();
  if (route_is(verb::get, {"v1", "admin", "dlq"})) co_return co_await dead_letters();
  if (route_is(verb::delete_, {"v1", "admin", "dlq"})) co_return co_await purge_dead_letters();
  if (route_is(verb::post, {"v1", "admin", "dlq", "redrive"}))
    co_return co_await redrive_dead_letters();
  if (route_is(verb::get, {"v1", "admin", "dlq", "*"})) co_return co_await dead_letter();
  if (request_.method() == verb::get && (target_.segments.empty() || target_.segments[0] != "v1")) {
    co_return static_file();
  }
  co_return fail(404, "not_found",
                 "no such endpoint: " + std::string(request_.method_string()) + " " +
                     std::string(request_.target().substr(0, request_.target().find('?'))));
}

asio::awaitable<Response> Api::dev_token() {
  auto body = body_object();
  if (auto* error = std::get_if<Response>(&body)) co_return std::move(*error);
  const json::object& object = std::get<json::object>(body);
  wire::JsonFields fields{object};
  const auto sub = fields.required_id("sub");
  if (!fields.ok())
    co_return fail(400, "invalid_request", fields.error()->message, fields.error()->field);
  ports::Roles roles;
  if (const json::value* list = fields.raw("roles")) {
    if (!list->is_array())
      co_return fail(400, "invalid_request", "roles must be an array", "roles");
    for (const json::value& role : list->get_array()) {
      if (role == "bidder") {
        roles.add(ports::Role::bidder);
      } else if (role == "seller") {
        roles.add(ports::Role::seller);
      } else if (role == "admin") {
        roles.add(ports::Role::admin);
      } else {
        co_return fail(400, "invalid_request", "roles are bidder, seller and admin", "roles");
      }
    }
  } else {
    roles.add(ports::Role::bidder);
  }
  const std::string token = g_.options_.mint_dev_token(domain::UserId{*sub}, roles);
  co_return ok(200, json::object{{"token", token},
                                 {"expiresAt",
                                  domain::format_rfc3339(g_.deps_.clock.now() + kDevTokenTtl)}});
}

asio::awaitable<Api::Enqueued> Api::enqueue_and_wait(wire::CommandEnvelope& envelope,
                                                     const std::string& dedup_id,
                                                     std::chrono::milliseconds wait) {
  Enqueued out;
  envelope.gateway_id = g_.options_.node_id;
  auto waiter = g_.deps_.waiters.expect(envelope.command_id, executor_);
  g_.deps_.waiters.mark_queued(envelope.command_id);
  auto sent = co_await async_call_here<std::vector<ports::SendReceipt>>([&](auto done) {
    // The command is stamped and handed to the queue under one lock, so this gateway's
    // commands enter the queue in the order of their times: the queue's log is then a valid
    // `gavel replay` input, and ties by receivedAt agree with queue order.
    std::lock_guard lock{g_.intake_mutex_};
    stamp(envelope.command, g_.deps_.clock.now());
    std::vector<ports::OutgoingMessage> messages;
    messages.push_back({domain::target_of(envelope.command).str(), dedup_id,
                        domain::time_of(envelope.command),
                        json::serialize(wire::command_json(envelope))});
    g_.deps_.queue.send(std::move(messages), std::move(done));
  });
  if (!sent) {
    g_.deps_.waiters.forget(envelope.command_id, waiter);
    g_.deps_.waiters.abandon(envelope.command_id);
    out.error = fail(503, "queue_unavailable",
                     "the command could not be queued (" + sent.error().message + "); retry");
    co_return out;
  }
  if (!sent.value().empty() && sent.value().front().duplicate) {
    // Nothing was enqueued: this command id will never be decided, so waiting on it would only
    // time out. The caller answers for the message queued first.
    g_.deps_.waiters.forget(envelope.command_id, waiter);
    g_.deps_.waiters.abandon(envelope.command_id);
    out.duplicate = std::move(sent.value().front());
    co_return out;
  }
  // Retries of its Idempotency-Key on this gateway may now answer with this command's id.
  g_.deps_.waiters.mark_sent(envelope.command_id);
  if (wait.count() > 0 && !waiter->result) {
    waiter->timer.expires_after(wait);
    boost::system::error_code ec;
    co_await waiter->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (waiter->result) {
    g_.metrics_.decision_seconds.observe(
        std::chrono::duration<double>(g_.deps_.clock.now() - domain::time_of(envelope.command))
            .count());
  } else {
    g_.deps_.waiters.forget(envelope.command_id, waiter);
  }
  out.decided = waiter->result;
  co_return out;
}

Response Api::key_in_use() const {
  Response response = fail(409, "idempotency_key_in_use",
                           "a request with this Idempotency-Key was queued and is not decided "
                           "yet; retry later with the same key");
  response.set(http::field::retry_after, "1");
  return response;
}

Response Api::bid_answer(const std::string& bid_id, const roles::DecidedCommand& decided) const {
  const domain::Decision& decision = decided.decision;
  json::object body{{"bidId", bid_id}, {"status", decision.accepted ? "accepted" : "rejected"}};
  if (!decision.accepted) {
    body["reason"] = domain::to_string(decision.reason);
    if (decision.reason == Reason::bid_too_low)
      body["minNextBid"] = decision.min_next_bid.minor_units();
  }
  body["leading"] = decision.leading;
  body["price"] = decision.price.minor_units();
  if (!decided.auction_view.empty()) body["auction"] = parse_json_value(decided.auction_view);
  if (!decision.accepted) {
    body["error"] = json::object{
        {"code", domain::to_string(decision.reason)},
        {"message", "the bid was rejected: " + std::string(domain::to_string(decision.reason))}};
  }
  return ok(decision.accepted ? 200 : status_for(decision.reason), body);
}

asio::awaitable<Response> Api::place_bid() {
  auto who = authenticate();
  if (auto* error = std::get_if<Response>(&who)) co_return std::move(*error);
  const ports::Principal& principal = std::get<ports::Principal>(who);
  if (!principal.roles.has(ports::Role::bidder))
    co_return fail(403, "forbidden", "bidding needs the bidder role");
  if (g_.draining_.load()) co_return fail(503, "draining", "the gateway is shutting down; retry");
  const std::string& auction_text = segment(2);
  if (!domain::is_valid_id(auction_text))
    co_return fail(Reason::auction_not_found, "no such auction");
  const domain::AuctionId auction_id{auction_text};
  ++g_.metrics_.bids_received;

  // Shape first: integers only, in range, maxAmount ≥ amount.
  auto body = body_object();
  if (auto* error = std::get_if<Response>(&body)) co_return std::move(*error);
  wire::JsonFields fields{std::get<json::object>(body)};
  const auto amount = fields.required_amount("amount");
  const auto max_amount = fields.optional_amount("maxAmount");
  const auto currency = fields.optional_currency("currency");
  if (!fields.ok()) {
    const auto& error = *fields.error();
    co_return fail(400, is_money_field(error.field) ? "invalid_amount" : "invalid_request",
                   error.message, error.field);
  }
  if (max_amount && *max_amount < *amount) {
    co_return fail(400, "max_below_amount", "maxAmount must be at least amount", "maxAmount");
  }
  std::optional<std::chrono::milliseconds> wait;
  if (const auto wait_text = target_.param("wait")) {
    const auto value = parse_integer(*wait_text);
    if (!value || *value < 0)
      co_return fail(400, "invalid_request", "wait is a number of milliseconds", "wait");
    wait = std::min(std::chrono::milliseconds(*value), g_.options_.limits.max_wait);
  }
  const std::string idempotency_key{request_["Idempotency-Key"]};
  if (idempotency_key.size() > kMaxIdempotencyKey ||
      (!idempotency_key.empty() && !domain::is_valid_id(idempotency_key))) {
    co_return fail(400, "invalid_request", "Idempotency-Key must be 1-64 printable characters",
                   "Idempotency-Key");
  }

  // A retry with the same key gets the first answer.
  if (!idempotency_key.empty()) {
    if (auto stored = co_await stored_bid_answer(principal, idempotency_key, wait.has_value())) {
      co_return std::move(*stored);
    }
  }

  // Fast reject from the cache: unknown, over, wrong currency, the seller, or too low.
  auto cached = co_await async_call_here<std::vector<std::optional<ports::CachedAuction>>>(
      [&](auto done) { g_.deps_.cache.get({auction_id}, std::move(done)); });
  // A bid that can never be valid (the seller's own, the wrong currency) is bad input: refused
  // here, recorded nowhere. A bid the market has overtaken (too low, auction over) is refused
  // here only without ?wait=; with it the engine judges it, so the 409 names its bidId (API.md).
  const bool hit = cached && !cached.value().empty() && cached.value()[0];
  ++(hit ? g_.metrics_.cache_hits : g_.metrics_.cache_misses);
  if (hit) {
    const json::value view = parse_json_value(cached.value()[0]->body);
    if (view.is_object()) {
      const json::object& state = view.get_object();
      std::optional<Reason> reason;
      const auto text = [&](const char* name) -> std::string {
        const json::value* v = state.if_contains(name);
        return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string{};
      };
      const json::value* min_next = state.if_contains("minNextBid");
      if (text("status") == "closed" || text("status") == "cancelled") {
        reason = Reason::auction_closed;
      } else if (text("sellerId") == principal.user_id.view()) {
        reason = Reason::seller_cannot_bid;
      } else if (currency && text("currency") != currency->code()) {
        reason = Reason::currency_mismatch;
      } else if (text("leaderId") != principal.user_id.view() && min_next != nullptr &&
                 min_next->is_int64() && amount->minor_units() < min_next->get_int64()) {
        reason = Reason::bid_too_low;
      }
      const bool bad_input =
          reason == Reason::seller_cannot_bid || reason == Reason::currency_mismatch;
      if (reason && (bad_input || !wait)) {
        ++g_.metrics_.bids_fast_rejected;
        json::object answer{{"status", "rejected"}, {"reason", domain::to_string(*reason)}};
        if (*reason == Reason::bid_too_low) answer["minNextBid"] = min_next->get_int64();
        answer["error"] = json::object{
            {"code", domain::to_string(*reason)},
            {"message", "the bid was rejected: " + std::string(domain::to_string(*reason))}};
        co_return ok(status_for(*reason), answer);
      }
    }
  } else if (cached && (cached.value().empty() || !cached.value()[0])) {
    // Not in the cache: the store is the truth.
    auto stored = co_await async_call_here<std::optional<ports::StoredAuction>>(
        [&](auto done) { g_.deps_.store.get_auction(auction_id, std::move(done)); });
    if (stored && !stored.value()) co_return fail(Reason::auction_not_found, "no such auction");
  }

  const domain::Timestamp received_at = g_.deps_.clock.now();
  if (const auto retry = g_.rate_limiter_.take(principal.user_id.str(), received_at)) {
    ++g_.metrics_.bids_rate_limited;
    Response response = fail(Reason::rate_limited, "too many bids; slow down");
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(*retry).count() + 1;
    response.set(http::field::retry_after, std::to_string(seconds));
    co_return response;
  }

  const std::string bid_id = g_.ids_.next(received_at);
  std::string command_id = bid_id;
  const std::string scoped_key =
      idempotency_key.empty() ? "" : principal.user_id.str() + "\n" + idempotency_key;
  if (!scoped_key.empty()) {
    if (auto holder = g_.deps_.waiters.claim_key(scoped_key, bid_id)) {
      // The same key is in flight right now: wait for that bid instead of placing another.
      const auto limit = g_.options_.ack_after_commit ? g_.options_.limits.command_timeout
                                                      : wait.value_or(std::chrono::milliseconds(0));
      const auto deadline = std::chrono::steady_clock::now() + limit;
      std::optional<std::string> holding = holder;
      std::optional<roles::DecidedCommand> result;
      // The holder's bid can turn out to be a queue duplicate: the key then moves to the bid
      // queued first (or is released when that one is unknown here), and this request follows.
      const auto holder_now = [&]() -> std::optional<std::string> {
        auto now = g_.deps_.waiters.key_holder(scoped_key);
        return now ? std::optional<std::string>{now->bid_id} : std::nullopt;
      };
      const auto send_deadline = std::chrono::steady_clock::now() + kHolderSendWait;
      while (holding && !result) {
        // Until the queue took the holder's bid it may still call it a duplicate (a retry through
        // another gateway got there first) and the key moves: wait for its answer, briefly.
        for (auto now = g_.deps_.waiters.key_holder(scoped_key);
             now && now->bid_id == *holding && !now->sent &&
             std::chrono::steady_clock::now() < send_deadline;
             now = g_.deps_.waiters.key_holder(scoped_key)) {
          asio::steady_timer poll{executor_, kHolderPoll};
          boost::system::error_code ec;
          co_await poll.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
        auto waiter = g_.deps_.waiters.expect(*holding, executor_);
        if (holder_now() != holding) {
          g_.deps_.waiters.forget(*holding, waiter);
          holding = holder_now();
          continue;
        }
        if (limit.count() > 0 && !waiter->result && g_.deps_.waiters.queued(*holding) &&
            std::chrono::steady_clock::now() < deadline) {
          waiter->timer.expires_at(deadline);
          boost::system::error_code ec;
          co_await waiter->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
        result = waiter->result;
        if (result) break;
        g_.deps_.waiters.forget(*holding, waiter);
        const auto now_holding = holder_now();
        if (now_holding == holding) break;  // still undecided at the deadline
        holding = now_holding;
      }
      if (!holding) {
        // Released: the first attempt is not known here (see duplicate_bid_answer).
        if (auto stored =
                co_await stored_bid_answer(principal, idempotency_key, wait.has_value())) {
          co_return std::move(*stored);
        }
        co_return key_in_use();
      }
      if (result && wait) co_return bid_answer(*holding, *result);
      co_return ok(202, json::object{{"bidId", *holding}, {"status", "queued"}});
    }
  }

  wire::CommandEnvelope envelope;
  envelope.command =
      domain::PlaceBid{auction_id, domain::BidRequest{domain::BidId{bid_id}, principal.user_id,
                                                      *amount, max_amount, currency, received_at}};
  envelope.command_id = command_id;
  envelope.idempotency_key = idempotency_key;
  envelope.request_id = request_id_;
  // Embedded: the queue is memory, so 202 waits for the durable commit (docs/design/durability.md).
  const auto limit = g_.options_.ack_after_commit ? g_.options_.limits.command_timeout
                                                  : wait.value_or(std::chrono::milliseconds(0));
  const std::string dedup_id = scoped_key.empty() ? bid_id : scoped_key;
  auto enqueued = co_await enqueue_and_wait(envelope, dedup_id, limit);
  if (enqueued.error) {
    if (!scoped_key.empty()) g_.deps_.waiters.release_key(scoped_key);
    co_return std::move(*enqueued.error);
  }
  if (enqueued.duplicate) {
    co_return co_await duplicate_bid_answer(principal, idempotency_key, scoped_key, bid_id,
                                            *enqueued.duplicate, wait, limit);
  }
  if (!enqueued.decided) {
    if (g_.options_.ack_after_commit) {
      co_return fail(503, "decision_timeout",
                     "the bid is queued but not yet durable; retry with the same Idempotency-Key");
    }
    co_return ok(202, json::object{{"bidId", bid_id}, {"status", "queued"}});
  }
  if (!wait) co_return ok(202, json::object{{"bidId", bid_id}, {"status", "queued"}});
  co_return bid_answer(bid_id, *enqueued.decided);
}

asio::awaitable<std::optional<Response>> Api::stored_bid_answer(const ports::Principal& principal,
                                                                const std::string& idempotency_key,
                                                                bool wait) {
  auto stored = co_await async_call_here<std::optional<ports::StoredBid>>([&](auto done) {
    g_.deps_.store.find_bid_by_key(principal.user_id, idempotency_key, std::move(done));
  });
  if (!stored || !stored.value()) co_return std::nullopt;
  const ports::StoredBid& bid = *stored.value();
  if (!wait) co_return ok(202, json::object{{"bidId", bid.id.view()}, {"status", "queued"}});
  co_return bid_answer(bid.id.str(), roles::DecidedCommand{bid.id.str(), "bid", bid.decision, ""});
}

asio::awaitable<Response> Api::duplicate_bid_answer(
    const ports::Principal& principal, const std::string& idempotency_key,
    const std::string& scoped_key, const std::string& bid_id, const ports::SendReceipt& receipt,
    std::optional<std::chrono::milliseconds> wait, std::chrono::milliseconds limit) {
  // The first attempt's bid id, from its message while the queue holds it (only a bid of this
  // user can carry this dedup id: it is scoped by user).
  std::string original;
  if (receipt.first_body) {
    boost::system::error_code ec;
    const json::value parsed = json::parse(*receipt.first_body, ec);
    if (!ec && parsed.is_object()) {
      auto envelope = wire::parse_command(parsed.get_object(), domain::Timestamp{});
      if (auto* first = std::get_if<wire::CommandEnvelope>(&envelope)) {
        if (const auto* bid = std::get_if<domain::PlaceBid>(&first->command)) {
          if (bid->bid.bidder_id == principal.user_id) original = bid->bid.id.str();
        }
      }
    }
  }
  const auto stored_answer = [&] {
    return stored_bid_answer(principal, idempotency_key, wait.has_value());
  };

  if (original.empty()) {
    // The queue no longer holds the first message, so it was acknowledged: decided and durable.
    g_.deps_.waiters.release_key(scoped_key);
    if (auto stored = co_await stored_answer()) co_return std::move(*stored);
    // Not in the store either: the store is out of reach, or the first message left the queue
    // undecided (a purged dead letter) or on a backend that does not return bodies. Nothing
    // here names its bid, so the client retries (the dedup window ends after some minutes).
    co_return key_in_use();
  }

  // This request waits for the original, and so do other retries on this gateway: its
  // decision reaches the waiters from the engine host or the decision feed, which both
  // complete queued command ids only (so it is marked queued before the key moves to it).
  auto waiter = g_.deps_.waiters.expect(original, executor_);
  g_.deps_.waiters.mark_queued(original);
  g_.deps_.waiters.rebind_key(scoped_key, bid_id, original);
  // Decided before the waiter was registered: the store has it (decisions are durable first).
  if (auto stored = co_await stored_answer()) {
    g_.deps_.waiters.forget(original, waiter);
    g_.deps_.waiters.abandon(original);
    g_.deps_.waiters.release_key(scoped_key);
    co_return std::move(*stored);
  }
  if (limit.count() > 0 && !waiter->result) {
    waiter->timer.expires_after(limit);
    boost::system::error_code ec;
    co_await waiter->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (!waiter->result) {
    g_.deps_.waiters.forget(original, waiter);
    // Decided by an engine that tells other gateways only through the store.
    if (limit.count() > 0) {
      if (auto stored = co_await stored_answer()) co_return std::move(*stored);
    }
    if (g_.options_.ack_after_commit) {
      co_return fail(503, "decision_timeout",
                     "the bid is queued but not yet durable; retry with the same Idempotency-Key");
    }
    co_return ok(202, json::object{{"bidId", original}, {"status", "queued"}});
  }
  if (!wait) co_return ok(202, json::object{{"bidId", original}, {"status", "queued"}});
  co_return bid_answer(original, *waiter->result);
}

asio::awaitable<Response> Api::create_auction() {
  auto who = authenticate();
  if (auto* error = std::get_if<Response>(&who)) co_return std::move(*error);
  const ports::Principal& principal = std::get<ports::Principal>(who);
  if (!principal.roles.has(ports::Role::seller) && !principal.roles.has(ports::Role::admin)) {
    co_return fail(403, "forbidden", "creating auctions needs the seller role");
  }
  if (g_.draining_.load()) co_return fail(503, "draining", "the gateway is shutting down; retry");
  auto body = body_object();
  if (auto* error = std::get_if<Response>(&body)) co_return std::move(*error);
  const domain::Timestamp now = g_.deps_.clock.now();
  std::string id = g_.ids_.next(now);
  std::transform(id.begin(), id.end(), id.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  wire::TermsContext context;
  context.id = domain::AuctionId{id};
  context.seller_id = principal.user_id;
  context.now = now;
  auto terms = wire::parse_terms(std::get<json::object>(body), context);
  if (auto* error = std::get_if<wire::FieldError>(&terms)) {
    co_return fail(400, is_money_field(error->field) ? "invalid_amount" : "invalid_request",
                   error->message, error->field);
  }
  wire::CommandEnvelope envelope;
  envelope.command = domain::CreateAuction{std::move(std::get<domain::AuctionTerms>(terms)), now};
  envelope.command_id = id;
  envelope.request_id = request_id_;
  auto enqueued = co_await enqueue_and_wait(envelope, id, g_.options_.limits.command_timeout);
  if (enqueued.error) co_return std::move(*enqueued.error);
  if (!enqueued.decided)
    co_return fail(503, "decision_timeout",
                   "the auction was queued but not created in time; check GET /v1/auctions/" + id);
  const auto& decided = *enqueued.decided;
  if (!decided.decision.accepted)
    co_return fail(decided.decision.reason, "the auction was not created");
  Response response = ok(201, parse_json_value(decided.auction_view));
  response.set(http::field::location, "/v1/auctions/" + id);
  co_return response;
}

asio::awaitable<Response> Api::get_auction() {
  const std::string& text = segment(2);
  if (!domain::is_valid_id(text)) co_return fail(Reason::auction_not_found, "no such auction");
  const domain::AuctionId id{text};
  auto cached = co_await async_call_here<std::vector<std::optional<ports::CachedAuction>>>(
      [&](auto done) { g_.deps_.cache.get({id}, std::move(done)); });
  if (cached && !cached.value().empty() && cached.value()[0]) {
    Response response{http::status::ok, request_.version()};
    response.set(http::field::content_type, "application/json");
    response.body() = cached.value()[0]->body;
    response.keep_alive(request_.keep_alive());
    response.prepare_payload();
    co_return response;
  }
  auto stored = co_await async_call_here<std::optional<ports::StoredAuction>>(
      [&](auto done) { g_.deps_.store.get_auction(id, std::move(done)); });
  if (!stored) co_return fail(503, "store_unavailable", stored.error().message);
  if (!stored.value()) co_return fail(Reason::auction_not_found, "no such auction");
  const domain::Auction auction{stored.value()->terms, stored.value()->state};
  co_return ok(200, wire::public_view(auction));
}

asio::awaitable<Response> Api::list_auctions() {
  ports::AuctionListQuery query;
  Response error;
  const auto limit = page_limit(error);
  if (!limit) co_return error;
  query.limit = *limit;
  if (const auto status = target_.param("status")) {
    static constexpr std::pair<const char*, domain::AuctionStatus> kStatuses[] = {
        {"scheduled", domain::AuctionStatus::scheduled},
        {"open", domain::AuctionStatus::open},
        {"closed", domain::AuctionStatus::closed},
        {"cancelled", domain::AuctionStatus::cancelled}};
    for (const auto& [name, value] : kStatuses) {
      if (*status == name) query.status = value;
    }
    if (!query.status)
      co_return fail(400, "invalid_request", "status is scheduled, open, closed or cancelled",
                     "status");
  }
  if (const auto after = target_.param("after")) {
    if (!domain::is_valid_id(*after))
      co_return fail(400, "invalid_request", "after must be an auction id", "after");
    query.after = domain::AuctionId{*after};
  }
  auto page = co_await async_call_here<std::vector<ports::StoredAuction>>(
      [&](auto done) { g_.deps_.store.list_auctions(query, std::move(done)); });
  if (!page) co_return fail(503, "store_unavailable", page.error().message);
  json::array auctions;
  for (const auto& stored : page.value()) {
    auctions.push_back(wire::public_view(domain::Auction{stored.terms, stored.state}));
  }
  json::value next = nullptr;
  if (page.value().size() == query.limit) next = json::string(page.value().back().terms.id.view());
  co_return ok(200, json::object{{"auctions", std::move(auctions)}, {"next", next}});
}

json::object Api::stored_bid_json(const ports::StoredBid& bid, bool owner) const {
  json::object out{{"bidId", bid.id.view()},
                   {"auctionId", bid.auction_id.view()},
                   {"bidderId", bid.bidder_id.view()},
                   {"amount", bid.amount.minor_units()},
                   {"status", bid.decision.accepted ? "accepted" : "rejected"},
                   {"receivedAt", domain::format_rfc3339(bid.received_at)},
                   {"position", bid.position}};
  if (!bid.decision.accepted) out["reason"] = domain::to_string(bid.decision.reason);
  if (owner) {
    // The maximum is private to its bidder; others only see what the bid moved.
    out["maxAmount"] =
        bid.max_amount ? json::value(bid.max_amount->minor_units()) : json::value(nullptr);
    out["leading"] = bid.decision.leading;
  }
  out["price"] = bid.decision.price.minor_units();
  return out;
}

asio::awaitable<Response> Api::get_bid() {
  auto who = authenticate();
  if (auto* error = std::get_if<Response>(&who)) co_return std::move(*error);
  const ports::Principal& principal = std::get<ports::Principal>(who);
  const std::string& text = segment(2);
  if (!domain::is_valid_id(text)) co_return fail(Reason::bid_not_found, "no such bid");
  auto stored = co_await async_call_here<std::optional<ports::StoredBid>>(
      [&](auto done) { g_.deps_.store.get_bid(domain::BidId{text}, std::move(done)); });
  if (!stored) co_return fail(503, "store_unavailable", stored.error().message);
  if (stored.value()) {
    const auto& bid = *stored.value();
    const bool owner = bid.bidder_id == principal.user_id;
    if (!owner && !principal.roles.has(ports::Role::admin))
      co_return fail(Reason::bid_not_found, "no such bid");
    co_return ok(200, stored_bid_json(bid, true));
  }
  if (g_.deps_.waiters.queued(text))
    co_return ok(200, json::object{{"bidId", text}, {"status", "queued"}});
  co_return fail(Reason::bid_not_found, "no such bid");
}

asio::awaitable<Response> Api::list_bids() {
  const std::string& text = segment(2);
  if (!domain::is_valid_id(text)) co_return fail(Reason::auction_not_found, "no such auction");
  Response error;
  const auto limit = page_limit(error);
  if (!limit) co_return error;
  std::uint64_t after = 0;
  if (const auto after_text = target_.param("after")) {
    const auto value = parse_integer(*after_text);
    if (!value || *value < 0)
      co_return fail(400, "invalid_request", "after is a bid position", "after");
    after = static_cast<std::uint64_t>(*value);
  }
  const domain::AuctionId id{text};
  auto auction = co_await async_call_here<std::optional<ports::StoredAuction>>(
      [&](auto done) { g_.deps_.store.get_auction(id, std::move(done)); });
  if (!auction) co_return fail(503, "store_unavailable", auction.error().message);
  if (!auction.value()) co_return fail(Reason::auction_not_found, "no such auction");
  auto page = co_await async_call_here<std::vector<ports::StoredBid>>(
      [&](auto done) { g_.deps_.store.list_bids(id, after, *limit, std::move(done)); });
  if (!page) co_return fail(503, "store_unavailable", page.error().message);
  // Maxima are private; an admin (auditing, replaying the decided order) sees them.
  bool admin = false;
  if (!request_[http::field::authorization].empty()) {
    auto who = authenticate();
    if (auto* refusal = std::get_if<Response>(&who)) co_return std::move(*refusal);
    admin = std::get<ports::Principal>(who).roles.has(ports::Role::admin);
  }
  json::array bids;
  for (const auto& bid : page.value()) {
    json::object entry = stored_bid_json(bid, admin);
    if (admin) entry["bidderId"] = bid.bidder_id.view();
    bids.push_back(std::move(entry));
  }
  json::value next = nullptr;
  if (page.value().size() == *limit) next = page.value().back().position;
  co_return ok(200, json::object{{"bids", std::move(bids)}, {"next", next}});
}

asio::awaitable<Response> Api::simple_command(std::string_view op) {
  auto who = authenticate();
  if (auto* error = std::get_if<Response>(&who)) co_return std::move(*error);
  const ports::Principal& principal = std::get<ports::Principal>(who);
  if (g_.draining_.load()) co_return fail(503, "draining", "the gateway is shutting down; retry");
  const std::string& auction_text = segment(2);
  if (!domain::is_valid_id(auction_text))
    co_return fail(Reason::auction_not_found, "no such auction");
  const domain::AuctionId auction_id{auction_text};
  const bool admin = principal.roles.has(ports::Role::admin);
  auto body = body_object(true);
  if (auto* error = std::get_if<Response>(&body)) co_return std::move(*error);
  const domain::Timestamp now = g_.deps_.clock.now();
  wire::CommandEnvelope envelope;
  envelope.command_id = g_.ids_.next(now);
  envelope.request_id = request_id_;
  if (op == "buyNow") {
    if (!principal.roles.has(ports::Role::bidder))
      co_return fail(403, "forbidden", "buying needs the bidder role");
    envelope.command = domain::BuyNow{auction_id, principal.user_id, now};
  } else if (op == "cancel") {
    if (!principal.roles.has(ports::Role::seller) && !admin)
      co_return fail(403, "forbidden", "cancelling needs the seller or admin role");
    wire::JsonFields fields{std::get<json::object>(body)};
    const auto note = fields.optional_string("reason");
    if (!fields.ok() || (note && note->size() > 500))
      co_return fail(400, "invalid_request", "reason must be a string of at most 500 bytes",
                     "reason");
    envelope.command = domain::CancelAuction{auction_id, domain::Actor{principal.user_id, admin},
                                             note.value_or(""), now};
  } else {
    if (!admin) co_return fail(403, "forbidden", "voiding a bid needs the admin role");
    if (!domain::is_valid_id(segment(4))) co_return fail(Reason::bid_not_found, "no such bid");
    envelope.command = domain::VoidBid{auction_id, domain::Actor{principal.user_id, true},
                                       domain::BidId{segment(4)}, now};
  }
  auto enqueued =
      co_await enqueue_and_wait(envelope, envelope.command_id, g_.options_.limits.command_timeout);
  if (enqueued.error) co_return std::move(*enqueued.error);
  if (!enqueued.decided)
    co_return fail(503, "decision_timeout", "the command was queued but not decided in time");
  const auto& decided = *enqueued.decided;
  if (!decided.decision.accepted) {
    co_return fail(decided.decision.reason,
                   std::string(op) +
                       " was refused: " + std::string(domain::to_string(decided.decision.reason)));
  }
  co_return ok(200, json::object{{"status", "accepted"},
                                 {"auction", parse_json_value(decided.auction_view)}});
}

Response Api::static_file() const {
  namespace fs = std::filesystem;
  if (g_.options_.web_root.empty()) return fail(404, "not_found", "no web UI is configured");
  std::string relative;
  for (const auto& part : target_.segments) {
    if (part.empty() || part == "." || part == ".." || part.find('\\') != std::string::npos) {
      return fail(404, "not_found", "no such file");
    }
    relative += "/" + part;
  }
  if (relative.empty()) relative = "/index.html";
  const fs::path path = fs::path(g_.options_.web_root) / relative.substr(1);
  std::ifstream file{path, std::ios::binary};
  if (!file || fs::is_directory(path)) return fail(404, "not_found", "no such file");
  std::ostringstream content;
  content << file.rdbuf();
  static constexpr std::pair<const char*, const char*> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".json", "application/json"}};
  std::string type = "application/octet-stream";
  for (const auto& [extension, mime] : kTypes) {
    if (path.extension() == extension) type = mime;
  }
  Response response{http::status::ok, request_.version()};
  response.set(http::field::content_type, type);
  response.set(http::field::cache_control, "no-cache");
  response.body() = content.str();
  response.keep_alive(request_.keep_alive());
  response.prepare_payload();
  return response;
}

asio::awaitable<Response> Gateway::handle(Request& request, const asio::any_io_executor& executor) {
  ++metrics_.http_requests;
  std::string request_id{request["X-Request-Id"]};
  if (request_id.empty() || request_id.size() > 64 || !domain::is_valid_id(request_id)) {
    request_id = ids_.next(deps_.clock.now());
  }
  const auto started = std::chrono::steady_clock::now();
  Api api{*this, request, request_id, executor};
  Response response = co_await api.dispatch();
  const unsigned status = response.result_int();
  const auto level = status >= 500 ? roles::LogLevel::warn : roles::LogLevel::debug;
  if (roles::log_enabled(level)) {
    const auto target = request.target();
    roles::log(level, "gateway", "request",
               {{"requestId", request_id},
                {"method", request.method_string()},
                {"path", target.substr(0, target.find('?'))},
                {"status", status},
                {"ms", std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                                 started)
                           .count()}});
  }
  response.set("X-Request-Id", request_id);
  // Clients keep countdowns on the server's clock (RFC 9110 Date, second resolution).
  response.set(http::field::date, http_date(deps_.clock.now()));
  if (response.result_int() >= 400) ++metrics_.http_errors;
  if (response.result_int() >= 500) ++metrics_.http_server_errors;
  co_return response;
}

Response Gateway::json_response(const Request& request, unsigned status,
                                const json::value& body) const {
  Response response{static_cast<http::status>(status),
                    request.version() == 0 ? 11 : request.version()};
  response.set(http::field::content_type, "application/json");
  response.body() = json::serialize(body);
  response.keep_alive(request.keep_alive());
  response.prepare_payload();
  return response;
}

Response Gateway::error_response(const Request& request, const ApiError& error) const {
  return json_response(request, error.status, error_json(error));
}

std::string Gateway::metrics_text() const {
  using roles::append_metric;
  std::ostringstream out;
  append_metric(out, "counter", "gavel_http_requests_total", "HTTP requests answered.",
                metrics_.http_requests.load());
  append_metric(out, "counter", "gavel_http_errors_total", "HTTP answers with status >= 400.",
                metrics_.http_errors.load());
  append_metric(out, "counter", "gavel_http_server_errors_total",
                "HTTP answers with status >= 500.", metrics_.http_server_errors.load());
  append_metric(out, "counter", "gavel_bids_received_total", "Bids posted to the gateway.",
                metrics_.bids_received.load());
  append_metric(out, "counter", "gavel_cache_lookups_total",
                "Bid intake's auction lookups in the cache, by result.", metrics_.cache_hits.load(),
                "{result=\"hit\"}");
  roles::append_sample(out, "gavel_cache_lookups_total", "{result=\"miss\"}",
                       metrics_.cache_misses.load());
  metrics_.decision_seconds.append(
      out, "gavel_decision_seconds",
      "From a command's receipt to its decision, as the gateway saw it.");
  append_metric(out, "counter", "gavel_bids_fast_rejected_total",
                "Bids rejected from the cache before queueing.",
                metrics_.bids_fast_rejected.load());
  append_metric(out, "counter", "gavel_bids_rate_limited_total",
                "Bids refused by the per-user rate limit.", metrics_.bids_rate_limited.load());
  append_metric(out, "counter", "gavel_connections_refused_total",
                "Connections refused at the connection limit.",
                metrics_.connections_refused.load());
  append_metric(out, "gauge", "gavel_http_connections", "Open HTTP connections.",
                metrics_.connections.load());
  append_metric(out, "gauge", "gavel_ws_connections", "Open WebSocket connections.",
                deps_.hub.connections());
  append_metric(out, "counter", "gavel_ws_messages_total", "WebSocket messages queued to clients.",
                deps_.hub.messages_sent());
  if (deps_.extra_metrics) out << deps_.extra_metrics();
  return out.str();
}

}  // namespace gavel::gateway
