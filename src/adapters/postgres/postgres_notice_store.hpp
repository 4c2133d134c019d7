#pragma once
// The notice store port on PostgreSQL (the selfhosted profile's notifier state), so that every
// gateway serves the inbox and preferences routes while the notifier, in its own process,
// records and settles deliveries.
//
// Schema: the notice_* tables of the versioned migrations (schema.hpp, version 3), applied by
// `gavel migrate`; the constructor checks that the database has exactly this build's
// migrations. The semantics are the SQLite notice store's: inbox notices deduped by id,
// deliveries promised once per (notice, channel), watches merged by ports::merge_watch's rule.
//
// Concurrency: several processes write at once (gateways mark read and save preferences, the
// notifier records batches and settles), so every write is either one statement (atomic in
// itself: mark_read re-checks `NOT read` on each row it waits for, so no notice is counted
// twice) or one transaction (record), with ON CONFLICT doing the dedupe on the server. A write
// the server rolls back for a deadlock is run again (worker.hpp).
//
// Durability: a write answers ok only after PostgreSQL committed it.
//
// Threading and lifecycle: built at startup (the constructor connects twice, checks the schema
// and starts two threads), shared by every thread; all methods are thread-safe and never touch
// the network on the caller's thread. Writes go to a writer thread, reads to a reader thread,
// each with its own connection. A lost connection answers ErrorKind::retryable (a read is tried
// once more on a fresh connection first). Callbacks run on those threads and must not throw.
// The destructor answers every call still queued, then joins; calls after that answer
// ErrorKind::permanent.

#include <memory>
#include <string>

#include "ports/notice_store.hpp"

namespace gavel::adapters::postgres {

class Worker;

class PostgresNoticeStore final : public ports::NoticeStore {
 public:
  /// Connects to `url` (postgresql://user:password@host:port/database, or a libpq key=value
  /// string) and checks the schema. Throws std::runtime_error with a one-line message when the
  /// server cannot be reached, the database lacks a migration ("... run gavel migrate") or is
  /// newer than this build.
  explicit PostgresNoticeStore(const std::string& url);
  ~PostgresNoticeStore() override;
  PostgresNoticeStore(const PostgresNoticeStore&) = delete;
  PostgresNoticeStore& operator=(const PostgresNoticeStore&) = delete;

  void record(ports::NoticeBatch batch,
              ports::Callback<std::vector<ports::DeliveryRecord>> done) override;
  void get_watch(const domain::AuctionId& auction_id,
                 ports::Callback<std::optional<ports::AuctionWatch>> done) override;
  void list_open_watches(const domain::AuctionId& after, std::size_t limit,
                         ports::Callback<std::vector<ports::AuctionWatch>> done) override;
  void pending_deliveries(std::size_t limit,
                          ports::Callback<std::vector<ports::DeliveryRecord>> done) override;
  void settle(ports::DeliveryOutcome outcome, ports::Callback<void> done) override;
  void dead_letters(std::size_t limit,
                    ports::Callback<std::vector<ports::DeliveryRecord>> done) override;
  void list_inbox(const ports::InboxQuery& query, ports::Callback<ports::InboxPage> done) override;
  void mark_read(const domain::UserId& user_id, std::vector<std::string> ids,
                 ports::Callback<std::size_t> done) override;
  void get_preferences(std::vector<domain::UserId> user_ids,
                       ports::Callback<std::vector<ports::Preferences>> done) override;
  void put_preferences(const domain::UserId& user_id, ports::Preferences preferences,
                       ports::Callback<void> done) override;

 private:
  std::unique_ptr<Worker> writes_;
  std::unique_ptr<Worker> reads_;
};

}  // namespace gavel::adapters::postgres
