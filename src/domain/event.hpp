#pragma once
// What the rules decided, as values: every decision and state change becomes an Event.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "domain/ids.hpp"
#include "domain/money.hpp"
#include "domain/reason.hpp"
#include "domain/time.hpp"

namespace gavel::domain {

enum class AuctionStatus { scheduled, open, closed, cancelled };
enum class AuctionResult { none, sold, unsold };

std::string_view to_string(AuctionStatus status);
std::string_view to_string(AuctionResult result);

enum class EventType {
  auction_created,
  auction_opened,
  bid_accepted,
  bid_rejected,
  outbid,
  auction_extended,
  auction_closed,
  auction_cancelled,
  bid_voided,
};

/// The wire name, e.g. "bid.accepted".
std::string_view to_string(EventType type);

/// One event of one auction. Fields that do not apply to a type keep their defaults.
/// `number` counts every event of the auction (so `auction_id` + `number` is a unique,
/// deterministic id); `seq` is the auction's public sequence after the event (it rises by one
/// with each change of public state; a rejection carries the unchanged seq).
struct Event {
  EventType type = EventType::auction_created;
  AuctionId auction_id;
  std::uint64_t number = 0;
  std::uint64_t seq = 0;
  Timestamp at{};
  BidId bid_id;            ///< bid events: the bid
  UserId user_id;          ///< the bidder; for outbid the user who lost; for closed the winner
  Amount amount{};         ///< bid events: the bid's amount
  Amount price{};          ///< the price after the event
  UserId leader_id;        ///< the leader after the event (empty: none)
  UserId previous_leader;  ///< bid.accepted and bid.voided: the leader before, when it changed
  Timestamp ends_at{};     ///< the end after the event
  Reason reason = Reason::none;                ///< bid.rejected: why
  Amount min_next_bid{};                       ///< bid.rejected with bid_too_low
  AuctionResult result = AuctionResult::none;  ///< auction.closed
  std::string note;                            ///< auction.cancelled: the reason given
  bool operator==(const Event&) const = default;
};

/// "<auctionId>:<number>": the id every consumer deduplicates on.
std::string event_id(const Event& event);

/// An event id read back: the auction id and the event's number; nullopt when it is not one.
std::optional<std::pair<std::string, std::uint64_t>> parse_event_id(std::string_view id);

}  // namespace gavel::domain
