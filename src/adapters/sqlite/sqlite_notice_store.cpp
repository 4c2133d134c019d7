#include "adapters/sqlite/sqlite_notice_store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "adapters/sql/notice_records.hpp"
#include "adapters/sqlite/connection.hpp"
#include "adapters/sqlite/schema.hpp"
#include "ports/thread_name.hpp"

namespace gavel::adapters::sqlite {
namespace {

using sql::kDeliveryColumns;
using sql::state_name;

// The most calls one transaction takes, so that one bad call in a long queue is retried with
// few others.
constexpr std::size_t kMaxGroup = 256;

// Times are microseconds since the epoch; an absent failure time is NULL.
constexpr const char* kVersion1 = R"sql(
CREATE TABLE watches (
  auction_id       TEXT PRIMARY KEY,
  seller_id        TEXT NOT NULL,
  ends_at          INTEGER NOT NULL,
  ending_soon_sent INTEGER NOT NULL,
  finished         INTEGER NOT NULL
);
CREATE TABLE participants (
  auction_id TEXT NOT NULL,
  position   INTEGER NOT NULL,
  user_id    TEXT NOT NULL,
  PRIMARY KEY (auction_id, user_id)
);
CREATE TABLE inbox (
  position   INTEGER PRIMARY KEY AUTOINCREMENT,
  id         TEXT NOT NULL UNIQUE,
  user_id    TEXT NOT NULL,
  auction_id TEXT NOT NULL,
  kind       TEXT NOT NULL,
  subject    TEXT NOT NULL,
  text       TEXT NOT NULL,
  html       TEXT NOT NULL,
  at         INTEGER NOT NULL,
  read       INTEGER NOT NULL
);
CREATE INDEX inbox_by_user ON inbox (user_id, position);
CREATE INDEX inbox_unread ON inbox (user_id) WHERE read = 0;
CREATE TABLE deliveries (
  position      INTEGER PRIMARY KEY AUTOINCREMENT,
  notice_id     TEXT NOT NULL,
  channel       TEXT NOT NULL,
  user_id       TEXT NOT NULL,
  auction_id    TEXT NOT NULL,
  kind          TEXT NOT NULL,
  address       TEXT NOT NULL,
  subject       TEXT NOT NULL,
  text          TEXT NOT NULL,
  html          TEXT NOT NULL,
  secret        TEXT NOT NULL,
  state         TEXT NOT NULL,
  attempts      INTEGER NOT NULL,
  first_failure INTEGER,
  last_failure  INTEGER,
  last_error    TEXT NOT NULL,
  dead_order    INTEGER,
  UNIQUE (notice_id, channel)
);
CREATE INDEX deliveries_pending ON deliveries (position) WHERE state = 'pending';
CREATE INDEX deliveries_dead ON deliveries (dead_order) WHERE state = 'dead';
CREATE TABLE preferences (
  user_id        TEXT PRIMARY KEY,
  webhook        INTEGER NOT NULL,
  email          INTEGER NOT NULL,
  sms            INTEGER NOT NULL,
  email_address  TEXT NOT NULL,
  phone          TEXT NOT NULL,
  webhook_url    TEXT NOT NULL,
  webhook_secret TEXT NOT NULL
);
)sql";

const std::vector<Migration>& notice_migrations() {
  static const std::vector<Migration> list{{1, kVersion1}};
  return list;
}

std::int64_t micros(domain::Timestamp at) {
  return at.time_since_epoch().count();
}

std::int64_t sql_limit(std::size_t limit) {
  constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  return static_cast<std::int64_t>(limit > kMax ? kMax : limit);
}

std::vector<ports::DeliveryRecord> read_deliveries(Connection& connection, const std::string& sql,
                                                   std::size_t limit) {
  auto statement = connection.prepare(sql);
  statement->bind(1, sql_limit(limit));
  std::vector<ports::DeliveryRecord> records;
  while (statement->step()) records.push_back(sql::read_delivery(*statement));
  return records;
}

std::optional<ports::AuctionWatch> read_watch(Connection& connection,
                                              const domain::AuctionId& auction_id) {
  std::optional<ports::AuctionWatch> watch;
  {
    auto statement = connection.prepare(
        "SELECT seller_id, ends_at, ending_soon_sent, finished FROM watches WHERE auction_id = ?1");
    statement->bind(1, auction_id.view());
    if (!statement->step()) return std::nullopt;
    watch.emplace();
    watch->auction_id = auction_id;
    watch->seller_id = sql::user_id_column(*statement, 0);
    watch->ends_at = domain::Timestamp{domain::Duration{statement->column_int64(1)}};
    watch->ending_soon_sent = statement->column_int64(2) != 0;
    watch->finished = statement->column_int64(3) != 0;
  }
  auto statement = connection.prepare(
      "SELECT user_id FROM participants WHERE auction_id = ?1 ORDER BY position");
  statement->bind(1, auction_id.view());
  while (statement->step()) watch->participants.push_back(sql::user_id_column(*statement, 0));
  return watch;
}

void write_watch(Connection& connection, const ports::AuctionWatch& watch) {
  {
    // The upsert rule of ports::merge_watch, in SQL.
    auto statement = connection.prepare(
        "INSERT INTO watches (auction_id, seller_id, ends_at, ending_soon_sent, finished) "
        "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (auction_id) DO UPDATE SET "
        "seller_id = CASE WHEN excluded.seller_id <> '' THEN excluded.seller_id ELSE seller_id "
        "END, ends_at = CASE WHEN excluded.ends_at <> 0 THEN excluded.ends_at ELSE ends_at END, "
        "ending_soon_sent = max(ending_soon_sent, excluded.ending_soon_sent), "
        "finished = max(finished, excluded.finished)");
    statement->bind(1, watch.auction_id.view());
    statement->bind(2, watch.seller_id.view());
    statement->bind(3, micros(watch.ends_at));
    statement->bind(4, std::int64_t{watch.ending_soon_sent});
    statement->bind(5, std::int64_t{watch.finished});
    statement->step();
  }
  for (const auto& user : watch.participants) {
    auto statement = connection.prepare(
        "INSERT OR IGNORE INTO participants (auction_id, position, user_id) VALUES (?1, "
        "(SELECT count(*) FROM participants WHERE auction_id = ?1), ?2)");
    statement->bind(1, watch.auction_id.view());
    statement->bind(2, user.view());
    statement->step();
  }
}

void write_inbox(Connection& connection, const ports::InboxNotice& entry) {
  auto statement =
      connection.prepare(std::string("INSERT OR IGNORE INTO inbox (") + sql::kInboxColumns +
                         ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  sql::bind_inbox(*statement, entry);
  statement->step();
}

void write_delivery(Connection& connection, const ports::DeliveryRecord& record) {
  auto statement =
      connection.prepare(std::string("INSERT OR IGNORE INTO deliveries (") + kDeliveryColumns +
                         ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                         "'pending', ?11, ?12, ?13, ?14)");
  sql::bind_delivery(*statement, record);
  statement->step();
}

ports::InboxPage read_inbox(Connection& connection, const ports::InboxQuery& query) {
  ports::InboxPage page;
  {
    auto statement =
        connection.prepare("SELECT count(*) FROM inbox WHERE user_id = ?1 AND read = 0");
    statement->bind(1, query.user_id.view());
    statement->step();
    page.unread = static_cast<std::uint64_t>(statement->column_int64(0));
  }
  // One more row than asked tells whether another page follows. An unknown `before` (or one of
  // another user) matches no position, so the page is empty, as in the memory store.
  auto statement = connection.prepare(
      std::string("SELECT ") + sql::kInboxColumns +
      " FROM inbox WHERE user_id = ?1 AND (?2 IS NULL OR position < (SELECT position FROM inbox "
      "WHERE id = ?2 AND user_id = ?1)) ORDER BY position DESC LIMIT ?3");
  statement->bind(1, query.user_id.view());
  if (query.before) statement->bind(2, *query.before);
  statement->bind(
      3, sql_limit(query.limit == std::numeric_limits<std::size_t>::max() ? query.limit
                                                                          : query.limit + 1));
  while (statement->step()) page.notices.push_back(sql::read_inbox_notice(*statement));
  if (page.notices.size() > query.limit) {
    page.notices.pop_back();
    page.next = page.notices.back().notice.id;
  }
  return page;
}

std::size_t write_read_marks(Connection& connection, const domain::UserId& user_id,
                             const std::vector<std::string>& ids) {
  std::size_t marked = 0;
  if (ids.empty()) {
    auto statement =
        connection.prepare("UPDATE inbox SET read = 1 WHERE user_id = ?1 AND read = 0");
    statement->bind(1, user_id.view());
    statement->step();
    return static_cast<std::size_t>(connection.changes());
  }
  for (const auto& id : ids) {
    auto statement =
        connection.prepare("UPDATE inbox SET read = 1 WHERE id = ?1 AND user_id = ?2 AND read = 0");
    statement->bind(1, id);
    statement->bind(2, user_id.view());
    statement->step();
    marked += static_cast<std::size_t>(connection.changes());
  }
  return marked;
}

void write_outcome(Connection& connection, const ports::DeliveryOutcome& outcome) {
  if (outcome.state == ports::DeliveryState::sent) {
    auto statement = connection.prepare(
        "UPDATE deliveries SET state = 'sent' WHERE notice_id = ?1 AND channel = ?2 "
        "AND state = 'pending'");
    statement->bind(1, outcome.notice_id);
    statement->bind(2, outcome.channel);
    statement->step();
    return;
  }
  auto statement = connection.prepare(
      "UPDATE deliveries SET state = ?3, attempts = ?4, first_failure = coalesce(first_failure, "
      "?5), last_failure = ?5, last_error = ?6, dead_order = CASE WHEN ?3 = 'dead' THEN "
      "(SELECT coalesce(max(dead_order), 0) + 1 FROM deliveries) END "
      "WHERE notice_id = ?1 AND channel = ?2 AND state = 'pending'");
  statement->bind(1, outcome.notice_id);
  statement->bind(2, outcome.channel);
  statement->bind(3, state_name(outcome.state));
  statement->bind(4, std::int64_t{outcome.attempts});
  statement->bind(5, micros(outcome.at));
  statement->bind(6, outcome.error);
  statement->step();
}

ports::Preferences read_preferences(Connection& connection, const domain::UserId& user_id) {
  auto statement = connection.prepare(std::string("SELECT ") + sql::kPreferenceColumns +
                                      " FROM preferences WHERE user_id = ?1");
  statement->bind(1, user_id.view());
  if (!statement->step()) return {};
  return sql::read_preferences(*statement);
}

void write_preferences(Connection& connection, const domain::UserId& user_id,
                       const ports::Preferences& preferences) {
  auto statement =
      connection.prepare(std::string("INSERT OR REPLACE INTO preferences (user_id, ") +
                         sql::kPreferenceColumns + ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  sql::bind_preferences(*statement, user_id, preferences);
  statement->step();
}

}  // namespace

SqliteNoticeStore::SqliteNoticeStore(const std::filesystem::path& path,
                                     SqliteNoticeStoreOptions options) {
  const auto failure = [&path](const std::string& why) {
    return std::runtime_error("cannot open the SQLite notice store " + path.string() + ": " + why);
  };
  const auto busy_ms = static_cast<int>(std::min<std::chrono::milliseconds::rep>(
      options.busy_timeout.count(), std::numeric_limits<int>::max()));
  try {
    connection_ = std::make_unique<Connection>(path, ConnectionOptions{false, busy_ms});
    if (connection_->read_only()) throw failure("the file is read-only");
    const std::string mode = connection_->query_text("PRAGMA journal_mode = WAL");
    if (mode != "wal") throw failure("cannot use write-ahead logging (journal mode " + mode + ")");
    migrate(*connection_, notice_migrations());
  } catch (const SqliteError& error) {
    throw failure(error.what());
  } catch (const SchemaTooNew& too_new) {
    throw failure(too_new.what());
  }
  worker_ = std::thread([this] {
    ports::name_this_thread("sqlite-notices");
    run();
  });
}

SqliteNoticeStore::~SqliteNoticeStore() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void SqliteNoticeStore::run() {
  for (;;) {
    std::vector<Job> group;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) {
        closed_ = true;
        return;
      }
      while (!jobs_.empty() && group.size() < kMaxGroup) {
        group.push_back(std::move(jobs_.front()));
        jobs_.pop_front();
      }
    }
    run_group(group);
  }
}

