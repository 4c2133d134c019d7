#include "adapters/sql/audit_records.hpp"

#include <string>
#include <string_view>

namespace gavel::adapters::sql {

ports::AuditEntry read_audit_entry(const Row& row) {
  ports::AuditEntry entry;
  entry.seq = static_cast<std::uint64_t>(row.column_int64(0));
  entry.key = std::string(row.column_text(1));
  const std::string_view auction_id = row.column_text(2);
  if (auction_id.size() > domain::kMaxIdLength) {
    throw CorruptRow("audit entry " + std::to_string(entry.seq) + " has an auction id of " +
                     std::to_string(auction_id.size()) + " bytes");
  }
  entry.auction_id = domain::AuctionId{auction_id};
  entry.kind = std::string(row.column_text(3));
  entry.occurred_at = domain::Timestamp{domain::Duration{row.column_int64(4)}};
  entry.body = std::string(row.column_text(5));
  entry.prev_hash = std::string(row.column_text(6));
  entry.hash = std::string(row.column_text(7));
  return entry;
}

}  // namespace gavel::adapters::sql
