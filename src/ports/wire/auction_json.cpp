#include "ports/wire/auction_json.hpp"

namespace gavel::wire {

namespace json = boost::json;
using domain::Amount;

namespace {

std::optional<domain::IncrementPolicy> parse_increment(const json::value& value) {
  if (value.is_int64()) {
    const auto step = amount_from_json(value);
    if (!step) return std::nullopt;
    return domain::IncrementPolicy::fixed(*step);
  }
  if (!value.is_array()) return std::nullopt;
  std::vector<domain::IncrementTier> tiers;
  for (const json::value& row : value.get_array()) {
    if (!row.is_object()) return std::nullopt;
    const json::value* from = row.get_object().if_contains("from");
    const json::value* step = row.get_object().if_contains("step");
    if (from == nullptr || step == nullptr || !from->is_int64() || from->get_int64() < 0) {
      return std::nullopt;
    }
    const auto step_amount = amount_from_json(*step);
    if (!step_amount) return std::nullopt;
    tiers.push_back({Amount{from->get_int64()}, *step_amount});
  }
  return domain::IncrementPolicy::table(std::move(tiers));
}

json::value optional_amount_json(const std::optional<Amount>& amount) {
  if (!amount) return nullptr;
  return amount->minor_units();
}

json::value user_or_null(const domain::UserId& user) {
  if (user.empty()) return nullptr;
  return json::string(user.view());
}

}  // namespace

std::variant<domain::AuctionTerms, FieldError> parse_terms(const json::object& object,
                                                           const TermsContext& context) {
  JsonFields fields{object};
  domain::AuctionTerms terms;
  if (context.id) {
    terms.id = *context.id;
  } else if (auto id = fields.required_id("id")) {
    terms.id = domain::AuctionId{*id};
  }
  if (context.seller_id) {
    terms.seller_id = *context.seller_id;
  } else if (auto seller = fields.required_id("sellerId")) {
    terms.seller_id = domain::UserId{*seller};
  }
  terms.title = fields.optional_string("title").value_or("");
  if (fields.ok() && fields.raw("currency") == nullptr)
    fields.fail("currency", "currency is required");
  if (auto currency = fields.optional_currency("currency")) terms.currency = *currency;
  if (auto price = fields.required_amount("startingPrice")) terms.starting_price = *price;

  const auto starts_at = fields.optional_time("startsAt");
  if (starts_at) {
    terms.starts_at = *starts_at;
  } else if (context.now) {
    terms.starts_at = *context.now;
  } else if (fields.ok()) {
    fields.fail("startsAt", "startsAt is required");
  }
  const auto ends_at = fields.optional_time("endsAt");
  const auto duration = fields.optional_integer("durationSeconds", 1, 366LL * 24 * 3600);
  if (fields.ok()) {
    if (ends_at && duration) {
      fields.fail("endsAt", "give endsAt or durationSeconds, not both");
    } else if (ends_at) {
      terms.ends_at = *ends_at;
    } else if (duration) {
      terms.ends_at = terms.starts_at + domain::seconds(*duration);
    } else {
      fields.fail("endsAt", "endsAt or durationSeconds is required");
    }
  }
  terms.reserve_price = fields.optional_amount("reservePrice");
  terms.buy_now_price = fields.optional_amount("buyNowPrice");
  const auto soft_close = fields.optional_integer("softCloseSeconds", 0, 86400);
  const auto extension = fields.optional_integer("extensionSeconds", 0, 86400);
  terms.soft_close = domain::seconds(soft_close.value_or(0));
  terms.extension = domain::seconds(extension.value_or(soft_close.value_or(0)));
  terms.max_ends_at = fields.optional_time("maxEndsAt");
  if (const json::value* increment = fields.raw("increment"); increment != nullptr && fields.ok()) {
    if (auto policy = parse_increment(*increment)) {
      terms.increment = std::move(*policy);
    } else {
      fields.fail("increment",
                  "increment must be a positive integer, or a table [{\"from\": 0, \"step\": 5}, "
                  "...] starting at 0 with ascending rows");
    }
  }
  if (!fields.ok()) return *fields.error();
  if (auto invalid = domain::validate(terms)) return FieldError{invalid->field, invalid->message};
  return terms;
}

json::object public_view(const domain::Auction& auction) {
  const auto& terms = auction.terms();
  const auto& state = auction.state();
  json::object view;
  view["id"] = terms.id.view();
  view["title"] = terms.title;
  view["sellerId"] = terms.seller_id.view();
  view["currency"] = terms.currency.code();
  view["status"] = domain::to_string(state.status);
  view["startingPrice"] = terms.starting_price.minor_units();
  view["currentPrice"] = state.price.minor_units();
  view["leaderId"] = user_or_null(state.leader_id);
  view["bidCount"] = auction.bid_count();
  view["minNextBid"] = auction.min_next_bid().minor_units();
  view["reserveMet"] = auction.reserve_met();
  view["buyNowPrice"] = optional_amount_json(
      state.accepted.empty() && !auction.is_final() ? terms.buy_now_price : std::nullopt);
  view["startsAt"] = domain::format_rfc3339(terms.starts_at);
  view["endsAt"] = domain::format_rfc3339(state.ends_at);
  view["seq"] = state.seq;
  if (state.status == domain::AuctionStatus::closed) {
    view["result"] = domain::to_string(state.result);
    view["winnerId"] = user_or_null(state.winner_id);
    view["finalPrice"] = state.result == domain::AuctionResult::sold
                             ? json::value(state.final_price.minor_units())
                             : json::value(nullptr);
  }
  return view;
}

json::object event_json(const domain::Event& event) {
  using domain::EventType;
  json::object out;
  out["id"] = domain::event_id(event);
  out["type"] = domain::to_string(event.type);
  out["auctionId"] = event.auction_id.view();
  out["seq"] = event.seq;
  out["at"] = domain::format_rfc3339(event.at);
  switch (event.type) {
    case EventType::bid_accepted:
    case EventType::bid_voided:
      out["bidId"] = event.bid_id.view();
      out["bidderId"] = event.user_id.view();
      out["amount"] = event.amount.minor_units();
      out["previousLeaderId"] = user_or_null(event.previous_leader);
      break;
    case EventType::bid_rejected:
      out["bidId"] = event.bid_id.view();
      out["bidderId"] = event.user_id.view();
      out["reason"] = domain::to_string(event.reason);
      if (event.reason == domain::Reason::bid_too_low) {
        out["minNextBid"] = event.min_next_bid.minor_units();
      }
      break;
    case EventType::outbid:
      out["userId"] = event.user_id.view();
      break;
    case EventType::auction_closed:
      out["result"] = domain::to_string(event.result);
      out["winnerId"] = user_or_null(event.user_id);
      if (!event.note.empty()) out["via"] = event.note;
      break;
    case EventType::auction_cancelled:
      out["by"] = event.user_id.view();
      out["note"] = event.note;
      break;
    case EventType::auction_created:
    case EventType::auction_opened:
    case EventType::auction_extended:
      break;
  }
  out["price"] = event.price.minor_units();
  out["leaderId"] = user_or_null(event.leader_id);
  out["endsAt"] = domain::format_rfc3339(event.ends_at);
  return out;
}

}  // namespace gavel::wire
