#include "domain/reason.hpp"

#include <array>
#include <utility>

namespace gavel::domain {
namespace {

constexpr std::array<std::pair<Reason, std::string_view>, 17> kReasonNames{{
    {Reason::none, "none"},
    {Reason::auction_not_found, "auction_not_found"},
    {Reason::auction_exists, "auction_exists"},
    {Reason::auction_not_open, "auction_not_open"},
    {Reason::auction_closed, "auction_closed"},
    {Reason::bid_too_low, "bid_too_low"},
    {Reason::seller_cannot_bid, "seller_cannot_bid"},
    {Reason::currency_mismatch, "currency_mismatch"},
    {Reason::invalid_amount, "invalid_amount"},
    {Reason::max_below_amount, "max_below_amount"},
    {Reason::not_raising_max, "not_raising_max"},
    {Reason::rate_limited, "rate_limited"},
    {Reason::buy_now_unavailable, "buy_now_unavailable"},
    {Reason::auction_has_bids, "auction_has_bids"},
    {Reason::not_allowed, "not_allowed"},
    {Reason::bid_not_found, "bid_not_found"},
    {Reason::invalid_auction, "invalid_auction"},
}};

}  // namespace

std::string_view to_string(Reason reason) {
  for (const auto& [value, name] : kReasonNames) {
    if (value == reason) return name;
  }
  return "unknown";
}

std::optional<Reason> reason_from_string(std::string_view name) {
  for (const auto& [value, known] : kReasonNames) {
    if (known == name) return value;
  }
  return std::nullopt;
}

}  // namespace gavel::domain
