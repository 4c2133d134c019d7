#include "adapters/sql/records.hpp"

#include <array>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace gavel::adapters::sql {
namespace {

// --- scalar conversions ------------------------------------------------------------------

std::int64_t micros(domain::Timestamp at) {
  return at.time_since_epoch().count();
}

std::int64_t micros(domain::Duration duration) {
  return duration.count();
}

domain::Timestamp timestamp(std::int64_t value) {
  return domain::Timestamp{domain::Duration{value}};
}

// Unsigned counters (seq, positions, event numbers) keep their bit pattern in the int64 columns.
std::int64_t counter(std::uint64_t value) {
  return static_cast<std::int64_t>(value);
}

std::uint64_t counter(std::int64_t value) {
  return static_cast<std::uint64_t>(value);
}

std::optional<std::int64_t> optional_amount(const std::optional<domain::Amount>& amount) {
  if (!amount) return std::nullopt;
  return amount->minor_units();
}

std::optional<domain::Amount> optional_amount(std::optional<std::int64_t> value) {
  if (!value) return std::nullopt;
  return domain::Amount{*value};
}

template <typename IdType>
IdType to_id(std::string_view text) {
  if (text.size() > domain::kMaxIdLength) {
    throw CorruptRow("stored id longer than 64 bytes: " + std::string(text.substr(0, 80)));
  }
  return IdType{text};
}

domain::Currency to_currency(std::string_view text) {
  const auto currency = domain::Currency::parse(text);
  if (!currency) throw CorruptRow("stored currency is not an ISO 4217 code: " + std::string(text));
  return *currency;
}

// Enums are stored by their wire names; these are every value, to find a name's enum.
constexpr std::array kStatuses{domain::AuctionStatus::scheduled, domain::AuctionStatus::open,
                               domain::AuctionStatus::closed, domain::AuctionStatus::cancelled};
constexpr std::array kResults{domain::AuctionResult::none, domain::AuctionResult::sold,
                              domain::AuctionResult::unsold};
constexpr std::array kEventTypes{
    domain::EventType::auction_created, domain::EventType::auction_opened,
    domain::EventType::bid_accepted,    domain::EventType::bid_rejected,
    domain::EventType::outbid,          domain::EventType::auction_extended,
    domain::EventType::auction_closed,  domain::EventType::auction_cancelled,
    domain::EventType::bid_voided};

template <typename Enum, std::size_t N>
Enum from_name(std::string_view name, const std::array<Enum, N>& all, const char* what) {
  for (const Enum value : all) {
    if (domain::to_string(value) == name) return value;
  }
  throw CorruptRow(std::string("unknown ") + what + " in the store: " + std::string(name));
}

domain::Reason to_reason(std::string_view name) {
  const auto reason = domain::reason_from_string(name);
  if (!reason) throw CorruptRow("unknown reason in the store: " + std::string(name));
  return *reason;
}

// --- blobs -------------------------------------------------------------------------------

// Little-endian, whatever the machine: the file can move between hosts.
void put_int64(std::vector<std::uint8_t>& out, std::int64_t value) {
  auto bits = static_cast<std::uint64_t>(value);
  for (int i = 0; i < 8; ++i) {
    out.push_back(static_cast<std::uint8_t>(bits & 0xffU));
    bits >>= 8U;
  }
}

void put_id(std::vector<std::uint8_t>& out, std::string_view id) {
  out.push_back(static_cast<std::uint8_t>(id.size()));  // ids are at most 64 bytes
  out.insert(out.end(), id.begin(), id.end());
}

class BlobReader {
 public:
  BlobReader(const std::vector<std::uint8_t>& bytes, const char* what)
      : bytes_(bytes), what_(what) {}

  bool done() const { return offset_ == bytes_.size(); }

  std::int64_t int64() {
    need(8);
    std::uint64_t bits = 0;
    for (std::size_t i = 0; i < 8; ++i) {
      bits |= static_cast<std::uint64_t>(bytes_[offset_ + i]) << (8U * i);
    }
    offset_ += 8;
    return static_cast<std::int64_t>(bits);
  }

  std::string_view id() {
    need(1);
    const std::size_t size = bytes_[offset_++];
    need(size);
    const std::string_view text(reinterpret_cast<const char*>(bytes_.data() + offset_), size);
    offset_ += size;
    return text;
  }

