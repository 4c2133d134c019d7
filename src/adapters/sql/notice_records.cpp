#include "adapters/sql/notice_records.hpp"

#include <string>

namespace gavel::adapters::sql {
namespace {

std::int64_t micros(domain::Timestamp at) {
  return at.time_since_epoch().count();
}

domain::Timestamp from_micros(std::int64_t value) {
  return domain::Timestamp{domain::Duration{value}};
}

std::optional<std::int64_t> optional_micros(const std::optional<domain::Timestamp>& at) {
  return at ? std::optional(micros(*at)) : std::nullopt;
}

std::string_view checked_id(const Row& row, int column) {
  const std::string_view text = row.column_text(column);
  if (text.size() > domain::kMaxIdLength) throw CorruptRow("id longer than 64 bytes");
  return text;
}

ports::DeliveryState parse_state(std::string_view name) {
  if (name == "pending") return ports::DeliveryState::pending;
  if (name == "sent") return ports::DeliveryState::sent;
  if (name == "dead") return ports::DeliveryState::dead;
  throw CorruptRow("unknown delivery state " + std::string(name));
}

}  // namespace

domain::UserId user_id_column(const Row& row, int column) {
  return domain::UserId{checked_id(row, column)};
}

domain::AuctionId auction_id_column(const Row& row, int column) {
  return domain::AuctionId{checked_id(row, column)};
}

std::string_view state_name(ports::DeliveryState state) {
  switch (state) {
    case ports::DeliveryState::pending:
      return "pending";
    case ports::DeliveryState::sent:
      return "sent";
    case ports::DeliveryState::dead:
      return "dead";
  }
  return "pending";
}

void bind_delivery(Params& params, const ports::DeliveryRecord& record) {
  const auto& notice = record.notice;
  params.bind(1, std::string_view(notice.id));
  params.bind(2, std::string_view(record.channel));
  params.bind(3, notice.user_id.view());
  params.bind(4, notice.auction_id.view());
  params.bind(5, std::string_view(notice.kind));
  params.bind(6, std::string_view(notice.address));
  params.bind(7, std::string_view(notice.subject));
  params.bind(8, std::string_view(notice.text));
  params.bind(9, std::string_view(notice.html));
  params.bind(10, std::string_view(notice.secret));
  params.bind(11, std::int64_t{record.attempts});
  params.bind(12, optional_micros(record.first_failure));
  params.bind(13, optional_micros(record.last_failure));
  params.bind(14, std::string_view(record.last_error));
}

ports::DeliveryRecord read_delivery(const Row& row) {
  ports::DeliveryRecord record;
  record.notice.id = row.column_text(0);
  record.channel = row.column_text(1);
  record.notice.user_id = user_id_column(row, 2);
  record.notice.auction_id = auction_id_column(row, 3);
  record.notice.kind = row.column_text(4);
  record.notice.address = row.column_text(5);
  record.notice.subject = row.column_text(6);
  record.notice.text = row.column_text(7);
  record.notice.html = row.column_text(8);
  record.notice.secret = row.column_text(9);
  record.state = parse_state(row.column_text(10));
  record.attempts = static_cast<int>(row.column_int64(11));
  if (auto at = row.column_optional_int64(12)) record.first_failure = from_micros(*at);
  if (auto at = row.column_optional_int64(13)) record.last_failure = from_micros(*at);
  record.last_error = row.column_text(14);
  return record;
}

void bind_inbox(Params& params, const ports::InboxNotice& entry) {
  const auto& notice = entry.notice;
  params.bind(1, std::string_view(notice.id));
  params.bind(2, notice.user_id.view());
  params.bind(3, notice.auction_id.view());
  params.bind(4, std::string_view(notice.kind));
  params.bind(5, std::string_view(notice.subject));
  params.bind(6, std::string_view(notice.text));
  params.bind(7, std::string_view(notice.html));
  params.bind(8, micros(entry.at));
  params.bind(9, std::int64_t{entry.read});
}

ports::InboxNotice read_inbox_notice(const Row& row) {
  ports::InboxNotice entry;
  entry.notice.id = row.column_text(0);
  entry.notice.user_id = user_id_column(row, 1);
  entry.notice.auction_id = auction_id_column(row, 2);
  entry.notice.kind = row.column_text(3);
  entry.notice.subject = row.column_text(4);
  entry.notice.text = row.column_text(5);
  entry.notice.html = row.column_text(6);
  entry.at = from_micros(row.column_int64(7));
  entry.read = row.column_int64(8) != 0;
  return entry;
}

void bind_preferences(Params& params, const domain::UserId& user_id,
                      const ports::Preferences& preferences) {
  params.bind(1, user_id.view());
  params.bind(2, std::int64_t{preferences.webhook});
  params.bind(3, std::int64_t{preferences.email});
  params.bind(4, std::int64_t{preferences.sms});
  params.bind(5, std::string_view(preferences.email_address));
  params.bind(6, std::string_view(preferences.phone));
  params.bind(7, std::string_view(preferences.webhook_url));
  params.bind(8, std::string_view(preferences.webhook_secret));
}

ports::Preferences read_preferences(const Row& row) {
  ports::Preferences preferences;
  preferences.webhook = row.column_int64(0) != 0;
  preferences.email = row.column_int64(1) != 0;
  preferences.sms = row.column_int64(2) != 0;
  preferences.email_address = row.column_text(3);
  preferences.phone = row.column_text(4);
  preferences.webhook_url = row.column_text(5);
  preferences.webhook_secret = row.column_text(6);
  return preferences;
}

}  // namespace gavel::adapters::sql
