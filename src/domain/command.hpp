#pragma once
// What the engine is asked to do: the commands of the bid's path and of `gavel replay`.

#include <string>
#include <variant>

#include "domain/auction.hpp"

namespace gavel::domain {

struct CreateAuction {
  AuctionTerms terms;
  Timestamp at{};
  bool operator==(const CreateAuction&) const = default;
};
struct PlaceBid {
  AuctionId auction_id;
  BidRequest bid;
  bool operator==(const PlaceBid&) const = default;
};
struct BuyNow {
  AuctionId auction_id;
  UserId buyer_id;
  Timestamp received_at{};
  bool operator==(const BuyNow&) const = default;
};
struct CancelAuction {
  AuctionId auction_id;
  Actor actor;
  std::string note;
  Timestamp at{};
  bool operator==(const CancelAuction&) const = default;
};
struct VoidBid {
  AuctionId auction_id;
  Actor actor;
  BidId bid_id;
  Timestamp at{};
  bool operator==(const VoidBid&) const = default;
};

using Command = std::variant<CreateAuction, PlaceBid, BuyNow, CancelAuction, VoidBid>;

/// The auction a command is about.
const AuctionId& target_of(const Command& command);
/// When the command happened (receivedAt for bids and buy-now, `at` for the others).
Timestamp time_of(const Command& command);
/// The wire name of the command: create, bid, buyNow, cancel, void.
std::string_view op_name(const Command& command);

}  // namespace gavel::domain
