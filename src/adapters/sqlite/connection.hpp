#pragma once
// A thin RAII layer over the SQLite C API: one connection, its cached prepared statements, and
// errors as exceptions that keep SQLite's result code (the store maps them to ports::ErrorKind).
//
// Lifecycle: a Connection is opened on one thread and may be handed to another, but it is used
// by one thread at a time (it is opened with SQLITE_OPEN_NOMUTEX). Not thread-safe.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "adapters/sql/row.hpp"
#include "ports/result.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace gavel::adapters::sqlite {

/// A failed SQLite call. `code()` is the extended result code (e.g. SQLITE_BUSY_SNAPSHOT);
/// `primary()` its primary code (SQLITE_BUSY).
class SqliteError : public std::runtime_error {
 public:
  SqliteError(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int code() const { return code_; }
  int primary() const { return code_ & 0xff; }

 private:
  int code_;
};

/// A stored row that cannot be turned back into domain values (a damaged or foreign file).
using CorruptRow = sql::CorruptRow;

/// One prepared statement. Binding indexes start at 1, column indexes at 0 (as in SQLite). It is
/// both the parameters and the current row for the shared record code (adapters/sql).
class Statement final : public sql::Params, public sql::Row {
 public:
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  void bind(int index, std::int64_t value) override;
  void bind(int index, std::optional<std::int64_t> value) override;  ///< nullopt: NULL
  void bind(int index, std::string_view text) override;
  void bind_blob(int index, const std::vector<std::uint8_t>& bytes) override;

  /// Runs one step: true when a row is ready, false when done. Throws SqliteError.
  bool step();
  /// Resets the statement and clears its bindings, ready for the next use.
  void reset() noexcept;

  std::int64_t column_int64(int column) const override;
  std::optional<std::int64_t> column_optional_int64(int column) const override;  ///< NULL
  std::string_view column_text(int column) const override;
  std::vector<std::uint8_t> column_blob(int column) const override;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

/// A cached statement in use: reset (bindings cleared) when it goes out of scope, also when an
/// exception leaves the scope.
class StatementUse {
 public:
  explicit StatementUse(Statement& statement) : statement_(&statement) {}
  ~StatementUse() { statement_->reset(); }
  StatementUse(const StatementUse&) = delete;
  StatementUse& operator=(const StatementUse&) = delete;
  Statement* operator->() const { return statement_; }
  Statement& operator*() const { return *statement_; }

 private:
  Statement* statement_;
};

struct ConnectionOptions {
  bool read_only = false;
  int busy_timeout_ms = 5000;
};

class Connection {
 public:
  /// Opens `path` (creating it unless read_only) and sets the per-connection pragmas:
  /// synchronous=FULL, foreign_keys=ON, busy_timeout. Throws SqliteError.
  Connection(const std::filesystem::path& path, const ConnectionOptions& options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Runs SQL without results (may hold several statements). Throws SqliteError.
  void exec(const std::string& sql);
  /// Runs a statement that answers one row of one value (a PRAGMA, a count) and returns it as
  /// text. Throws SqliteError.
  std::string query_text(const std::string& sql);

  /// The cached prepared statement for `sql` (prepared on first use). Throws SqliteError.
  StatementUse prepare(const std::string& sql);

  /// Rows changed by the last INSERT/UPDATE/DELETE.
  std::int64_t changes() const;
  /// Whether no transaction is open (SQLite rolls back by itself after some errors).
  bool in_transaction() const;
  /// Whether the main database is open read-only (a write-protected file opens that way).
  bool read_only() const;

 private:
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, std::unique_ptr<Statement>> statements_;
};

/// Throws SqliteError for `code` unless it is SQLITE_OK, with `what` and the connection's
/// message.
void check(sqlite3* db, int code, std::string_view what);

/// The port error for a failed SQLite call: BUSY, LOCKED, IOERR, FULL and PROTOCOL may pass
/// (retryable); the rest will not (permanent).
ports::Error to_port_error(const SqliteError& error);

/// Ends a failed transaction without hiding the error that failed it.
void rollback_quietly(Connection& connection) noexcept;

}  // namespace gavel::adapters::sqlite
