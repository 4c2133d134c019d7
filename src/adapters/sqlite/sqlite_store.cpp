#include "adapters/sqlite/sqlite_store.hpp"

#include <sqlite3.h>

#include <exception>
#include <limits>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "adapters/sql/records.hpp"
#include "adapters/sqlite/connection.hpp"
#include "adapters/sqlite/schema.hpp"
#include "ports/thread_name.hpp"

namespace gavel::adapters::sqlite {
namespace {

using sql::bind_auction;
using sql::bind_bid;
using sql::bind_event;
using sql::kAuctionColumnCount;
using sql::kAuctionColumns;
using sql::kBidColumnCount;
using sql::kBidColumns;
using sql::kEventColumnCount;
using sql::kEventColumns;
using sql::read_bid;
using sql::read_event;

// --- SQL ---------------------------------------------------------------------------------

std::string placeholders(int count) {
  std::string out;
  for (int i = 1; i <= count; ++i) {
    if (i > 1) out += ", ";
    out += "?" + std::to_string(i);
  }
  return out;
}

// Creates an auction; changes nothing (0 rows) when it exists already.
const std::string& insert_auction_sql() {
  static const std::string sql = std::string("INSERT INTO auctions (") + kAuctionColumns +
                                 ") VALUES (" + placeholders(kAuctionColumnCount) +
                                 ") ON CONFLICT (id) DO NOTHING";
  return sql;
}

// Replaces an auction's row only while it is at the expected seq (?26) and event count (?27):
// a rejection takes an event number without moving the seq (ports/store.hpp, AuctionWrite).
// `accepted` (?23) is written only by a whole-history write (?28 = 1, sql::bind_auction).
const std::string& update_auction_sql() {
  static_assert(kAuctionColumnCount == 25 && sql::kWholeHistoryParam == 28);
  static const std::string sql = std::string("UPDATE auctions SET (") + kAuctionColumns + ") = (" +
                                 placeholders(22) +
                                 ", CASE WHEN ?28 = 1 THEN ?23 ELSE accepted END, ?24, ?25)"
                                 " WHERE id = ?1 AND seq = ?26 AND events = ?27";
  return sql;
}

const std::string& insert_history_sql() {
  static const std::string sql =
      std::string("INSERT INTO auction_history (") + sql::kHistoryColumns + ") VALUES (?1, ?2, ?3)";
  return sql;
}

const std::string& delete_history_sql() {
  static const std::string sql = "DELETE FROM auction_history WHERE auction_id = ?1";
  return sql;
}

const std::string& insert_bid_sql() {
  static const std::string sql = std::string("INSERT INTO bids (") + kBidColumns + ") VALUES (" +
                                 placeholders(kBidColumnCount) + ") ON CONFLICT (id) DO NOTHING";
  return sql;
}

const std::string& insert_event_sql() {
  static const std::string sql = std::string("INSERT INTO outbox (") + kEventColumns +
                                 ") VALUES (" + placeholders(kEventColumnCount) +
                                 ") ON CONFLICT (event_id) DO NOTHING";
  return sql;
}

const std::string& insert_audit_sql() {
  static const std::string sql = std::string("INSERT INTO audit_outbox (") +
                                 sql::kAuditOutboxColumns +
                                 ") VALUES (?1, ?2, ?3, ?4) ON CONFLICT (key) DO NOTHING";
  return sql;
}

const std::string& delete_audit_sql() {
  static const std::string sql = "DELETE FROM audit_outbox WHERE key = ?1";
  return sql;
}

const std::string& pending_audit_sql() {
  static const std::string sql = std::string("SELECT ") + sql::kAuditOutboxColumns +
                                 " FROM audit_outbox ORDER BY position LIMIT ?1";
  return sql;
}

const std::string& version_of_sql() {
  static const std::string sql = "SELECT seq, events FROM auctions WHERE id = ?1";
  return sql;
}

const std::string& mark_published_sql() {
  static const std::string sql =
      "UPDATE outbox SET published = 1 WHERE event_id = ?1 AND published = 0";
  return sql;
}

// The auction reads come with their history chunks (sql::with_history_chunks).
const std::string& select_auction_sql() {
  static const std::string sql = sql::with_history_chunks(std::string("SELECT ") + kAuctionColumns +
                                                          " FROM auctions WHERE id = ?1");
  return sql;
}

const std::string& list_auctions_sql() {
  static const std::string sql =
      sql::with_history_chunks(std::string("SELECT ") + kAuctionColumns +
                               " FROM auctions WHERE id > ?1 ORDER BY id LIMIT ?2");
  return sql;
}

// Served by the index (status, id).
const std::string& list_auctions_by_status_sql() {
  static const std::string sql =
      sql::with_history_chunks(std::string("SELECT ") + kAuctionColumns +
                               " FROM auctions WHERE status = ?3 AND id > ?1 ORDER BY id LIMIT ?2");
  return sql;
}

const std::string& select_bid_sql() {
  static const std::string sql = std::string("SELECT ") + kBidColumns + " FROM bids WHERE id = ?1";
  return sql;
}

// The repeated `idempotency_key <> ''` lets SQLite use the partial index bids_by_key, whose
// entries end in rowid: the first match in the index is the first bid stored with the key.
const std::string& find_bid_by_key_sql() {
  static const std::string sql = std::string("SELECT ") + kBidColumns +
                                 " FROM bids WHERE bidder_id = ?1 AND idempotency_key = ?2"
                                 " AND idempotency_key <> '' ORDER BY rowid LIMIT 1";
  return sql;
}

const std::string& list_bids_sql() {
  static const std::string sql =
      std::string("SELECT ") + kBidColumns +
      " FROM bids WHERE auction_id = ?1 AND position > ?2 ORDER BY position, rowid LIMIT ?3";
  return sql;
}

// Served by the partial index outbox_pending.
const std::string& pending_events_sql() {
  static const std::string sql = std::string("SELECT ") + kEventColumns +
                                 " FROM outbox WHERE published = 0 ORDER BY position LIMIT ?1";
  return sql;
}

// --- errors ------------------------------------------------------------------------------

ports::Error closed_error() {
  return {ports::ErrorKind::permanent, "the SQLite store is closed"};
}

// Runs a read and turns its exceptions into the port's errors.
template <typename T, typename Query>
ports::Result<T> run_read(Connection& connection, Query& query) {
  try {
    return ports::Result<T>(query(connection));
  } catch (const SqliteError& error) {
    return to_port_error(error);
  } catch (const CorruptRow& error) {
    return ports::Error{ports::ErrorKind::permanent, std::string("sqlite: ") + error.what()};
  } catch (const std::exception& error) {
    return ports::Error{ports::ErrorKind::permanent, std::string("sqlite: ") + error.what()};
  }
}

// --- writes ------------------------------------------------------------------------------

std::string describe_conflict(Connection& connection, const ports::AuctionWrite& write) {
  std::optional<sql::StoredVersion> stored;
  auto statement = connection.prepare(version_of_sql());
  statement->bind(1, write.terms.id.view());
  if (statement->step()) {
    stored = sql::StoredVersion{static_cast<std::uint64_t>(statement->column_int64(0)),
                                static_cast<std::uint64_t>(statement->column_int64(1))};
  }
  return sql::describe_conflict(write, stored);
}

// Writes one batch inside the open transaction. Answers the conflict, if any; the caller then
// rolls the batch back. Throws SqliteError.
std::optional<ports::Error> apply_batch(Connection& connection, const ports::CommitBatch& batch) {
  for (const auto& write : batch.auctions) {
    // The condition is part of the statement: no row changes unless it holds. A batch that
    // writes one auction twice checks the second write against the first one's seq and events.
    const bool create = write.expected_seq == 0;
    const bool whole_history = sql::writes_whole_history(write);
    {
      auto statement = connection.prepare(create ? insert_auction_sql() : update_auction_sql());
      bind_auction(*statement, write.terms, write.state, whole_history);
      if (!create) {
        statement->bind(kAuctionColumnCount + 1, static_cast<std::int64_t>(write.expected_seq));
        statement->bind(kAuctionColumnCount + 2, static_cast<std::int64_t>(write.expected_events));
        statement->bind(sql::kWholeHistoryParam, std::int64_t{whole_history ? 1 : 0});
      }
      statement->step();
    }
    if (connection.changes() != 1) {
      return ports::Error{ports::ErrorKind::conflict, describe_conflict(connection, write)};
    }
    if (whole_history && !create) {
      auto statement = connection.prepare(delete_history_sql());
      statement->bind(1, write.terms.id.view());
      statement->step();
    }
    auto chunk = connection.prepare(insert_history_sql());
    if (sql::bind_history_chunk(*chunk, write)) chunk->step();
  }
  for (const auto& bid : batch.bids) {
    auto statement = connection.prepare(insert_bid_sql());
    bind_bid(*statement, bid);
    statement->step();
  }
  for (const auto& event : batch.events) {
    auto statement = connection.prepare(insert_event_sql());
    bind_event(*statement, event);
    statement->step();
  }
  for (const auto& record : batch.audit) {
    auto statement = connection.prepare(insert_audit_sql());
    sql::bind_audit_outbox(*statement, record);
    statement->step();
  }
  return std::nullopt;
}

std::optional<ports::Error> apply_mark_published(Connection& connection,
                                                 const std::vector<std::string>& event_ids) {
  for (const auto& id : event_ids) {
    auto statement = connection.prepare(mark_published_sql());
    statement->bind(1, std::string_view{id});
    statement->step();
  }
  return std::nullopt;
}

std::optional<ports::Error> apply_audit_published(Connection& connection,
                                                  const std::vector<std::string>& keys) {
  for (const auto& key : keys) {
    auto statement = connection.prepare(delete_audit_sql());
    statement->bind(1, std::string_view{key});
    statement->step();
  }
  return std::nullopt;
}

}  // namespace

// --- lifecycle ---------------------------------------------------------------------------

SqliteStore::SqliteStore(const std::filesystem::path& path, SqliteStoreOptions options)
    : options_(options) {
  const auto failure = [&](const std::string& why) {
    return std::runtime_error("cannot open the SQLite store " + path.string() + ": " + why);
  };
  const std::filesystem::path directory =
      path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  std::error_code error;
  if (!std::filesystem::is_directory(directory, error)) {
    throw failure(std::filesystem::exists(directory, error)
                      ? directory.string() + " is not a directory"
                      : "directory " + directory.string() + " does not exist");
  }
  const auto busy_ms = static_cast<int>(std::min<std::chrono::milliseconds::rep>(
      options_.busy_timeout.count(), std::numeric_limits<int>::max()));
  try {
    writer_ = std::make_unique<Connection>(path, ConnectionOptions{false, busy_ms});
    if (writer_->read_only()) throw failure("the file is read-only");
    const std::string mode = writer_->query_text("PRAGMA journal_mode = WAL");
    if (mode != "wal") throw failure("cannot use write-ahead logging (journal mode " + mode + ")");
    migrate(*writer_);
    reader_ = std::make_unique<Connection>(path, ConnectionOptions{true, busy_ms});
  } catch (const SqliteError& sqlite_error) {
    std::string why = sqlite_error.what();
    if (sqlite_error.primary() == SQLITE_CANTOPEN || sqlite_error.primary() == SQLITE_READONLY ||
        sqlite_error.primary() == SQLITE_PERM) {
      why += " (is the directory writable?)";
    }
    throw failure(why);
  } catch (const SchemaTooNew& too_new) {
    throw failure(too_new.what());
  }
  if (options_.max_group == 0) options_.max_group = 1;
  writer_thread_ = std::thread([this] {
    ports::name_this_thread("sqlite-store");
    run_writer();
  });
  try {
    reader_thread_ = std::thread([this] {
      ports::name_this_thread("sqlite-reads");
      run_reader();
    });
  } catch (...) {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    writes_ready_.notify_all();
    writer_thread_.join();
    throw;
  }
}

SqliteStore::~SqliteStore() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  writes_ready_.notify_all();
  reads_ready_.notify_all();
  writer_thread_.join();
  reader_thread_.join();
  // A callback may have queued more work after its thread left: do it here, until nothing is
  // left, so that every call is answered once.
  for (;;) {
    std::deque<WriteJob> writes;
    std::deque<ReadJob> reads;
    {
      std::lock_guard lock(mutex_);
      if (writes_.empty() && reads_.empty()) {
        closed_ = true;
        break;
      }
      writes.swap(writes_);
      reads.swap(reads_);
    }
    if (!writes.empty()) {
      std::vector<WriteJob> group(std::make_move_iterator(writes.begin()),
                                  std::make_move_iterator(writes.end()));
      apply_group(group);
    }
    for (auto& read : reads) read(*reader_);
  }
}