 private:
  void need(std::size_t size) const {
    if (bytes_.size() - offset_ < size) {
      throw CorruptRow(std::string("truncated ") + what_ + " in the store");
    }
  }

  const std::vector<std::uint8_t>& bytes_;
  const char* what_;
  std::size_t offset_ = 0;
};

}  // namespace

std::vector<std::uint8_t> encode_increment(const domain::IncrementPolicy& policy) {
  std::vector<std::uint8_t> out;
  out.reserve(policy.tiers().size() * 16);
  for (const auto& tier : policy.tiers()) {
    put_int64(out, tier.from.minor_units());
    put_int64(out, tier.step.minor_units());
  }
  return out;
}

domain::IncrementPolicy decode_increment(const std::vector<std::uint8_t>& bytes) {
  BlobReader reader(bytes, "increment table");
  std::vector<domain::IncrementTier> tiers;
  while (!reader.done()) {
    const domain::Amount from{reader.int64()};
    const domain::Amount step{reader.int64()};
    tiers.push_back(domain::IncrementTier{from, step});
  }
  auto policy = domain::IncrementPolicy::table(std::move(tiers));
  if (!policy) throw CorruptRow("invalid increment table in the store");
  return *std::move(policy);
}

std::vector<std::uint8_t> encode_accepted(const std::vector<domain::BidRecord>& records,
                                          std::size_t from) {
  std::vector<std::uint8_t> out;
  if (from >= records.size()) return out;
  out.reserve((records.size() - from) * 64);
  for (auto record = records.begin() + static_cast<std::ptrdiff_t>(from); record != records.end();
       ++record) {
    put_id(out, record->id.view());
    put_id(out, record->bidder_id.view());
    put_int64(out, record->amount.minor_units());
    put_int64(out, record->max_amount.minor_units());
    put_int64(out, micros(record->received_at));
  }
  return out;
}

std::vector<domain::BidRecord> decode_accepted(const std::vector<std::uint8_t>& bytes) {
  std::vector<domain::BidRecord> records;
  decode_accepted_into(bytes, records);
  return records;
}

void decode_accepted_into(const std::vector<std::uint8_t>& bytes,
                          std::vector<domain::BidRecord>& records) {
  BlobReader reader(bytes, "bid history");
  while (!reader.done()) {
    domain::BidRecord record;
    record.id = to_id<domain::BidId>(reader.id());
    record.bidder_id = to_id<domain::UserId>(reader.id());
    record.amount = domain::Amount{reader.int64()};
    record.max_amount = domain::Amount{reader.int64()};
    record.received_at = timestamp(reader.int64());
    records.push_back(record);
  }
}

bool writes_whole_history(const ports::AuctionWrite& write) {
  return write.expected_seq == 0 || write.history_kept == 0;
}

bool bind_history_chunk(Params& params, const ports::AuctionWrite& write) {
  if (writes_whole_history(write) || write.history_kept >= write.state.accepted.size()) {
    return false;
  }
  params.bind(1, write.terms.id.view());
  params.bind(2, static_cast<std::int64_t>(write.history_kept));
  params.bind_blob(3, encode_accepted(write.state.accepted, write.history_kept));
  return true;
}

std::string with_history_chunks(const std::string& auctions_query) {
  return std::string("SELECT ") + kAuctionColumns + ", h.start, h.entries FROM (" + auctions_query +
         ") a LEFT JOIN auction_history h ON h.auction_id = a.id ORDER BY a.id, h.start";
}

void read_auction_with_chunk(const Row& row, std::vector<ports::StoredAuction>& auctions) {
  constexpr int kStart = kAuctionColumnCount;
  if (auctions.empty() || auctions.back().terms.id.view() != row.column_text(0)) {
    auctions.push_back(read_auction(row));
  }
  const auto start = row.column_optional_int64(kStart);
  if (!start) return;
  domain::AuctionState& state = auctions.back().state;
  if (*start != static_cast<std::int64_t>(state.accepted.size())) {
    throw CorruptRow("a bid history chunk starts at entry " + std::to_string(*start) +
                     " but the history has " + std::to_string(state.accepted.size()));
  }
  decode_accepted_into(row.column_blob(kStart + 1), state.accepted);
}

// --- queries -----------------------------------------------------------------------------

std::int64_t limit_param(std::size_t limit) {
  constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  return static_cast<std::int64_t>(limit > kMax ? kMax : limit);
}

// --- conflicts ---------------------------------------------------------------------------

