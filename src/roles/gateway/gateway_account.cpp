// The caller's own notices and notification preferences (GET /v1/me/notifications,
// POST /v1/me/notifications/read, GET and PUT /v1/me/preferences). The notifier's helpers
// (roles/notifier/notifier_api.hpp) read and write the JSON, so these handlers stay thin.
#include <algorithm>

#include "roles/gateway/api.hpp"
#include "roles/notifier/notifier_api.hpp"

namespace gavel::gateway {

namespace notifier = roles::notifier;

namespace {
constexpr const char* kNoInbox = "notifications are not enabled on this gateway";
}  // namespace

std::variant<domain::UserId, Response> Api::notices_owner() const {
  auto who = authenticate();
  if (auto* error = std::get_if<Response>(&who)) return std::move(*error);
  if (g_.deps_.notices == nullptr) return fail(404, "not_found", kNoInbox);
  return std::get<ports::Principal>(who).user_id;
}

asio::awaitable<Response> Api::list_notifications() {
  auto owner = notices_owner();
  if (auto* error = std::get_if<Response>(&owner)) co_return std::move(*error);
  const domain::UserId& user = std::get<domain::UserId>(owner);
  const auto limit = target_.param("limit");
  const auto before = target_.param("before");
  auto query = notifier::parse_inbox_query(
      user, limit ? std::optional<std::string_view>(*limit) : std::nullopt,
      before ? std::optional<std::string_view>(*before) : std::nullopt);
  if (auto* error = std::get_if<wire::FieldError>(&query))
    co_return fail(400, "invalid_request", error->message, error->field);
  auto page = co_await async_call_here<ports::InboxPage>([&](auto done) {
    g_.deps_.notices->list_inbox(std::get<ports::InboxQuery>(query), std::move(done));
  });
  if (!page) co_return fail(503, "store_unavailable", page.error().message);
  co_return ok(200, notifier::inbox_json(page.value()));
}

asio::awaitable<Response> Api::mark_notifications_read() {
  auto owner = notices_owner();
  if (auto* error = std::get_if<Response>(&owner)) co_return std::move(*error);
  const domain::UserId& user = std::get<domain::UserId>(owner);
  auto body = body_object();
  if (auto* error = std::get_if<Response>(&body)) co_return std::move(*error);
  auto ids = notifier::parse_mark_read(std::get<json::object>(body));
  if (auto* error = std::get_if<wire::FieldError>(&ids))
    co_return fail(400, "invalid_request", error->message, error->field);
  auto marked = co_await async_call_here<std::size_t>([&](auto done) {
    g_.deps_.notices->mark_read(user, std::move(std::get<std::vector<std::string>>(ids)),
                                std::move(done));
  });
  if (!marked) co_return fail(503, "store_unavailable", marked.error().message);
  auto rest = co_await async_call_here<ports::InboxPage>([&](auto done) {
    g_.deps_.notices->list_inbox(ports::InboxQuery{user, std::nullopt, 1}, std::move(done));
  });
  if (!rest) co_return fail(503, "store_unavailable", rest.error().message);
  co_return ok(200, json::object{{"marked", marked.value()}, {"unread", rest.value().unread}});
}

asio::awaitable<Response> Api::get_preferences() {
  auto owner = notices_owner();
  if (auto* error = std::get_if<Response>(&owner)) co_return std::move(*error);
  const domain::UserId& user = std::get<domain::UserId>(owner);
  auto current = co_await async_call_here<std::vector<ports::Preferences>>(
      [&](auto done) { g_.deps_.notices->get_preferences({user}, std::move(done)); });
  if (!current || current.value().empty())
    co_return fail(503, "store_unavailable", current ? "no answer" : current.error().message);
  co_return ok(200, notifier::preferences_json(current.value().front()));
}

asio::awaitable<Response> Api::put_preferences() {
  auto owner = notices_owner();
  if (auto* error = std::get_if<Response>(&owner)) co_return std::move(*error);
  const domain::UserId& user = std::get<domain::UserId>(owner);
  auto body = body_object();
  if (auto* error = std::get_if<Response>(&body)) co_return std::move(*error);
  auto current = co_await async_call_here<std::vector<ports::Preferences>>(
      [&](auto done) { g_.deps_.notices->get_preferences({user}, std::move(done)); });
  if (!current || current.value().empty())
    co_return fail(503, "store_unavailable", current ? "no answer" : current.error().message);
  auto wanted = notifier::parse_preferences(std::get<json::object>(body), current.value().front());
  if (auto* error = std::get_if<wire::FieldError>(&wanted))
    co_return fail(400, "invalid_request", error->message, error->field);
  const auto& preferences = std::get<ports::Preferences>(wanted);
  const auto offered = [this](std::string_view channel) {
    const auto& list = g_.options_.notice_channels;
    return std::find(list.begin(), list.end(), channel) != list.end();
  };
  for (const auto& [channel, chosen] :
       {std::pair<std::string_view, bool>{"webhook", preferences.webhook},
        {"email", preferences.email},
        {"sms", preferences.sms}}) {
    if (chosen && !offered(channel)) {
      co_return fail(400, "invalid_request",
                     std::string(channel) + " notices are not enabled on this server",
                     "channels." + std::string(channel));
    }
  }
  auto saved = co_await async_call_here<void>(
      [&](auto done) { g_.deps_.notices->put_preferences(user, preferences, std::move(done)); });
  if (!saved) co_return fail(503, "store_unavailable", saved.error().message);
  co_return ok(200, notifier::preferences_json(preferences));
}

}  // namespace gavel::gateway