void SqliteNoticeStore::run_group(std::vector<Job>& group) {
  Connection& connection = *connection_;
  std::optional<ports::Error> failed;
  try {
    // IMMEDIATE: take the write lock up front, so a read-modify-write never fails half way
    // on another process's lock (a gateway process writes preferences too).
    connection.exec("BEGIN IMMEDIATE");
    for (auto& job : group) job.run(connection);
    connection.exec("COMMIT");
  } catch (const SqliteError& error) {
    rollback_quietly(connection);
    failed = to_port_error(error);
  }
  for (auto& job : group) job.answer(failed);
}

template <typename T, typename Work>
void SqliteNoticeStore::enqueue(ports::Callback<T> done, Work work) {
  auto result =
      std::make_shared<ports::Result<T>>(ports::Error{ports::ErrorKind::permanent, "not run"});
  Job job{[result, work = std::move(work)](Connection& connection) mutable {
            // Its own savepoint: a call that fails undoes its own writes, not the group's.
            connection.exec("SAVEPOINT call");
            const auto undo = [&connection] {
              connection.exec("ROLLBACK TO call");
              connection.exec("RELEASE call");
            };
            try {
              if constexpr (std::is_void_v<T>) {
                work(connection);
                *result = ports::Result<void>{};
              } else {
                *result = ports::Result<T>(work(connection));
              }
              connection.exec("RELEASE call");
            } catch (const SqliteError& error) {
              // Some errors (I/O, a full disk) roll the whole transaction back: the group fails.
              if (!connection.in_transaction()) throw;
              undo();
              *result = to_port_error(error);
            } catch (const std::exception& error) {
              undo();
              *result =
                  ports::Error{ports::ErrorKind::permanent, std::string("sqlite: ") + error.what()};
            }
          },
          [result, done = std::move(done)](const std::optional<ports::Error>& group_error) mutable {
            done(group_error ? ports::Result<T>(*group_error) : std::move(*result));
          }};
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      jobs_.push_back(std::move(job));
      ready_.notify_one();
      return;
    }
  }
  // `done` is in the job now: answer through it.
  job.answer(ports::Error{ports::ErrorKind::permanent, "the SQLite notice store is closed"});
}

