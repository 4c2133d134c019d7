#pragma once
// The audit feed: what the engine host publishes to the audit topic after each committed batch,
// and what the auditor reads back. One message per decided command and one per event:
//   {"type": "command", "command": <command_json>, "decision": <decision_json>}
//   {"type": "event", "event": <event_json>}
// The command record carries who (bidderId/by), when (receivedAt/at) and from which gateway
// (gatewayId) the command came, and what was decided.

#include <boost/json.hpp>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/event.hpp"
#include "ports/message.hpp"
#include "ports/wire/command_json.hpp"
#include "ports/wire/json_fields.hpp"

namespace gavel::wire {

enum class AuditKind { command, event };

/// "command" or "event": the record's "type" and the log entry's kind.
std::string_view to_string(AuditKind kind);

/// One record of the audit feed, read back.
struct AuditRecord {
  AuditKind kind = AuditKind::command;
  std::string key;  ///< the log's dedupe key, also the message's dedup id
  domain::AuctionId auction_id;
  domain::Timestamp occurred_at{};  ///< the command's time, or the event's
  boost::json::object body;         ///< the whole record
};

/// {"accepted", "reason" (null when none), "leading", "price", "minNextBid", "eventNumber"}.
boost::json::object decision_json(const domain::Decision& decision);

/// Reads decision_json back; parse_decision(decision_json(d)) == d.
std::variant<domain::Decision, FieldError> parse_decision(const boost::json::object& object);

/// The dedupe key of a command record: "command:<commandId>", or, for a command without an id
/// (replay input, tests), "command:<auctionId>:<op>:<time>:<eventNumber>", which is
/// deterministic, so a republished record still dedupes.
std::string command_record_key(const CommandEnvelope& envelope, const domain::Decision& decision);

/// The dedupe key of an event record: "event:<auctionId>:<number>".
std::string event_record_key(const domain::Event& event);

/// The feed of one committed batch: the command records in decision order, then the event
/// records in the order they happened. Ordering key: the auction id; dedup id: the record's key;
/// event time: the command's or the event's time. Precondition: one decision per envelope
/// (throws std::invalid_argument otherwise: a programming error).
std::vector<ports::OutgoingMessage> audit_messages(const std::vector<CommandEnvelope>& envelopes,
                                                   const std::vector<domain::Decision>& decisions,
                                                   const std::vector<domain::Event>& events);

/// Reads one feed message (or a stored entry's body). A body that is not a record names the
/// first problem.
std::variant<AuditRecord, FieldError> parse_audit_record(std::string_view text);

/// The command record's command and decision, read back.
struct RecordedCommand {
  CommandEnvelope envelope;
  domain::Decision decision;
};
std::variant<RecordedCommand, FieldError> parse_command_record(const boost::json::object& body);

}  // namespace gavel::wire
