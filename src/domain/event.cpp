#include "domain/event.hpp"

namespace gavel::domain {

std::string_view to_string(AuctionStatus status) {
  switch (status) {
    case AuctionStatus::scheduled:
      return "scheduled";
    case AuctionStatus::open:
      return "open";
    case AuctionStatus::closed:
      return "closed";
    case AuctionStatus::cancelled:
      return "cancelled";
  }
  return "unknown";
}

std::string_view to_string(AuctionResult result) {
  switch (result) {
    case AuctionResult::none:
      return "none";
    case AuctionResult::sold:
      return "sold";
    case AuctionResult::unsold:
      return "unsold";
  }
  return "unknown";
}

std::string_view to_string(EventType type) {
  switch (type) {
    case EventType::auction_created:
      return "auction.created";
    case EventType::auction_opened:
      return "auction.opened";
    case EventType::bid_accepted:
      return "bid.accepted";
    case EventType::bid_rejected:
      return "bid.rejected";
    case EventType::outbid:
      return "outbid";
    case EventType::auction_extended:
      return "auction.extended";
    case EventType::auction_closed:
      return "auction.closed";
    case EventType::auction_cancelled:
      return "auction.cancelled";
    case EventType::bid_voided:
      return "bid.voided";
  }
  return "unknown";
}

std::string event_id(const Event& event) {
  return event.auction_id.str() + ":" + std::to_string(event.number);
}

}  // namespace gavel::domain
