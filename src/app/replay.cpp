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
#include "ports/wire/command_json.hpp"

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

  if (*op == "advance") {
    const auto to = fields.required_time("to");
    if (!fields.ok()) return *fields.error();
    step.at = *to;
    step.action = Advance{*to};
    return step;
  }
  auto parsed = wire::parse_command(object, clock);
  if (auto* error = std::get_if<wire::FieldError>(&parsed)) {
    if (error->field == "op") {
      error->message =
          "unknown op \"" + *op + "\" (expected create, bid, buyNow, cancel, void or advance)";
    }
    return *error;
  }
  auto& envelope = std::get<wire::CommandEnvelope>(parsed);
  // A create moves the clock only when it says when it happened.
  if (*op != "create" || object.contains("at")) step.at = domain::time_of(envelope.command);
  step.action = std::move(envelope.command);
  return step;
}

json::object outcome_line(const ReplayStep& step, const engine::Command& command,
                          const domain::Decision& decision, const engine::Engine& engine) {
  json::object line;
  const auto* bid = std::get_if<engine::PlaceBid>(&command);
  if (bid != nullptr) {
    line["bidId"] = bid->bid.id.view();
  } else {
    line["op"] = step.op;
    line["auctionId"] = domain::target_of(command).view();
  }
  line["status"] = decision.accepted ? "accepted" : "rejected";
  if (!decision.accepted) line["reason"] = domain::to_string(decision.reason);
  if (bid != nullptr) line["leading"] = decision.leading;
  if (engine.find(domain::target_of(command)) != nullptr) {
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
    if (is_create && decision.accepted) created.push_back(domain::target_of(*command));
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