// --- queues and threads ------------------------------------------------------------------

void SqliteStore::enqueue_write(WriteJob job) {
  {
    std::unique_lock lock(mutex_);
    if (!closed_) {
      writes_.push_back(std::move(job));
      lock.unlock();
      writes_ready_.notify_one();
      return;
    }
  }
  job.done(closed_error());
}

template <typename T, typename Query>
void SqliteStore::enqueue_read(ports::Callback<T> done, Query query) {
  {
    std::unique_lock lock(mutex_);
    if (!closed_) {
      reads_.emplace_back(
          [done = std::move(done), query = std::move(query)](Connection& connection) mutable {
            done(run_read<T>(connection, query));
          });
      lock.unlock();
      reads_ready_.notify_one();
      return;
    }
  }
  done(closed_error());
}

bool SqliteStore::wait_for_due_write(std::unique_lock<std::mutex>& lock) {
  for (;;) {
    if (writes_.empty()) {
      if (stopping_) return false;
      writes_ready_.wait(lock);
      continue;
    }
    if (stopping_) return true;
    auto due = writes_.front().due;
    for (const auto& write : writes_) due = std::min(due, write.due);
    if (due <= std::chrono::steady_clock::now()) return true;
    writes_ready_.wait_until(lock, due);
  }
}

