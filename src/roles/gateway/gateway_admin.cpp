// Operators' calls, admins only: the audit trail of an auction (GET /v1/admin/audit) and the
// dead-letter queue (GET /v1/admin/dlq, GET /v1/admin/dlq/{id}, POST /v1/admin/dlq/redrive,
// DELETE /v1/admin/dlq). `gavel dlq` is a client of these.
#include "ports/wire/json_fields.hpp"
#include "roles/gateway/api.hpp"

namespace gavel::gateway {

namespace {

/// The most dead letters one call lists, shows from, or redrives ("all").
constexpr std::size_t kMaxDeadLetters = 1000;

json::value body_as_json(const std::string& body) {
  boost::system::error_code ec;
  json::value value = json::parse(body, ec);
  return ec ? json::value(json::string(body)) : value;
}

json::object dead_letter_json(const ports::DeadLetter& letter, bool with_body) {
  json::object out{{"messageId", letter.message_id},
                   {"orderingKey", letter.ordering_key},
                   {"dedupId", letter.dedup_id},
                   {"eventTime", domain::format_rfc3339(letter.event_time)},
                   {"deliveryCount", letter.delivery_count},
                   {"reason", letter.reason},
                   {"firstFailure", domain::format_rfc3339(letter.first_failure)},
                   {"lastFailure", domain::format_rfc3339(letter.last_failure)}};
  if (with_body) out["body"] = body_as_json(letter.body);
  return out;
}

json::object audit_entry_json(const ports::AuditEntry& entry) {
  return json::object{{"seq", entry.seq},
                      {"key", entry.key},
                      {"auctionId", entry.auction_id.view()},
                      {"kind", entry.kind},
                      {"occurredAt", domain::format_rfc3339(entry.occurred_at)},
                      {"record", body_as_json(entry.body)},
                      {"prevHash", entry.prev_hash},
                      {"hash", entry.hash}};
}

}  // namespace

std::variant<ports::Principal, Response> Api::authenticate_admin() const {
  auto who = authenticate();
  if (std::holds_alternative<ports::Principal>(who) &&
      !std::get<ports::Principal>(who).roles.has(ports::Role::admin)) {
    return fail(403, "forbidden", "this call needs the admin role");
  }
  return who;
}

asio::awaitable<Response> Api::audit_entries() {
  auto who = authenticate_admin();
  if (auto* error = std::get_if<Response>(&who)) co_return std::move(*error);
  if (g_.deps_.audit == nullptr)
    co_return fail(404, "not_found", "no audit log is attached to this gateway");
  const auto auction = target_.param("auctionId");
  if (!auction || !domain::is_valid_id(*auction))
    co_return fail(400, "invalid_request", "auctionId is required", "auctionId");
  Response error;
  const auto limit = page_limit(error);
  if (!limit) co_return error;
  std::uint64_t after = 0;
  if (const auto after_text = target_.param("after")) {
    const auto value = parse_integer(*after_text);
    if (!value || *value < 0)
      co_return fail(400, "invalid_request", "after is an audit sequence number", "after");
    after = static_cast<std::uint64_t>(*value);
  }
  auto page = co_await async_call_here<std::vector<ports::AuditEntry>>([&](auto done) {
    g_.deps_.audit->entries_for_auction(domain::AuctionId{*auction}, after, *limit,
                                        std::move(done));
  });
  if (!page) co_return fail(503, "audit_unavailable", page.error().message);
  json::array entries;
  for (const auto& entry : page.value()) entries.push_back(audit_entry_json(entry));
  json::value next = nullptr;
  if (page.value().size() == *limit) next = page.value().back().seq;
  co_return ok(200, json::object{{"entries", std::move(entries)}, {"next", next}});
}

asio::awaitable<Response> Api::dead_letters() {
  auto who = authenticate_admin();
  if (auto* error = std::get_if<Response>(&who)) co_return std::move(*error);
  Response error;
  const auto limit = page_limit(error);
  if (!limit) co_return error;
  auto letters = co_await async_call_here<std::vector<ports::DeadLetter>>(
      [&](auto done) { g_.deps_.queue.list_dead_letters(*limit, std::move(done)); });
  if (!letters) co_return fail(503, "queue_unavailable", letters.error().message);
  json::array out;
  for (const auto& letter : letters.value()) out.push_back(dead_letter_json(letter, false));
  co_return ok(200, json::object{{"deadLetters", std::move(out)}});
}

asio::awaitable<Response> Api::dead_letter() {
  auto who = authenticate_admin();
  if (auto* error = std::get_if<Response>(&who)) co_return std::move(*error);
  const std::string& id = segment(3);
  auto letters = co_await async_call_here<std::vector<ports::DeadLetter>>(
      [&](auto done) { g_.deps_.queue.list_dead_letters(kMaxDeadLetters, std::move(done)); });
  if (!letters) co_return fail(503, "queue_unavailable", letters.error().message);
  for (const auto& letter : letters.value()) {
    if (letter.message_id == id) co_return ok(200, dead_letter_json(letter, true));
  }
  co_return fail(404, "not_found", "no dead letter " + id);
}

asio::awaitable<Response> Api::redrive_dead_letters() {
  auto who = authenticate_admin();
  if (auto* error = std::get_if<Response>(&who)) co_return std::move(*error);
  auto body = body_object();
  if (auto* error = std::get_if<Response>(&body)) co_return std::move(*error);
  const json::object& object = std::get<json::object>(body);
  std::vector<std::string> ids;
  if (const json::value* all = object.if_contains("all"); all != nullptr && *all == true) {
    auto letters = co_await async_call_here<std::vector<ports::DeadLetter>>(
        [&](auto done) { g_.deps_.queue.list_dead_letters(kMaxDeadLetters, std::move(done)); });
    if (!letters) co_return fail(503, "queue_unavailable", letters.error().message);
    for (const auto& letter : letters.value()) ids.push_back(letter.message_id);
  } else {
    const json::value* list = object.if_contains("ids");
    if (list == nullptr || !list->is_array() || list->get_array().empty() ||
        list->get_array().size() > kMaxDeadLetters) {
      co_return fail(400, "invalid_request",
                     "give {\"ids\": [message ids]} (1-1000) or {\"all\": true}", "ids");
    }
    for (const json::value& id : list->get_array()) {
      if (!id.is_string())
        co_return fail(400, "invalid_request", "ids are message id strings", "ids");
      ids.emplace_back(id.get_string());
    }
  }
  auto moved = co_await async_call_here<std::size_t>(
      [&](auto done) { g_.deps_.queue.redrive(std::move(ids), std::move(done)); });
  if (!moved) co_return fail(503, "queue_unavailable", moved.error().message);
  co_return ok(200, json::object{{"redriven", moved.value()}});
}

asio::awaitable<Response> Api::purge_dead_letters() {
  auto who = authenticate_admin();
  if (auto* error = std::get_if<Response>(&who)) co_return std::move(*error);
  auto purged = co_await async_call_here<std::size_t>(
      [&](auto done) { g_.deps_.queue.purge_dead_letters(std::move(done)); });
  if (!purged) co_return fail(503, "queue_unavailable", purged.error().message);
  co_return ok(200, json::object{{"purged", purged.value()}});
}

}  // namespace gavel::gateway
