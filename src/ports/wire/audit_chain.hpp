#pragma once
// The audit log's hash chain: the canonical form of an entry's body, the entry's hash, and the
// check of a whole chain. Every AuditLog adapter chains entries with chain_entry, and
// `gavel audit verify` checks them with verify_chain, so both agree on one definition.
//
// Canonical JSON: object keys sorted by their UTF-8 bytes, recursively; no whitespace; strings
// and numbers as Boost.JSON serializes them. Hash: SHA-256 over
//   prev_hash + "\n" + seq (decimal) + "\n" + key + "\n" + canonical body
// as lowercase hex; the first entry's prev_hash is kGenesisHash.

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ports/audit_log.hpp"

namespace gavel::wire {

/// The prev_hash of the first entry.
inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

/// `value` in canonical form.
std::string canonical_json(const boost::json::value& value);

/// The canonical form of a JSON text, or nullopt when it is not JSON.
std::optional<std::string> canonicalize(std::string_view json_text);

/// SHA-256 of `data` as 64 lowercase hex digits.
std::string sha256_hex(std::string_view data);

/// The hash of an entry from its link, position, key and canonical body.
std::string entry_hash(std::string_view prev_hash, std::uint64_t seq, std::string_view key,
                       std::string_view canonical_body);

/// The entry that follows `head` (seq 0 with an empty hash stands for an empty log): numbered,
/// canonicalized and hashed. A body that is not JSON, an empty key or an unknown kind answers
/// ErrorKind::permanent.
ports::Result<ports::AuditEntry> chain_entry(const ports::AuditHead& head,
                                             const ports::AuditAppend& append);

/// The head of an empty log.
ports::AuditHead empty_head();

enum class ChainFault {
  altered,      ///< an entry's content no longer matches its hash, or its columns its body
  removed,      ///< seq jumps: entries are missing
  reordered,    ///< entries appear out of the order in which they were chained
  broken_link,  ///< an entry's prev_hash is not the hash of the entry before it
};

/// "altered", "removed", "reordered", "broken link".
std::string_view to_string(ChainFault fault);

/// The first problem of a chain: where it shows (the seq expected at that position) and why.
struct ChainProblem {
  std::uint64_t seq = 0;
  ChainFault fault = ChainFault::altered;
  std::string detail;
};

/// Checks a whole log, `entries` in log order from seq 1. Pure: no I/O. Besides the hashes and
/// links, it checks that each entry's kind, auction id and time agree with its body (they are
/// not hashed themselves). Truncation at the end cannot be seen from the entries alone: compare
/// the head with one noted earlier.
std::optional<ChainProblem> verify_chain(const std::vector<ports::AuditEntry>& entries);

}  // namespace gavel::wire