void SqliteStore::run_writer() {
  for (;;) {
    std::vector<WriteJob> group;
    {
      std::unique_lock lock(mutex_);
      if (!wait_for_due_write(lock)) return;
      // Everything that queued up while the last transaction was being synced goes into the
      // next one: one fsync for many commits under load.
      while (!writes_.empty() && group.size() < options_.max_group) {
        group.push_back(std::move(writes_.front()));
        writes_.pop_front();
      }
    }
    apply_group(group);
  }
}

void SqliteStore::run_reader() {
  for (;;) {
    ReadJob job;
    {
      std::unique_lock lock(mutex_);
      reads_ready_.wait(lock, [this] { return stopping_ || !reads_.empty(); });
      if (reads_.empty()) return;
      job = std::move(reads_.front());
      reads_.pop_front();
    }
    job(*reader_);
  }
}

void SqliteStore::apply_group(std::vector<WriteJob>& group) {
  std::vector<ports::Result<void>> answers(group.size());
  Connection& connection = *writer_;
  try {
    connection.exec("BEGIN IMMEDIATE");
    for (std::size_t i = 0; i < group.size(); ++i) {
      // Each write in its own savepoint: a conflict or failure undoes it alone, and the others
      // of the group still commit together.
      connection.exec("SAVEPOINT write");
      try {
        const auto refused = std::visit(
            [&](const auto& work) {
              using Work = std::decay_t<decltype(work)>;
              if constexpr (std::is_same_v<Work, ports::CommitBatch>) {
                return apply_batch(connection, work);
              } else if constexpr (std::is_same_v<Work, AuditPublished>) {
                return apply_audit_published(connection, work.keys);
              } else {
                return apply_mark_published(connection, work);
              }
            },
            group[i].work);
        if (refused) {
          connection.exec("ROLLBACK TO write");
          answers[i] = *refused;
        }
      } catch (const SqliteError& error) {
        // Some errors (I/O, full disk) make SQLite roll back the whole transaction by itself:
        // then nothing of the group is written, and every write gets the error.
        if (!connection.in_transaction()) throw;
        connection.exec("ROLLBACK TO write");
        answers[i] = to_port_error(error);
      }
      connection.exec("RELEASE write");
    }
    connection.exec("COMMIT");
  } catch (const SqliteError& error) {
    rollback_quietly(connection);
    answers.assign(group.size(), to_port_error(error));
  } catch (const std::exception& error) {
    rollback_quietly(connection);
    answers.assign(group.size(), ports::Error{ports::ErrorKind::permanent,
                                              std::string("sqlite: ") + error.what()});
  }
  for (std::size_t i = 0; i < group.size(); ++i) group[i].done(std::move(answers[i]));
}

