#include "adapters/memory/memory_store.hpp"

#include <optional>
#include <string>

namespace gavel::adapters::memory {
namespace {

// The auction as the store holds it, for the write fence.
struct Version {
  bool exists;
  std::uint64_t seq;
  std::uint64_t events;
};

// Why a write's condition failed; the same words as the SQL stores (adapters/sql/records.hpp).
std::string describe_conflict(const ports::AuctionWrite& write, const Version& stored) {
  const std::string id = "auction " + write.terms.id.str();
  if (!stored.exists)
    return id + " does not exist, expected seq " + std::to_string(write.expected_seq);
  const std::string at = " is at seq " + std::to_string(stored.seq);
  if (write.expected_seq == 0) return id + at + ", expected it not to exist";
  if (stored.seq != write.expected_seq)
    return id + at + ", expected " + std::to_string(write.expected_seq);
  return id + at + " with " + std::to_string(stored.events) + " events, expected " +
         std::to_string(write.expected_events) + " events";
}

}  // namespace

void MemoryStore::commit(ports::CommitBatch batch, ports::Callback<void> done) {
  std::optional<ports::Error> failure;
  {
    std::lock_guard lock(mutex_);
    // Check every condition before writing anything. A batch may write one auction twice:
    // the second write is checked against the first one's seq and event count.
    std::map<domain::AuctionId, Version> versions;
    for (const auto& write : batch.auctions) {
      const auto& id = write.terms.id;
      auto known = versions.find(id);
      if (known == versions.end()) {
        const auto stored = auctions_.find(id);
        const Version version = stored == auctions_.end() ? Version{false, 0, 0}
                                                          : Version{true, stored->second.state.seq,
                                                                    stored->second.state.events};
        known = versions.emplace(id, version).first;
      }
      const Version& at = known->second;
      const bool holds = write.expected_seq == 0 ? !at.exists
                                                 : at.exists && at.seq == write.expected_seq &&
                                                       at.events == write.expected_events;
      if (!holds) {
        failure = ports::Error{ports::ErrorKind::conflict, describe_conflict(write, at)};
        break;
      }
      known->second = Version{true, write.state.seq, write.state.events};
    }
    if (!failure) {
      for (auto& write : batch.auctions) {
        const domain::AuctionId id = write.terms.id;
        auctions_.insert_or_assign(
            id, ports::StoredAuction{std::move(write.terms), std::move(write.state)});
      }
      for (auto& bid : batch.bids) {
        if (bids_.contains(bid.id)) continue;
        bids_by_position_[bid.auction_id][bid.position] = bid.id;
        if (!bid.idempotency_key.empty()) {
          bids_by_key_.try_emplace(bid.bidder_id.str() + "\n" + bid.idempotency_key, bid.id);
        }
        bids_.emplace(bid.id, bid);
      }
      for (auto& event : batch.events) {
        std::string id = domain::event_id(event);
        if (outbox_index_.contains(id)) continue;
        const std::uint64_t key = next_outbox_key_++;
        outbox_index_.emplace(std::move(id), key);
        outbox_.emplace(key, std::move(event));
      }
      for (auto& record : batch.audit) {
        if (audit_index_.contains(record.dedup_id)) continue;
        const std::uint64_t key = next_outbox_key_++;
        audit_index_.emplace(record.dedup_id, key);
        audit_outbox_.emplace(key, std::move(record));
      }
    }
  }
  if (failure) {
    done(std::move(*failure));
  } else {
    done({});
  }
}

void MemoryStore::get_auction(const domain::AuctionId& id,
                              ports::Callback<std::optional<ports::StoredAuction>> done) {
  std::optional<ports::StoredAuction> answer;
  {
    std::lock_guard lock(mutex_);
    const auto found = auctions_.find(id);
    if (found != auctions_.end()) answer = found->second;
  }
  done(std::move(answer));
}

void MemoryStore::list_auctions(const ports::AuctionListQuery& query,
                                ports::Callback<std::vector<ports::StoredAuction>> done) {
  std::vector<ports::StoredAuction> answer;
  {
    std::lock_guard lock(mutex_);
    for (auto it = auctions_.upper_bound(query.after);
         it != auctions_.end() && answer.size() < query.limit; ++it) {
      if (query.status && it->second.state.status != *query.status) continue;
      answer.push_back(it->second);
    }
  }
  done(std::move(answer));
}

void MemoryStore::find_bid_by_key(const domain::UserId& bidder_id, const std::string& key,
                                  ports::Callback<std::optional<ports::StoredBid>> done) {
  std::optional<ports::StoredBid> answer;
  {
    std::lock_guard lock(mutex_);
    const auto found = bids_by_key_.find(bidder_id.str() + "\n" + key);
    if (found != bids_by_key_.end()) answer = bids_.at(found->second);
  }
  done(answer);
}

void MemoryStore::get_bid(const domain::BidId& id,
                          ports::Callback<std::optional<ports::StoredBid>> done) {
  std::optional<ports::StoredBid> answer;
  {
    std::lock_guard lock(mutex_);
    const auto found = bids_.find(id);
    if (found != bids_.end()) answer = found->second;
  }
  done(answer);
}

void MemoryStore::list_bids(const domain::AuctionId& auction_id, std::uint64_t after_position,
                            std::size_t limit,
                            ports::Callback<std::vector<ports::StoredBid>> done) {
  std::vector<ports::StoredBid> answer;
  {
    std::lock_guard lock(mutex_);
    const auto auction = bids_by_position_.find(auction_id);
    if (auction != bids_by_position_.end()) {
      const auto& positions = auction->second;
      for (auto it = positions.upper_bound(after_position);
           it != positions.end() && answer.size() < limit; ++it) {
        answer.push_back(bids_.at(it->second));
      }
    }
  }
  done(std::move(answer));
}

void MemoryStore::pending_events(std::size_t limit,
                                 ports::Callback<std::vector<domain::Event>> done) {
  std::vector<domain::Event> answer;
  {
    std::lock_guard lock(mutex_);
    for (auto it = outbox_.begin(); it != outbox_.end() && answer.size() < limit; ++it) {
      answer.push_back(it->second);
    }
  }
  done(std::move(answer));
}

void MemoryStore::mark_published(std::vector<std::string> event_ids, ports::Callback<void> done) {
  {
    std::lock_guard lock(mutex_);
    for (const auto& id : event_ids) {
      const auto found = outbox_index_.find(id);
      if (found != outbox_index_.end()) outbox_.erase(found->second);
    }
  }
  done({});
}

void MemoryStore::pending_audit(std::size_t limit,
                                ports::Callback<std::vector<ports::OutgoingMessage>> done) {
  std::vector<ports::OutgoingMessage> answer;
  {
    std::lock_guard lock(mutex_);
    for (auto it = audit_outbox_.begin(); it != audit_outbox_.end() && answer.size() < limit;
         ++it) {
      answer.push_back(it->second);
    }
  }
  done(std::move(answer));
}

void MemoryStore::mark_audit_published(std::vector<std::string> keys, ports::Callback<void> done) {
  {
    std::lock_guard lock(mutex_);
    for (const auto& key : keys) {
      const auto found = audit_index_.find(key);
      if (found == audit_index_.end()) continue;
      audit_outbox_.erase(found->second);
      audit_index_.erase(found);
    }
  }
  done({});
}

}  // namespace gavel::adapters::memory
