#include "adapters/postgres/worker.hpp"

#include "adapters/postgres/schema.hpp"

namespace gavel::adapters::postgres {
namespace {

// The first error is the one to report: a failed ROLLBACK (the connection is gone) adds nothing.
void rollback_quietly(Connection& connection) {
  if (connection.healthy() && PQtransactionStatus(connection.get()) != PQTRANS_IDLE) {
    PQclear(PQexec(connection.get(), "ROLLBACK"));
  }
}

// A deadlock or serialization failure: the server rolled the transaction back whole.
bool rolled_back_whole(const PgError& error) {
  return error.sqlstate().starts_with("40");
}

}  // namespace

std::optional<ports::Error> run_job(Connection& connection, JobMode mode,
                                    const std::function<void(Connection&)>& body) {
  std::optional<ports::Error> failure;
  for (int run = 0; run < 3; ++run) {
    try {
      connection.ensure_ready();
      if (mode == JobMode::transaction) connection.exec("BEGIN");
      body(connection);
      if (mode == JobMode::transaction) connection.exec("COMMIT");
      return std::nullopt;
    } catch (const PgError& error) {
      rollback_quietly(connection);
      failure = to_port_error(error);
      const bool again =
          rolled_back_whole(error) || (mode == JobMode::read && !connection.healthy());
      if (!again) break;
    } catch (const JobRefused& refused) {
      rollback_quietly(connection);
      return refused.error();
    } catch (const std::exception& error) {  // sql::CorruptRow
      rollback_quietly(connection);
      return ports::Error{ports::ErrorKind::permanent, std::string("postgres: ") + error.what()};
    }
  }
  return failure;
}

std::unique_ptr<Connection> connect(const std::string& url,
                                    std::vector<PreparedStatement> statements, SchemaCheck check) {
  auto connection = std::make_unique<Connection>(url);
  if (check == SchemaCheck::yes) check_schema(*connection);
  connection->prepare(std::move(statements));
  return connection;
}

std::runtime_error open_failure(std::string_view what, const std::exception& error) {
  std::string why = error.what();
  if (why.starts_with("postgres: ")) why.erase(0, 10);
  return std::runtime_error("cannot open the PostgreSQL " + std::string(what) + ": " + why);
}

std::pair<std::unique_ptr<Worker>, std::unique_ptr<Worker>> open_workers(
    const std::string& url, std::string_view what, std::vector<PreparedStatement> write_statements,
    std::vector<PreparedStatement> read_statements) {
  const std::string closed = "the PostgreSQL " + std::string(what) + " is closed";
  try {
    auto writes = std::make_unique<Worker>(
        connect(url, std::move(write_statements), SchemaCheck::yes), closed);
    auto reads =
        std::make_unique<Worker>(connect(url, std::move(read_statements), SchemaCheck::no), closed);
    return {std::move(writes), std::move(reads)};
  } catch (const std::exception& error) {
    throw open_failure(what, error);
  }
}

}  // namespace gavel::adapters::postgres
