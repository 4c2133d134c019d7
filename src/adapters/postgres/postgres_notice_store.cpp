#include "adapters/postgres/postgres_notice_store.hpp"

#include <limits>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/worker.hpp"
#include "adapters/sql/notice_records.hpp"
#include "adapters/sql/records.hpp"

namespace gavel::adapters::postgres {
namespace {

using sql::kDeliveryColumns;
using sql::kInboxColumns;
using sql::kPreferenceColumns;

constexpr const char* kUpsertWatch = "gavel_notice_upsert_watch";
constexpr const char* kAddParticipant = "gavel_notice_add_participant";
constexpr const char* kAddInbox = "gavel_notice_add_inbox";
constexpr const char* kAddDelivery = "gavel_notice_add_delivery";
constexpr const char* kPendingDelivery = "gavel_notice_pending_delivery";
constexpr const char* kSent = "gavel_notice_sent";
constexpr const char* kFailed = "gavel_notice_failed";
constexpr const char* kMarkRead = "gavel_notice_mark_read";
constexpr const char* kMarkAllRead = "gavel_notice_mark_all_read";
constexpr const char* kPutPreferences = "gavel_notice_put_preferences";

std::vector<PreparedStatement> write_statements() {
  const std::string deliveries =
      std::string("SELECT ") + kDeliveryColumns + " FROM notice_deliveries ";
  return {
      // The upsert rule of ports::merge_watch, in SQL.
      {kUpsertWatch,
       "INSERT INTO notice_watches (auction_id, seller_id, ends_at, ending_soon_sent, finished) "
       "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (auction_id) DO UPDATE SET "
       "seller_id = CASE WHEN excluded.seller_id <> '' THEN excluded.seller_id "
       "ELSE notice_watches.seller_id END, "
       "ends_at = CASE WHEN excluded.ends_at <> 0 THEN excluded.ends_at "
       "ELSE notice_watches.ends_at END, "
       "ending_soon_sent = notice_watches.ending_soon_sent OR excluded.ending_soon_sent, "
       "finished = notice_watches.finished OR excluded.finished"},
      {kAddParticipant,
       "INSERT INTO notice_participants (auction_id, user_id) VALUES ($1, $2) "
       "ON CONFLICT DO NOTHING"},
      {kAddInbox, std::string("INSERT INTO notice_inbox (") + kInboxColumns +
                      ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING"},
      {kAddDelivery, std::string("INSERT INTO notice_deliveries (") + kDeliveryColumns +
                         ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', $11, $12, "
                         "$13, $14) ON CONFLICT (notice_id, channel) DO NOTHING"},
      {kPendingDelivery,
       deliveries + "WHERE notice_id = $1 AND channel = $2 AND state = 'pending'"},
      {kSent,
       "UPDATE notice_deliveries SET state = 'sent' WHERE notice_id = $1 AND channel = $2 "
       "AND state = 'pending'"},
      // A sequence numbers dead letters: concurrent settles never share a number.
      {kFailed,
       "UPDATE notice_deliveries SET state = $3, attempts = $4, "
       "first_failure = coalesce(first_failure, $5), last_failure = $5, last_error = $6, "
       "dead_order = CASE WHEN $3 = 'dead' THEN nextval('notice_dead_order') END "
       "WHERE notice_id = $1 AND channel = $2 AND state = 'pending'"},
      {kMarkRead,
       "UPDATE notice_inbox SET read = true WHERE user_id = $1 AND NOT read "
       "AND id = ANY($2::text[])"},
      {kMarkAllRead, "UPDATE notice_inbox SET read = true WHERE user_id = $1 AND NOT read"},
      {kPutPreferences, std::string("INSERT INTO notice_preferences (user_id, ") +
                            kPreferenceColumns +
                            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (user_id) DO "
                            "UPDATE SET (" +
                            kPreferenceColumns +
                            ") = (excluded.webhook, "
                            "excluded.email, excluded.sms, excluded.email_address, excluded.phone, "
                            "excluded.webhook_url, excluded.webhook_secret)"},
  };
}

constexpr const char* kGetWatch = "gavel_notice_get_watch";
constexpr const char* kOpenWatches = "gavel_notice_open_watches";
constexpr const char* kPending = "gavel_notice_pending";
constexpr const char* kDead = "gavel_notice_dead";
constexpr const char* kInbox = "gavel_notice_inbox";

std::vector<PreparedStatement> read_statements() {
  // A watch with its participants, one row each in the order first seen (one row with a NULL
  // user for none): one statement, so one consistent snapshot.
  const std::string watches =
      "SELECT w.auction_id, w.seller_id, w.ends_at, w.ending_soon_sent, w.finished, p.user_id "
      "FROM notice_watches w LEFT JOIN notice_participants p ON p.auction_id = w.auction_id ";
  const std::string deliveries =
      std::string("SELECT ") + kDeliveryColumns + " FROM notice_deliveries WHERE ";
  return {
      {kGetWatch, watches + "WHERE w.auction_id = $1 ORDER BY p.position"},
      {kOpenWatches, watches + "WHERE w.auction_id IN (SELECT auction_id FROM notice_watches WHERE "
                               "auction_id > $1 AND NOT finished ORDER BY auction_id LIMIT $2) "
                               "ORDER BY w.auction_id, p.position"},
      {kPending, deliveries + "state = 'pending' ORDER BY position LIMIT $1"},
      {kDead, deliveries + "state = 'dead' ORDER BY dead_order DESC LIMIT $1"},
      // The page and the whole inbox's unread count (column 9, on every row; one row of NULLs
      // but the count for an empty page), from one snapshot. An unknown `before` ($2), or one
      // of another user, matches no position, so the page is empty, as in the memory store.
      {kInbox, std::string("WITH page AS (SELECT position, ") + kInboxColumns +
                   " FROM notice_inbox WHERE user_id = $1 AND ($2::text IS NULL OR position < "
                   "(SELECT position FROM notice_inbox WHERE id = $2 AND user_id = $1)) "
                   "ORDER BY position DESC LIMIT $3), "
                   "unread AS (SELECT count(*) AS n FROM notice_inbox WHERE user_id = $1 AND "
                   "NOT read) SELECT page.id, page.user_id, page.auction_id, page.kind, "
                   "page.subject, page.text, page.html, page.at, page.read, unread.n "
                   "FROM unread LEFT JOIN page ON true ORDER BY page.position DESC"},
  };
}

// --- writes ------------------------------------------------------------------------------

void write_watch(Connection& connection, const ports::AuctionWatch& watch) {
  Params params;
  params.bind(1, watch.auction_id.view());
  params.bind(2, watch.seller_id.view());
  params.bind(3, static_cast<std::int64_t>(watch.ends_at.time_since_epoch().count()));
  params.bind(4, std::int64_t{watch.ending_soon_sent});
  params.bind(5, std::int64_t{watch.finished});
  connection.exec_prepared(kUpsertWatch, params);
  // One at a time, in order: the identity column records the order first seen.
  for (const auto& user : watch.participants) {
    Params participant;
    participant.bind(1, watch.auction_id.view());
    participant.bind(2, user.view());
    connection.exec_prepared(kAddParticipant, participant);
  }
}

std::vector<ports::DeliveryRecord> write_batch(Connection& connection,
                                               const ports::NoticeBatch& batch) {
  for (const auto& watch : batch.watches) write_watch(connection, watch);
  for (const auto& entry : batch.inbox) {
    Params params;
    sql::bind_inbox(params, entry);
    connection.exec_prepared(kAddInbox, params);
  }
  std::vector<ports::DeliveryRecord> pending;
  for (const auto& record : batch.deliveries) {
    Params params;
    sql::bind_delivery(params, record);
    connection.exec_prepared(kAddDelivery, params);
    // A statement of its own (not RETURNING): it also sees a row that another transaction
    // committed while the insert waited on it.
    Params key;
    key.bind(1, std::string_view(record.notice.id));
    key.bind(2, std::string_view(record.channel));
    const auto result = connection.exec_prepared(kPendingDelivery, key);
    if (PQntuples(result.get()) > 0)
      pending.push_back(sql::read_delivery(ResultRow(result.get(), 0)));
  }
  return pending;
}

void write_outcome(Connection& connection, const ports::DeliveryOutcome& outcome) {
  Params params;
  params.bind(1, std::string_view(outcome.notice_id));
  params.bind(2, std::string_view(outcome.channel));
  if (outcome.state == ports::DeliveryState::sent) {
    connection.exec_prepared(kSent, params);
    return;
  }
  params.bind(3, sql::state_name(outcome.state));
  params.bind(4, std::int64_t{outcome.attempts});
  params.bind(5, static_cast<std::int64_t>(outcome.at.time_since_epoch().count()));
  params.bind(6, std::string_view(outcome.error));
  connection.exec_prepared(kFailed, params);
}

// --- reads -------------------------------------------------------------------------------

// Watches from rows of kGetWatch/kOpenWatches: consecutive rows of one auction make one watch.
std::vector<ports::AuctionWatch> read_watches(const PGresult* result) {
  std::vector<ports::AuctionWatch> watches;
  for (int index = 0; index < PQntuples(result); ++index) {
    const ResultRow row(result, index);
    const domain::AuctionId auction_id = sql::auction_id_column(row, 0);
    if (watches.empty() || watches.back().auction_id != auction_id) {
      ports::AuctionWatch& watch = watches.emplace_back();
      watch.auction_id = auction_id;
      watch.seller_id = sql::user_id_column(row, 1);
      watch.ends_at = domain::Timestamp{domain::Duration{row.column_int64(2)}};
      watch.ending_soon_sent = row.column_int64(3) != 0;
      watch.finished = row.column_int64(4) != 0;
    }
    if (PQgetisnull(result, index, 5) == 0) {
      watches.back().participants.push_back(sql::user_id_column(row, 5));
    }
  }
  return watches;
}

std::vector<ports::DeliveryRecord> read_deliveries(Connection& connection, const char* statement,
                                                   std::size_t limit) {
  Params params;
  params.bind(1, sql::limit_param(limit));
  const auto result = connection.exec_prepared(statement, params);
  return read_rows(result.get(), sql::read_delivery);
}

ports::InboxPage read_inbox(Connection& connection, const ports::InboxQuery& query) {
  Params params;
  params.bind(1, query.user_id.view());
  if (query.before) {
    params.bind(2, std::string_view(*query.before));
  } else {
    params.bind(2, std::optional<std::int64_t>{});  // NULL: from the newest
  }
  // One more row than asked tells whether another page follows.
  const std::size_t limit = query.limit;
  params.bind(
      3, sql::limit_param(limit == std::numeric_limits<std::size_t>::max() ? limit : limit + 1));
  const auto result = connection.exec_prepared(kInbox, params);
  ports::InboxPage page;
  for (int index = 0; index < PQntuples(result.get()); ++index) {
    const ResultRow row(result.get(), index);
    page.unread = static_cast<std::uint64_t>(row.column_int64(9));
    if (PQgetisnull(result.get(), index, 0) != 0) continue;  // the empty page's row
    page.notices.push_back(sql::read_inbox_notice(row));
  }
  if (page.notices.size() > limit) {
    page.notices.resize(limit);
    if (!page.notices.empty()) page.next = page.notices.back().notice.id;
  }
  return page;
}

std::vector<ports::Preferences> read_preferences(Connection& connection,
                                                 const std::vector<domain::UserId>& user_ids) {
  std::vector<std::string> ids;
  ids.reserve(user_ids.size());
  for (const auto& user : user_ids) ids.push_back(user.str());
  Params params;
  params.bind(1, std::string_view(text_array(ids)));
  // Planned per call (Connection::exec_params): a generic plan made while the table was small
  // would read every user's preferences for each notice once it has grown.
  static const std::string preferences = std::string("SELECT ") + kPreferenceColumns +
                                         ", user_id FROM notice_preferences WHERE user_id = "
                                         "ANY($1::text[])";
  const auto result = connection.exec_params(preferences, params);
  std::unordered_map<std::string, ports::Preferences> saved;
  for (int index = 0; index < PQntuples(result.get()); ++index) {
    const ResultRow row(result.get(), index);
    saved.emplace(row.column_text(7), sql::read_preferences(row));
  }
  std::vector<ports::Preferences> answers;
  for (const auto& user : ids) {
    const auto found = saved.find(user);
    answers.push_back(found != saved.end() ? found->second : ports::Preferences{});
  }
  return answers;
}

}  // namespace

PostgresNoticeStore::PostgresNoticeStore(const std::string& url) {
  std::tie(writes_, reads_) =
      open_workers(url, "notice store", write_statements(), read_statements());
}

PostgresNoticeStore::~PostgresNoticeStore() = default;

void PostgresNoticeStore::record(ports::NoticeBatch batch,
                                 ports::Callback<std::vector<ports::DeliveryRecord>> done) {
  writes_->submit(JobMode::transaction, std::move(done),
                  [batch = std::move(batch)](Connection& connection) {
                    return write_batch(connection, batch);
                  });
}

void PostgresNoticeStore::get_watch(const domain::AuctionId& auction_id,
                                    ports::Callback<std::optional<ports::AuctionWatch>> done) {
  reads_->submit(JobMode::read, std::move(done), [auction_id](Connection& connection) {
    Params params;
    params.bind(1, auction_id.view());
    auto watches = read_watches(connection.exec_prepared(kGetWatch, params).get());
    std::optional<ports::AuctionWatch> answer;
    if (!watches.empty()) answer = std::move(watches.front());
    return answer;
  });
}

void PostgresNoticeStore::list_open_watches(
    const domain::AuctionId& after, std::size_t limit,
    ports::Callback<std::vector<ports::AuctionWatch>> done) {
  reads_->submit(JobMode::read, std::move(done), [after, limit](Connection& connection) {
    Params params;
    params.bind(1, after.view());
    params.bind(2, sql::limit_param(limit));
    return read_watches(connection.exec_prepared(kOpenWatches, params).get());
  });
}

void PostgresNoticeStore::pending_deliveries(
    std::size_t limit, ports::Callback<std::vector<ports::DeliveryRecord>> done) {
  reads_->submit(JobMode::read, std::move(done), [limit](Connection& connection) {
    return read_deliveries(connection, kPending, limit);
  });
}

void PostgresNoticeStore::settle(ports::DeliveryOutcome outcome, ports::Callback<void> done) {
  writes_->submit(JobMode::write, std::move(done),
                  [outcome = std::move(outcome)](Connection& connection) {
                    write_outcome(connection, outcome);
                  });
}

void PostgresNoticeStore::dead_letters(std::size_t limit,
                                       ports::Callback<std::vector<ports::DeliveryRecord>> done) {
  reads_->submit(JobMode::read, std::move(done), [limit](Connection& connection) {
    return read_deliveries(connection, kDead, limit);
  });
}

void PostgresNoticeStore::list_inbox(const ports::InboxQuery& query,
                                     ports::Callback<ports::InboxPage> done) {
  reads_->submit(JobMode::read, std::move(done),
                 [query](Connection& connection) { return read_inbox(connection, query); });
}

void PostgresNoticeStore::mark_read(const domain::UserId& user_id, std::vector<std::string> ids,
                                    ports::Callback<std::size_t> done) {
  writes_->submit(JobMode::write, std::move(done),
                  [user_id, ids = std::move(ids)](Connection& connection) {
                    Params params;
                    params.bind(1, user_id.view());
                    if (!ids.empty()) params.bind(2, std::string_view(text_array(ids)));
                    const auto result =
                        connection.exec_prepared(ids.empty() ? kMarkAllRead : kMarkRead, params);
                    return affected_rows(result.get());
                  });
}

void PostgresNoticeStore::get_preferences(std::vector<domain::UserId> user_ids,
                                          ports::Callback<std::vector<ports::Preferences>> done) {
  reads_->submit(JobMode::read, std::move(done),
                 [user_ids = std::move(user_ids)](Connection& connection) {
                   return read_preferences(connection, user_ids);
                 });
}

void PostgresNoticeStore::put_preferences(const domain::UserId& user_id,
                                          ports::Preferences preferences,
                                          ports::Callback<void> done) {
  writes_->submit(JobMode::write, std::move(done),
                  [user_id, preferences = std::move(preferences)](Connection& connection) {
                    Params params;
                    sql::bind_preferences(params, user_id, preferences);
                    connection.exec_prepared(kPutPreferences, params);
                  });
}

}  // namespace gavel::adapters::postgres
