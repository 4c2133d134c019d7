#include "adapters/sqlite/connection.hpp"

#include <sqlite3.h>

#include <limits>
#include <utility>

namespace gavel::adapters::sqlite {

void check(sqlite3* db, int code, std::string_view what) {
  if (code == SQLITE_OK) return;
  std::string message(what);
  message += ": ";
  message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code);
  const int extended = db != nullptr ? sqlite3_extended_errcode(db) : code;
  // sqlite3_extended_errcode answers the last error of the connection; prefer it when it is a
  // refinement of `code`.
  throw SqliteError((extended & 0xff) == (code & 0xff) ? extended : code, message);
}

// --- Statement ---------------------------------------------------------------------------

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db) {
  if (sql.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    throw SqliteError(SQLITE_TOOBIG, "statement too long");
  }
  const int code = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (code != SQLITE_OK) {
    sqlite3_finalize(stmt_);
    stmt_ = nullptr;
    check(db, code, "prepare");
  }
}

Statement::~Statement() {
  sqlite3_finalize(stmt_);
}

void Statement::bind(int index, std::int64_t value) {
  check(db_, sqlite3_bind_int64(stmt_, index, value), "bind");
}

void Statement::bind(int index, std::optional<std::int64_t> value) {
  if (value) {
    bind(index, *value);
  } else {
    check(db_, sqlite3_bind_null(stmt_, index), "bind");
  }
}

void Statement::bind(int index, std::string_view text) {
  check(db_,
        sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
        "bind");
}

void Statement::bind_blob(int index, const std::vector<std::uint8_t>& bytes) {
  // A zero-length blob must not bind as NULL (the columns are NOT NULL): give it a pointer.
  static constexpr std::uint8_t kEmpty = 0;
  const void* data = bytes.empty() ? &kEmpty : bytes.data();
  check(db_, sqlite3_bind_blob64(stmt_, index, data, bytes.size(), SQLITE_TRANSIENT), "bind");
}

bool Statement::step() {
  const int code = sqlite3_step(stmt_);
  if (code == SQLITE_ROW) return true;
  if (code == SQLITE_DONE) return false;
  check(db_, code, "step");
  return false;
}

void Statement::reset() noexcept {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::int64_t Statement::column_int64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::optional<std::int64_t> Statement::column_optional_int64(int column) const {
  if (sqlite3_column_type(stmt_, column) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_int64(stmt_, column);
}

std::string_view Statement::column_text(int column) const {
  const auto* text = sqlite3_column_text(stmt_, column);
  const int size = sqlite3_column_bytes(stmt_, column);
  if (text == nullptr) return {};
  return {reinterpret_cast<const char*>(text), static_cast<std::size_t>(size)};
}

std::vector<std::uint8_t> Statement::column_blob(int column) const {
  const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, column));
  const int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr) return {};
  return {data, data + size};
}

// --- Connection --------------------------------------------------------------------------

Connection::Connection(const std::filesystem::path& path, const ConnectionOptions& options) {
  const int flags =
      SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE |
      (options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  const int code = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (code != SQLITE_OK) {
    const std::string reason = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(code);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw SqliteError(code, reason);
  }
  sqlite3_extended_result_codes(db_, 1);
  try {
    check(db_, sqlite3_busy_timeout(db_, options.busy_timeout_ms), "busy_timeout");
    // FULL: a WAL commit is fsynced before it returns, so a commit that answered ok survives
    // a crash of the process and of the machine.
    exec("PRAGMA synchronous = FULL");
    exec("PRAGMA foreign_keys = ON");
  } catch (...) {
    sqlite3_close_v2(db_);
    throw;
  }
}

Connection::~Connection() {
  statements_.clear();  // finalize before closing
  sqlite3_close_v2(db_);
}

void Connection::exec(const std::string& sql) {
  char* error = nullptr;
  const int code = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
  if (code != SQLITE_OK) {
    std::string message = error != nullptr ? error : sqlite3_errstr(code);
    sqlite3_free(error);
    throw SqliteError(sqlite3_extended_errcode(db_), message);
  }
}

std::string Connection::query_text(const std::string& sql) {
  Statement statement(db_, sql);
  if (!statement.step()) return {};
  return std::string(statement.column_text(0));
}

StatementUse Connection::prepare(const std::string& sql) {
  auto found = statements_.find(sql);
  if (found == statements_.end()) {
    found = statements_.emplace(sql, std::make_unique<Statement>(db_, sql)).first;
  }
  return StatementUse(*found->second);
}

std::int64_t Connection::changes() const {
  return sqlite3_changes64(db_);
}

bool Connection::in_transaction() const {
  return sqlite3_get_autocommit(db_) == 0;
}

bool Connection::read_only() const {
  return sqlite3_db_readonly(db_, "main") == 1;
}

ports::Error to_port_error(const SqliteError& error) {
  switch (error.primary()) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:  // the disk may get space again
    case SQLITE_PROTOCOL:
      return {ports::ErrorKind::retryable, std::string("sqlite: ") + error.what()};
    default:
      return {ports::ErrorKind::permanent, std::string("sqlite: ") + error.what()};
  }
}

void rollback_quietly(Connection& connection) noexcept {
  try {
    if (connection.in_transaction()) connection.exec("ROLLBACK");
  } catch (const std::exception&) {  // NOLINT(bugprone-empty-catch): the first error is reported
  }
}

}  // namespace gavel::adapters::sqlite
