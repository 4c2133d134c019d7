#include "adapters/sqlite/sqlite_audit_log.hpp"

#include <sqlite3.h>

#include <limits>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "adapters/sql/audit_records.hpp"
#include "adapters/sqlite/connection.hpp"
#include "adapters/sqlite/schema.hpp"
#include "ports/thread_name.hpp"
#include "ports/wire/audit_chain.hpp"

namespace gavel::adapters::sqlite {
namespace {

// Version 1. occurred_at is microseconds since the epoch. The triggers make the table
// append-only for anything that goes through SQLite's rules.
constexpr const char* kAuditVersion1 = R"sql(
CREATE TABLE audit_log (
  seq         INTEGER PRIMARY KEY,
  key         TEXT NOT NULL,
  auction_id  TEXT NOT NULL,
  kind        TEXT NOT NULL,
  occurred_at INTEGER NOT NULL,
  body        TEXT NOT NULL,
  prev_hash   TEXT NOT NULL,
  hash        TEXT NOT NULL
);
CREATE UNIQUE INDEX audit_log_by_key ON audit_log (key);
CREATE INDEX audit_log_by_auction ON audit_log (auction_id, seq);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
)sql";

const std::vector<Migration>& audit_migrations() {
  static const std::vector<Migration> all{{1, kAuditVersion1}};
  return all;
}

using sql::kAuditColumns;

const std::string& insert_sql() {
  static const std::string sql = std::string("INSERT INTO audit_log (") + kAuditColumns +
                                 ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
  return sql;
}

const std::string& seq_of_key_sql() {
  static const std::string sql = "SELECT seq FROM audit_log WHERE key = ?1";
  return sql;
}

const std::string& head_sql() {
  static const std::string sql = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1";
  return sql;
}

const std::string& entries_sql() {
  static const std::string sql = std::string("SELECT ") + kAuditColumns +
                                 " FROM audit_log WHERE seq > ?1 ORDER BY seq LIMIT ?2";
  return sql;
}

// Served by the index (auction_id, seq).
const std::string& entries_for_auction_sql() {
  static const std::string sql =
      std::string("SELECT ") + kAuditColumns +
      " FROM audit_log WHERE auction_id = ?3 AND seq > ?1 ORDER BY seq LIMIT ?2";
  return sql;
}

ports::Error closed_error() {
  return {ports::ErrorKind::permanent, "the SQLite audit log is closed"};
}

// LIMIT and seq take an int64; anything larger means "no limit" or "past the end".
std::int64_t to_sql_int(std::uint64_t value) {
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  return static_cast<std::int64_t>(value > kMax ? kMax : value);
}

ports::AuditHead read_head(Connection& connection) {
  auto statement = connection.prepare(head_sql());
  if (!statement->step()) return wire::empty_head();
  return {static_cast<std::uint64_t>(statement->column_int64(0)),
          std::string(statement->column_text(1))};
}

std::optional<std::uint64_t> seq_of_key(Connection& connection, const std::string& key) {
  auto statement = connection.prepare(seq_of_key_sql());
  statement->bind(1, std::string_view{key});
  if (!statement->step()) return std::nullopt;
  return static_cast<std::uint64_t>(statement->column_int64(0));
}

void insert(Connection& connection, const ports::AuditEntry& entry) {
  auto statement = connection.prepare(insert_sql());
  statement->bind(1, to_sql_int(entry.seq));
  statement->bind(2, std::string_view{entry.key});
  statement->bind(3, entry.auction_id.view());
  statement->bind(4, std::string_view{entry.kind});
  statement->bind(5, static_cast<std::int64_t>(entry.occurred_at.time_since_epoch().count()));
  statement->bind(6, std::string_view{entry.body});
  statement->bind(7, std::string_view{entry.prev_hash});
  statement->bind(8, std::string_view{entry.hash});
  statement->step();
}

// Appends inside the open transaction; a refused entry answers its error and the caller rolls
// everything back.
ports::Result<std::vector<ports::AuditAppendOutcome>> append_all(
    Connection& connection, const std::vector<ports::AuditAppend>& entries) {
  std::vector<ports::AuditAppendOutcome> outcomes;
  ports::AuditHead head = read_head(connection);
  for (const auto& append : entries) {
    // Also finds a key appended earlier in this call: the insert is visible to the transaction.
    if (const auto existing = seq_of_key(connection, append.key)) {
      outcomes.push_back({*existing, true});
      continue;
    }
    auto entry = wire::chain_entry(head, append);
    if (!entry) return entry.error();
    insert(connection, entry.value());
    head = {entry.value().seq, entry.value().hash};
    outcomes.push_back({head.seq, false});
  }
  return outcomes;
}

std::vector<ports::AuditEntry> read_page(Statement& statement) {
  std::vector<ports::AuditEntry> page;
  while (statement.step()) page.push_back(sql::read_audit_entry(statement));
  return page;
}

}  // namespace

