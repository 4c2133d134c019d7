#include "app/replay.hpp"

#include <boost/json.hpp>
#include <istream>
#include <ostream>
#include <string>
#include <unordered_set>
#include <variant>
#include <vector>

#include "engine/engine.hpp"
#include "ports/wire/auction_json.hpp"

namespace gavel::app {

namespace json = boost::json;
using domain::Timestamp;

namespace {

/// The clock moves on; auctions due by then open or close.
struct Advance {
  Timestamp to{};
};

struct ReplayStep {
  std::size_t line = 0;
  std::string op;
  std::optional<Timestamp> at;  ///< absent: the clock stays where it is
  std::variant<engine::Command, Advance> action;
};

constexpr std::size_t kMaxReportedErrors = 20;
constexpr std::size_t kMaxLineBytes = 1 << 20;

using ParsedStep = std::variant<ReplayStep, wire::FieldError>;

ParsedStep parse_bid(wire::JsonFields& fields, ReplayStep step) {
  const auto bid_id = fields.required_id("bidId");
  const auto auction_id = fields.required_id("auctionId");
  const auto bidder_id = fields.required_id("bidderId");
  // Amounts are checked by the rules (invalid_amount is a decision, not a malformed line),
  // but they must be integers: a float is malformed input.
  std::optional<std::int64_t> amount;
  std::optional<std::int64_t> max_amount;
  for (const char* name : {"amount", "maxAmount"}) {
    const json::value* value = fields.raw(name);
    if (value == nullptr) {
      if (std::string_view(name) == "amount") fields.fail(name, "amount is required");
      continue;
    }
    if (!value->is_int64()) {
      fields.fail(name, std::string(name) + " must be an integer number of minor units");
      continue;
    }
    (std::string_view(name) == "amount" ? amount : max_amount) = value->get_int64();
  }
  const auto currency = fields.optional_currency("currency");
  const auto received_at = fields.required_time("receivedAt");
  if (!fields.ok()) return *fields.error();
  domain::BidRequest bid{domain::BidId{*bid_id},
                         domain::UserId{*bidder_id},
                         domain::Amount{*amount},
                         max_amount ? std::optional{domain::Amount{*max_amount}} : std::nullopt,
                         currency,
                         *received_at};
  step.at = *received_at;
  step.action = engine::Command{engine::PlaceBid{domain::AuctionId{*auction_id}, bid}};
  return step;
}

ParsedStep parse_line(std::string_view text, std::size_t line_number, Timestamp clock) {
  ReplayStep step;
  step.line = line_number;
  boost::system::error_code ec;
  json::value document = json::parse(text, ec);
  if (ec) return wire::FieldError{"", "not valid JSON (" + ec.message() + ")"};
  if (!document.is_object()) return wire::FieldError{"", "each line must be a JSON object"};
  const json::object& object = document.get_object();
  wire::JsonFields fields{object};
  const auto op = fields.required_string("op");
  if (!op) return *fields.error();
  step.op = *op;

  if (*op == "create") {
    const json::value* auction = fields.raw("auction");
    if (auction == nullptr || !auction->is_object()) {
      return wire::FieldError{"auction", "create needs an \"auction\" object"};
    }
    const auto at = fields.optional_time("at");
    if (!fields.ok()) return *fields.error();
    step.at = at;
    const Timestamp now = at.value_or(clock);
    auto terms = wire::parse_terms(auction->get_object(), wire::TermsContext{});
    if (auto* error = std::get_if<wire::FieldError>(&terms)) {
      error->field = "auction." + error->field;
      return *error;
    }
    step.action = engine::Command{
        engine::CreateAuction{std::move(std::get<domain::AuctionTerms>(terms)), now}};
    return step;
  }
  if (*op == "bid") return parse_bid(fields, std::move(step));
  if (*op == "buyNow") {
    const auto auction_id = fields.required_id("auctionId");
    const auto bidder_id = fields.required_id("bidderId");
    const auto received_at = fields.required_time("receivedAt");
    if (!fields.ok()) return *fields.error();
    step.at = *received_at;
    step.action = engine::Command{
        engine::BuyNow{domain::AuctionId{*auction_id}, domain::UserId{*bidder_id}, *received_at}};
    return step;
  }
  if (*op == "cancel" || *op == "void") {
    const auto auction_id = fields.required_id("auctionId");
    const auto by = fields.required_id("by");
    const auto at = fields.required_time("at");
    const auto admin = fields.optional_bool("admin");
    const auto note = fields.optional_string("reason");
    const auto bid_id = *op == "void" ? fields.required_id("bidId") : std::nullopt;
    if (!fields.ok()) return *fields.error();
    step.at = *at;
    // A void is an admin's act by definition; a cancel is the seller's unless marked admin.
    const domain::Actor actor{domain::UserId{*by}, *op == "void" || admin.value_or(false)};
    if (*op == "cancel") {
      step.action = engine::Command{
          engine::CancelAuction{domain::AuctionId{*auction_id}, actor, note.value_or(""), *at}};
    } else {
      step.action = engine::Command{
          engine::VoidBid{domain::AuctionId{*auction_id}, actor, domain::BidId{*bid_id}, *at}};
    }
    return step;
  }
  if (*op == "advance") {
    const auto to = fields.required_time("to");
    if (!fields.ok()) return *fields.error();
    step.at = *to;
    step.action = Advance{*to};
    return step;
  }
  return wire::FieldError{
      "op", "unknown op \"" + *op + "\" (expected create, bid, buyNow, cancel, void or advance)"};
}

const domain::AuctionId& target_of(const engine::Command& command) {
  return std::visit(
      [](const auto& c) -> const domain::AuctionId& {
        if constexpr (std::is_same_v<std::decay_t<decltype(c)>, engine::CreateAuction>) {
          return c.terms.id;
        } else {
          return c.auction_id;
        }
      },
      command);
}

json::object outcome_line(const ReplayStep& step, const engine::Command& command,
                          const domain::Decision& decision, const engine::Engine& engine) {
  json::object line;
  const auto* bid = std::get_if<engine::PlaceBid>(&command);
  if (bid != nullptr) {
    line["bidId"] = bid->bid.id.view();
  } else {
    line["op"] = step.op;
    line["auctionId"] = target_of(command).view();
  }
  line["status"] = decision.accepted ? "accepted" : "rejected";
  if (!decision.accepted) line["reason"] = domain::to_string(decision.reason);
  if (bid != nullptr) line["leading"] = decision.leading;
  if (engine.find(target_of(command)) != nullptr) {
    line["price"] = decision.price.minor_units();
  } else {
    line["price"] = nullptr;
  }
  if (decision.reason == domain::Reason::bid_too_low) {
    line["minNextBid"] = decision.min_next_bid.minor_units();
  }
  return line;
}

}  // namespace

int run_replay(std::istream& in, std::ostream& out, std::ostream& err) {
  std::vector<ReplayStep> steps;
  std::unordered_set<std::string> bid_ids;
  std::size_t errors = 0;
  const auto report = [&](std::size_t line, const wire::FieldError& error) {
    if (++errors <= kMaxReportedErrors) {
      err << "replay: line " << line << ": " << (error.field.empty() ? "" : error.field + ": ")
          << error.message << "\n";
    }
  };

  // Pass 1: read and check everything, so that a bad line leaves standard output empty.
  Timestamp clock{};
  std::string text;
  std::size_t line_number = 0;
  while (std::getline(in, text)) {
    ++line_number;
    if (text.size() > kMaxLineBytes) {
      report(line_number, {"", "line longer than 1 MiB"});
      continue;
    }
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    ParsedStep parsed = parse_line(text, line_number, clock);
    if (auto* error = std::get_if<wire::FieldError>(&parsed)) {
      report(line_number, *error);
      continue;
    }
    ReplayStep& step = std::get<ReplayStep>(parsed);
    if (step.at && *step.at < clock) {
      report(line_number, {"", "time goes backwards (" + domain::format_rfc3339(*step.at) +
                                   " after " + domain::format_rfc3339(clock) + ")"});
      continue;
    }
    if (const auto* command = std::get_if<engine::Command>(&step.action)) {
      if (const auto* bid = std::get_if<engine::PlaceBid>(command);
          bid != nullptr && !bid_ids.insert(bid->bid.id.str()).second) {
        report(line_number, {"bidId", "duplicate bidId \"" + bid->bid.id.str() + "\""});
        continue;
      }
    }
    if (step.at) clock = *step.at;
    steps.push_back(std::move(step));
  }
  if (errors > 0) {
    if (errors > kMaxReportedErrors) {
      err << "replay: " << errors - kMaxReportedErrors << " more malformed lines not shown\n";
    }
    err << "replay: " << errors << " malformed line(s); nothing was run\n";
    return 1;
  }

  // Pass 2: run.
  engine::Engine engine;
  std::vector<domain::AuctionId> created;
  std::vector<domain::Event> events;
  for (const ReplayStep& step : steps) {
    events.clear();
    if (step.at) engine.advance(*step.at, events);
    const auto* command = std::get_if<engine::Command>(&step.action);
    if (command == nullptr) continue;
    const domain::Decision decision = engine.apply(*command, events);
    const bool is_create = std::holds_alternative<engine::CreateAuction>(*command);
    if (is_create && decision.accepted) created.push_back(target_of(*command));
    if (!is_create || !decision.accepted) {
      out << json::serialize(outcome_line(step, *command, decision, engine)) << "\n";
    }
  }
  for (const domain::AuctionId& id : created) {
    json::object line;
    line["auction"] = wire::public_view(*engine.find(id));
    out << json::serialize(line) << "\n";
  }
  out.flush();
  return 0;
}

const char* replay_help() {
  return R"(Usage: gavel replay < commands.jsonl > outcomes.jsonl

Runs auction commands through Gavel's engine on a simulated clock, without servers.
One JSON command per input line, in time order:
  {"op": "create", "auction": {"id", "sellerId", "currency", "startingPrice", "startsAt",
                               "endsAt" | "durationSeconds", "reservePrice"?, "buyNowPrice"?,
                               "softCloseSeconds"?, "extensionSeconds"?, "maxEndsAt"?,
                               "increment"?, "title"?}, "at"?}
  {"op": "bid", "bidId", "auctionId", "bidderId", "amount", "maxAmount"?, "currency"?, "receivedAt"}
  {"op": "buyNow", "auctionId", "bidderId", "receivedAt"}
  {"op": "cancel", "auctionId", "by", "at", "admin"?, "reason"?}
  {"op": "void", "auctionId", "bidId", "by", "at"}        (an admin voids an accepted bid)
  {"op": "advance", "to"}                                 (the clock moves; due auctions close)
Amounts are integers in minor units; times are RFC 3339.

Output: one line per bid {"bidId", "status", "reason"?, "leading", "price", "minNextBid"?};
one line per buyNow, cancel, void, and refused create {"op", "auctionId", "status", ...};
then one {"auction": {...}} per auction with its public state (and result, winnerId and
finalPrice once closed).

Every line is checked first: a malformed line is reported on standard error with its line
number, nothing is written to standard output, and the exit status is 1.
)";
}

}  // namespace gavel::app
