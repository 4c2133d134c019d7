#pragma once
// Who hears what about an auction event (RULES.md §Notifications), and the words they read.
// Pure functions: no I/O, no clock; the notifier feeds them events and what it knows of the
// auction.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/event.hpp"
#include "domain/money.hpp"
#include "ports/notice_store.hpp"

namespace gavel::roles::notifier {

/// The kinds of notice, as Notice::kind names them.
namespace kind {
inline constexpr std::string_view kOutbid = "outbid";
inline constexpr std::string_view kLeading = "leading";
inline constexpr std::string_view kEndingSoon = "ending_soon";
inline constexpr std::string_view kWon = "won";
inline constexpr std::string_view kLost = "lost";
inline constexpr std::string_view kSold = "sold";
inline constexpr std::string_view kUnsold = "unsold";
inline constexpr std::string_view kCancelled = "cancelled";
}  // namespace kind

struct Recipient {
  domain::UserId user_id;
  std::string_view kind;
  bool operator==(const Recipient&) const = default;
};

/// Who hears what about `event`, given the auction's watch before the event (its seller and
/// the bidders seen so far):
/// - outbid → the user who lost the lead, or whose bid was topped at once by the leader's
///   maximum (the event's user);
/// - bid.accepted → leading to the bidder when they took the lead (the leader changed, or it
///   is the auction's first leader); a leader raising their own maximum hears nothing;
/// - auction.closed → won to the winner, lost to every other bidder, sold or unsold to the
///   seller;
/// - auction.cancelled → cancelled to every bidder and the seller.
/// Other events notify nobody.
std::vector<Recipient> recipients(const domain::Event& event, const ports::AuctionWatch& before);

/// What a notice may say about the auction beyond the event: its title and currency, when
/// known (events carry neither).
struct AuctionFacts {
  std::string title;
  std::optional<domain::Currency> currency;
};

/// "EUR 1,234.50" (minor units by the currency's exponent: 0 for JPY, 3 for KWD, 2 mostly);
/// "12.50" without a currency.
std::string format_money(domain::Amount amount, const std::optional<domain::Currency>& currency);

/// The notice id: "<event id>:<user>:<kind>", or "<auction id>:<user>:ending_soon" (one per
/// auction, whatever extends it). Stable across redeliveries and restarts.
std::string notice_id(const domain::Event& event, const Recipient& recipient);

/// The notice for `recipient` about `event` (for ending_soon, an event carrying the auction id,
/// its price and endsAt): subject, plain text and HTML in plain English. User-given text (the
/// title, a cancellation note) is escaped in the HTML. Address and secret are left empty.
ports::Notice compose(const domain::Event& event, const Recipient& recipient,
                      const AuctionFacts& facts);

}  // namespace gavel::roles::notifier
