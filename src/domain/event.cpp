#include "domain/event.hpp"

#include <charconv>

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

std::optional<std::pair<std::string, std::uint64_t>> parse_event_id(std::string_view id) {
  const auto colon = id.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::uint64_t number = 0;
  const char* first = id.data() + colon + 1;
  const char* last = id.data() + id.size();
  const auto [end, ec] = std::from_chars(first, last, number);
  if (ec != std::errc{} || end != last || first == last) return std::nullopt;
  return std::pair{std::string(id.substr(0, colon)), number};
}

}  // namespace gavel::domain
