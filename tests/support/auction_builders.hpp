#pragma once
// Short ways to build auctions and bids in tests. Times are seconds after a fixed start.

#include <ostream>
#include <string>

#include "domain/auction.hpp"

namespace gavel::domain {
// Readable values in test failure messages.
inline void PrintTo(const Amount& amount, std::ostream* os) {
  *os << amount.minor_units();
}
template <typename Tag>
void PrintTo(const Id<Tag>& id, std::ostream* os) {
  *os << '"' << id.str() << '"';
}
inline void PrintTo(const Timestamp& t, std::ostream* os) {
  *os << format_rfc3339(t);
}
}  // namespace gavel::domain

namespace gavel::testing {

inline domain::Timestamp t0() {
  return *domain::parse_rfc3339("2026-11-28T10:00:00Z");
}
/// t0 + s seconds.
inline domain::Timestamp at(std::int64_t s) {
  return t0() + domain::seconds(s);
}

inline domain::Amount amt(std::int64_t minor) {
  return domain::Amount{minor};
}

/// An open-able EUR auction from t0 to t0+600 s, starting at 1000, seller "seller".
inline domain::AuctionTerms terms(std::string id = "a1") {
  domain::AuctionTerms t;
  t.id = domain::AuctionId{std::move(id)};
  t.seller_id = domain::UserId{"seller"};
  t.title = "Lot";
  t.currency = *domain::Currency::parse("EUR");
  t.starting_price = amt(1000);
  t.starts_at = t0();
  t.ends_at = at(600);
  return t;
}

inline domain::BidRequest bid(std::string id, std::string bidder, std::int64_t amount,
                              std::optional<std::int64_t> max = std::nullopt,
                              std::int64_t seconds_after_start = 10) {
  return domain::BidRequest{domain::BidId{std::move(id)},
                            domain::UserId{std::move(bidder)},
                            amt(amount),
                            max ? std::optional{amt(*max)} : std::nullopt,
                            std::nullopt,
                            at(seconds_after_start)};
}

}  // namespace gavel::testing
