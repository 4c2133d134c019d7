#include "adapters/postgres/connection.hpp"

#include <poll.h>

#include <charconv>
#include <iterator>
#include <limits>
#include <utility>

namespace gavel::adapters::postgres {
namespace {

std::string trimmed(const char* text) {
  std::string out = text != nullptr ? text : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// libpq's message on one line: it puts each address tried and its hints on lines of their own.
std::string connection_message(PGconn* connection) {
  const std::string text = trimmed(connection != nullptr ? PQerrorMessage(connection) : nullptr);
  std::string message;
  for (const char c : text) {
    if (c == '\n') {
      message += "; ";
    } else if (c != '\t') {
      message += c;
    }
  }
  return message.empty() ? "no connection to PostgreSQL" : message;
}

// Notices ("relation ... already exists, skipping") are not errors; nobody reads stderr for them.
void ignore_notice(void* /*context*/, const char* /*message*/) {}

// Throws unless `result` is a success; answers it.
ResultPtr checked(PGconn* connection, PGresult* raw) {
  ResultPtr result(raw);
  const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
  throw result_error(connection, result.get());
}

// One element of an array literal, quoted, with " and \ escaped.
void append_quoted(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

}  // namespace

PgError result_error(PGconn* connection, const PGresult* result) {
  if (result == nullptr) return PgError({}, "postgres: " + connection_message(connection));
  const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  const char* detail = PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL);
  std::string message =
      primary != nullptr ? std::string(primary) : trimmed(PQresultErrorMessage(result));
  if (message.empty()) message = connection_message(connection);
  return PgError(state != nullptr ? state : "", "postgres: " + message,
                 detail != nullptr ? detail : "");
}

// --- Params ------------------------------------------------------------------------------

void Params::set(int index, std::string value, bool is_null, int format) {
  const auto slot = static_cast<std::size_t>(index - 1);
  if (slot >= values_.size()) {
    values_.resize(slot + 1);
    null_.resize(slot + 1, 1);
    lengths_.resize(slot + 1, 0);
    formats_.resize(slot + 1, 0);
  }
  values_[slot] = std::move(value);
  null_[slot] = is_null ? 1 : 0;
  lengths_[slot] = static_cast<int>(values_[slot].size());
  formats_[slot] = format;
}

void Params::bind(int index, std::int64_t value) {
  set(index, std::to_string(value), false, 0);
}

void Params::bind(int index, std::optional<std::int64_t> value) {
  if (value) {
    bind(index, *value);
  } else {
    set(index, {}, true, 0);
  }
}

void Params::bind(int index, std::string_view text) {
  set(index, std::string(text), false, 0);
}

void Params::bind_blob(int index, const std::vector<std::uint8_t>& bytes) {
  set(index, std::string(bytes.begin(), bytes.end()), false, 1);
}

const char* const* Params::values() const {
  pointers_.resize(values_.size());
  for (std::size_t i = 0; i < values_.size(); ++i) {
    pointers_[i] = null_[i] != 0 ? nullptr : values_[i].data();
  }
  return pointers_.data();
}

// --- ColumnArrays ------------------------------------------------------------------------

void ColumnArrays::append(int index, std::string_view element, bool quote) {
  const auto slot = static_cast<std::size_t>(index - 1);
  if (slot >= columns_.size()) columns_.resize(slot + 1, "{");
  std::string& column = columns_[slot];
  if (column.size() > 1) column += ',';
  if (quote) {
    append_quoted(column, element);
  } else {
    column += element;
  }
}

void ColumnArrays::bind(int index, std::int64_t value) {
  append(index, std::to_string(value), false);
}

void ColumnArrays::bind(int index, std::optional<std::int64_t> value) {
  if (value) {
    bind(index, *value);
  } else {
    append(index, "NULL", false);
  }
}

void ColumnArrays::bind(int index, std::string_view text) {
  append(index, text, true);
}

void ColumnArrays::bind_blob(int index, const std::vector<std::uint8_t>& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text = "\\x";
  text.reserve(2 + bytes.size() * 2);
  for (const std::uint8_t byte : bytes) {
    text += kHex[byte >> 4];
    text += kHex[byte & 0x0f];
  }
  append(index, text, true);
}

std::string ColumnArrays::select_rows(std::initializer_list<std::string_view> types) {
  std::string out = "SELECT * FROM unnest(";
  int index = 0;
  for (const std::string_view type : types) {
    ++index;
    out += (index > 1 ? ", $" : "$") + std::to_string(index) + "::" + std::string(type) + "[]";
  }
  return out + ")";
}

Params ColumnArrays::params() const {
  postgres::Params params;
  for (std::size_t column = 0; column < columns_.size(); ++column) {
    params.bind(static_cast<int>(column) + 1, std::string_view(columns_[column] + "}"));
  }
  return params;
}

// --- ResultRow ---------------------------------------------------------------------------

std::int64_t ResultRow::column_int64(int column) const {
  const std::string_view text = column_text(column);
  // Booleans come as t/f in text format.
  if (text == "t") return 1;
  if (text == "f") return 0;
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) {
    throw sql::CorruptRow("stored value is not an integer: " + std::string(text.substr(0, 40)));
  }
  return value;
}

std::optional<std::int64_t> ResultRow::column_optional_int64(int column) const {
  if (PQgetisnull(result_, row_, column) != 0) return std::nullopt;
  return column_int64(column);
}

std::string_view ResultRow::column_text(int column) const {
  return {PQgetvalue(result_, row_, column),
          static_cast<std::size_t>(PQgetlength(result_, row_, column))};
}

std::vector<std::uint8_t> ResultRow::column_blob(int column) const {
  std::size_t size = 0;
  // Understands both bytea output formats (hex and escape), whatever the server is set to.
  unsigned char* bytes = PQunescapeBytea(
      reinterpret_cast<const unsigned char*>(PQgetvalue(result_, row_, column)), &size);
  if (bytes == nullptr) throw sql::CorruptRow("stored bytea does not decode");
  std::vector<std::uint8_t> out(bytes, bytes + size);
  PQfreemem(bytes);
  return out;
}

// --- Connection --------------------------------------------------------------------------

Connection::Connection(std::string url) : url_(std::move(url)) {
  connect();
}

void Connection::connect() {
  // Defaults the URL may override (it comes last and is expanded): a bounded connect, and
  // keepalives so that a peer that vanished without closing is noticed within about 30 s.
  const char* keys[] = {"connect_timeout",
                        "application_name",
                        "keepalives_idle",
                        "keepalives_interval",
                        "keepalives_count",
                        "dbname",
                        nullptr};
  const char* values[] = {"10", "gavel", "10", "5", "4", url_.c_str(), nullptr};
  connection_.reset(PQconnectdbParams(keys, values, 1));
  if (PQstatus(connection_.get()) != CONNECTION_OK) {
    // The server's SQLSTATE is not available here; the class 08 marks it as a connection error.
    throw PgError("08006", "postgres: cannot connect: " + connection_message(connection_.get()));
  }
  PQsetNoticeProcessor(connection_.get(), ignore_notice, nullptr);
  for (const auto& statement : statements_) {
    checked(connection_.get(),
            PQprepare(connection_.get(), statement.name, statement.sql.c_str(), 0, nullptr));
  }
}

void Connection::prepare(std::vector<PreparedStatement> statements) {
  for (const auto& statement : statements) {
    checked(connection_.get(),
            PQprepare(connection_.get(), statement.name, statement.sql.c_str(), 0, nullptr));
  }
  statements_.insert(statements_.end(), std::make_move_iterator(statements.begin()),
                     std::make_move_iterator(statements.end()));
}

void Connection::ensure_ready() {
  // Reads what an idle connection received: a server shutting down says so and closes, and
  // libpq notices the close only on a read after that message.
  for (int read = 0; read < 4 && healthy(); ++read) {
    pollfd fd{PQsocket(connection_.get()), POLLIN, 0};
    if (poll(&fd, 1, 0) <= 0 || PQconsumeInput(connection_.get()) == 0) break;
  }
  if (healthy() && PQpipelineStatus(connection_.get()) == PQ_PIPELINE_OFF &&
      PQtransactionStatus(connection_.get()) == PQTRANS_IDLE) {
    return;
  }
  reconnect();
}

bool Connection::healthy() const {
  return connection_ && PQstatus(connection_.get()) == CONNECTION_OK;
}

void Connection::reconnect() {
  connection_.reset();
  connect();
}

ResultPtr Connection::exec(const std::string& sql) {
  return checked(connection_.get(), PQexec(connection_.get(), sql.c_str()));
}

ResultPtr Connection::exec_prepared(const char* name, const Params& params) {
  return checked(connection_.get(),
                 PQexecPrepared(connection_.get(), name, params.size(), params.values(),
                                params.lengths(), params.formats(), 0));
}

namespace {

void send_pipelined(PGconn* connection, const PipelinedStatement& statement) {
  const Params& params = statement.params;
  const int sent = statement.name != nullptr
                       ? PQsendQueryPrepared(connection, statement.name, params.size(),
                                             params.values(), params.lengths(), params.formats(), 0)
                       : PQsendQueryParams(connection, statement.sql, params.size(), nullptr,
                                           params.values(), params.lengths(), params.formats(), 0);
  if (sent == 0) throw result_error(connection, nullptr);
}

// Sends everything queued, reading what the server answers meanwhile: with a long pipeline,
// both sides could otherwise block writing to each other.
void flush(PGconn* connection) {
  for (;;) {
    const int pending = PQflush(connection);
    if (pending == 0) return;
    if (pending < 0) throw result_error(connection, nullptr);
    pollfd fd{PQsocket(connection), POLLIN | POLLOUT, 0};
    if (poll(&fd, 1, -1) < 0 && errno != EINTR) throw PgError({}, "postgres: poll failed");
    if ((fd.revents & POLLIN) != 0 && PQconsumeInput(connection) == 0) {
      throw result_error(connection, nullptr);
    }
  }
}

}  // namespace

PipelineOutcome Connection::run_pipeline(const std::vector<PipelinedStatement>& statements) {
  PGconn* const connection = connection_.get();
  if (PQsetnonblocking(connection, 1) != 0 || PQenterPipelineMode(connection) == 0) {
    throw result_error(connection, nullptr);
  }
  for (const auto& statement : statements) send_pipelined(connection, statement);
  if (PQpipelineSync(connection) == 0) throw result_error(connection, nullptr);
  flush(connection);
  PQsetnonblocking(connection, 0);

  PipelineOutcome outcome;
  outcome.results.reserve(statements.size());
  for (std::size_t index = 0; index < statements.size(); ++index) {
    ResultPtr result(PQgetResult(connection));
    if (!result) throw result_error(connection, nullptr);
    const ExecStatusType status = PQresultStatus(result.get());
    if (status == PGRES_FATAL_ERROR && !outcome.error) {
      outcome.failed = index;
      outcome.error = result_error(connection, result.get());
    } else if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK &&
               status != PGRES_FATAL_ERROR && status != PGRES_PIPELINE_ABORTED) {
      throw PgError(
          {}, std::string("postgres: unexpected result in a pipeline: ") + PQresStatus(status));
    }
    // Every statement's results end with a null result (also an aborted one's).
    ResultPtr end(PQgetResult(connection));
    if (PQstatus(connection) == CONNECTION_BAD) throw result_error(connection, nullptr);
    outcome.results.push_back(std::move(result));
  }
  ResultPtr sync(PQgetResult(connection));
  if (!sync || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC) {
    // The commit itself failed (a deferred constraint, a serialization failure at commit).
    PgError error = sync && PQresultStatus(sync.get()) == PGRES_FATAL_ERROR
                        ? result_error(connection, sync.get())
                        : result_error(connection, nullptr);
    if (!outcome.error) outcome.error = std::move(error);
    // Reads up to the sync, so that the connection can leave pipeline mode.
    while (sync && PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC) {
      sync.reset(PQgetResult(connection));
      if (!sync && PQstatus(connection) == CONNECTION_BAD) {
        throw result_error(connection, nullptr);
      }
    }
  }
  if (PQexitPipelineMode(connection) == 0) throw result_error(connection, nullptr);
  return outcome;
}