void SqliteNoticeStore::record(ports::NoticeBatch batch,
                               ports::Callback<std::vector<ports::DeliveryRecord>> done) {
  enqueue(std::move(done), [batch = std::move(batch)](Connection& connection) {
    for (const auto& watch : batch.watches) write_watch(connection, watch);
    for (const auto& entry : batch.inbox) write_inbox(connection, entry);
    std::vector<ports::DeliveryRecord> pending;
    for (const auto& record : batch.deliveries) {
      write_delivery(connection, record);
      auto statement = connection.prepare(std::string("SELECT ") + kDeliveryColumns +
                                          " FROM deliveries WHERE notice_id = ?1 AND channel = "
                                          "?2 AND state = 'pending'");
      statement->bind(1, record.notice.id);
      statement->bind(2, record.channel);
      if (statement->step()) pending.push_back(sql::read_delivery(*statement));
    }
    return pending;
  });
}

void SqliteNoticeStore::get_watch(const domain::AuctionId& auction_id,
                                  ports::Callback<std::optional<ports::AuctionWatch>> done) {
  enqueue(std::move(done),
          [auction_id](Connection& connection) { return read_watch(connection, auction_id); });
}

void SqliteNoticeStore::list_open_watches(const domain::AuctionId& after, std::size_t limit,
                                          ports::Callback<std::vector<ports::AuctionWatch>> done) {
  enqueue(std::move(done), [after, limit](Connection& connection) {
    std::vector<domain::AuctionId> ids;
    {
      auto statement = connection.prepare(
          "SELECT auction_id FROM watches WHERE auction_id > ?1 AND finished = 0 "
          "ORDER BY auction_id LIMIT ?2");
      statement->bind(1, after.view());
      statement->bind(2, sql_limit(limit));
      while (statement->step()) ids.push_back(sql::auction_id_column(*statement, 0));
    }
    std::vector<ports::AuctionWatch> watches;
    watches.reserve(ids.size());
    for (const auto& id : ids) watches.push_back(*read_watch(connection, id));
    return watches;
  });
}

