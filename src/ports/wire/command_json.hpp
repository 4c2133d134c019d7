#pragma once
// Commands as JSON lines: the body of every queue message, and the input of `gavel replay`.
// One format for both, so a queue's log can be replayed as it is.

#include <boost/json.hpp>
#include <string>
#include <variant>

#include "domain/command.hpp"
#include "ports/wire/json_fields.hpp"

namespace gavel::wire {

/// A command with what travels beside it.
struct CommandEnvelope {
  domain::Command command;
  /// Names the command's outcome for whoever waits on it: a bid's bidId, a create's auction id,
  /// a gateway-assigned id for buy-now, cancel and void. Empty in replay input.
  std::string command_id;
  std::string idempotency_key;  ///< bids: the client's Idempotency-Key, if any
  std::string request_id;       ///< the gateway's request id, carried into logs and events
  std::string gateway_id;  ///< the gateway node that received it (the audit trail's "from where")
  bool operator==(const CommandEnvelope&) const = default;
};

/// Reads {"op": "create" | "bid" | "buyNow" | "cancel" | "void", ...} (API.md §Replay).
/// `default_time` is a create's time when it has no "at". Amounts must be JSON integers (a
/// float is malformed), but their range is the rules' business (invalid_amount is a decision).
std::variant<CommandEnvelope, FieldError> parse_command(const boost::json::object& object,
                                                        domain::Timestamp default_time);

/// The JSON line of a command; parse_command(command_json(e)) == e.
boost::json::object command_json(const CommandEnvelope& envelope);

/// Every field of the terms, as parse_terms reads them.
boost::json::object terms_json(const domain::AuctionTerms& terms);

}  // namespace gavel::wire
