#pragma once
// The audit log port on its own SQLite file, `<data dir>/audit.db` (the embedded profile's
// audit trail), apart from the auction store so that the auditor never contends with the
// engine's commits, and so that the trail can be copied and checked on its own.
//
// Schema (migrations by PRAGMA user_version): one table `audit_log`, seq as INTEGER PRIMARY KEY,
// a unique index on key (dedupe) and an index (auction_id, seq). Triggers refuse UPDATE and
// DELETE: the log is append-only for every writer that goes through SQLite's rules; a deliberate
// edit of the file (or dropping the triggers) is what the hash chain catches.
//
// Durability: WAL with synchronous=FULL; an append answers ok only after it was committed and
// fsynced. Threading and lifecycle: the constructor opens the file, applies the migrations and
// starts one worker thread that owns the connection and runs every call in arrival order (the
// auditor appends one batch at a time, so one thread is plenty); callers never touch the disk.
// Callbacks run on the worker thread and must not throw. The destructor runs what is queued,
// then joins; calls after that answer ErrorKind::permanent.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "ports/audit_log.hpp"

namespace gavel::adapters::sqlite {

class Connection;

struct SqliteAuditLogOptions {
  /// How long a statement waits for another process's lock before answering retryable.
  std::chrono::milliseconds busy_timeout{5000};
};

class SqliteAuditLog final : public ports::AuditLog {
 public:
  /// Opens (or creates) `path` and brings its schema up to date. Throws std::runtime_error
  /// naming the path when it cannot (missing or unwritable directory, damaged or newer file).
  explicit SqliteAuditLog(const std::filesystem::path& path, SqliteAuditLogOptions options = {});
  ~SqliteAuditLog() override;
  SqliteAuditLog(const SqliteAuditLog&) = delete;
  SqliteAuditLog& operator=(const SqliteAuditLog&) = delete;

  void append(std::vector<ports::AuditAppend> entries,
              ports::Callback<std::vector<ports::AuditAppendOutcome>> done) override;
  void entries_for_auction(const domain::AuctionId& auction_id, std::uint64_t after_seq,
                           std::size_t limit,
                           ports::Callback<std::vector<ports::AuditEntry>> done) override;
  void entries(std::uint64_t after_seq, std::size_t limit,
               ports::Callback<std::vector<ports::AuditEntry>> done) override;
  void head(ports::Callback<ports::AuditHead> done) override;

 private:
  // Runs `work(connection)` on the worker thread and answers `done` with its result, its
  // SQLite errors turned into the port's.
  template <typename T, typename Work>
  void enqueue(ports::Callback<T> done, Work work);
  void run();

  std::unique_ptr<Connection> connection_;  // used only by the worker thread
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  bool closed_ = false;
  std::thread worker_;
};

}  // namespace gavel::adapters::sqlite
