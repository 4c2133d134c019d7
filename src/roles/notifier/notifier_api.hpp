#pragma once
// The notifier's JSON for the gateway's routes, so they stay thin: GET/PUT /v1/me/preferences,
// GET /v1/me/notifications, POST /v1/me/notifications/read, and the WebSocket "notification"
// message. Pure functions; the gateway authenticates and calls the NoticeStore.

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ports/notice_store.hpp"
#include "ports/wire/json_fields.hpp"

namespace gavel::roles::notifier {

/// Reads a preferences body over `current` (pass ports::Preferences{} to replace everything):
///   {"channels": {"webhook": bool, "email": bool, "sms": bool},
///    "email": "...", "phone": "+...", "webhookUrl": "https://...", "webhookSecret": "..."}
/// Absent fields keep `current`'s value; null clears an address. "channels.inapp" may be given
/// but must be true (the inbox is always on). Checks: e-mail address shape (≤ 254 bytes), phone
/// in E.164 (+ and 8–15 digits), webhook URL http(s) without spaces (≤ 2048 bytes), secret of
/// 16–256 printable ASCII characters, and that every enabled channel has its address (and the
/// webhook its secret). The error names the field, for a 400.
std::variant<ports::Preferences, wire::FieldError> parse_preferences(
    const boost::json::object& body, const ports::Preferences& current);

/// The preferences as GET answers them; the webhook secret is never echoed, only
/// "webhookSecretSet".
boost::json::object preferences_json(const ports::Preferences& preferences);

/// Reads the query of GET /v1/me/notifications: `limit` (1–100, default 20) and `before` (a
/// previous page's "next"). Absent parameters are nullopt.
std::variant<ports::InboxQuery, wire::FieldError> parse_inbox_query(
    const domain::UserId& user_id, std::optional<std::string_view> limit,
    std::optional<std::string_view> before);

/// One notice as the API shows it: {"id", "kind", "auctionId", "subject", "text", "html",
/// "at", "read"}.
boost::json::object notice_json(const ports::InboxNotice& entry);

/// An inbox page: {"notifications": [notice_json...], "unread": n, "next": id or null}.
boost::json::object inbox_json(const ports::InboxPage& page);

/// The body of POST /v1/me/notifications/read: {"ids": ["..."]} or {"all": true}. Answers the
/// ids to mark (empty: all), for NoticeStore::mark_read. At most 500 ids.
std::variant<std::vector<std::string>, wire::FieldError> parse_mark_read(
    const boost::json::object& body);

/// The WebSocket message that pushes a new notice to its user:
/// {"type": "notification", "notification": notice_json}.
boost::json::object push_json(const ports::Notice& notice, domain::Timestamp at);

/// A notice on the notice topic, for the gateways: {"userId": ..., "push": push_json}.
boost::json::object push_envelope(const ports::Notice& notice, domain::Timestamp at);

/// A notice topic message's user and WebSocket text; nullopt for a malformed message.
struct PushedNotice {
  std::string user_id;
  std::string auction_id;
  std::string message;
};
std::optional<PushedNotice> parse_push_envelope(std::string_view body);

}  // namespace gavel::roles::notifier
