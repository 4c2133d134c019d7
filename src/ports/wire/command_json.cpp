#include "ports/wire/command_json.hpp"

#include "ports/wire/auction_json.hpp"

namespace gavel::wire {

namespace json = boost::json;
using domain::Timestamp;

namespace {

using Parsed = std::variant<CommandEnvelope, FieldError>;

// An integer amount; its range is checked by the rules.
std::optional<domain::Amount> integer_amount(JsonFields& fields, std::string_view name,
                                             bool required) {
  if (!fields.ok()) return std::nullopt;
  const json::value* value = fields.raw(name);
  if (value == nullptr) {
    if (required) fields.fail(name, std::string(name) + " is required");
    return std::nullopt;
  }
  if (!value->is_int64()) {
    fields.fail(name, std::string(name) + " must be an integer number of minor units");
    return std::nullopt;
  }
  return domain::Amount{value->get_int64()};
}

Parsed parse_create(JsonFields& fields, Timestamp default_time) {
  const json::value* auction = fields.raw("auction");
  if (auction == nullptr || !auction->is_object()) {
    return FieldError{"auction", "create needs an \"auction\" object"};
  }
  const auto at = fields.optional_time("at");
  if (!fields.ok()) return *fields.error();
  auto terms = parse_terms(auction->get_object(), TermsContext{});
  if (auto* error = std::get_if<FieldError>(&terms)) {
    error->field = "auction." + error->field;
    return *error;
  }
  CommandEnvelope envelope;
  envelope.command = domain::CreateAuction{std::move(std::get<domain::AuctionTerms>(terms)),
                                           at.value_or(default_time)};
  return envelope;
}

Parsed parse_bid(JsonFields& fields) {
  const auto bid_id = fields.required_id("bidId");
  const auto auction_id = fields.required_id("auctionId");
  const auto bidder_id = fields.required_id("bidderId");
  const auto amount = integer_amount(fields, "amount", true);
  const auto max_amount = integer_amount(fields, "maxAmount", false);
  const auto currency = fields.optional_currency("currency");
  const auto received_at = fields.required_time("receivedAt");
  if (!fields.ok()) return *fields.error();
  CommandEnvelope envelope;
  envelope.command =
      domain::PlaceBid{domain::AuctionId{*auction_id},
                       domain::BidRequest{domain::BidId{*bid_id}, domain::UserId{*bidder_id},
                                          *amount, max_amount, currency, *received_at}};
  return envelope;
}

Parsed parse_buy_now(JsonFields& fields) {
  const auto auction_id = fields.required_id("auctionId");
  const auto bidder_id = fields.required_id("bidderId");
  const auto received_at = fields.required_time("receivedAt");
  if (!fields.ok()) return *fields.error();
  CommandEnvelope envelope;
  envelope.command =
      domain::BuyNow{domain::AuctionId{*auction_id}, domain::UserId{*bidder_id}, *received_at};
  return envelope;
}

Parsed parse_cancel_or_void(JsonFields& fields, bool is_void) {
  const auto auction_id = fields.required_id("auctionId");
  const auto by = fields.required_id("by");
  const auto at = fields.required_time("at");
  const auto admin = fields.optional_bool("admin");
  const auto note = fields.optional_string("reason");
  const auto bid_id = is_void ? fields.required_id("bidId") : std::nullopt;
  if (!fields.ok()) return *fields.error();
  // A void is an admin's act by definition; a cancel is the seller's unless marked admin.
  const domain::Actor actor{domain::UserId{*by}, is_void || admin.value_or(false)};
  CommandEnvelope envelope;
  if (is_void) {
    envelope.command =
        domain::VoidBid{domain::AuctionId{*auction_id}, actor, domain::BidId{*bid_id}, *at};
  } else {
    envelope.command =
        domain::CancelAuction{domain::AuctionId{*auction_id}, actor, note.value_or(""), *at};
  }
  return envelope;
}

Parsed parse_op(const std::string& op, JsonFields& fields, Timestamp default_time) {
  if (op == "create") return parse_create(fields, default_time);
  if (op == "bid") return parse_bid(fields);
  if (op == "buyNow") return parse_buy_now(fields);
  if (op == "cancel" || op == "void") return parse_cancel_or_void(fields, op == "void");
  return FieldError{"op",
                    "unknown op \"" + op + "\" (expected create, bid, buyNow, cancel or void)"};
}

json::value amount_or_null(const std::optional<domain::Amount>& amount) {
  if (!amount) return nullptr;
  return amount->minor_units();
}

json::value time_or_null(const std::optional<Timestamp>& at) {
  if (!at) return nullptr;
  return json::string(domain::format_rfc3339(*at));
}

}  // namespace

std::variant<CommandEnvelope, FieldError> parse_command(const json::object& object,
                                                        Timestamp default_time) {
  JsonFields fields{object};
  const auto op = fields.required_string("op");
  const auto command_id = fields.optional_string("commandId");
  const auto idempotency_key = fields.optional_string("idempotencyKey");
  const auto request_id = fields.optional_string("requestId");
  const auto gateway_id = fields.optional_string("gatewayId");
  if (!fields.ok()) return *fields.error();

  // Each op returns its own variant: assigning one alternative over another here miscompiled
  // under GCC 12 at -O2 (a FieldError destroyed twice in RelWithDebInfo builds).
  Parsed parsed = parse_op(*op, fields, default_time);
  if (auto* envelope = std::get_if<CommandEnvelope>(&parsed)) {
    envelope->command_id = command_id.value_or("");
    envelope->idempotency_key = idempotency_key.value_or("");
    envelope->request_id = request_id.value_or("");
    envelope->gateway_id = gateway_id.value_or("");
  }
  return parsed;
}

json::object terms_json(const domain::AuctionTerms& terms) {
  json::object out;
  out["id"] = terms.id.view();
  out["sellerId"] = terms.seller_id.view();
  out["title"] = terms.title;
  out["currency"] = terms.currency.code();
  out["startingPrice"] = terms.starting_price.minor_units();
  out["startsAt"] = domain::format_rfc3339(terms.starts_at);
  out["endsAt"] = domain::format_rfc3339(terms.ends_at);
  out["reservePrice"] = amount_or_null(terms.reserve_price);
  out["buyNowPrice"] = amount_or_null(terms.buy_now_price);
  out["softCloseSeconds"] =
      std::chrono::duration_cast<std::chrono::seconds>(terms.soft_close).count();
  out["extensionSeconds"] =
      std::chrono::duration_cast<std::chrono::seconds>(terms.extension).count();
  out["maxEndsAt"] = time_or_null(terms.max_ends_at);
  json::array tiers;
  for (const auto& tier : terms.increment.tiers()) {
    tiers.push_back(
        json::object{{"from", tier.from.minor_units()}, {"step", tier.step.minor_units()}});
  }
  out["increment"] = std::move(tiers);
  return out;
}

json::object command_json(const CommandEnvelope& envelope) {
  json::object out;
  out["op"] = domain::op_name(envelope.command);
  if (!envelope.command_id.empty()) out["commandId"] = envelope.command_id;
  if (!envelope.idempotency_key.empty()) out["idempotencyKey"] = envelope.idempotency_key;
  if (!envelope.request_id.empty()) out["requestId"] = envelope.request_id;
  if (!envelope.gateway_id.empty()) out["gatewayId"] = envelope.gateway_id;
  std::visit(
      [&](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, domain::CreateAuction>) {
          out["at"] = domain::format_rfc3339(c.at);
          out["auction"] = terms_json(c.terms);
        } else if constexpr (std::is_same_v<T, domain::PlaceBid>) {
          out["bidId"] = c.bid.id.view();
          out["auctionId"] = c.auction_id.view();
          out["bidderId"] = c.bid.bidder_id.view();
          out["amount"] = c.bid.amount.minor_units();
          if (c.bid.max_amount) out["maxAmount"] = c.bid.max_amount->minor_units();
          if (c.bid.currency) out["currency"] = c.bid.currency->code();
          out["receivedAt"] = domain::format_rfc3339(c.bid.received_at);
        } else if constexpr (std::is_same_v<T, domain::BuyNow>) {
          out["auctionId"] = c.auction_id.view();
          out["bidderId"] = c.buyer_id.view();
          out["receivedAt"] = domain::format_rfc3339(c.received_at);
        } else {
          out["auctionId"] = c.auction_id.view();
          out["by"] = c.actor.id.view();
          out["admin"] = c.actor.admin;
          out["at"] = domain::format_rfc3339(c.at);
          if constexpr (std::is_same_v<T, domain::VoidBid>) {
            out["bidId"] = c.bid_id.view();
          } else {
            out["reason"] = c.note;
          }
        }
      },
      envelope.command);
  return out;
}

}  // namespace gavel::wire