std::string describe_conflict(const ports::AuctionWrite& write,
                              std::optional<StoredVersion> stored) {
  const std::string id = "auction " + write.terms.id.str();
  if (!stored) {
    return id + " does not exist, expected seq " + std::to_string(write.expected_seq);
  }
  const std::string at = " is at seq " + std::to_string(stored->seq);
  if (write.expected_seq == 0) return id + at + ", expected it not to exist";
  if (stored->seq != write.expected_seq)
    return id + at + ", expected " + std::to_string(write.expected_seq);
  // The seq agrees: another engine's rejection took an event number.
  return id + at + " with " + std::to_string(stored->events) + " events, expected " +
         std::to_string(write.expected_events) + " events";
}

// --- auctions ----------------------------------------------------------------------------

void bind_auction(Params& params, const domain::AuctionTerms& terms,
                  const domain::AuctionState& state, bool whole_history) {
  params.bind(1, terms.id.view());
  params.bind(2, domain::to_string(state.status));
  params.bind(3, counter(state.seq));
  params.bind(4, terms.seller_id.view());
  params.bind(5, std::string_view{terms.title});
  params.bind(6, terms.currency.code());
  params.bind(7, terms.starting_price.minor_units());
  params.bind(8, micros(terms.starts_at));
  params.bind(9, micros(terms.ends_at));
  params.bind(10, optional_amount(terms.reserve_price));
  params.bind(11, optional_amount(terms.buy_now_price));
  params.bind(12, micros(terms.soft_close));
  params.bind(13, micros(terms.extension));
  params.bind(14, terms.max_ends_at ? std::optional{micros(*terms.max_ends_at)} : std::nullopt);
  params.bind_blob(15, encode_increment(terms.increment));
  params.bind(16, domain::to_string(state.result));
  params.bind(17, state.price.minor_units());
  params.bind(18, state.leader_id.view());
  params.bind(19, state.leader_max.minor_units());
  params.bind(20, micros(state.leader_max_at));
  params.bind(21, micros(state.ends_at));
  params.bind(22, counter(state.events));
  params.bind_blob(23,
                   whole_history ? encode_accepted(state.accepted) : std::vector<std::uint8_t>{});
  params.bind(24, state.winner_id.view());
  params.bind(25, state.final_price.minor_units());
}

ports::StoredAuction read_auction(const Row& row) {
  domain::AuctionTerms terms;
  domain::AuctionState state;
  terms.id = to_id<domain::AuctionId>(row.column_text(0));
  state.status = from_name(row.column_text(1), kStatuses, "auction status");
  state.seq = counter(row.column_int64(2));
  terms.seller_id = to_id<domain::UserId>(row.column_text(3));
  terms.title = std::string(row.column_text(4));
  terms.currency = to_currency(row.column_text(5));
  terms.starting_price = domain::Amount{row.column_int64(6)};
  terms.starts_at = timestamp(row.column_int64(7));
  terms.ends_at = timestamp(row.column_int64(8));
  terms.reserve_price = optional_amount(row.column_optional_int64(9));
  terms.buy_now_price = optional_amount(row.column_optional_int64(10));
  terms.soft_close = domain::Duration{row.column_int64(11)};
  terms.extension = domain::Duration{row.column_int64(12)};
  if (const auto max_ends_at = row.column_optional_int64(13)) {
    terms.max_ends_at = timestamp(*max_ends_at);
  }
  terms.increment = decode_increment(row.column_blob(14));
  state.result = from_name(row.column_text(15), kResults, "auction result");
  state.price = domain::Amount{row.column_int64(16)};
  state.leader_id = to_id<domain::UserId>(row.column_text(17));
  state.leader_max = domain::Amount{row.column_int64(18)};
  state.leader_max_at = timestamp(row.column_int64(19));
  state.ends_at = timestamp(row.column_int64(20));
  state.events = counter(row.column_int64(21));
  state.accepted = decode_accepted(row.column_blob(22));
  state.winner_id = to_id<domain::UserId>(row.column_text(23));
  state.final_price = domain::Amount{row.column_int64(24)};
  return ports::StoredAuction{std::move(terms), std::move(state)};
}

// --- bids --------------------------------------------------------------------------------

