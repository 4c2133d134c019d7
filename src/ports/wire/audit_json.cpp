#include "ports/wire/audit_json.hpp"

#include <limits>
#include <stdexcept>

#include "ports/wire/auction_json.hpp"

namespace gavel::wire {

namespace json = boost::json;

namespace {

constexpr std::int64_t kMaxInteger = std::numeric_limits<std::int64_t>::max();

// A field every record has: absent is as wrong as mistyped.
bool require(JsonFields& fields, std::string_view name) {
  if (!fields.ok()) return false;
  if (fields.raw(name) != nullptr) return true;
  fields.fail(name, std::string(name) + " is required");
  return false;
}

std::optional<std::int64_t> required_count(JsonFields& fields, std::string_view name) {
  if (!require(fields, name)) return std::nullopt;
  return fields.optional_integer(name, 0, kMaxInteger);
}

const json::object* object_field(const json::object& object, std::string_view name) {
  const json::value* value = object.if_contains(name);
  return value != nullptr && value->is_object() ? &value->get_object() : nullptr;
}

FieldError nested_error(std::string_view parent, FieldError error) {
  error.field = std::string(parent) + (error.field.empty() ? "" : "." + error.field);
  return error;
}

std::variant<AuditRecord, FieldError> read_event_record(const json::object& body) {
  const json::object* event = object_field(body, "event");
  if (event == nullptr) return FieldError{"event", "an event record needs an \"event\" object"};
  JsonFields fields{*event};
  const auto id = fields.required_string("id");
  const auto auction_id = fields.required_id("auctionId");
  const auto at = fields.required_time("at");
  if (!fields.ok()) return nested_error("event", *fields.error());
  AuditRecord record;
  record.kind = AuditKind::event;
  record.key = "event:" + *id;
  record.auction_id = domain::AuctionId{*auction_id};
  record.occurred_at = *at;
  return record;
}

std::variant<AuditRecord, FieldError> read_command_record(const json::object& body) {
  auto recorded = parse_command_record(body);
  if (auto* error = std::get_if<FieldError>(&recorded)) return *error;
  const auto& [envelope, decision] = std::get<RecordedCommand>(recorded);
  AuditRecord record;
  record.kind = AuditKind::command;
  record.key = command_record_key(envelope, decision);
  record.auction_id = domain::target_of(envelope.command);
  record.occurred_at = domain::time_of(envelope.command);
  return record;
}

}  // namespace

std::string_view to_string(AuditKind kind) {
  return kind == AuditKind::command ? "command" : "event";
}

json::object decision_json(const domain::Decision& decision) {
  json::object out;
  out["accepted"] = decision.accepted;
  out["reason"] = decision.reason == domain::Reason::none
                      ? json::value(nullptr)
                      : json::value(domain::to_string(decision.reason));
  out["leading"] = decision.leading;
  out["price"] = decision.price.minor_units();
  out["minNextBid"] = decision.min_next_bid.minor_units();
  out["eventNumber"] = decision.event_number;
  return out;
}

std::variant<domain::Decision, FieldError> parse_decision(const json::object& object) {
  JsonFields fields{object};
  const auto accepted =
      require(fields, "accepted") ? fields.optional_bool("accepted") : std::nullopt;
  const auto reason_name = fields.optional_string("reason");
  const auto leading = require(fields, "leading") ? fields.optional_bool("leading") : std::nullopt;
  const auto price = required_count(fields, "price");
  const auto min_next_bid = required_count(fields, "minNextBid");
  const auto event_number = required_count(fields, "eventNumber");
  if (!fields.ok()) return *fields.error();
  domain::Decision decision;
  if (reason_name) {
    const auto reason = domain::reason_from_string(*reason_name);
    if (!reason) return FieldError{"reason", "unknown reason \"" + *reason_name + "\""};
    decision.reason = *reason;
  }
  decision.accepted = *accepted;
  decision.leading = *leading;
  decision.price = domain::Amount{*price};
  decision.min_next_bid = domain::Amount{*min_next_bid};
  decision.event_number = static_cast<std::uint64_t>(*event_number);
  return decision;
}

std::string command_record_key(const CommandEnvelope& envelope, const domain::Decision& decision) {
  if (!envelope.command_id.empty()) return "command:" + envelope.command_id;
  return "command:" + domain::target_of(envelope.command).str() + ":" +
         std::string(domain::op_name(envelope.command)) + ":" +
         domain::format_rfc3339(domain::time_of(envelope.command)) + ":" +
         std::to_string(decision.event_number);
}

std::string event_record_key(const domain::Event& event) {
  return "event:" + domain::event_id(event);
}

std::vector<ports::OutgoingMessage> audit_messages(const std::vector<CommandEnvelope>& envelopes,
                                                   const std::vector<domain::Decision>& decisions,
                                                   const std::vector<domain::Event>& events) {
  if (envelopes.size() != decisions.size()) {
    throw std::invalid_argument("audit_messages: " + std::to_string(envelopes.size()) +
                                " commands but " + std::to_string(decisions.size()) + " decisions");
  }
  std::vector<ports::OutgoingMessage> messages;
  messages.reserve(envelopes.size() + events.size());
  for (std::size_t i = 0; i < envelopes.size(); ++i) {
    const domain::Command& command = envelopes[i].command;
    json::object body;
    body["type"] = to_string(AuditKind::command);
    body["command"] = command_json(envelopes[i]);
    body["decision"] = decision_json(decisions[i]);
    messages.push_back({domain::target_of(command).str(),
                        command_record_key(envelopes[i], decisions[i]), domain::time_of(command),
                        json::serialize(body)});
  }
  for (const domain::Event& event : events) {
    json::object body;
    body["type"] = to_string(AuditKind::event);
    body["event"] = event_json(event);
    messages.push_back(
        {event.auction_id.str(), event_record_key(event), event.at, json::serialize(body)});
  }
  return messages;
}

std::variant<RecordedCommand, FieldError> parse_command_record(const json::object& body) {
  const json::object* command = object_field(body, "command");
  if (command == nullptr) {
    return FieldError{"command", "a command record needs a \"command\" object"};
  }
  const json::object* decision = object_field(body, "decision");
  if (decision == nullptr) {
    return FieldError{"decision", "a command record needs a \"decision\" object"};
  }
  // command_json writes every create's "at", so the default time is never used.
  auto envelope = parse_command(*command, domain::Timestamp{});
  if (auto* error = std::get_if<FieldError>(&envelope)) return nested_error("command", *error);
  auto parsed_decision = parse_decision(*decision);
  if (auto* error = std::get_if<FieldError>(&parsed_decision)) {
    return nested_error("decision", *error);
  }
  return RecordedCommand{std::move(std::get<CommandEnvelope>(envelope)),
                         std::get<domain::Decision>(parsed_decision)};
}

std::variant<AuditRecord, FieldError> parse_audit_record(std::string_view text) {
  boost::system::error_code ec;
  json::value document = json::parse(text, ec);
  if (ec) return FieldError{"", "not valid JSON (" + ec.message() + ")"};
  if (!document.is_object()) return FieldError{"", "a record must be a JSON object"};
  json::object& body = document.get_object();
  JsonFields fields{body};
  const auto type = fields.required_string("type");
  if (!fields.ok()) return *fields.error();
  std::variant<AuditRecord, FieldError> record =
      FieldError{"type", "unknown record type \"" + *type + "\" (expected command or event)"};
  if (*type == to_string(AuditKind::command)) {
    record = read_command_record(body);
  } else if (*type == to_string(AuditKind::event)) {
    record = read_event_record(body);
  }
  if (auto* parsed = std::get_if<AuditRecord>(&record)) parsed->body = std::move(body);
  return record;
}

}  // namespace gavel::wire
