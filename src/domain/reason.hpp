#pragma once
// Machine-readable reasons for every rejection (RULES.md §Lifecycle and rights).

#include <optional>
#include <string_view>

namespace gavel::domain {

enum class Reason {
  none,
  auction_not_found,
  auction_exists,
  auction_not_open,
  auction_closed,
  bid_too_low,
  seller_cannot_bid,
  currency_mismatch,
  invalid_amount,
  max_below_amount,
  not_raising_max,
  rate_limited,
  buy_now_unavailable,
  auction_has_bids,
  not_allowed,
  bid_not_found,
  invalid_auction,
};

/// The wire name of a reason, e.g. "bid_too_low".
std::string_view to_string(Reason reason);
/// The reason with that wire name, if any.
std::optional<Reason> reason_from_string(std::string_view name);

}  // namespace gavel::domain
