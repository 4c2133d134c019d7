#include "app/audit.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <iterator>
#include <ostream>
#include <stdexcept>
#include <variant>

#include "adapters/postgres/postgres_audit_log.hpp"
#include "adapters/sqlite/sqlite_audit_log.hpp"
#include "app/config.hpp"
#include "engine/engine.hpp"
#include "ports/blocking.hpp"
#include "ports/wire/auction_json.hpp"
#include "ports/wire/audit_chain.hpp"
#include "ports/wire/audit_json.hpp"

namespace gavel::app {

namespace json = boost::json;

namespace {

constexpr std::size_t kPage = 1000;

/// Bad usage or an unreadable log: reported, exit status 2.
class AuditUsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct AuditArgs {
  std::string subcommand;
  std::vector<std::string> positional;
  std::optional<std::string> data_dir;
  std::optional<std::string> anchor;  ///< "SEQ:HASH" noted from an earlier verify
  /// --profile, --postgres-url and --config, as given: passed on to load_config.
  std::vector<std::string> config_flags;
};

// The serve settings that say where the audit log is; the rest of serve's mean nothing here.
constexpr std::string_view kConfigFlags[] = {"--profile", "--postgres-url", "--config"};

AuditArgs parse_args(const std::vector<std::string>& args) {
  AuditArgs parsed;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--data-dir") {
      if (i + 1 == args.size()) throw AuditUsageError("--data-dir needs a value");
      parsed.data_dir = args[++i];
    } else if (arg.starts_with("--data-dir=")) {
      parsed.data_dir = arg.substr(std::string_view("--data-dir=").size());
    } else if (const auto* flag = std::find_if(std::begin(kConfigFlags), std::end(kConfigFlags),
                                               [&](std::string_view name) {
                                                 return arg == name || (arg.starts_with(name) &&
                                                                        arg[name.size()] == '=');
                                               });
               flag != std::end(kConfigFlags)) {
      if (arg == *flag) {
        if (i + 1 == args.size()) throw AuditUsageError(arg + " needs a value");
        parsed.config_flags.push_back(arg + "=" + args[++i]);
      } else {
        parsed.config_flags.push_back(arg);
      }
    } else if (arg == "--anchor") {
      if (i + 1 == args.size()) throw AuditUsageError("--anchor needs a value");
      parsed.anchor = args[++i];
    } else if (arg.starts_with("--")) {
      throw AuditUsageError("unknown flag " + arg + " (see gavel audit --help)");
    } else if (parsed.subcommand.empty()) {
      parsed.subcommand = arg;
    } else {
      parsed.positional.push_back(arg);
    }
  }
  if (parsed.data_dir && parsed.data_dir->empty()) {
    throw AuditUsageError("--data-dir must not be empty");
  }
  return parsed;
}

