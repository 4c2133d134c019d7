#include "ports/wire/auction_json.hpp"

#include <limits>

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
      out["amount"] = event.amount.minor_units();
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
      out["sellerId"] = event.user_id.view();
      break;
    case EventType::auction_opened:
    case EventType::auction_extended:
      break;
  }
  out["price"] = event.price.minor_units();
  out["leaderId"] = user_or_null(event.leader_id);
  out["endsAt"] = domain::format_rfc3339(event.ends_at);
  return out;
}

namespace {

std::optional<domain::EventType> event_type_from_string(std::string_view name) {
  using domain::EventType;
  for (const EventType type :
       {EventType::auction_created, EventType::auction_opened, EventType::bid_accepted,
        EventType::bid_rejected, EventType::outbid, EventType::auction_extended,
        EventType::auction_closed, EventType::auction_cancelled, EventType::bid_voided}) {
    if (domain::to_string(type) == name) return type;
  }
  return std::nullopt;
}

// Reads the fields of one event document; the first problem makes ok() false.
class EventReader {
 public:
  explicit EventReader(const json::object& object) : object_(object) {}

  bool ok() const { return ok_; }

  std::string text(std::string_view name) {
    const json::value* value = object_.if_contains(name);
    if (value == nullptr || !value->is_string()) return fail<std::string>();
    return std::string(value->get_string());
  }
  // Absent and null both read as the empty id (events write null for "nobody").
  template <typename Id>
  Id id(std::string_view name) {
    const json::value* value = object_.if_contains(name);
    if (value == nullptr || value->is_null()) return Id{};
    if (!value->is_string() || !domain::is_valid_id(value->get_string())) return fail<Id>();
    return Id{std::string_view(value->get_string())};
  }
  std::int64_t integer(std::string_view name) {
    const json::value* value = object_.if_contains(name);
    if (value == nullptr) return 0;
    if (value->is_uint64() &&
        value->get_uint64() <=
            static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return static_cast<std::int64_t>(value->get_uint64());
    }
    if (!value->is_int64() || value->get_int64() < 0) return fail<std::int64_t>();
    return value->get_int64();
  }
  domain::Timestamp time(std::string_view name) {
    const auto at = domain::parse_rfc3339(text(name));
    return at ? *at : fail<domain::Timestamp>();
  }

  template <typename T>
  T fail() {
    ok_ = false;
    return T{};
  }

 private:
  const json::object& object_;
  bool ok_ = true;
};

}  // namespace

std::optional<domain::Event> event_from_json(const json::object& object) {
  using domain::EventType;
  EventReader read(object);
  domain::Event event;
  const auto type = event_type_from_string(read.text("type"));
  if (!type) return std::nullopt;
  event.type = *type;
  event.auction_id = read.id<domain::AuctionId>("auctionId");
  event.seq = static_cast<std::uint64_t>(read.integer("seq"));
  event.at = read.time("at");
  event.price = Amount{read.integer("price")};
  event.leader_id = read.id<domain::UserId>("leaderId");
  event.ends_at = read.time("endsAt");
  // The id is "<auctionId>:<number>".
  const std::string id = read.text("id");
  const std::string prefix = event.auction_id.str() + ":";
  if (!read.ok() || event.auction_id.empty() || !id.starts_with(prefix)) return std::nullopt;
  const std::string number = id.substr(prefix.size());
  if (number.empty() || number.size() > 19 ||
      number.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  event.number = std::stoull(number);
  switch (event.type) {
    case EventType::bid_accepted:
    case EventType::bid_voided:
      event.bid_id = read.id<domain::BidId>("bidId");
      event.user_id = read.id<domain::UserId>("bidderId");
      event.amount = Amount{read.integer("amount")};
      event.previous_leader = read.id<domain::UserId>("previousLeaderId");
      break;
    case EventType::bid_rejected: {
      event.bid_id = read.id<domain::BidId>("bidId");
      event.user_id = read.id<domain::UserId>("bidderId");
      event.amount = Amount{read.integer("amount")};
      const auto reason = domain::reason_from_string(read.text("reason"));
      event.reason = reason ? *reason : read.fail<domain::Reason>();
      event.min_next_bid = Amount{read.integer("minNextBid")};
      break;
    }
    case EventType::outbid:
      event.user_id = read.id<domain::UserId>("userId");
      break;
    case EventType::auction_closed: {
      const std::string result = read.text("result");
      event.result = result == "sold"     ? domain::AuctionResult::sold
                     : result == "unsold" ? domain::AuctionResult::unsold
                                          : read.fail<domain::AuctionResult>();
      event.user_id = read.id<domain::UserId>("winnerId");
      if (object.contains("via")) event.note = read.text("via");
      break;
    }
    case EventType::auction_cancelled:
      event.user_id = read.id<domain::UserId>("by");
      event.note = read.text("note");
      break;
    case EventType::auction_created:
      event.user_id = read.id<domain::UserId>("sellerId");
      break;
    case EventType::auction_opened:
    case EventType::auction_extended:
      break;
  }
  if (!read.ok()) return std::nullopt;
  return event;
}

}  // namespace gavel::wire