void SqliteNoticeStore::pending_deliveries(
    std::size_t limit, ports::Callback<std::vector<ports::DeliveryRecord>> done) {
  enqueue(std::move(done), [limit](Connection& connection) {
    return read_deliveries(connection,
                           std::string("SELECT ") + kDeliveryColumns +
                               " FROM deliveries WHERE state = 'pending' ORDER BY position "
                               "LIMIT ?1",
                           limit);
  });
}

void SqliteNoticeStore::settle(ports::DeliveryOutcome outcome, ports::Callback<void> done) {
  enqueue(std::move(done), [outcome = std::move(outcome)](Connection& connection) {
    write_outcome(connection, outcome);
  });
}

void SqliteNoticeStore::dead_letters(std::size_t limit,
                                     ports::Callback<std::vector<ports::DeliveryRecord>> done) {
  enqueue(std::move(done), [limit](Connection& connection) {
    return read_deliveries(connection,
                           std::string("SELECT ") + kDeliveryColumns +
                               " FROM deliveries WHERE state = 'dead' ORDER BY dead_order DESC "
                               "LIMIT ?1",
                           limit);
  });
}

void SqliteNoticeStore::list_inbox(const ports::InboxQuery& query,
                                   ports::Callback<ports::InboxPage> done) {
  enqueue(std::move(done),
          [query](Connection& connection) { return read_inbox(connection, query); });
}

void SqliteNoticeStore::mark_read(const domain::UserId& user_id, std::vector<std::string> ids,
                                  ports::Callback<std::size_t> done) {
  enqueue(std::move(done), [user_id, ids = std::move(ids)](Connection& connection) {
    return write_read_marks(connection, user_id, ids);
  });
}

void SqliteNoticeStore::get_preferences(std::vector<domain::UserId> user_ids,
                                        ports::Callback<std::vector<ports::Preferences>> done) {
  enqueue(std::move(done), [user_ids = std::move(user_ids)](Connection& connection) {
    std::vector<ports::Preferences> answers;
    for (const auto& user : user_ids) answers.push_back(read_preferences(connection, user));
    return answers;
  });
}

void SqliteNoticeStore::put_preferences(const domain::UserId& user_id,
                                        ports::Preferences preferences,
                                        ports::Callback<void> done) {
  enqueue(std::move(done), [user_id, preferences = std::move(preferences)](Connection& connection) {
    write_preferences(connection, user_id, preferences);
  });
}

}  // namespace gavel::adapters::sqlite
