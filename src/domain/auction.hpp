#pragma once
// One auction and every rule of RULES.md that applies to it. Pure: no I/O, no clock reads;
// times come in with the commands. Not thread-safe: the engine is its single writer.

#include <optional>
#include <string>
#include <vector>

#include "domain/event.hpp"
#include "domain/ids.hpp"
#include "domain/increment.hpp"
#include "domain/money.hpp"
#include "domain/reason.hpp"
#include "domain/time.hpp"

namespace gavel::domain {

/// What the seller set at creation; never changes afterwards.
struct AuctionTerms {
  AuctionId id;
  UserId seller_id;
  std::string title;
  Currency currency;
  Amount starting_price{1};
  Timestamp starts_at{};
  Timestamp ends_at{};
  std::optional<Amount> reserve_price;
  std::optional<Amount> buy_now_price;
  Duration soft_close{0};                ///< a price-moving bid this close to the end extends it
  Duration extension{0};                 ///< the end moves to receivedAt + extension
  std::optional<Timestamp> max_ends_at;  ///< hard end: extensions never pass it
  IncrementPolicy increment = IncrementPolicy::default_table();
  bool operator==(const AuctionTerms&) const = default;
};

inline constexpr std::size_t kMaxTitleLength = 200;
inline constexpr Duration kMaxAuctionLength = std::chrono::hours(24 * 366);
inline constexpr Duration kMaxSoftClose = std::chrono::hours(24);

/// Why terms are invalid: the offending field (API name) and a sentence for people.
struct TermsError {
  std::string field;
  std::string message;
};

/// Checks the terms before an auction is created. Bad terms create nothing.
std::optional<TermsError> validate(const AuctionTerms& terms);

/// A bid as the engine receives it: stamped by the gateway, not yet judged.
struct BidRequest {
  BidId id;
  UserId bidder_id;
  Amount amount;
  std::optional<Amount> max_amount;  ///< absent: equal to amount
  std::optional<Currency> currency;  ///< absent: the auction's
  Timestamp received_at{};
  bool operator==(const BidRequest&) const = default;
};

/// An accepted bid as kept in the auction's history (the basis of admin void).
struct BidRecord {
  BidId id;
  UserId bidder_id;
  Amount amount;
  Amount max_amount;
  Timestamp received_at{};
  bool operator==(const BidRecord&) const = default;
};

/// The outcome of a bid, buy-now, cancel or void: accepted, or rejected with a reason.
struct Decision {
  bool accepted = false;
  Reason reason = Reason::none;
  bool leading = false;            ///< bids: the bidder leads after the decision
  Amount price{};                  ///< the auction's price after the decision
  Amount min_next_bid{};           ///< the minimum a new challenger must bid after the decision
  std::uint64_t event_number = 0;  ///< the number of the event recording it (0: none)
  bool operator==(const Decision&) const = default;
};

/// Someone acting on an auction: a user, possibly an admin.
struct Actor {
  UserId id;
  bool admin = false;
  bool operator==(const Actor&) const = default;
};

/// Everything about an auction that changes; persisted beside its terms.
struct AuctionState {
  AuctionStatus status = AuctionStatus::scheduled;
  AuctionResult result = AuctionResult::none;
  Amount price{};             ///< the starting price until the first accepted bid
  UserId leader_id;           ///< empty: no leader
  Amount leader_max{};        ///< the leader's proxy maximum (never public)
  Timestamp leader_max_at{};  ///< receivedAt of the bid that set leader_max (for ties)
  Timestamp ends_at{};
  std::uint64_t seq = 1;
  std::uint64_t events = 0;  ///< events emitted so far (numbers them)
  std::vector<BidRecord> accepted;
  UserId winner_id;
  Amount final_price{};
  bool operator==(const AuctionState&) const = default;
};

class Auction {
 public:
  /// A new auction from validated terms: scheduled, seq 1.
  explicit Auction(AuctionTerms terms);
  /// An auction restored from its persisted state.
  Auction(AuctionTerms terms, AuctionState state);

  /// Records the auction.created event (seq 1). Called once by whoever creates the auction.
  void announce_creation(Timestamp at, std::vector<Event>& out);

  /// Judges a bid. Opens the auction first when the bid's receivedAt has reached startsAt.
  Decision place_bid(const BidRequest& bid, std::vector<Event>& out);
  /// Takes the buy-now price: only while open and before the first accepted bid.
  Decision buy_now(const UserId& buyer, Timestamp received_at, std::vector<Event>& out);
  /// Cancels: the seller before the first accepted bid, or an admin at any time before the close.
  Decision cancel(const Actor& actor, std::string note, Timestamp at, std::vector<Event>& out);
  /// An admin voids an accepted bid; the state is recomputed from the remaining bids.
  Decision void_bid(const Actor& actor, const BidId& bid_id, Timestamp at, std::vector<Event>& out);

  /// scheduled → open once `now` reaches startsAt. Returns whether it changed.
  bool open_if_due(Timestamp now, std::vector<Event>& out);
  /// Closes once `now` has reached endsAt; the caller guarantees that every bid received
  /// before endsAt has been decided (the queue's watermark). Returns whether it changed.
  bool close_if_due(Timestamp now, std::vector<Event>& out);

  const AuctionTerms& terms() const { return terms_; }
  const AuctionState& state() const { return state_; }
  AuctionStatus status() const { return state_.status; }
  Amount price() const { return state_.price; }
  const UserId& leader_id() const { return state_.leader_id; }
  Timestamp ends_at() const { return state_.ends_at; }
  std::uint64_t seq() const { return state_.seq; }
  std::size_t bid_count() const { return state_.accepted.size(); }
  /// The least a challenger (anyone but the leader) may bid now.
  Amount min_next_bid() const;
  /// Whether the hidden reserve is met (true when there is none).
  bool reserve_met() const;
  /// Whether the auction can take no more commands that change it.
  bool is_final() const {
    return state_.status == AuctionStatus::closed || state_.status == AuctionStatus::cancelled;
  }

 private:
  Event& emit(EventType type, Timestamp at, std::vector<Event>& out);
  Decision reject(const BidRequest& bid, Reason reason, std::vector<Event>& out);
  Decision decision(Reason reason, bool leading, std::uint64_t event_number = 0) const;
  // Checks that do not depend on the current leader; Reason::none when the bid may proceed.
  Reason check_admissible(const BidRequest& bid) const;
  // Applies the price rules to an admissible bid; returns Reason::none when accepted.
  // Fills `outbid` with the user who should hear they were outbid, if any.
  Reason apply_bid(const BidRequest& bid, UserId& outbid, UserId& previous_leader);
  void raise_to_reserve();
  // Soft close; returns whether endsAt moved.
  bool extend_for(Timestamp received_at);

  AuctionTerms terms_;
  AuctionState state_;
};

}  // namespace gavel::domain