// --- the port ----------------------------------------------------------------------------

void SqliteStore::commit(ports::CommitBatch batch, ports::Callback<void> done) {
  enqueue_write(WriteJob{std::move(batch), std::move(done)});
}

void SqliteStore::mark_published(std::vector<std::string> event_ids, ports::Callback<void> done) {
  enqueue_write(WriteJob{std::move(event_ids), std::move(done),
                         std::chrono::steady_clock::now() + options_.mark_delay});
}

void SqliteStore::mark_audit_published(std::vector<std::string> keys, ports::Callback<void> done) {
  enqueue_write(WriteJob{AuditPublished{std::move(keys)}, std::move(done),
                         std::chrono::steady_clock::now() + options_.mark_delay});
}

void SqliteStore::get_auction(const domain::AuctionId& id,
                              ports::Callback<std::optional<ports::StoredAuction>> done) {
  enqueue_read(std::move(done), [id](Connection& connection) {
    std::vector<ports::StoredAuction> found;
    auto statement = connection.prepare(select_auction_sql());
    statement->bind(1, id.view());
    while (statement->step()) sql::read_auction_with_chunk(*statement, found);
    std::optional<ports::StoredAuction> answer;
    if (!found.empty()) answer = std::move(found.front());
    return answer;
  });
}

