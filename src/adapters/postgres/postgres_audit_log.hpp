#pragma once
// The audit log port on PostgreSQL (the selfhosted profile's audit trail), so that every
// gateway can read what the auditor appends.
//
// Schema: table audit_log of the versioned migrations (schema.hpp, version 2), applied by
// `gavel migrate`; the constructor checks that the database has exactly this build's
// migrations. A unique key dedupes; triggers refuse UPDATE, DELETE and TRUNCATE.
//
// Several writers (normally one auditor, but two processes must not fork the chain): an append
// is one transaction that first takes a transaction-level advisory lock, then reads the head,
// chains its entries from it and inserts them, so appends from any number of instances and
// processes form one chain without gaps. The seq primary key backs that up: a writer that
// skipped the lock fails rather than forking the chain.
//
// Durability: an append answers ok only after PostgreSQL committed it.
//
// Threading and lifecycle: built at startup (the constructor connects twice, checks the schema
// and starts two threads), shared by every thread; all methods are thread-safe and never touch
// the network on the caller's thread. Appends go to a writer thread, reads to a reader thread,
// each with its own connection, so a page read for `GET /v1/admin/audit` never waits behind
// an append. A lost connection answers ErrorKind::retryable (a read is tried once more on a
// fresh connection first). Callbacks run on those threads and must not throw. The destructor
// answers every call still queued, then joins; calls after that answer ErrorKind::permanent.

#include <memory>
#include <string>

#include "ports/audit_log.hpp"

namespace gavel::adapters::postgres {

class Worker;

class PostgresAuditLog final : public ports::AuditLog {
 public:
  /// Connects to `url` (postgresql://user:password@host:port/database, or a libpq key=value
  /// string) and checks the schema. Throws std::runtime_error with a one-line message when the
  /// server cannot be reached, the database lacks a migration ("... run gavel migrate") or is
  /// newer than this build.
  explicit PostgresAuditLog(const std::string& url);
  ~PostgresAuditLog() override;
  PostgresAuditLog(const PostgresAuditLog&) = delete;
  PostgresAuditLog& operator=(const PostgresAuditLog&) = delete;

  void append(std::vector<ports::AuditAppend> entries,
              ports::Callback<std::vector<ports::AuditAppendOutcome>> done) override;
  void entries_for_auction(const domain::AuctionId& auction_id, std::uint64_t after_seq,
                           std::size_t limit,
                           ports::Callback<std::vector<ports::AuditEntry>> done) override;
  void entries(std::uint64_t after_seq, std::size_t limit,
               ports::Callback<std::vector<ports::AuditEntry>> done) override;
  void head(ports::Callback<ports::AuditHead> done) override;

 private:
  std::unique_ptr<Worker> writes_;
  std::unique_ptr<Worker> reads_;
};

}  // namespace gavel::adapters::postgres
