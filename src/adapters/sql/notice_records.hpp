#pragma once
// How the notice store's inbox notices, deliveries and preferences map to table rows, shared by
// the SQL notice stores (SQLite, PostgreSQL), so that both keep every field the same way. Times
// are microseconds since the epoch; an absent failure time is NULL; booleans are 0/1.

#include <cstdint>
#include <string_view>

#include "adapters/sql/row.hpp"
#include "ports/notice_store.hpp"

namespace gavel::adapters::sql {

/// The delivery columns read_delivery reads, in order.
inline constexpr const char* kDeliveryColumns =
    "notice_id, channel, user_id, auction_id, kind, address, subject, text, html, secret, state, "
    "attempts, first_failure, last_failure, last_error";

/// The inbox columns bind_inbox binds and read_inbox_notice reads, in order.
inline constexpr const char* kInboxColumns =
    "id, user_id, auction_id, kind, subject, text, html, at, read";

/// The preferences columns after user_id that bind_preferences binds (from parameter 2) and
/// read_preferences reads (from column 0), in order.
inline constexpr const char* kPreferenceColumns =
    "webhook, email, sms, email_address, phone, webhook_url, webhook_secret";

std::string_view state_name(ports::DeliveryState state);

/// Binds parameters 1-10 to the notice's kDeliveryColumns up to secret, and 11-14 to attempts,
/// first_failure, last_failure and last_error (the state is the statement's: 'pending').
void bind_delivery(Params& params, const ports::DeliveryRecord& record);
/// Reads a row of a SELECT of kDeliveryColumns. Throws CorruptRow.
ports::DeliveryRecord read_delivery(const Row& row);

/// Binds parameters 1-9 to kInboxColumns.
void bind_inbox(Params& params, const ports::InboxNotice& entry);
/// Reads columns 0-8, as kInboxColumns. Throws CorruptRow.
ports::InboxNotice read_inbox_notice(const Row& row);

/// Binds parameter 1 to the user and 2-8 to kPreferenceColumns.
void bind_preferences(Params& params, const domain::UserId& user_id,
                      const ports::Preferences& preferences);
/// Reads columns 0-6, as kPreferenceColumns.
ports::Preferences read_preferences(const Row& row);

/// A stored id of at most domain::kMaxIdLength bytes. Throws CorruptRow.
domain::UserId user_id_column(const Row& row, int column);
domain::AuctionId auction_id_column(const Row& row, int column);

}  // namespace gavel::adapters::sql
