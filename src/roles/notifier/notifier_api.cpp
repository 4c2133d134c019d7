#include "roles/notifier/notifier_api.hpp"

#include <algorithm>
#include <charconv>

namespace gavel::roles::notifier {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxEmail = 254;
constexpr std::size_t kMaxUrl = 2048;
constexpr std::size_t kMinSecret = 16;
constexpr std::size_t kMaxSecret = 256;
constexpr std::size_t kMaxMarkRead = 500;
constexpr std::int64_t kDefaultPage = 20;
constexpr std::int64_t kMaxPage = 100;

bool printable_ascii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

// A practical check, not RFC 5322: one '@', a local part, a dotted domain, no spaces or
// characters that would let the address smuggle another header or recipient.
bool valid_email(std::string_view address) {
  if (address.size() > kMaxEmail || !printable_ascii(address)) return false;
  if (address.find_first_of("<>,;\"()[]\\") != std::string_view::npos) return false;
  const auto at = address.find('@');
  if (at == 0 || at == std::string_view::npos || address.find('@', at + 1) != address.npos) {
    return false;
  }
  const auto domain = address.substr(at + 1);
  const auto dot = domain.find('.');
  return dot != std::string_view::npos && dot > 0 && domain.back() != '.';
}

bool valid_phone(std::string_view phone) {
  if (phone.size() < 9 || phone.size() > 16 || phone[0] != '+' || phone[1] == '0') return false;
  return std::all_of(phone.begin() + 1, phone.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool valid_url(std::string_view url) {
  if (url.size() > kMaxUrl || !printable_ascii(url)) return false;
  for (std::string_view scheme : {"https://", "http://"}) {
    if (url.starts_with(scheme)) {
      const auto host = url.substr(scheme.size());
      return !host.empty() && host[0] != '/' && host[0] != ':';
    }
  }
  return false;
}

// Reads an address field: absent keeps `value`, null clears it, a string must pass `valid`.
void read_address(const json::object& body, std::string_view name, std::string& value,
                  bool (*valid)(std::string_view), std::string_view rule,
                  std::optional<wire::FieldError>& error) {
  if (error) return;
  const json::value* field = body.if_contains(name);
  if (field == nullptr) return;
  if (field->is_null()) {
    value.clear();
  } else if (!field->is_string() || !valid(field->get_string())) {
    error =
        wire::FieldError{std::string(name), std::string(name) + " must be " + std::string(rule)};
  } else {
    value = std::string(field->get_string());
  }
}

bool valid_secret(std::string_view secret) {
  return secret.size() >= kMinSecret && secret.size() <= kMaxSecret && printable_ascii(secret);
}

}  // namespace

std::variant<ports::Preferences, wire::FieldError> parse_preferences(
    const json::object& body, const ports::Preferences& current) {
  ports::Preferences preferences = current;
  std::optional<wire::FieldError> error;
  if (const json::value* channels = body.if_contains("channels"); channels != nullptr) {
    if (!channels->is_object()) return wire::FieldError{"channels", "channels must be an object"};
    wire::JsonFields fields(channels->get_object());
    if (auto inapp = fields.optional_bool("inapp"); inapp && !*inapp) {
      return wire::FieldError{"channels.inapp", "the in-app inbox cannot be turned off"};
    }
    if (auto on = fields.optional_bool("webhook")) preferences.webhook = *on;
    if (auto on = fields.optional_bool("email")) preferences.email = *on;
    if (auto on = fields.optional_bool("sms")) preferences.sms = *on;
    if (!fields.ok()) {
      return wire::FieldError{"channels." + fields.error()->field,
                              "channels." + fields.error()->message};
    }
  }
  read_address(body, "email", preferences.email_address, valid_email, "an e-mail address", error);
  read_address(body, "phone", preferences.phone, valid_phone,
               "a phone number in E.164 form, e.g. +34600111222", error);
  read_address(body, "webhookUrl", preferences.webhook_url, valid_url,
               "an http:// or https:// URL without spaces", error);
  read_address(body, "webhookSecret", preferences.webhook_secret, valid_secret,
               "16 to 256 printable ASCII characters", error);
  if (error) return *error;
  if (preferences.email && preferences.email_address.empty()) {
    return wire::FieldError{"email", "the email channel needs an e-mail address"};
  }
  if (preferences.sms && preferences.phone.empty()) {
    return wire::FieldError{"phone", "the sms channel needs a phone number"};
  }
  if (preferences.webhook && preferences.webhook_url.empty()) {
    return wire::FieldError{"webhookUrl", "the webhook channel needs a URL"};
  }
  if (preferences.webhook && preferences.webhook_secret.empty()) {
    return wire::FieldError{"webhookSecret", "the webhook channel needs a signing secret"};
  }
  return preferences;
}

json::object preferences_json(const ports::Preferences& preferences) {
  const auto or_null = [](const std::string& text) -> json::value {
    if (text.empty()) return nullptr;
    return json::string(text);
  };
  return json::object{
      {"channels", json::object{{"inapp", true},
                                {"webhook", preferences.webhook},
                                {"email", preferences.email},
                                {"sms", preferences.sms}}},
      {"email", or_null(preferences.email_address)},
      {"phone", or_null(preferences.phone)},
      {"webhookUrl", or_null(preferences.webhook_url)},
      {"webhookSecretSet", !preferences.webhook_secret.empty()},
  };
}

std::variant<ports::InboxQuery, wire::FieldError> parse_inbox_query(
    const domain::UserId& user_id, std::optional<std::string_view> limit,
    std::optional<std::string_view> before) {
  ports::InboxQuery query{user_id, std::nullopt, static_cast<std::size_t>(kDefaultPage)};
  if (limit) {
    std::int64_t value = 0;
    const auto* end = limit->data() + limit->size();
    const auto [ptr, ec] = std::from_chars(limit->data(), end, value);
    if (ec != std::errc{} || ptr != end || value < 1 || value > kMaxPage) {
      return wire::FieldError{"limit", "limit must be an integer from 1 to 100"};
    }
    query.limit = static_cast<std::size_t>(value);
  }
  if (before) {
    // Notice ids are built from ids and kinds: printable, never longer than a few ids.
    if (before->empty() || before->size() > 256 || !printable_ascii(*before)) {
      return wire::FieldError{"before", "before must be the \"next\" of a previous page"};
    }
    query.before = std::string(*before);
  }
  return query;
}

json::object notice_json(const ports::InboxNotice& entry) {
  const auto& notice = entry.notice;
  return json::object{
      {"id", notice.id},
      {"kind", notice.kind},
      {"auctionId", notice.auction_id.view()},
      {"subject", notice.subject},
      {"text", notice.text},
      {"html", notice.html},
      {"at", domain::format_rfc3339(entry.at)},
      {"read", entry.read},
  };
}

json::object inbox_json(const ports::InboxPage& page) {
  json::array notices;
  for (const auto& entry : page.notices) notices.push_back(notice_json(entry));
  json::value next = nullptr;
  if (page.next) next = json::string(*page.next);
  return json::object{
      {"notifications", std::move(notices)}, {"unread", page.unread}, {"next", std::move(next)}};
}

std::variant<std::vector<std::string>, wire::FieldError> parse_mark_read(const json::object& body) {
  const json::value* all = body.if_contains("all");
  const json::value* ids = body.if_contains("ids");
  if (all != nullptr && ids != nullptr) {
    return wire::FieldError{"ids", "give either ids or all, not both"};
  }
  if (all != nullptr) {
    if (!all->is_bool() || !all->get_bool()) return wire::FieldError{"all", "all must be true"};
    return std::vector<std::string>{};
  }
  if (ids == nullptr || !ids->is_array() || ids->get_array().empty() ||
      ids->get_array().size() > kMaxMarkRead) {
    return wire::FieldError{"ids", "ids must be an array of 1 to 500 notification ids"};
  }
  std::vector<std::string> out;
  for (const auto& id : ids->get_array()) {
    if (!id.is_string() || id.get_string().empty()) {
      return wire::FieldError{"ids", "ids must hold notification ids (strings)"};
    }
    out.emplace_back(id.get_string());
  }
  return out;
}

json::object push_json(const ports::Notice& notice, domain::Timestamp at) {
  return json::object{{"type", "notification"},
                      {"notification", notice_json(ports::InboxNotice{notice, at, false})}};
}

json::object push_envelope(const ports::Notice& notice, domain::Timestamp at) {
  return json::object{{"userId", notice.user_id.view()}, {"push", push_json(notice, at)}};
}

std::optional<PushedNotice> parse_push_envelope(std::string_view body) {
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec);
  if (ec || !parsed.is_object()) return std::nullopt;
  const json::object& envelope = parsed.get_object();
  const json::value* user = envelope.if_contains("userId");
  const json::value* push = envelope.if_contains("push");
  if (user == nullptr || !user->is_string() || push == nullptr || !push->is_object()) {
    return std::nullopt;
  }
  const json::value* notification = push->get_object().if_contains("notification");
  const json::value* auction = notification != nullptr && notification->is_object()
                                   ? notification->get_object().if_contains("auctionId")
                                   : nullptr;
  return PushedNotice{std::string(user->get_string()),
                      auction != nullptr && auction->is_string()
                          ? std::string(auction->get_string())
                          : std::string(),
                      json::serialize(*push)};
}

}  // namespace gavel::roles::notifier
