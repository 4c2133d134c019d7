#pragma once
// The audit log port in process memory: the tests' fake (it is not durable). Thread-safe;
// answers every call before returning. Chains entries with wire::chain_entry, like every
// adapter of the port.

#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "ports/audit_log.hpp"

namespace gavel::adapters::memory {

class MemoryAuditLog final : public ports::AuditLog {
 public:
  void append(std::vector<ports::AuditAppend> entries,
              ports::Callback<std::vector<ports::AuditAppendOutcome>> done) override;
  void entries_for_auction(const domain::AuctionId& auction_id, std::uint64_t after_seq,
                           std::size_t limit,
                           ports::Callback<std::vector<ports::AuditEntry>> done) override;
  void entries(std::uint64_t after_seq, std::size_t limit,
               ports::Callback<std::vector<ports::AuditEntry>> done) override;
  void head(ports::Callback<ports::AuditHead> done) override;

 private:
  std::mutex mutex_;
  std::vector<ports::AuditEntry> entries_;  // entries_[i].seq == i + 1
  std::unordered_map<std::string, std::uint64_t> seq_of_key_;
};

}  // namespace gavel::adapters::memory