// One line, whatever the adapter said (libpq's messages can span several).
std::string one_line(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

// The selfhosted profile's log: the audit_log table of its PostgreSQL (`gavel migrate`).
std::unique_ptr<ports::AuditLog> open_postgres_log(const Config& config, const AuditArgs& args) {
  if (args.data_dir) {
    throw AuditUsageError(
        "--data-dir is the embedded profile's; the selfhosted audit log is in PostgreSQL "
        "(--postgres-url)");
  }
  if (config.postgres_url.empty()) {
    throw AuditUsageError(
        "profile selfhosted needs postgres-url (--postgres-url or GAVEL_POSTGRES_URL)");
  }
  try {
    return std::make_unique<adapters::postgres::PostgresAuditLog>(config.postgres_url);
  } catch (const std::exception& open_error) {
    throw AuditUsageError(one_line(open_error.what()));
  }
}

// The embedded profile's log: <data dir>/audit.db.
std::unique_ptr<ports::AuditLog> open_sqlite_log(const std::filesystem::path& data_dir) {
  const auto path = audit_log_path(data_dir);
  std::error_code error;
  // Opening would create an empty log; a missing one is a mistake in the path.
  if (!std::filesystem::is_regular_file(path, error)) {
    throw AuditUsageError("no audit log at " + path.string());
  }
  try {
    return std::make_unique<adapters::sqlite::SqliteAuditLog>(path);
  } catch (const std::runtime_error& open_error) {
    throw AuditUsageError(open_error.what());
  }
}

// The log of the configured profile, found as `gavel serve` finds it: the profile and
// PostgreSQL URL from the flags, GAVEL_PROFILE / GAVEL_POSTGRES_URL or the config file; the
// data dir from --data-dir, else GAVEL_DATA_DIR or the config file.
std::unique_ptr<ports::AuditLog> open_log(const AuditArgs& args, char** environment) {
  Config config;
  try {
    config = load_config(args.config_flags, environment);
  } catch (const ConfigError& error) {
    throw AuditUsageError(error.what());
  }
  if (config.profile == "selfhosted") return open_postgres_log(config, args);
  if (config.profile != "embedded") {
    throw AuditUsageError("profile '" + config.profile + "' has no audit log to read yet");
  }
  return open_sqlite_log(args.data_dir ? std::filesystem::path(*args.data_dir)
                                       : std::filesystem::path(config.data_dir));
}

// Pages through `read(after_seq, limit, done)` until it answers a short page.
template <typename Read>
std::vector<ports::AuditEntry> read_all(Read read) {
  std::vector<ports::AuditEntry> all;
  std::uint64_t after = 0;
  for (;;) {
    auto page = ports::call_blocking<std::vector<ports::AuditEntry>>(
        [&](auto done) { read(after, kPage, std::move(done)); });
    if (!page) throw AuditUsageError("cannot read the audit log: " + page.error().message);
    for (auto& entry : page.value()) all.push_back(std::move(entry));
    if (page.value().size() < kPage) return all;
    after = all.back().seq;
  }
}

int verify(const AuditArgs& args, char** environment, std::ostream& out) {
  if (!args.positional.empty()) {
    throw AuditUsageError("unexpected argument '" + args.positional.front() + "'");
  }
  auto log = open_log(args, environment);
  const auto entries = read_all([&](std::uint64_t after, std::size_t limit, auto done) {
    log->entries(after, limit, std::move(done));
  });
  if (const auto problem = wire::verify_chain(entries)) {
    out << "audit chain broken at seq " << problem->seq << ": " << wire::to_string(problem->fault)
        << " (" << problem->detail << ")\n";
    return 1;
  }
  if (args.anchor) {
    // Removing entries from the end leaves a valid chain: only a head noted earlier shows it.
    const auto colon = args.anchor->find(':');
    std::uint64_t seq = 0;
    const char* first = args.anchor->data();
    const auto parsed =
        std::from_chars(first, first + (colon == std::string::npos ? 0 : colon), seq);
    if (colon == std::string::npos || parsed.ec != std::errc{} || seq == 0)
      throw AuditUsageError("--anchor takes SEQ:HASH, as printed by an earlier verify");
    const std::string hash = args.anchor->substr(colon + 1);
    if (seq > entries.size()) {
      out << "audit chain broken at seq " << seq << ": removed (the log ends at seq "
          << entries.size() << ", before the anchor)\n";
      return 1;
    }
    if (entries[seq - 1].hash != hash) {
      out << "audit chain broken at seq " << seq << ": altered (its hash is not the anchor's)\n";
      return 1;
    }
  }
  const std::string head = entries.empty() ? std::string(wire::kGenesisHash) : entries.back().hash;
  out << "audit chain ok: " << entries.size() << " entries, head " << head << " (anchor "
      << entries.size() << ":" << head << ")\n";
  return 0;
}

int replay(const AuditArgs& args, char** environment, std::ostream& out) {
  if (args.positional.size() != 1) {
    throw AuditUsageError("audit replay needs exactly one auction id");
  }
  const std::string& id = args.positional.front();
  if (!domain::is_valid_id(id)) throw AuditUsageError("'" + id + "' is not a valid auction id");
  const domain::AuctionId auction_id{id};
  auto log = open_log(args, environment);
  const auto entries = read_all([&](std::uint64_t after, std::size_t limit, auto done) {
    log->entries_for_auction(auction_id, after, limit, std::move(done));
  });
  if (entries.empty()) throw AuditUsageError("no audit entries for auction " + id);
  const AuditReplayReport report = replay_audit_entries(auction_id, entries);
  for (const auto& difference : report.differences) out << difference << "\n";
  if (report.differences.empty()) {
    out << "audit replay " << id << ": identical (" << report.commands << " commands, "
        << report.events << " events; " << report.final_state << ")\n";
    return 0;
  }
  out << "audit replay " << id << ": " << report.differences.size() << " difference(s) ("
      << report.final_state << ")\n";
  return 1;
}

// --- replay ------------------------------------------------------------------------------

struct CommandRecord {
  std::uint64_t seq = 0;
  std::string key;
  wire::RecordedCommand recorded;
};

struct RecordedAuction {
  std::vector<CommandRecord> commands;
  std::vector<json::object> events;  // event_json objects, in log order
};

RecordedAuction read_records(const std::vector<ports::AuditEntry>& entries,
                             std::vector<std::string>& differences) {
  RecordedAuction recorded;
  for (const auto& entry : entries) {
    auto record = wire::parse_audit_record(entry.body);
    std::variant<wire::RecordedCommand, wire::FieldError> command = wire::FieldError{};
    if (auto* parsed = std::get_if<wire::AuditRecord>(&record)) {
      if (parsed->kind == wire::AuditKind::event) {
        recorded.events.push_back(parsed->body.at("event").as_object());
        continue;
      }
      command = wire::parse_command_record(parsed->body);
    } else {
      command = std::get<wire::FieldError>(record);
    }
    if (auto* error = std::get_if<wire::FieldError>(&command)) {
      differences.push_back("entry " + std::to_string(entry.seq) + ": unreadable (" +
                            (error->field.empty() ? "" : error->field + ": ") + error->message +
                            ")");
      continue;
    }
    recorded.commands.push_back(
        {entry.seq, entry.key, std::move(std::get<wire::RecordedCommand>(command))});
  }
  return recorded;
}

// An event the engine emits because time passed, not because of a command (a buy-now's close
// names the command in "via").
std::optional<domain::Timestamp> time_driven_at(const json::object& event) {
  const auto* type = event.if_contains("type");
  const auto* at = event.if_contains("at");
  if (type == nullptr || !type->is_string() || at == nullptr || !at->is_string()) {
    return std::nullopt;
  }
  const bool opened = type->get_string() == domain::to_string(domain::EventType::auction_opened);
  const bool closed_on_time =
      type->get_string() == domain::to_string(domain::EventType::auction_closed) &&
      !event.contains("via");
  if (!opened && !closed_on_time) return std::nullopt;
  return domain::parse_rfc3339(at->get_string());
}

std::string canonical(const json::object& object) {
  return wire::canonical_json(json::value(object));
}

std::string event_label(const json::object& event) {
  const auto* id = event.if_contains("id");
  return id != nullptr && id->is_string() ? std::string(id->get_string()) : "?";
}

void compare_events(const std::vector<json::object>& recorded,
                    const std::vector<domain::Event>& replayed,
                    std::vector<std::string>& differences) {
  for (std::size_t i = 0; i < std::max(recorded.size(), replayed.size()); ++i) {
    if (i >= replayed.size()) {
      differences.push_back("event " + event_label(recorded[i]) +
                            ": recorded but not re-derived: " + canonical(recorded[i]));
      continue;
    }
    const json::object derived = wire::event_json(replayed[i]);
    if (i >= recorded.size()) {
      differences.push_back("event " + event_label(derived) +
                            ": re-derived but not recorded: " + canonical(derived));
    } else if (canonical(recorded[i]) != canonical(derived)) {
      differences.push_back("event " + event_label(recorded[i]) + ": recorded " +
                            canonical(recorded[i]) + ", re-derived " + canonical(derived));
    }
  }
}

std::string describe_final_state(const domain::Auction* auction) {
  if (auction == nullptr) return "no auction was created";
  const json::object view = wire::public_view(*auction);
  std::string text = "final: " + std::string(view.at("status").as_string());
  if (const auto* result = view.if_contains("result")) {
    text += " " + std::string(result->as_string());
  }
  text += ", price " + json::serialize(view.at("currentPrice"));
  text += ", leader " + json::serialize(view.at("leaderId"));
  text += ", seq " + json::serialize(view.at("seq"));
  return text;
}

}  // namespace