SqliteAuditLog::SqliteAuditLog(const std::filesystem::path& path, SqliteAuditLogOptions options) {
  const auto failure = [&](const std::string& why) {
    return std::runtime_error("cannot open the SQLite audit log " + path.string() + ": " + why);
  };
  const std::filesystem::path directory =
      path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  std::error_code error;
  if (!std::filesystem::is_directory(directory, error)) {
    throw failure("directory " + directory.string() + " does not exist");
  }
  const auto busy_ms = static_cast<int>(std::min<std::chrono::milliseconds::rep>(
      options.busy_timeout.count(), std::numeric_limits<int>::max()));
  try {
    connection_ = std::make_unique<Connection>(path, ConnectionOptions{false, busy_ms});
    if (connection_->read_only()) throw failure("the file is read-only");
    const std::string mode = connection_->query_text("PRAGMA journal_mode = WAL");
    if (mode != "wal") throw failure("cannot use write-ahead logging (journal mode " + mode + ")");
    migrate(*connection_, audit_migrations());
  } catch (const SqliteError& sqlite_error) {
    throw failure(sqlite_error.what());
  } catch (const SchemaTooNew& too_new) {
    throw failure(too_new.what());
  }
  worker_ = std::thread([this] {
    ports::name_this_thread("sqlite-audit");
    run();
  });
}

SqliteAuditLog::~SqliteAuditLog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  worker_.join();
}

void SqliteAuditLog::run() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) {
        // Stopping with nothing left: later calls answer at once.
        closed_ = true;
        return;
      }
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

template <typename T, typename Work>
void SqliteAuditLog::enqueue(ports::Callback<T> done, Work work) {
  std::unique_lock lock(mutex_);
  if (closed_) {
    lock.unlock();
    done(closed_error());
    return;
  }
  jobs_.emplace_back([this, done = std::move(done), work = std::move(work)]() mutable {
    ports::Result<T> result = ports::Error{ports::ErrorKind::permanent, "not run"};
    try {
      result = work(*connection_);
    } catch (const SqliteError& error) {
      rollback_quietly(*connection_);
      result = to_port_error(error);
    } catch (const std::exception& error) {
      rollback_quietly(*connection_);
      result = ports::Error{ports::ErrorKind::permanent, std::string("sqlite: ") + error.what()};
    }
    done(std::move(result));
  });
  lock.unlock();
  ready_.notify_one();
}

void SqliteAuditLog::append(std::vector<ports::AuditAppend> entries,
                            ports::Callback<std::vector<ports::AuditAppendOutcome>> done) {
  enqueue(std::move(done),
          [entries = std::move(entries)](
              Connection& connection) -> ports::Result<std::vector<ports::AuditAppendOutcome>> {
            // IMMEDIATE: the head read and the inserts are one step, even with another process on
            // the same file.
            connection.exec("BEGIN IMMEDIATE");
            auto outcomes = append_all(connection, entries);
            connection.exec(outcomes.ok() ? "COMMIT" : "ROLLBACK");
            return outcomes;
          });
}

void SqliteAuditLog::entries_for_auction(const domain::AuctionId& auction_id,
                                         std::uint64_t after_seq, std::size_t limit,
                                         ports::Callback<std::vector<ports::AuditEntry>> done) {
  enqueue(std::move(done),
          [auction_id, after_seq,
           limit](Connection& connection) -> ports::Result<std::vector<ports::AuditEntry>> {
            auto statement = connection.prepare(entries_for_auction_sql());
            statement->bind(1, to_sql_int(after_seq));
            statement->bind(2, to_sql_int(limit));
            statement->bind(3, auction_id.view());
            return read_page(*statement);
          });
}

void SqliteAuditLog::entries(std::uint64_t after_seq, std::size_t limit,
                             ports::Callback<std::vector<ports::AuditEntry>> done) {
  enqueue(
      std::move(done),
      [after_seq, limit](Connection& connection) -> ports::Result<std::vector<ports::AuditEntry>> {
        auto statement = connection.prepare(entries_sql());
        statement->bind(1, to_sql_int(after_seq));
        statement->bind(2, to_sql_int(limit));
        return read_page(*statement);
      });
}

void SqliteAuditLog::head(ports::Callback<ports::AuditHead> done) {
  enqueue(std::move(done), [](Connection& connection) -> ports::Result<ports::AuditHead> {
    return read_head(connection);
  });
}

}  // namespace gavel::adapters::sqlite
