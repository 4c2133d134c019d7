#include "domain/auction.hpp"

#include <algorithm>
#include <utility>

namespace gavel::domain {

std::optional<TermsError> validate(const AuctionTerms& terms) {
  if (!is_valid_id(terms.id.view()))
    return TermsError{"id", "id must be 1-64 printable characters"};
  if (!is_valid_id(terms.seller_id.view()))
    return TermsError{"sellerId", "sellerId must be 1-64 printable characters"};
  if (terms.title.size() > kMaxTitleLength) {
    return TermsError{"title", "title must be at most 200 bytes"};
  }
  if (!is_valid_amount(terms.starting_price)) {
    return TermsError{"startingPrice", "startingPrice must be an integer in 1..10^13 minor units"};
  }
  if (terms.ends_at <= terms.starts_at) {
    return TermsError{"endsAt", "endsAt must be after startsAt"};
  }
  if (terms.ends_at - terms.starts_at > kMaxAuctionLength) {
    return TermsError{"endsAt", "an auction lasts at most 366 days"};
  }
  if (terms.reserve_price && !is_valid_amount(*terms.reserve_price)) {
    return TermsError{"reservePrice", "reservePrice must be an integer in 1..10^13 minor units"};
  }
  if (terms.buy_now_price &&
      (!is_valid_amount(*terms.buy_now_price) || *terms.buy_now_price < terms.starting_price)) {
    return TermsError{"buyNowPrice",
                      "buyNowPrice must be at least startingPrice and at most 10^13"};
  }
  if (terms.soft_close < Duration{0} || terms.soft_close > kMaxSoftClose) {
    return TermsError{"softCloseSeconds", "softCloseSeconds must be within 0..86400"};
  }
  if (terms.extension < Duration{0} || terms.extension > kMaxSoftClose) {
    return TermsError{"extensionSeconds", "extensionSeconds must be within 0..86400"};
  }
  if (terms.max_ends_at && *terms.max_ends_at < terms.ends_at) {
    return TermsError{"maxEndsAt", "maxEndsAt must not be before endsAt"};
  }
  if (terms.max_ends_at && *terms.max_ends_at - terms.starts_at > kMaxAuctionLength) {
    return TermsError{"maxEndsAt", "an auction lasts at most 366 days"};
  }
  return std::nullopt;
}

Auction::Auction(AuctionTerms terms) : terms_(std::move(terms)) {
  state_.price = terms_.starting_price;
  state_.ends_at = terms_.ends_at;
}

Auction::Auction(AuctionTerms terms, AuctionState state)
    : terms_(std::move(terms)), state_(std::move(state)) {}

Event& Auction::emit(EventType type, Timestamp at, std::vector<Event>& out) {
  Event& event = out.emplace_back();
  event.type = type;
  event.auction_id = terms_.id;
  event.number = ++state_.events;
  event.seq = state_.seq;
  event.at = at;
  event.price = state_.price;
  event.leader_id = state_.leader_id;
  event.ends_at = state_.ends_at;
  return event;
}

void Auction::announce_creation(Timestamp at, std::vector<Event>& out) {
  emit(EventType::auction_created, at, out).user_id = terms_.seller_id;
}

Amount Auction::min_next_bid() const {
  if (state_.leader_id.empty()) return terms_.starting_price;
  return state_.price + terms_.increment.at(state_.price);
}

bool Auction::reserve_met() const {
  if (!terms_.reserve_price) return true;
  return !state_.leader_id.empty() && state_.price >= *terms_.reserve_price;
}

Decision Auction::decision(Reason reason, bool leading, std::uint64_t event_number) const {
  return Decision{reason == Reason::none, reason,         leading,
                  state_.price,           min_next_bid(), event_number};
}

Decision Auction::reject(const BidRequest& bid, Reason reason, std::vector<Event>& out) {
  Event& event = emit(EventType::bid_rejected, bid.received_at, out);
  event.bid_id = bid.id;
  event.user_id = bid.bidder_id;
  event.amount = bid.amount;
  event.reason = reason;
  event.min_next_bid = min_next_bid();
  return decision(reason, state_.leader_id == bid.bidder_id, event.number);
}

Reason Auction::check_admissible(const BidRequest& bid) const {
  if (is_final()) return Reason::auction_closed;
  if (bid.received_at < terms_.starts_at) return Reason::auction_not_open;
  if (bid.received_at >= state_.ends_at) return Reason::auction_closed;
  if (bid.bidder_id == terms_.seller_id) return Reason::seller_cannot_bid;
  if (bid.currency && *bid.currency != terms_.currency) return Reason::currency_mismatch;
  if (!is_valid_amount(bid.amount)) return Reason::invalid_amount;
  if (bid.max_amount) {
    if (!is_valid_amount(*bid.max_amount)) return Reason::invalid_amount;
    if (*bid.max_amount < bid.amount) return Reason::max_below_amount;
  }
  return Reason::none;
}

void Auction::raise_to_reserve() {
  // The hidden reserve: once the leader's maximum covers it, the price rises to meet it.
  const auto& reserve = terms_.reserve_price;
  if (reserve && state_.leader_max >= *reserve && state_.price < *reserve) state_.price = *reserve;
}

Reason Auction::apply_bid(const BidRequest& bid, UserId& outbid, UserId& previous_leader) {
  const Amount max = bid.max_amount.value_or(bid.amount);

  if (!state_.leader_id.empty() && bid.bidder_id == state_.leader_id) {
    // The leader raises their own maximum: never against themselves, never the price
    // (except to meet the reserve).
    if (max <= state_.leader_max) return Reason::not_raising_max;
    state_.leader_max = max;
    state_.leader_max_at = bid.received_at;
    raise_to_reserve();
    return Reason::none;
  }

  if (bid.amount < min_next_bid()) return Reason::bid_too_low;

  if (state_.leader_id.empty()) {
    state_.leader_id = bid.bidder_id;
    state_.price = bid.amount;
  } else {
    const Amount leader_max = state_.leader_max;
    // Equal maxima go to the earlier one: by receivedAt, then by queue order (the leader's
    // maximum was decided first, so it wins unless the challenger was received earlier).
    const bool challenger_wins =
        max > leader_max || (max == leader_max && bid.received_at < state_.leader_max_at);
    if (challenger_wins) {
      state_.price =
          std::max(bid.amount, std::min(max, leader_max + terms_.increment.at(leader_max)));
      previous_leader = state_.leader_id;
      outbid = state_.leader_id;
      state_.leader_id = bid.bidder_id;
    } else {
      state_.price = std::min(leader_max, max + terms_.increment.at(max));
      outbid = bid.bidder_id;
      raise_to_reserve();
      return Reason::none;
    }
  }
  state_.leader_max = max;
  state_.leader_max_at = bid.received_at;
  raise_to_reserve();
  return Reason::none;
}

bool Auction::extend_for(Timestamp received_at) {
  if (terms_.soft_close <= Duration{0}) return false;
  if (state_.ends_at - received_at > terms_.soft_close) return false;
  Timestamp target = received_at + terms_.extension;
  if (terms_.max_ends_at) target = std::min(target, *terms_.max_ends_at);
  if (target <= state_.ends_at) return false;
  state_.ends_at = target;
  return true;
}

Decision Auction::place_bid(const BidRequest& bid, std::vector<Event>& out) {
  open_if_due(bid.received_at, out);
  if (const Reason reason = check_admissible(bid); reason != Reason::none) {
    return reject(bid, reason, out);
  }
  if (state_.status != AuctionStatus::open) return reject(bid, Reason::auction_not_open, out);

  const Amount price_before = state_.price;
  const UserId leader_before = state_.leader_id;
  const bool leader_raising = !leader_before.empty() && bid.bidder_id == leader_before;
  UserId outbid;
  UserId previous_leader;
  if (const Reason reason = apply_bid(bid, outbid, previous_leader); reason != Reason::none) {
    return reject(bid, reason, out);
  }

  state_.accepted.push_back(BidRecord{bid.id, bid.bidder_id, bid.amount,
                                      bid.max_amount.value_or(bid.amount), bid.received_at});
  ++state_.seq;
  // A leader raising their maximum never extends the auction (RULES.md §Bids).
  const bool moved = state_.price != price_before || state_.leader_id != leader_before;
  const bool extended = !leader_raising && moved && extend_for(bid.received_at);

  Event& accepted = emit(EventType::bid_accepted, bid.received_at, out);
  accepted.bid_id = bid.id;
  accepted.user_id = bid.bidder_id;
  accepted.amount = bid.amount;
  accepted.previous_leader = previous_leader;
  // Later emits may reallocate `out`: keep the number, not the reference.
  const std::uint64_t accepted_number = accepted.number;
  if (!outbid.empty()) emit(EventType::outbid, bid.received_at, out).user_id = outbid;
  if (extended) emit(EventType::auction_extended, bid.received_at, out);
  return decision(Reason::none, state_.leader_id == bid.bidder_id, accepted_number);
}

Decision Auction::buy_now(const UserId& buyer, Timestamp received_at, std::vector<Event>& out) {
  open_if_due(received_at, out);
  Reason reason = Reason::none;
  if (is_final() || received_at >= state_.ends_at) {
    reason = Reason::auction_closed;
  } else if (received_at < terms_.starts_at || state_.status != AuctionStatus::open) {
    reason = Reason::auction_not_open;
  } else if (buyer == terms_.seller_id) {
    reason = Reason::seller_cannot_bid;
  } else if (!terms_.buy_now_price || !state_.accepted.empty()) {
    reason = Reason::buy_now_unavailable;
  }
  // A refused buy-now changes nothing, so it is answered to the caller but emits no event.
  if (reason != Reason::none) return decision(reason, false);

  state_.status = AuctionStatus::closed;
  state_.result = AuctionResult::sold;
  state_.price = *terms_.buy_now_price;
  state_.leader_id = buyer;
  state_.leader_max = state_.price;
  state_.leader_max_at = received_at;
  state_.winner_id = buyer;
  state_.final_price = state_.price;
  ++state_.seq;
  Event& closed = emit(EventType::auction_closed, received_at, out);
  closed.user_id = buyer;
  closed.result = AuctionResult::sold;
  closed.note = "buy_now";
  return decision(Reason::none, true, closed.number);
}

Decision Auction::cancel(const Actor& actor, std::string note, Timestamp at,
                         std::vector<Event>& out) {
  Reason reason = Reason::none;
  if (is_final()) {
    reason = Reason::auction_closed;
  } else if (!actor.admin && actor.id != terms_.seller_id) {
    reason = Reason::not_allowed;
  } else if (!actor.admin && !state_.accepted.empty()) {
    reason = Reason::auction_has_bids;
  }
  if (reason != Reason::none) return decision(reason, false);

  state_.status = AuctionStatus::cancelled;
  ++state_.seq;
  Event& cancelled = emit(EventType::auction_cancelled, at, out);
  cancelled.user_id = actor.id;
  cancelled.note = std::move(note);
  return decision(Reason::none, false, cancelled.number);
}

Decision Auction::void_bid(const Actor& actor, const BidId& bid_id, Timestamp at,
                           std::vector<Event>& out) {
  const auto fail = [&](Reason reason) { return decision(reason, false); };
  if (!actor.admin) return fail(Reason::not_allowed);
  if (is_final()) return fail(Reason::auction_closed);
  const auto found = std::find_if(state_.accepted.begin(), state_.accepted.end(),
                                  [&](const BidRecord& r) { return r.id == bid_id; });
  if (found == state_.accepted.end()) return fail(Reason::bid_not_found);
  const BidRecord voided = *found;

  // Recompute from the remaining bids with the same rules, as if the voided one never came.
  // A remaining bid that no longer stands on its own (say, a raise of a maximum that was
  // voided) drops out of the history too.
  Auction recomputed{terms_};
  recomputed.state_.status = AuctionStatus::open;
  std::vector<Event> scratch;
  for (const BidRecord& record : state_.accepted) {
    if (record.id == bid_id) continue;
    recomputed.place_bid(BidRequest{record.id, record.bidder_id, record.amount, record.max_amount,
                                    std::nullopt, record.received_at},
                         scratch);
  }
  const UserId leader_before = state_.leader_id;
  state_.price = recomputed.state_.price;
  state_.leader_id = recomputed.state_.leader_id;
  state_.leader_max = recomputed.state_.leader_max;
  state_.leader_max_at = recomputed.state_.leader_max_at;
  state_.ends_at = recomputed.state_.ends_at;
  state_.accepted = std::move(recomputed.state_.accepted);
  ++state_.seq;

  Event& event = emit(EventType::bid_voided, at, out);
  event.bid_id = voided.id;
  event.user_id = voided.bidder_id;
  event.amount = voided.amount;
  if (leader_before != state_.leader_id) event.previous_leader = leader_before;
  return decision(Reason::none, false, event.number);
}

bool Auction::open_if_due(Timestamp now, std::vector<Event>& out) {
  if (state_.status != AuctionStatus::scheduled || now < terms_.starts_at) return false;
  state_.status = AuctionStatus::open;
  ++state_.seq;
  emit(EventType::auction_opened, terms_.starts_at, out);
  return true;
}

bool Auction::close_if_due(Timestamp now, std::vector<Event>& out) {
  if (is_final() || now < state_.ends_at) return false;
  state_.status = AuctionStatus::closed;
  const bool sold = !state_.leader_id.empty() && reserve_met();
  state_.result = sold ? AuctionResult::sold : AuctionResult::unsold;
  if (sold) {
    state_.winner_id = state_.leader_id;
    state_.final_price = state_.price;
  }
  ++state_.seq;
  Event& closed = emit(EventType::auction_closed, state_.ends_at, out);
  closed.user_id = state_.winner_id;
  closed.result = state_.result;
  return true;
}

}  // namespace gavel::domain