void bind_bid(Params& params, const ports::StoredBid& bid) {
  params.bind(1, bid.id.view());
  params.bind(2, bid.auction_id.view());
  params.bind(3, counter(bid.position));
  params.bind(4, bid.bidder_id.view());
  params.bind(5, bid.amount.minor_units());
  params.bind(6, optional_amount(bid.max_amount));
  params.bind(7, micros(bid.received_at));
  params.bind(8, std::int64_t{bid.decision.accepted ? 1 : 0});
  params.bind(9, domain::to_string(bid.decision.reason));
  params.bind(10, std::int64_t{bid.decision.leading ? 1 : 0});
  params.bind(11, bid.decision.price.minor_units());
  params.bind(12, bid.decision.min_next_bid.minor_units());
  params.bind(13, counter(bid.decision.event_number));
  params.bind(14, std::string_view{bid.idempotency_key});
}

ports::StoredBid read_bid(const Row& row) {
  ports::StoredBid bid;
  bid.id = to_id<domain::BidId>(row.column_text(0));
  bid.auction_id = to_id<domain::AuctionId>(row.column_text(1));
  bid.position = counter(row.column_int64(2));
  bid.bidder_id = to_id<domain::UserId>(row.column_text(3));
  bid.amount = domain::Amount{row.column_int64(4)};
  bid.max_amount = optional_amount(row.column_optional_int64(5));
  bid.received_at = timestamp(row.column_int64(6));
  bid.decision.accepted = row.column_int64(7) != 0;
  bid.decision.reason = to_reason(row.column_text(8));
  bid.decision.leading = row.column_int64(9) != 0;
  bid.decision.price = domain::Amount{row.column_int64(10)};
  bid.decision.min_next_bid = domain::Amount{row.column_int64(11)};
  bid.decision.event_number = counter(row.column_int64(12));
  bid.idempotency_key = std::string(row.column_text(13));
  return bid;
}

// --- events ------------------------------------------------------------------------------

void bind_event(Params& params, const domain::Event& event) {
  params.bind(1, std::string_view{domain::event_id(event)});
  params.bind(2, domain::to_string(event.type));
  params.bind(3, event.auction_id.view());
  params.bind(4, counter(event.number));
  params.bind(5, counter(event.seq));
  params.bind(6, micros(event.at));
  params.bind(7, event.bid_id.view());
  params.bind(8, event.user_id.view());
  params.bind(9, event.amount.minor_units());
  params.bind(10, event.price.minor_units());
  params.bind(11, event.leader_id.view());
  params.bind(12, event.previous_leader.view());
  params.bind(13, micros(event.ends_at));
  params.bind(14, domain::to_string(event.reason));
  params.bind(15, event.min_next_bid.minor_units());
  params.bind(16, domain::to_string(event.result));
  params.bind(17, std::string_view{event.note});
}

domain::Event read_event(const Row& row) {
  domain::Event event;
  // Column 0 is the event id, derived from auction_id and number.
  event.type = from_name(row.column_text(1), kEventTypes, "event type");
  event.auction_id = to_id<domain::AuctionId>(row.column_text(2));
  event.number = counter(row.column_int64(3));
  event.seq = counter(row.column_int64(4));
  event.at = timestamp(row.column_int64(5));
  event.bid_id = to_id<domain::BidId>(row.column_text(6));
  event.user_id = to_id<domain::UserId>(row.column_text(7));
  event.amount = domain::Amount{row.column_int64(8)};
  event.price = domain::Amount{row.column_int64(9)};
  event.leader_id = to_id<domain::UserId>(row.column_text(10));
  event.previous_leader = to_id<domain::UserId>(row.column_text(11));
  event.ends_at = timestamp(row.column_int64(12));
  event.reason = to_reason(row.column_text(13));
  event.min_next_bid = domain::Amount{row.column_int64(14)};
  event.result = from_name(row.column_text(15), kResults, "auction result");
  event.note = std::string(row.column_text(16));
  return event;
}

void bind_audit_outbox(Params& params, const ports::OutgoingMessage& record) {
  params.bind(1, std::string_view{record.dedup_id});
  params.bind(2, std::string_view{record.ordering_key});
  params.bind(3, record.event_time.time_since_epoch().count());
  params.bind(4, std::string_view{record.body});
}

ports::OutgoingMessage read_audit_outbox(const Row& row) {
  ports::OutgoingMessage record;
  record.dedup_id = std::string(row.column_text(0));
  record.ordering_key = std::string(row.column_text(1));
  record.event_time = domain::Timestamp{domain::Duration{row.column_int64(2)}};
  record.body = std::string(row.column_text(3));
  return record;
}

}  // namespace gavel::adapters::sql
