#pragma once
// How auctions, bids and events map to table rows, for every SQL store: the column lists, binding
// a value to a statement's parameters, and reading it back from a row. Every field round-trips
// exactly. Amounts are minor units and times microseconds since the epoch (int64); enums are
// stored by their wire names; the increment table and the accepted-bid history are small
// little-endian blobs.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "adapters/sql/row.hpp"
#include "domain/auction.hpp"
#include "ports/store.hpp"

namespace gavel::adapters::sql {

/// The auctions columns in binding order (parameter 1 = id ... 25 = final_price).
inline constexpr const char* kAuctionColumns =
    "id, status, seq, seller_id, title, currency, starting_price, starts_at, ends_at, "
    "reserve_price, buy_now_price, soft_close, extension, max_ends_at, increment, result, price, "
    "leader_id, leader_max, leader_max_at, state_ends_at, events, accepted, winner_id, "
    "final_price";
inline constexpr int kAuctionColumnCount = 25;
/// The bids columns in binding order (parameter 1 = id ... 14 = idempotency_key). "leading" is
/// quoted: PostgreSQL reserves the word.
inline constexpr const char* kBidColumns =
    "id, auction_id, position, bidder_id, amount, max_amount, received_at, accepted, reason, "
    "\"leading\", price, min_next_bid, event_number, idempotency_key";
inline constexpr int kBidColumnCount = 14;
/// The outbox event columns in binding order (parameter 1 = event_id ... 17 = note).
inline constexpr const char* kEventColumns =
    "event_id, type, auction_id, number, seq, at, bid_id, user_id, amount, price, leader_id, "
    "previous_leader, ends_at, reason, min_next_bid, result, note";
inline constexpr int kEventColumnCount = 17;

/// Binds parameters 1..25 of an INSERT/UPDATE naming kAuctionColumns. The `accepted` column
/// (23) holds the bid history's first entries, those written by a whole write; later ones are
/// chunks in the auction_history table, one per write that added to the history
/// (ports::AuctionWrite::history_kept), so that a hot auction's commit does not rewrite its
/// whole history. Without `whole_history`, 23 is bound empty: the UPDATE leaves the column as
/// it is (parameter 28, see whole_history_param).
void bind_auction(Params& params, const domain::AuctionTerms& terms,
                  const domain::AuctionState& state, bool whole_history = true);
/// Reads a row of a SELECT of kAuctionColumns. Throws CorruptRow.
ports::StoredAuction read_auction(const Row& row);

/// Parameter 28 of an auction UPDATE: 1 when `accepted` is rewritten with the whole history
/// (then the auction's chunks are deleted), 0 when it keeps its entries and the write adds a
/// chunk.
inline constexpr int kWholeHistoryParam = 28;
/// Whether a write rewrites the whole history (a creation, or history_kept 0).
bool writes_whole_history(const ports::AuctionWrite& write);

/// The auction_history columns in binding order (parameter 1 = auction_id, 2 = start, 3 =
/// entries): a chunk of the history, from entry `start` on, encoded like `accepted`.
inline constexpr const char* kHistoryColumns = "auction_id, start, entries";
/// Binds a write's new history entries (those after history_kept) as a chunk. Answers false,
/// binding nothing, when the write adds no entry.
bool bind_history_chunk(Params& params, const ports::AuctionWrite& write);
/// Wraps `auctions_query` (a SELECT of kAuctionColumns from auctions, ordered by id) so that each
/// auction comes with its history chunks, in one statement and so one snapshot: an auction's row
/// and its chunks are never read at two different versions. Each auction is one row per chunk
/// (columns 25 and 26: start and entries; NULL without chunks), ordered by id and start.
std::string with_history_chunks(const std::string& auctions_query);
/// Reads one row of a with_history_chunks query into `auctions`: a new auction, or its next
/// chunk. Throws CorruptRow when a chunk does not start where the history ends.
void read_auction_with_chunk(const Row& row, std::vector<ports::StoredAuction>& auctions);

void bind_bid(Params& params, const ports::StoredBid& bid);
ports::StoredBid read_bid(const Row& row);

void bind_event(Params& params, const domain::Event& event);
domain::Event read_event(const Row& row);

/// The audit outbox columns in binding order (parameter 1 = key ... 4 = body).
inline constexpr const char* kAuditOutboxColumns = "key, ordering_key, event_time, body";
void bind_audit_outbox(Params& params, const ports::OutgoingMessage& record);
ports::OutgoingMessage read_audit_outbox(const Row& row);

/// A LIMIT parameter: LIMIT takes an int64, and a larger size_t means no limit.
std::int64_t limit_param(std::size_t limit);

/// An auction's seq and event count as the store holds them: what a write is fenced on.
struct StoredVersion {
  std::uint64_t seq = 0;
  std::uint64_t events = 0;
};

/// Why a write's condition failed, for the conflict error: the auction and the seq (and, when
/// the seqs agree, the event count) the store holds (nullopt: the auction does not exist)
/// against those the write expected.
std::string describe_conflict(const ports::AuctionWrite& write,
                              std::optional<StoredVersion> stored);

/// The blob encodings, exposed for tests.
std::vector<std::uint8_t> encode_increment(const domain::IncrementPolicy& policy);
domain::IncrementPolicy decode_increment(const std::vector<std::uint8_t>& bytes);
/// The history's entries from `from` on.
std::vector<std::uint8_t> encode_accepted(const std::vector<domain::BidRecord>& records,
                                          std::size_t from = 0);
std::vector<domain::BidRecord> decode_accepted(const std::vector<std::uint8_t>& bytes);
/// Decodes and appends to `records`.
void decode_accepted_into(const std::vector<std::uint8_t>& bytes,
                          std::vector<domain::BidRecord>& records);

}  // namespace gavel::adapters::sql