std::filesystem::path audit_log_path(const std::filesystem::path& data_dir) {
  return data_dir / "audit.db";
}

// The auction's event number from an event's id; 0 when unreadable.
std::uint64_t event_number_of(const json::object& event) {
  const auto* id = event.if_contains("id");
  if (id == nullptr || !id->is_string()) return 0;
  const auto parsed = domain::parse_event_id(id->get_string());
  return parsed ? parsed->second : 0;
}

// Puts the records back in decision order. The log's order is the order the auditor received
// them, which is not always the order the engines decided them: a batch whose audit records
// waited in the store's outbox (the audit topic was unreachable) is logged after a later batch
// another engine published at once. Within an auction the event numbers are the decision
// order: events sort by theirs, and commands by the number of the event that recorded their
// decision (a command recorded by no event keeps its place after the one before it in the log).
void into_decision_order(RecordedAuction& recorded) {
  std::stable_sort(recorded.events.begin(), recorded.events.end(),
                   [](const json::object& a, const json::object& b) {
                     return event_number_of(a) < event_number_of(b);
                   });
  std::vector<std::pair<std::uint64_t, std::size_t>> order;  // (number, index in the log)
  std::uint64_t previous = 0;
  for (std::size_t i = 0; i < recorded.commands.size(); ++i) {
    const std::uint64_t number = recorded.commands[i].recorded.decision.event_number;
    if (number != 0) previous = number;
    order.emplace_back(previous, i);
  }
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<CommandRecord> sorted;
  sorted.reserve(order.size());
  for (const auto& [number, index] : order) sorted.push_back(std::move(recorded.commands[index]));
  recorded.commands = std::move(sorted);
}

