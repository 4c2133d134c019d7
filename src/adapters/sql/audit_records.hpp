#pragma once
// How audit entries map to table rows, shared by the SQL audit logs (SQLite, PostgreSQL).
// occurred_at is microseconds since the epoch.

#include "adapters/sql/row.hpp"
#include "ports/audit_log.hpp"

namespace gavel::adapters::sql {

/// The columns read_audit_entry reads, in order.
inline constexpr const char* kAuditColumns =
    "seq, key, auction_id, kind, occurred_at, body, prev_hash, hash";

/// Reads a row of a SELECT of kAuditColumns. Throws CorruptRow.
ports::AuditEntry read_audit_entry(const Row& row);

}  // namespace gavel::adapters::sql
