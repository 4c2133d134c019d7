#pragma once
// The durable truth (the seed's DynamoDB/Aurora): auctions, decided bids, and the outbox of
// events still to publish. Shaped for PostgreSQL (one transaction per batch) and for DynamoDB
// without multi-item transactions (a conditional write on the auction's seq is the commit
// point; bids and events are idempotent puts keyed by their ids).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "domain/auction.hpp"
#include "ports/message.hpp"
#include "ports/result.hpp"

namespace gavel::ports {

/// A decided bid as stored and as `GET /v1/bids/{id}` reports it.
struct StoredBid {
  domain::BidId id;
  domain::AuctionId auction_id;
  domain::UserId bidder_id;
  domain::Amount amount;
  std::optional<domain::Amount> max_amount;
  domain::Timestamp received_at{};
  domain::Decision decision;
  std::uint64_t position = 0;   ///< order of decision within the auction, from 1
  std::string idempotency_key;  ///< the client's Idempotency-Key (empty: none)
  bool operator==(const StoredBid&) const = default;
};

/// An auction's new state, written only if the store still holds both `expected_seq` and
/// `expected_events` (expected_seq 0: the auction must not exist yet, and expected_events is
/// not looked at). This fences a stale engine: another engine sharing the store, or one after
/// a takeover. The event count is fenced as well as the seq because a rejection numbers an
/// event (event ids are "<auction>:<number>") without moving the seq, the public version that
/// clients see: two engines at one seq could otherwise both commit an event numbered N.
struct AuctionWrite {
  domain::AuctionTerms terms;
  domain::AuctionState state;
  std::uint64_t expected_seq = 0;
  std::uint64_t expected_events = 0;  ///< AuctionState::events as the store holds it
  /// How many leading entries of state.accepted the store already holds unchanged, as of the
  /// expected version: a store may write only the entries after them, so that a hot auction's
  /// commit does not rewrite its whole bid history (it grows with every accepted bid). 0, the
  /// default, asks for the whole history to be written: a creation, or after an admin void,
  /// which rewrites the history. The store ends up holding state.accepted in full either way.
  std::size_t history_kept = 0;
};

/// Everything one engine batch decided, committed together.
struct CommitBatch {
  std::vector<AuctionWrite> auctions;
  std::vector<StoredBid> bids;
  std::vector<domain::Event> events;  ///< the outbox: published after the commit
  /// The audit outbox: the batch's audit feed records (commands with their decisions, and
  /// events), published to the audit topic after the commit. Keeping them with the batch means
  /// an engine that dies between its commit and that publish loses no audit record: the next
  /// start publishes what is pending. Their dedup_id is the record's key.
  std::vector<OutgoingMessage> audit{};
};

/// Which auctions list_auctions answers: ids after `after` (empty: from the start), in id
/// order, optionally only those with `status`, at most `limit`.
struct AuctionListQuery {
  std::optional<domain::AuctionStatus> status;
  domain::AuctionId after;
  std::size_t limit = 100;
};

struct StoredAuction {
  domain::AuctionTerms terms;
  domain::AuctionState state;
};

class Store {
 public:
  virtual ~Store() = default;

  /// Commits a batch atomically: all of it or none. A failed seq or event count condition
  /// answers ErrorKind::conflict and writes nothing. Bids and events already stored with the same
  /// ids are left as they are (a retried batch is harmless).
  virtual void commit(CommitBatch batch, Callback<void> done) = 0;

  /// One auction, or nullopt.
  virtual void get_auction(const domain::AuctionId& id,
                           Callback<std::optional<StoredAuction>> done) = 0;

  /// Auctions matching `query`, in id order; pages through millions of auctions when an engine
  /// rebuilds its state, and serves the listing of the API.
  virtual void list_auctions(const AuctionListQuery& query,
                             Callback<std::vector<StoredAuction>> done) = 0;

  /// One decided bid, or nullopt.
  virtual void get_bid(const domain::BidId& id, Callback<std::optional<StoredBid>> done) = 0;

  /// The bid `bidder_id` sent with Idempotency-Key `key` (the first one stored), or nullopt.
  virtual void find_bid_by_key(const domain::UserId& bidder_id, const std::string& key,
                               Callback<std::optional<StoredBid>> done) = 0;

  /// An auction's decided bids with position > `after_position`, in decision order.
  virtual void list_bids(const domain::AuctionId& auction_id, std::uint64_t after_position,
                         std::size_t limit, Callback<std::vector<StoredBid>> done) = 0;

  /// Outbox events not yet marked published, oldest first.
  virtual void pending_events(std::size_t limit, Callback<std::vector<domain::Event>> done) = 0;

  /// Marks outbox events (by event_id) as published. Unknown ids are ignored.
  virtual void mark_published(std::vector<std::string> event_ids, Callback<void> done) = 0;

  /// Audit outbox records not yet published, in commit order (the audit chain's order).
  virtual void pending_audit(std::size_t limit, Callback<std::vector<OutgoingMessage>> done) = 0;

  /// Forgets published audit outbox records (by dedup_id); the audit log keeps them. Unknown
  /// ids are ignored. A record committed again after that (a retried batch) is pending again,
  /// which is harmless: the audit log drops a key it already holds.
  virtual void mark_audit_published(std::vector<std::string> keys, Callback<void> done) = 0;
};

using StorePtr = std::unique_ptr<Store>;

}  // namespace gavel::ports