AuditReplayReport replay_audit_entries(const domain::AuctionId& auction_id,
                                       const std::vector<ports::AuditEntry>& entries) {
  AuditReplayReport report;
  RecordedAuction recorded = read_records(entries, report.differences);
  into_decision_order(recorded);
  report.commands = recorded.commands.size();
  report.events = recorded.events.size();

  engine::Engine engine;
  std::vector<domain::Event> replayed;
  // The host advances the engine's clock between batches; the log shows where that opened or
  // closed the auction, so the replay advances at the same points.
  const auto advance_where_recorded = [&] {
    while (replayed.size() < recorded.events.size()) {
      const auto at = time_driven_at(recorded.events[replayed.size()]);
      const std::size_t before = replayed.size();
      if (at) engine.advance(*at, replayed);
      if (replayed.size() == before) return;
    }
  };
  for (const CommandRecord& command : recorded.commands) {
    advance_where_recorded();
    const domain::Decision decision = engine.apply(command.recorded.envelope.command, replayed);
    const json::object derived = wire::decision_json(decision);
    const json::object decided = wire::decision_json(command.recorded.decision);
    if (canonical(derived) != canonical(decided)) {
      report.differences.push_back("command " + command.key + " (entry " +
                                   std::to_string(command.seq) + "): recorded decision " +
                                   canonical(decided) + ", re-derived " + canonical(derived));
    }
  }
  advance_where_recorded();
  compare_events(recorded.events, replayed, report.differences);

  const domain::Auction* auction = engine.find(auction_id);
  report.final_state = describe_final_state(auction);
  // The final state follows from the events; say so plainly when the last ones disagree.
  if (!recorded.events.empty() && auction != nullptr) {
    const json::object& last = recorded.events.back();
    const auto* seq = last.if_contains("seq");
    const auto* price = last.if_contains("price");
    if (seq == nullptr || price == nullptr || *seq != json::value(auction->seq()) ||
        *price != json::value(auction->price().minor_units())) {
      report.differences.push_back("final state: recorded seq " +
                                   (seq ? json::serialize(*seq) : "?") + " price " +
                                   (price ? json::serialize(*price) : "?") + ", re-derived seq " +
                                   std::to_string(auction->seq()) + " price " +
                                   std::to_string(auction->price().minor_units()));
    }
  }
  return report;
}

int run_audit(const std::vector<std::string>& args, char** environment, std::ostream& out,
              std::ostream& err) {
  std::string subcommand;
  try {
    const AuditArgs parsed = parse_args(args);
    subcommand = parsed.subcommand;
    if (subcommand == "verify") return verify(parsed, environment, out);
    if (subcommand == "replay") return replay(parsed, environment, out);
    throw AuditUsageError(subcommand.empty() ? "missing subcommand (verify or replay)"
                                             : "unknown subcommand '" + subcommand +
                                                   "' (expected verify or replay)");
  } catch (const AuditUsageError& error) {
    err << "gavel audit" << (subcommand.empty() ? "" : " " + subcommand) << ": " << error.what()
        << "\n";
    return 2;
  }
}

const char* audit_help() {
  return R"help(Usage: gavel audit verify [LOG] [--anchor SEQ:HASH]
       gavel audit replay <auctionId> [LOG]
  LOG: [--data-dir DIR | --profile selfhosted --postgres-url URL] [--config FILE]

The audit trail: every command the engine decided (who, when, from which gateway, and the
decision) and every event, each entry chained to the one before by SHA-256.

  verify   checks the whole chain. Prints "audit chain ok: N entries, head <hash>" (exit 0),
           or "audit chain broken at seq N: <altered|removed|reordered|broken link> (...)"
           (exit 1). Keep the printed anchor: removing entries from the end leaves a valid
           chain, and only `--anchor SEQ:HASH` from an earlier verify shows it.
  replay   runs the auction's recorded commands through the engine again and compares every
           decision and event, and the final state, with what was recorded. Prints each
           difference; exit 0 when identical, 1 when not.

LOG is found as gavel serve finds it, from the flags, else GAVEL_* variables, else the config
file (GAVEL_CONFIG or --config FILE):
  embedded profile (the default)   DIR/audit.db: --data-dir DIR, else GAVEL_DATA_DIR, else
                                   gavel-data
  --profile selfhosted             the audit_log table in PostgreSQL: --postgres-url URL, else
                                   GAVEL_POSTGRES_URL (the schema of `gavel migrate`)

Exit status 2: bad usage, or no readable audit log (no audit.db, PostgreSQL unreachable, or
its schema not migrated).
)help";
}

}  // namespace gavel::app
