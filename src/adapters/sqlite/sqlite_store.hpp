#pragma once
// The store port on an embedded SQLite file (the embedded profile's durable store).
//
// Durability: WAL with synchronous=FULL. A commit's callback answers ok only after SQLite has
// committed and fsynced it, so whatever was acknowledged survives kill -9 and power loss.
//
// Threading and lifecycle: built at startup (the constructor opens the file, applies the schema
// migrations and starts two threads), shared by every thread; all methods are thread-safe and
// never touch the disk on the caller's thread. Writes (commit, mark_published) go to one writer
// thread with its own connection; commits that queue up while it is busy share one transaction
// (each in its own savepoint, so each is still all-or-nothing). Reads go to one reader thread
// with its own read-only connection, which WAL lets read while the writer writes. Callbacks run
// on those threads and must not throw; they may call the store again. The destructor answers
// every call still queued, then joins the threads; calls after that answer ErrorKind::permanent.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "ports/store.hpp"

namespace gavel::adapters::sqlite {

class Connection;

struct SqliteStoreOptions {
  /// How long a statement waits for a lock held by another connection (another process on the
  /// same file) before the call fails with ErrorKind::retryable.
  std::chrono::milliseconds busy_timeout{5000};
  /// At most this many queued writes share one transaction (1: one transaction per commit).
  std::size_t max_group = 64;
  /// How long the bookkeeping writes (events marked published, audit records forgotten) may
  /// wait for the next commit, to share its transaction and fsync instead of taking their own
  /// just before it. Losing them in a crash only means publishing those events again, which
  /// every consumer drops by id. 0: written at once.
  std::chrono::milliseconds mark_delay{50};
};

class SqliteStore final : public ports::Store {
 public:
  /// Opens (or creates) the database at `path`, e.g. "<data dir>/gavel.db", and brings its
  /// schema up to date. Throws std::runtime_error with a one-line message naming the path when
  /// the file cannot be opened or created (missing or unwritable directory, read-only or
  /// damaged file) or when its schema is newer than this build knows.
  explicit SqliteStore(const std::filesystem::path& path, SqliteStoreOptions options = {});
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  void commit(ports::CommitBatch batch, ports::Callback<void> done) override;
  void get_auction(const domain::AuctionId& id,
                   ports::Callback<std::optional<ports::StoredAuction>> done) override;
  void list_auctions(const ports::AuctionListQuery& query,
                     ports::Callback<std::vector<ports::StoredAuction>> done) override;
  void get_bid(const domain::BidId& id,
               ports::Callback<std::optional<ports::StoredBid>> done) override;
  void find_bid_by_key(const domain::UserId& bidder_id, const std::string& key,
                       ports::Callback<std::optional<ports::StoredBid>> done) override;
  void list_bids(const domain::AuctionId& auction_id, std::uint64_t after_position,
                 std::size_t limit, ports::Callback<std::vector<ports::StoredBid>> done) override;
  void pending_events(std::size_t limit, ports::Callback<std::vector<domain::Event>> done) override;
  void mark_published(std::vector<std::string> event_ids, ports::Callback<void> done) override;
  void pending_audit(std::size_t limit,
                     ports::Callback<std::vector<ports::OutgoingMessage>> done) override;
  void mark_audit_published(std::vector<std::string> keys, ports::Callback<void> done) override;

 private:
  // Audit outbox keys to forget (published).
  struct AuditPublished {
    std::vector<std::string> keys;
  };
  // A write for the writer thread: a batch to commit, event ids to mark published, or audit
  // records to forget.
  struct WriteJob {
    std::variant<ports::CommitBatch, std::vector<std::string>, AuditPublished> work;
    ports::Callback<void> done;
    /// When it is written at the latest: at once for a commit, after mark_delay for a mark.
    std::chrono::steady_clock::time_point due = std::chrono::steady_clock::now();
  };
  // Waits (holding `lock`) until the queue holds a write that is due, or the store stops;
  // answers false when it stopped with nothing left to write.
  bool wait_for_due_write(std::unique_lock<std::mutex>& lock);
  // A read for the reader thread: runs its query on the connection and answers its callback.
  using ReadJob = std::function<void(Connection&)>;

  void enqueue_write(WriteJob job);
  template <typename T, typename Query>
  void enqueue_read(ports::Callback<T> done, Query query);

  void run_writer();
  void run_reader();
  // Applies a group of writes in one transaction and answers each of them.
  void apply_group(std::vector<WriteJob>& group);

  SqliteStoreOptions options_;
  std::unique_ptr<Connection> writer_;  // used only by the writer thread (or the destructor)
  std::unique_ptr<Connection> reader_;  // used only by the reader thread (or the destructor)

  std::mutex mutex_;
  std::condition_variable writes_ready_;
  std::condition_variable reads_ready_;
  std::deque<WriteJob> writes_;
  std::deque<ReadJob> reads_;
  bool stopping_ = false;  // the threads finish their queues and leave
  bool closed_ = false;    // everything is answered; new calls fail at once

  std::thread writer_thread_;
  std::thread reader_thread_;
};

}  // namespace gavel::adapters::sqlite
