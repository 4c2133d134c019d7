#pragma once
// `gavel audit`: the operator's side of the audit trail.
//   gavel audit verify [LOG] [--anchor SEQ:HASH]  checks the hash chain of the audit log
//   gavel audit replay <auctionId> [LOG]          re-derives an auction from its recorded
//                                                 commands and compares with what was decided
// LOG is found as `gavel serve` finds it (flags, GAVEL_* variables, the config file): the
// embedded profile's <DIR>/audit.db (--data-dir DIR, default "gavel-data"), or with
// --profile selfhosted the PostgreSQL audit_log table at --postgres-url (also --config FILE).
// Exit status: 0 ok / identical, 1 broken chain / differences, 2 bad usage or unreadable log.

#include <cstddef>
#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

#include "ports/audit_log.hpp"

namespace gavel::app {

/// Where the embedded profile keeps the audit log: <data dir>/audit.db.
std::filesystem::path audit_log_path(const std::filesystem::path& data_dir);

/// Runs `gavel audit <args...>` (the arguments after "audit").
int run_audit(const std::vector<std::string>& args, char** environment, std::ostream& out,
              std::ostream& err);

/// The text of `gavel audit --help`.
const char* audit_help();

/// What re-deriving one auction from its audit entries found.
struct AuditReplayReport {
  std::size_t commands = 0;
  std::size_t events = 0;
  std::vector<std::string> differences;  ///< empty: the replay decided exactly as recorded
  std::string final_state;               ///< the re-derived final state, in words
};

/// Runs the auction's recorded commands (its entries in log order) through the engine and
/// compares every decision and event, and the final state, with the recorded ones. Time-driven
/// events (the auction opening, closing at its end) happen where the log recorded them.
AuditReplayReport replay_audit_entries(const domain::AuctionId& auction_id,
                                       const std::vector<ports::AuditEntry>& entries);

}  // namespace gavel::app