ResultPtr Connection::exec_params(const std::string& sql, const Params& params) {
  return checked(connection_.get(),
                 PQexecParams(connection_.get(), sql.c_str(), params.size(), nullptr,
                              params.values(), params.lengths(), params.formats(), 0));
}

// --- errors ------------------------------------------------------------------------------

ports::Error to_port_error(const PgError& error) {
  const std::string& state = error.sqlstate();
  if (state == kSeqConflictState) return {ports::ErrorKind::conflict, error.what()};
  const std::string_view klass = std::string_view(state).substr(0, 2);
  const bool transient = state.empty() ||   // no answer: the connection failed
                         klass == "08" ||   // connection exception
                         klass == "40" ||   // serialization failure, deadlock
                         klass == "53" ||   // insufficient resources (disk full, memory)
                         klass == "57" ||   // operator intervention: shutdown, cancel
                         state == "55P03";  // lock not available
  return {transient ? ports::ErrorKind::retryable : ports::ErrorKind::permanent, error.what()};
}

std::string with_database(const std::string& url, const std::string& database) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (options == nullptr) {
    std::string message = trimmed(error);
    PQfreemem(error);
    throw PgError({}, "postgres: invalid connection string: " + message);
  }
  // key='value' with ' and \ escaped, as libpq's key=value syntax wants.
  const auto quoted = [](std::string_view value) {
    std::string out = "'";
    for (const char c : value) {
      if (c == '\'' || c == '\\') out += '\\';
      out += c;
    }
    return out + "'";
  };
  std::string out;
  for (const PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (option->val == nullptr || std::string_view(option->keyword) == "dbname") continue;
    out += std::string(option->keyword) + "=" + quoted(option->val) + " ";
  }
  PQconninfoFree(options);
  return out + "dbname=" + quoted(database);
}

std::string quote_identifier(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string text_array(const std::vector<std::string>& items) {
  std::string out = "{";
  for (const auto& item : items) {
    if (out.size() > 1) out += ',';
    append_quoted(out, item);
  }
  return out + "}";
}

std::size_t affected_rows(const PGresult* result) {
  std::size_t rows = 0;
  const std::string_view text = PQcmdTuples(const_cast<PGresult*>(result));
  std::from_chars(text.data(), text.data() + text.size(), rows);
  return rows;
}

}  // namespace gavel::adapters::postgres
