// Invariants of the rules over random bid sequences (rapidcheck).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <boost/json.hpp>

#include "engine/engine.hpp"
#include "ports/wire/auction_json.hpp"
#include "support/auction_builders.hpp"

namespace gavel {
namespace {

using domain::Amount;
using domain::Auction;
using domain::BidRequest;
using testing::at;

struct RandomBid {
  int bidder;  // 0 is the seller
  std::int64_t amount;
  std::int64_t extra;  // maxAmount - amount; negative sometimes (max_below_amount)
  bool has_max;
  std::int64_t second;  // receivedAt offset from the start; some before, some after the window
};

rc::Gen<RandomBid> random_bid() {
  return rc::gen::build<RandomBid>(
      rc::gen::set(&RandomBid::bidder, rc::gen::inRange(0, 6)),
      rc::gen::set(
          &RandomBid::amount,
          rc::gen::weightedOneOf<std::int64_t>(
              {{8, rc::gen::inRange<std::int64_t>(1, 60'000)},
               {1, rc::gen::inRange<std::int64_t>(-10, 1)},
               {1, rc::gen::inRange<std::int64_t>(9'999'999'999'990, 10'000'000'000'010)}})),
      rc::gen::set(&RandomBid::extra, rc::gen::inRange<std::int64_t>(-100, 40'000)),
      rc::gen::set(&RandomBid::has_max, rc::gen::arbitrary<bool>()),
      rc::gen::set(&RandomBid::second, rc::gen::inRange<std::int64_t>(-5, 700)));
}

domain::AuctionTerms random_terms(bool reserve, bool soft_close) {
  domain::AuctionTerms t = testing::terms();
  if (reserve) t.reserve_price = Amount{20'000};
  if (soft_close) {
    t.soft_close = domain::seconds(60);
    t.extension = domain::seconds(30);
    t.max_ends_at = at(660);
  }
  return t;
}

BidRequest to_request(const RandomBid& r, std::size_t index) {
  BidRequest bid;
  bid.id = domain::BidId{"b" + std::to_string(index)};
  bid.bidder_id = domain::UserId{r.bidder == 0 ? "seller" : "u" + std::to_string(r.bidder)};
  bid.amount = Amount{r.amount};
  if (r.has_max) bid.max_amount = Amount{r.amount + r.extra};
  bid.received_at = at(r.second);
  return bid;
}

// Bids arrive in queue order, which is receivedAt order on one gateway.
std::vector<RandomBid> sorted_by_time(std::vector<RandomBid> bids) {
  std::stable_sort(bids.begin(), bids.end(),
                   [](const RandomBid& a, const RandomBid& b) { return a.second < b.second; });
  return bids;
}

RC_GTEST_PROP(AuctionProperties, InvariantsHoldAfterEveryBid, ()) {
  const bool reserve = *rc::gen::arbitrary<bool>();
  const bool soft_close = *rc::gen::arbitrary<bool>();
  const auto bids = sorted_by_time(*rc::gen::container<std::vector<RandomBid>>(random_bid()));
  Auction auction{random_terms(reserve, soft_close)};
  std::vector<domain::Event> events;
  std::size_t decisions = 0;

  for (std::size_t i = 0; i < bids.size(); ++i) {
    const BidRequest bid = to_request(bids[i], i);
    const domain::AuctionState before = auction.state();
    const auto ends_before = auction.ends_at();
    const domain::Decision decision = auction.place_bid(bid, events);
    ++decisions;
    const domain::AuctionState& after = auction.state();

    // The price never goes down.
    RC_ASSERT(after.price >= before.price);
    // The leader's maximum covers the price; the seller never leads.
    if (!after.leader_id.empty()) {
      RC_ASSERT(after.leader_max >= after.price);
      RC_ASSERT(after.leader_id != domain::UserId{"seller"});
      RC_ASSERT(after.price >= auction.terms().starting_price);
      RC_ASSERT(auction.min_next_bid() > after.price);
    }
    // The end never moves earlier, and never past the hard end.
    RC_ASSERT(auction.ends_at() >= ends_before);
    if (auction.terms().max_ends_at) RC_ASSERT(auction.ends_at() <= *auction.terms().max_ends_at);

    const bool opened = before.status == domain::AuctionStatus::scheduled &&
                        after.status == domain::AuctionStatus::open;
    if (decision.accepted) {
      RC_ASSERT(after.accepted.size() == before.accepted.size() + 1);
      RC_ASSERT(after.seq == before.seq + 1 + (opened ? 1 : 0));
      // Nobody outbids themselves: the leader's own bid moves the price only to meet the reserve.
      if (!before.leader_id.empty() && before.leader_id == bid.bidder_id) {
        RC_ASSERT(after.price == before.price ||
                  (reserve && after.price == *auction.terms().reserve_price));
        RC_ASSERT(after.leader_id == before.leader_id);
      }
    } else {
      // A rejection changes nothing but the event count (and an opening that happened first).
      RC_ASSERT(decision.reason != domain::Reason::none);
      RC_ASSERT(after.price == before.price);
      RC_ASSERT(after.leader_id == before.leader_id);
      RC_ASSERT(after.accepted == before.accepted);
      RC_ASSERT(after.seq == before.seq + (opened ? 1 : 0));
    }
  }
  RC_ASSERT(decisions == bids.size());
}

RC_GTEST_PROP(AuctionProperties, ReplayingTheSameCommandsGivesTheSameOutput, ()) {
  const auto bids = sorted_by_time(*rc::gen::container<std::vector<RandomBid>>(random_bid()));
  const bool soft_close = *rc::gen::arbitrary<bool>();
  const auto run = [&] {
    engine::Engine engine;
    engine::BatchResult out;
    std::vector<engine::Command> commands;
    commands.push_back(engine::CreateAuction{random_terms(true, soft_close), at(-10)});
    for (std::size_t i = 0; i < bids.size(); ++i) {
      commands.push_back(engine::PlaceBid{domain::AuctionId{"a1"}, to_request(bids[i], i)});
    }
    engine.process(commands, out);
    engine.advance(at(10'000), out.events);
    std::string transcript;
    for (const auto& event : out.events) {
      transcript += boost::json::serialize(wire::event_json(event)) + "\n";
    }
    transcript += boost::json::serialize(wire::public_view(*engine.find(domain::AuctionId{"a1"})));
    return std::pair{out.decisions, transcript};
  };
  const auto first = run();
  const auto second = run();
  RC_ASSERT(first.first.size() == bids.size() + 1);
  RC_ASSERT(first.first == second.first);
  RC_ASSERT(first.second == second.second);
}

RC_GTEST_PROP(AuctionProperties, VoidEqualsNeverHavingReceivedTheBid, ()) {
  const auto bids = sorted_by_time(*rc::gen::container<std::vector<RandomBid>>(random_bid()));
  Auction auction{random_terms(true, true)};
  std::vector<domain::Event> events;
  for (std::size_t i = 0; i < bids.size(); ++i) auction.place_bid(to_request(bids[i], i), events);
  const auto accepted = auction.state().accepted;
  RC_PRE(!accepted.empty());
  const std::size_t voided = *rc::gen::inRange<std::size_t>(0, accepted.size());

  Auction reference{random_terms(true, true)};
  reference.open_if_due(reference.terms().starts_at, events);
  for (std::size_t i = 0; i < accepted.size(); ++i) {
    if (i == voided) continue;
    const auto& r = accepted[i];
    reference.place_bid(
        BidRequest{r.id, r.bidder_id, r.amount, r.max_amount, std::nullopt, r.received_at}, events);
  }
  RC_ASSERT(
      auction
          .void_bid(domain::Actor{domain::UserId{"root"}, true}, accepted[voided].id, at(1), events)
          .accepted);
  RC_ASSERT(auction.price() == reference.price());
  RC_ASSERT(auction.leader_id() == reference.leader_id());
  RC_ASSERT(auction.state().accepted == reference.state().accepted);
  RC_ASSERT(auction.ends_at() == reference.ends_at());
}

}  // namespace
}  // namespace gavel
