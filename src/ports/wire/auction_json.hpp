#pragma once
// The JSON shapes of auctions and events, shared by the API, `gavel replay` and the adapters
// that store or publish them (API.md fixes the field names).

#include <boost/json.hpp>
#include <variant>

#include "domain/auction.hpp"
#include "ports/wire/json_fields.hpp"

namespace gavel::wire {

/// What the caller knows besides the document: the seller (from the token, in the API), the id
/// (assigned by the API), and the time to use when startsAt is absent.
struct TermsContext {
  std::optional<domain::AuctionId> id;      ///< absent: the document's "id" is required
  std::optional<domain::UserId> seller_id;  ///< absent: the document's "sellerId" is required
  std::optional<domain::Timestamp> now;     ///< absent: "startsAt" is required
};

/// Reads the fields of POST /v1/auctions (and replay's "create"): title, currency,
/// startingPrice, endsAt or durationSeconds, optional startsAt, reservePrice, buyNowPrice,
/// softCloseSeconds, extensionSeconds (defaults to softCloseSeconds), maxEndsAt, increment
/// (an integer for a fixed step, or [{"from", "step"}, ...] for a table). Validates the terms.
std::variant<domain::AuctionTerms, FieldError> parse_terms(const boost::json::object& object,
                                                           const TermsContext& context);

/// The public state, as GET /v1/auctions/{id} answers it; never the reserve or the maxima.
/// Closed auctions add result, winnerId and finalPrice.
boost::json::object public_view(const domain::Auction& auction);

/// An event for subscribers: {"id", "type", "auctionId", "seq", "at", ...the fields that apply}.
boost::json::object event_json(const domain::Event& event);

/// Reads back what event_json wrote (a topic subscriber's view of an event). Nothing when the
/// document is not an event: a missing or mistyped field, an unknown type, an id that does not
/// match auctionId. Subscribers skip such messages. A rejection's minNextBid is on the wire
/// only for bid_too_low; otherwise it reads back as 0.
std::optional<domain::Event> event_from_json(const boost::json::object& object);

}  // namespace gavel::wire
