#pragma once
// The audit trail (the seed's AuditService): an append-only, hash-chained log of every command
// the engine decided, with its decision, and of every event. Each entry carries the hash of the
// one before, so that altering, removing or reordering an entry breaks the chain where it
// happened (wire/audit_chain.hpp defines the hash and checks a chain).
//
// Shaped for SQLite/PostgreSQL (one transaction per append, a unique index on the key) and for
// DynamoDB (a conditional put on the head item is the commit point of each append).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "domain/ids.hpp"
#include "domain/time.hpp"
#include "ports/result.hpp"

namespace gavel::ports {

/// One entry as the log keeps it. `seq` counts from 1 without gaps, in append order.
/// `hash` = SHA-256(prev_hash + "\n" + seq + "\n" + key + "\n" + body), lowercase hex;
/// `prev_hash` is the previous entry's hash (64 zeros for the first entry).
struct AuditEntry {
  std::uint64_t seq = 0;
  std::string key;  ///< unique in the log: "command:<commandId>" or "event:<eventId>"
  domain::AuctionId auction_id;
  std::string kind;                 ///< "command" or "event"
  domain::Timestamp occurred_at{};  ///< when the recorded command or event happened
  std::string body;                 ///< canonical JSON (keys sorted, no whitespace)
  std::string prev_hash;
  std::string hash;
  bool operator==(const AuditEntry&) const = default;
};

/// What a caller appends; the log numbers it, canonicalizes the body and chains it.
struct AuditAppend {
  std::string key;
  domain::AuctionId auction_id;
  std::string kind;
  domain::Timestamp occurred_at{};
  std::string body;  ///< any JSON text; stored in canonical form
};

/// The last entry: seq 0 and the genesis hash (64 zeros) while the log is empty.
struct AuditHead {
  std::uint64_t seq = 0;
  std::string hash;
  bool operator==(const AuditHead&) const = default;
};

/// What became of one appended entry: its seq, or, for a key already in the log (or earlier in
/// the same call), the seq of the entry that holds it and `duplicate`.
struct AuditAppendOutcome {
  std::uint64_t seq = 0;
  bool duplicate = false;
  bool operator==(const AuditAppendOutcome&) const = default;
};

class AuditLog {
 public:
  virtual ~AuditLog() = default;

  /// Appends `entries` in order, all or nothing, and answers one outcome per entry. An entry
  /// whose key is already in the log is a no-op (reported as a duplicate), so a redelivered
  /// record is harmless. A body that is not JSON, an empty key or a kind other than "command"
  /// or "event" answers ErrorKind::permanent and appends nothing.
  virtual void append(std::vector<AuditAppend> entries,
                      Callback<std::vector<AuditAppendOutcome>> done) = 0;

  /// The entries of one auction with seq > `after_seq`, in log order, at most `limit`.
  virtual void entries_for_auction(const domain::AuctionId& auction_id, std::uint64_t after_seq,
                                   std::size_t limit, Callback<std::vector<AuditEntry>> done) = 0;

  /// Every entry with seq > `after_seq`, in log order, at most `limit` (pages through the whole
  /// log for verification).
  virtual void entries(std::uint64_t after_seq, std::size_t limit,
                       Callback<std::vector<AuditEntry>> done) = 0;

  /// The last entry's seq and hash.
  virtual void head(Callback<AuditHead> done) = 0;
};

using AuditLogPtr = std::unique_ptr<AuditLog>;

}  // namespace gavel::ports
