#pragma once
// The store port on PostgreSQL (the selfhosted and aws profiles' durable store; Aurora
// PostgreSQL in AWS).
//
// Schema: versioned migrations (schema.hpp) applied by `gavel migrate`, never by the store: the
// constructor checks that the database has exactly this build's migrations and refuses
// otherwise.
//
// Durability: a commit's callback answers ok only after PostgreSQL committed the transaction
// (with the server's synchronous_commit, on by default: flushed to its WAL).
//
// Threading and lifecycle: built at startup (the constructor connects, checks the schema and
// starts two threads), shared by every thread; all methods are thread-safe and never touch the
// network on the caller's thread. Writes (commit, mark_published) go to one writer thread with
// its own connection; the writes that queued up while it was busy go as one pipeline in one
// transaction: one round trip and one WAL flush for all of them. Reads go to one reader thread
// with its own connection. A lost connection answers ErrorKind::retryable and is reconnected on
// the next call. Callbacks run on those threads and must not throw; they may call the store
// again. The destructor answers every call still queued, then joins the threads; calls after
// that answer ErrorKind::permanent.

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "adapters/sql/job_thread.hpp"
#include "ports/store.hpp"

namespace gavel::adapters::postgres {

class Connection;
class Worker;

struct PostgresStoreOptions {
  /// At most this many queued writes share one transaction (1: one transaction per commit).
  std::size_t max_group = 64;
};

class PostgresStore final : public ports::Store {
 public:
  /// Connects to `url` (postgresql://user:password@host:port/database, or a libpq key=value
  /// string) and checks the schema. Throws std::runtime_error with a one-line message when the
  /// server cannot be reached, the database lacks a migration ("... run gavel migrate") or is
  /// newer than this build.
  explicit PostgresStore(const std::string& url, PostgresStoreOptions options = {});
  ~PostgresStore() override;
  PostgresStore(const PostgresStore&) = delete;
  PostgresStore& operator=(const PostgresStore&) = delete;

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

  /// A write for the writer thread: a batch to commit, or event ids to mark published.
  /// Audit outbox keys to forget (published).
  struct AuditPublished {
    std::vector<std::string> keys;
  };
  /// A batch to commit, event ids to mark published, or audit records to forget.
  struct WriteJob {
    std::variant<ports::CommitBatch, std::vector<std::string>, AuditPublished> work;
    ports::Callback<void> done;
  };

 private:
  void enqueue_write(WriteJob job);
  template <typename T, typename Query>
  void enqueue_read(ports::Callback<T> done, Query query);
  // Commits a group of writes and answers each of them.
  void apply_group(std::vector<WriteJob>& group);

  std::unique_ptr<Connection> writer_;  // used only by the writer thread (or the destructor)
  std::unique_ptr<Worker> reads_;       // the reader thread and its own connection
  // Last: it runs jobs on the writer connection, so it stops first.
  std::unique_ptr<sql::JobThread<WriteJob>> writes_;
};

}  // namespace gavel::adapters::postgres
