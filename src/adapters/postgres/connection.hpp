#pragma once
// A thin RAII layer over libpq: one connection with its prepared statements, statement
// parameters and result rows for the shared record code (adapters/sql), and errors as
// exceptions that keep PostgreSQL's SQLSTATE (the store maps them to ports::ErrorKind).
//
// Lifecycle: a Connection is used by one thread at a time. Not thread-safe.

#include <libpq-fe.h>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/sql/row.hpp"
#include "ports/result.hpp"

namespace gavel::adapters::postgres {

/// The SQLSTATE the seq fence raises (schema.cpp): the write's condition failed.
inline constexpr std::string_view kSeqConflictState = "GV409";

/// A failed libpq call or statement. `sqlstate()` is the server's error code ("23505"), empty
/// when the server never answered (connection refused or lost, protocol error).
class PgError : public std::runtime_error {
 public:
  PgError(std::string sqlstate, const std::string& message, std::string detail = {})
      : std::runtime_error(message), sqlstate_(std::move(sqlstate)), detail_(std::move(detail)) {}
  const std::string& sqlstate() const { return sqlstate_; }
  /// The server's DETAIL field (empty: none).
  const std::string& detail() const { return detail_; }

 private:
  std::string sqlstate_;
  std::string detail_;
};

struct ResultDeleter {
  void operator()(PGresult* result) const noexcept { PQclear(result); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

/// The error of a failed result (PGRES_FATAL_ERROR), or of the connection when there is none.
PgError result_error(PGconn* connection, const PGresult* result);

/// A statement's parameters: text, except blobs, which go as binary (bytea) so that no escaping
/// is needed. Index 1 is $1.
class Params final : public sql::Params {
 public:
  void bind(int index, std::int64_t value) override;
  void bind(int index, std::optional<std::int64_t> value) override;
  void bind(int index, std::string_view text) override;
  void bind_blob(int index, const std::vector<std::uint8_t>& bytes) override;

  int size() const { return static_cast<int>(values_.size()); }
  /// The arrays libpq takes; valid until the next bind.
  const char* const* values() const;
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  void set(int index, std::string value, bool is_null, int format);

  std::vector<std::string> values_;
  std::vector<char> null_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
  mutable std::vector<const char*> pointers_;
};

/// One row of a result in text format. Boolean columns read as 0/1, as the record code expects.
/// Throws sql::CorruptRow when a value does not parse.
class ResultRow final : public sql::Row {
 public:
  ResultRow(const PGresult* result, int row) : result_(result), row_(row) {}
  std::int64_t column_int64(int column) const override;
  std::optional<std::int64_t> column_optional_int64(int column) const override;
  std::string_view column_text(int column) const override;
  std::vector<std::uint8_t> column_blob(int column) const override;

 private:
  const PGresult* result_;
  int row_;
};

/// Every row of `result`, each turned into a value by `read(const ResultRow&)`.
template <typename Read>
auto read_rows(const PGresult* result, Read read) {
  std::vector<decltype(read(ResultRow(result, 0)))> values;
  const int rows = PQntuples(result);
  values.reserve(static_cast<std::size_t>(rows));
  for (int row = 0; row < rows; ++row) values.push_back(read(ResultRow(result, row)));
  return values;
}

/// The parameters of a statement that writes many rows at once: parameter i holds column i's
/// values, one element per row, as an array literal to cast with ::<type>[] (unnest them). The
/// record code binds a row at a time, as for a one-row statement, so that the column order and
/// encoding stay in one place. Elements are text; NULL is NULL; a blob is bytea in hex.
class ColumnArrays final : public sql::Params {
 public:
  void bind(int index, std::int64_t value) override;
  void bind(int index, std::optional<std::int64_t> value) override;
  void bind(int index, std::string_view text) override;
  void bind_blob(int index, const std::vector<std::uint8_t>& bytes) override;

  /// Whether no row was bound.
  bool empty() const { return columns_.empty(); }
  /// The statement's parameters: column i as $i. (Params here would name the base class.)
  postgres::Params params() const;
  /// "SELECT * FROM unnest($1::<type 1>[], ...)": the rows of parameters made by params(),
  /// with the columns' types in order.
  static std::string select_rows(std::initializer_list<std::string_view> types);

 private:
  void append(int index, std::string_view element, bool quote);

  std::vector<std::string> columns_;  // each an array literal without its closing brace
};

/// A named statement, prepared once per connection (and again after a reconnect).
struct PreparedStatement {
  const char* name;
  std::string sql;
};

/// One statement of a pipeline (Connection::run_pipeline): a prepared one by `name`, or, when
/// `name` is null, `sql` planned for its parameters (see Connection::exec_params).
struct PipelinedStatement {
  const char* name = nullptr;
  const char* sql = nullptr;
  Params params;
};

/// What a pipeline answered: every statement's result in order (a failed or skipped one's too),
/// and its first failure: a statement's (`failed` names it) or, with `failed` empty, the
/// implicit transaction's at the sync (its commit).
struct PipelineOutcome {
  std::vector<ResultPtr> results;
  std::optional<std::size_t> failed;
  std::optional<PgError> error;
};

class Connection {
 public:
  /// Connects to `url` (a postgresql:// URL or a libpq key=value string). Throws PgError.
  explicit Connection(std::string url);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  PGconn* get() const { return connection_.get(); }
  /// Whether the connection is up as far as libpq knows (false after it saw it drop).
  bool healthy() const;
  /// Connects again (after a lost connection) and prepares the statements. Throws PgError.
  void reconnect();
  /// Prepares `statements` now and after every reconnect. Throws PgError.
  void prepare(std::vector<PreparedStatement> statements);
  /// Connects again unless the connection is idle and up: also notices a server that closed
  /// the connection while it was idle (a restart), so that the next call does not fail on it.
  /// Throws PgError.
  void ensure_ready();

  /// Runs SQL without parameters (may hold several statements); answers the last result.
  /// Throws PgError.
  ResultPtr exec(const std::string& sql);
  /// Runs a prepared statement; answers its result. Throws PgError.
  ResultPtr exec_prepared(const char* name, const Params& params);
  /// Runs `sql` with `params`, planned for these values on every call. For a lookup by a list
  /// of keys (= ANY($1)) in a table that grows: a prepared statement switches to a generic plan
  /// after five runs, and one made while the table was small scans it whole, for as long as the
  /// connection lives. Throws PgError.
  ResultPtr exec_params(const std::string& sql, const Params& params);
  /// Sends `statements` and a sync in one round trip (pipeline mode) and reads their results.
  /// Without an explicit BEGIN among them, they form one implicit transaction that the sync
  /// commits unless a statement failed; after a failure the server skips the rest. Throws
  /// PgError when the connection fails.
  PipelineOutcome run_pipeline(const std::vector<PipelinedStatement>& statements);

 private:
  struct ConnDeleter {
    void operator()(PGconn* connection) const noexcept { PQfinish(connection); }
  };
  void connect();

  std::string url_;
  std::vector<PreparedStatement> statements_;
  std::unique_ptr<PGconn, ConnDeleter> connection_;
};

/// The port error for a failed call: a lost connection, a serialization failure or deadlock,
/// a server shutting down or out of resources may pass (retryable); the seq fence is a conflict;
/// the rest will not pass (permanent).
ports::Error to_port_error(const PgError& error);

/// A libpq connection string that is `url` with its database replaced by `database`.
/// Throws PgError when `url` does not parse.
std::string with_database(const std::string& url, const std::string& database);

/// `text` quoted as an SQL identifier ("a""b").
std::string quote_identifier(std::string_view text);

/// A text[] literal of `items` (each quoted, with " and \ escaped), to bind as one parameter
/// cast with ::text[]: a whole list in one statement.
std::string text_array(const std::vector<std::string>& items);

/// How many rows a command (INSERT, UPDATE...) changed.
std::size_t affected_rows(const PGresult* result);

}  // namespace gavel::adapters::postgres
