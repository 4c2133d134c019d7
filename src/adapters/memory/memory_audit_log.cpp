#include "adapters/memory/memory_audit_log.hpp"

#include "ports/wire/audit_chain.hpp"

namespace gavel::adapters::memory {

void MemoryAuditLog::append(std::vector<ports::AuditAppend> entries,
                            ports::Callback<std::vector<ports::AuditAppendOutcome>> done) {
  ports::Result<std::vector<ports::AuditAppendOutcome>> answer{
      std::vector<ports::AuditAppendOutcome>{}};
  {
    std::lock_guard lock(mutex_);
    // Chained aside first, so that a refused entry leaves the log as it was (all or nothing).
    ports::AuditHead head = entries_.empty()
                                ? wire::empty_head()
                                : ports::AuditHead{entries_.back().seq, entries_.back().hash};
    std::vector<ports::AuditEntry> chained;
    std::unordered_map<std::string, std::uint64_t> new_keys;
    auto& outcomes = answer.value();
    for (const auto& append : entries) {
      if (const auto old = seq_of_key_.find(append.key); old != seq_of_key_.end()) {
        outcomes.push_back({old->second, true});
        continue;
      }
      if (const auto fresh = new_keys.find(append.key); fresh != new_keys.end()) {
        outcomes.push_back({fresh->second, true});
        continue;
      }
      auto entry = wire::chain_entry(head, append);
      if (!entry) {
        answer = entry.error();
        break;
      }
      head = {entry.value().seq, entry.value().hash};
      new_keys.emplace(append.key, head.seq);
      outcomes.push_back({head.seq, false});
      chained.push_back(std::move(entry.value()));
    }
    if (answer.ok()) {
      seq_of_key_.merge(new_keys);
      for (auto& entry : chained) entries_.push_back(std::move(entry));
    }
  }
  done(std::move(answer));
}

void MemoryAuditLog::entries_for_auction(const domain::AuctionId& auction_id,
                                         std::uint64_t after_seq, std::size_t limit,
                                         ports::Callback<std::vector<ports::AuditEntry>> done) {
  std::vector<ports::AuditEntry> page;
  {
    std::lock_guard lock(mutex_);
    for (std::size_t i = after_seq; i < entries_.size() && page.size() < limit; ++i) {
      if (entries_[i].auction_id == auction_id) page.push_back(entries_[i]);
    }
  }
  done(std::move(page));
}

void MemoryAuditLog::entries(std::uint64_t after_seq, std::size_t limit,
                             ports::Callback<std::vector<ports::AuditEntry>> done) {
  std::vector<ports::AuditEntry> page;
  {
    std::lock_guard lock(mutex_);
    for (std::size_t i = after_seq; i < entries_.size() && page.size() < limit; ++i) {
      page.push_back(entries_[i]);
    }
  }
  done(std::move(page));
}

void MemoryAuditLog::head(ports::Callback<ports::AuditHead> done) {
  ports::AuditHead head;
  {
    std::lock_guard lock(mutex_);
    head = entries_.empty() ? wire::empty_head()
                            : ports::AuditHead{entries_.back().seq, entries_.back().hash};
  }
  done(std::move(head));
}

}  // namespace gavel::adapters::memory
