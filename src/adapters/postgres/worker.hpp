#pragma once
// One PostgreSQL connection and the thread that uses it, as the PostgreSQL adapters run their
// calls: callers queue a job and never touch the network; the thread runs jobs in queue order
// and answers each job's callback with its result or its error as a ports::Error.
//
// A job runs as a read (no transaction; repeated on a fresh connection when the connection was
// lost, since a read is safe to repeat), as a write (one statement, atomic by itself) or as a
// transaction (BEGIN ... COMMIT). A write or transaction is repeated when the server rolled it
// back whole for a deadlock or a serialization failure, which concurrent writers from several
// processes can cause, and never after a lost connection, where whether it landed is unknown.
// Three runs at most. Before each job the connection is checked, so that a server restarted
// while it was idle costs nothing.
//
// Lifecycle: stop() (or the destructor) answers every job still queued, then joins; jobs after
// that answer ErrorKind::permanent with the closed message. Callbacks run on the worker thread
// (or the stopping one) and must not throw.

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "adapters/postgres/connection.hpp"
#include "adapters/sql/job_thread.hpp"
#include "ports/result.hpp"

namespace gavel::adapters::postgres {

/// Thrown by a job to answer this error; a transaction is rolled back first.
class JobRefused : public std::runtime_error {
 public:
  explicit JobRefused(ports::Error error)
      : std::runtime_error(error.message), error_(std::move(error)) {}
  const ports::Error& error() const { return error_; }

 private:
  ports::Error error_;
};

enum class JobMode { read, write, transaction };

/// Runs `body` on `connection` as `mode` says (see above); answers its failure, or nullopt.
std::optional<ports::Error> run_job(Connection& connection, JobMode mode,
                                    const std::function<void(Connection&)>& body);

class Worker {
 public:
  /// Starts the thread on `connection`. `closed_message` is the error of calls after stop().
  Worker(std::unique_ptr<Connection> connection, std::string closed_message)
      : connection_(std::move(connection)),
        closed_message_(std::move(closed_message)),
        thread_("pg-worker", 16, [this](std::vector<Job>& jobs) {
          for (auto& job : jobs) job(*connection_);
        }) {}
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  ~Worker() { stop(); }

  /// Answers what is queued, then joins. Idempotent.
  void stop() { thread_.stop(); }

  /// Queues `work(Connection&)`, which answers a T (nothing for void) or throws (PgError,
  /// JobRefused, sql::CorruptRow...), and answers `done` with its outcome.
  template <typename T, typename Work>
  void submit(JobMode mode, ports::Callback<T> done, Work work) {
    Job job = [mode, done, work = std::move(work)](Connection& connection) mutable {
      std::optional<ports::Result<T>> answer;
      const auto failure = run_job(connection, mode, [&](Connection& used) {
        if constexpr (std::is_void_v<T>) {
          work(used);
          answer.emplace();
        } else {
          answer.emplace(work(used));
        }
      });
      done(failure ? ports::Result<T>(*failure) : std::move(*answer));
    };
    if (!thread_.push(job)) done(ports::Error{ports::ErrorKind::permanent, closed_message_});
  }

 private:
  using Job = std::function<void(Connection&)>;

  std::unique_ptr<Connection> connection_;  // used only by the thread (or the stopping one)
  std::string closed_message_;
  sql::JobThread<Job> thread_;  // last: it runs jobs on the connection, so it stops first
};

/// Whether connect() checks the schema version (once per adapter is enough).
enum class SchemaCheck { yes, no };

/// A connection to `url` with `statements` prepared; when asked, first checks that the database
/// has exactly this build's migrations (check_schema). Throws PgError or SchemaMismatch.
std::unique_ptr<Connection> connect(const std::string& url,
                                    std::vector<PreparedStatement> statements, SchemaCheck check);

/// The one-line error of an adapter that cannot open: "cannot open the PostgreSQL <what>: <why>".
std::runtime_error open_failure(std::string_view what, const std::exception& error);

/// A writer and a reader for an adapter, each on its own connection, so that reads never wait
/// behind writes: connected to `url` (the schema checked once) with their statements prepared.
/// Calls after stop answer "the PostgreSQL <what> is closed". Throws open_failure(what, ...).
std::pair<std::unique_ptr<Worker>, std::unique_ptr<Worker>> open_workers(
    const std::string& url, std::string_view what, std::vector<PreparedStatement> write_statements,
    std::vector<PreparedStatement> read_statements);

}  // namespace gavel::adapters::postgres