void SqliteStore::list_auctions(const ports::AuctionListQuery& query,
                                ports::Callback<std::vector<ports::StoredAuction>> done) {
  enqueue_read(std::move(done), [query](Connection& connection) {
    std::vector<ports::StoredAuction> answer;
    if (query.limit == 0) return answer;
    auto statement =
        connection.prepare(query.status ? list_auctions_by_status_sql() : list_auctions_sql());
    statement->bind(1, query.after.view());
    statement->bind(2, sql::limit_param(query.limit));
    if (query.status) statement->bind(3, domain::to_string(*query.status));
    while (statement->step()) sql::read_auction_with_chunk(*statement, answer);
    return answer;
  });
}

void SqliteStore::get_bid(const domain::BidId& id,
                          ports::Callback<std::optional<ports::StoredBid>> done) {
  enqueue_read(std::move(done), [id](Connection& connection) {
    std::optional<ports::StoredBid> answer;
    auto statement = connection.prepare(select_bid_sql());
    statement->bind(1, id.view());
    if (statement->step()) answer = read_bid(*statement);
    return answer;
  });
}

void SqliteStore::find_bid_by_key(const domain::UserId& bidder_id, const std::string& key,
                                  ports::Callback<std::optional<ports::StoredBid>> done) {
  enqueue_read(std::move(done), [bidder_id, key](Connection& connection) {
    std::optional<ports::StoredBid> answer;
    if (key.empty()) return answer;  // bids without a key are never found by one
    auto statement = connection.prepare(find_bid_by_key_sql());
    statement->bind(1, bidder_id.view());
    statement->bind(2, std::string_view{key});
    if (statement->step()) answer = read_bid(*statement);
    return answer;
  });
}

void SqliteStore::list_bids(const domain::AuctionId& auction_id, std::uint64_t after_position,
                            std::size_t limit,
                            ports::Callback<std::vector<ports::StoredBid>> done) {
  enqueue_read(std::move(done), [auction_id, after_position, limit](Connection& connection) {
    std::vector<ports::StoredBid> answer;
    if (limit == 0) return answer;
    auto statement = connection.prepare(list_bids_sql());
    statement->bind(1, auction_id.view());
    statement->bind(2, static_cast<std::int64_t>(after_position));
    statement->bind(3, sql::limit_param(limit));
    while (statement->step()) answer.push_back(read_bid(*statement));
    return answer;
  });
}

void SqliteStore::pending_events(std::size_t limit,
                                 ports::Callback<std::vector<domain::Event>> done) {
  enqueue_read(std::move(done), [limit](Connection& connection) {
    std::vector<domain::Event> answer;
    if (limit == 0) return answer;
    auto statement = connection.prepare(pending_events_sql());
    statement->bind(1, sql::limit_param(limit));
    while (statement->step()) answer.push_back(read_event(*statement));
    return answer;
  });
}

void SqliteStore::pending_audit(std::size_t limit,
                                ports::Callback<std::vector<ports::OutgoingMessage>> done) {
  enqueue_read(std::move(done), [limit](Connection& connection) {
    std::vector<ports::OutgoingMessage> answer;
    if (limit == 0) return answer;
    auto statement = connection.prepare(pending_audit_sql());
    statement->bind(1, sql::limit_param(limit));
    while (statement->step()) answer.push_back(sql::read_audit_outbox(*statement));
    return answer;
  });
}

}  // namespace gavel::adapters::sqlite
