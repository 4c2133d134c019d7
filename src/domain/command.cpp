#include "domain/command.hpp"

#include "domain/overloaded.hpp"

namespace gavel::domain {

const AuctionId& target_of(const Command& command) {
  return std::visit(Overloaded{
                        [](const CreateAuction& c) -> const AuctionId& { return c.terms.id; },
                        [](const auto& c) -> const AuctionId& { return c.auction_id; },
                    },
                    command);
}

Timestamp time_of(const Command& command) {
  return std::visit(Overloaded{
                        [](const CreateAuction& c) { return c.at; },
                        [](const PlaceBid& c) { return c.bid.received_at; },
                        [](const BuyNow& c) { return c.received_at; },
                        [](const CancelAuction& c) { return c.at; },
                        [](const VoidBid& c) { return c.at; },
                    },
                    command);
}

std::string_view op_name(const Command& command) {
  return std::visit(Overloaded{
                        [](const CreateAuction&) { return std::string_view{"create"}; },
                        [](const PlaceBid&) { return std::string_view{"bid"}; },
                        [](const BuyNow&) { return std::string_view{"buyNow"}; },
                        [](const CancelAuction&) { return std::string_view{"cancel"}; },
                        [](const VoidBid&) { return std::string_view{"void"}; },
                    },
                    command);
}

}  // namespace gavel::domain
