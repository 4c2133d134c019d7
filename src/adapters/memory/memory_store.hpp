#pragma once
// The store port in process memory: the tests' fake (it is not durable). Thread-safe; answers
// every call before returning.

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "ports/store.hpp"

namespace gavel::adapters::memory {

class MemoryStore final : public ports::Store {
 public:
  void commit(ports::CommitBatch batch, ports::Callback<void> done) override;
  void get_auction(const domain::AuctionId& id,
                   ports::Callback<std::optional<ports::StoredAuction>> done) override;
  void list_auctions(const ports::AuctionListQuery& query,
                     ports::Callback<std::vector<ports::StoredAuction>> done) override;
  void find_bid_by_key(const domain::UserId& bidder_id, const std::string& key,
                       ports::Callback<std::optional<ports::StoredBid>> done) override;
  void get_bid(const domain::BidId& id,
               ports::Callback<std::optional<ports::StoredBid>> done) override;
  void list_bids(const domain::AuctionId& auction_id, std::uint64_t after_position,
                 std::size_t limit, ports::Callback<std::vector<ports::StoredBid>> done) override;
  void pending_events(std::size_t limit, ports::Callback<std::vector<domain::Event>> done) override;
  void mark_published(std::vector<std::string> event_ids, ports::Callback<void> done) override;
  void pending_audit(std::size_t limit,
                     ports::Callback<std::vector<ports::OutgoingMessage>> done) override;
  void mark_audit_published(std::vector<std::string> keys, ports::Callback<void> done) override;

 private:
  std::mutex mutex_;
  std::map<domain::AuctionId, ports::StoredAuction> auctions_;
  std::unordered_map<domain::BidId, ports::StoredBid> bids_;
  // "<bidder>\n<key>" → bid id: the first bid stored with that Idempotency-Key.
  std::unordered_map<std::string, domain::BidId> bids_by_key_;
  // auction → position → bid id: list_bids in decision order.
  std::map<domain::AuctionId, std::map<std::uint64_t, domain::BidId>> bids_by_position_;
  // Unpublished events in commit order. Every event id ever committed stays in the index, so a
  // retried batch does not put a published event back.
  std::map<std::uint64_t, domain::Event> outbox_;
  std::unordered_map<std::string, std::uint64_t> outbox_index_;  // event id → outbox key
  std::uint64_t next_outbox_key_ = 1;
  // Unpublished audit records in commit order, and their keys → position.
  std::map<std::uint64_t, ports::OutgoingMessage> audit_outbox_;
  std::unordered_map<std::string, std::uint64_t> audit_index_;
};

}  // namespace gavel::adapters::memory
