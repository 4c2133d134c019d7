#include "ports/wire/audit_chain.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <unordered_map>

#include "ports/wire/audit_json.hpp"

namespace gavel::wire {

namespace json = boost::json;

namespace {

void append_canonical(const json::value& value, std::string& out) {
  switch (value.kind()) {
    case json::kind::object: {
      const json::object& object = value.get_object();
      std::vector<const json::key_value_pair*> members;
      members.reserve(object.size());
      for (const auto& member : object) members.push_back(&member);
      std::sort(members.begin(), members.end(),
                [](const auto* a, const auto* b) { return a->key() < b->key(); });
      out += '{';
      for (std::size_t i = 0; i < members.size(); ++i) {
        if (i > 0) out += ',';
        out += json::serialize(json::string(members[i]->key()));
        out += ':';
        append_canonical(members[i]->value(), out);
      }
      out += '}';
      return;
    }
    case json::kind::array: {
      const json::array& array = value.get_array();
      out += '[';
      for (std::size_t i = 0; i < array.size(); ++i) {
        if (i > 0) out += ',';
        append_canonical(array[i], out);
      }
      out += ']';
      return;
    }
    default:
      out += json::serialize(value);
  }
}

std::string to_hex(const unsigned char* bytes, std::size_t size) {
  static constexpr std::string_view kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 0x0f];
  }
  return out;
}

ports::Error bad_append(const std::string& why) {
  return {ports::ErrorKind::permanent, "audit entry refused: " + why};
}

// The columns that are not hashed must agree with the (hashed) body, or someone changed them.
std::optional<std::string> column_mismatch(const ports::AuditEntry& entry) {
  const auto record = parse_audit_record(entry.body);
  if (const auto* error = std::get_if<FieldError>(&record)) {
    return "its body is not an audit record (" + error->field + ": " + error->message + ")";
  }
  const auto& parsed = std::get<AuditRecord>(record);
  if (entry.key != parsed.key) return "its key '" + entry.key + "' is not its body's key";
  if (entry.kind != to_string(parsed.kind))
    return "its kind '" + entry.kind + "' is not its body's";
  if (entry.auction_id != parsed.auction_id) {
    return "its auction id '" + entry.auction_id.str() + "' is not its body's";
  }
  if (entry.occurred_at != parsed.occurred_at) {
    return "its time " + domain::format_rfc3339(entry.occurred_at) + " is not its body's";
  }
  return std::nullopt;
}

std::optional<ChainProblem> check_positions(const std::vector<ports::AuditEntry>& entries) {
  // Where each seq appears, to tell a reordering (the expected seq comes later) from a removal.
  std::unordered_map<std::uint64_t, std::size_t> position_of;
  for (std::size_t i = 0; i < entries.size(); ++i) position_of.emplace(entries[i].seq, i);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::uint64_t expected = i + 1;
    const std::uint64_t found = entries[i].seq;
    if (found == expected) continue;
    const auto later = position_of.find(expected);
    if (found < expected || (later != position_of.end() && later->second > i)) {
      return ChainProblem{expected, ChainFault::reordered,
                          "entry " + std::to_string(found) + " stands where entry " +
                              std::to_string(expected) + " belongs"};
    }
    return ChainProblem{expected, ChainFault::removed,
                        found == expected + 1 ? "entry " + std::to_string(expected) + " is missing"
                                              : "entries " + std::to_string(expected) + " to " +
                                                    std::to_string(found - 1) + " are missing"};
  }
  return std::nullopt;
}

}  // namespace

std::string canonical_json(const json::value& value) {
  std::string out;
  append_canonical(value, out);
  return out;
}

std::optional<std::string> canonicalize(std::string_view json_text) {
  boost::system::error_code ec;
  const json::value value = json::parse(json_text, ec);
  if (ec) return std::nullopt;
  return canonical_json(value);
}

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1) {
    // Only a broken OpenSSL installation fails here; no entry can be chained without it.
    throw std::runtime_error("OpenSSL cannot compute SHA-256");
  }
  return to_hex(digest.data(), size);
}

std::string entry_hash(std::string_view prev_hash, std::uint64_t seq, std::string_view key,
                       std::string_view canonical_body) {
  std::string input;
  input.reserve(prev_hash.size() + key.size() + canonical_body.size() + 24);
  input.append(prev_hash).append("\n").append(std::to_string(seq)).append("\n");
  input.append(key).append("\n").append(canonical_body);
  return sha256_hex(input);
}

ports::AuditHead empty_head() {
  return {0, std::string(kGenesisHash)};
}

ports::Result<ports::AuditEntry> chain_entry(const ports::AuditHead& head,
                                             const ports::AuditAppend& append) {
  if (append.key.empty()) return bad_append("the key is empty");
  if (append.kind != to_string(AuditKind::command) && append.kind != to_string(AuditKind::event)) {
    return bad_append("kind '" + append.kind + "' is neither command nor event");
  }
  auto body = canonicalize(append.body);
  if (!body) return bad_append("the body of '" + append.key + "' is not JSON");
  ports::AuditEntry entry;
  entry.seq = head.seq + 1;
  entry.key = append.key;
  entry.auction_id = append.auction_id;
  entry.kind = append.kind;
  entry.occurred_at = append.occurred_at;
  entry.body = std::move(*body);
  entry.prev_hash = head.seq == 0 ? std::string(kGenesisHash) : head.hash;
  entry.hash = entry_hash(entry.prev_hash, entry.seq, entry.key, entry.body);
  return entry;
}

std::string_view to_string(ChainFault fault) {
  switch (fault) {
    case ChainFault::altered:
      return "altered";
    case ChainFault::removed:
      return "removed";
    case ChainFault::reordered:
      return "reordered";
    case ChainFault::broken_link:
      return "broken link";
  }
  return "?";
}

std::optional<ChainProblem> verify_chain(const std::vector<ports::AuditEntry>& entries) {
  if (auto problem = check_positions(entries)) return problem;
  // Positions are right; now the content. A hash names the entry it belongs to, so an entry
  // whose link points at a later entry's hash was moved (its content swapped with another's).
  std::unordered_map<std::string, std::uint64_t> seq_of_hash;
  for (const auto& entry : entries) seq_of_hash.emplace(entry.hash, entry.seq);
  std::string expected_prev(kGenesisHash);
  for (const auto& entry : entries) {
    const bool self_consistent =
        entry_hash(entry.prev_hash, entry.seq, entry.key, entry.body) == entry.hash;
    if (entry.prev_hash != expected_prev) {
      const auto linked = seq_of_hash.find(entry.prev_hash);
      if (linked != seq_of_hash.end() && linked->second != entry.seq) {
        return ChainProblem{entry.seq, ChainFault::reordered,
                            "the entry here was chained after entry " +
                                std::to_string(linked->second) + ", not after entry " +
                                std::to_string(entry.seq - 1)};
      }
      if (self_consistent) {
        return ChainProblem{entry.seq, ChainFault::broken_link,
                            "its prev_hash is not the hash of entry " +
                                std::to_string(entry.seq - 1) + " (one of them was rewritten)"};
      }
      return ChainProblem{entry.seq, ChainFault::altered,
                          "neither its link nor its content matches its hash"};
    }
    if (!self_consistent) {
      return ChainProblem{entry.seq, ChainFault::altered, "its content does not match its hash"};
    }
    if (auto mismatch = column_mismatch(entry)) {
      return ChainProblem{entry.seq, ChainFault::altered, *mismatch};
    }
    expected_prev = entry.hash;
  }
  return std::nullopt;
}

}  // namespace gavel::wire
