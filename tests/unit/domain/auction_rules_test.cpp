// Every rule of RULES.md, by example, with the exact price, leader and reason.
#include <gtest/gtest.h>

#include <algorithm>

#include "domain/auction.hpp"
#include "support/auction_builders.hpp"

namespace gavel::domain {
namespace {

using testing::amt;
using testing::at;
using testing::bid;
using testing::terms;

class AuctionRules : public ::testing::Test {
 protected:
  Auction open_auction(AuctionTerms t = terms()) {
    Auction auction{std::move(t)};
    auction.open_if_due(auction.terms().starts_at, events);
    return auction;
  }
  std::size_t count(EventType type) const {
    return static_cast<std::size_t>(std::count_if(events.begin(), events.end(),
                                                  [&](const Event& e) { return e.type == type; }));
  }
  const Event* last(EventType type) const {
    for (auto it = events.rbegin(); it != events.rend(); ++it) {
      if (it->type == type) return &*it;
    }
    return nullptr;
  }
  std::vector<Event> events;
};

// --- First bid and minimum next bid -------------------------------------------------------

TEST_F(AuctionRules, FirstBidBelowStartingPriceIsTooLowWithMinNextBid) {
  Auction a = open_auction();
  const Decision d = a.place_bid(bid("b1", "alice", 999), events);
  EXPECT_FALSE(d.accepted);
  EXPECT_EQ(d.reason, Reason::bid_too_low);
  EXPECT_EQ(d.min_next_bid, amt(1000));
  EXPECT_EQ(a.bid_count(), 0u);
  EXPECT_TRUE(a.leader_id().empty());
}

TEST_F(AuctionRules, FirstBidLeadsAtItsAmount) {
  Auction a = open_auction();
  const Decision d = a.place_bid(bid("b1", "alice", 1500, 3000), events);
  EXPECT_TRUE(d.accepted);
  EXPECT_TRUE(d.leading);
  EXPECT_EQ(a.price(), amt(1500));
  EXPECT_EQ(a.leader_id(), UserId{"alice"});
  EXPECT_EQ(a.min_next_bid(), amt(1550));  // 1500 + 50 (500–2,499 row)
}

TEST_F(AuctionRules, LaterBidMustReachPricePlusIncrement) {
  Auction a = open_auction();
  a.place_bid(bid("b1", "alice", 1500), events);
  const Decision low = a.place_bid(bid("b2", "bob", 1549), events);
  EXPECT_EQ(low.reason, Reason::bid_too_low);
  EXPECT_EQ(low.min_next_bid, amt(1550));
  EXPECT_TRUE(a.place_bid(bid("b3", "bob", 1550), events).accepted);
  EXPECT_EQ(a.leader_id(), UserId{"bob"});
  EXPECT_EQ(a.price(), amt(1550));
}

// --- Proxy bidding: the three cases ---------------------------------------------------------

TEST_F(AuctionRules, HigherMaximumLeadsAtLeaderMaxPlusIncrement) {
  Auction a = open_auction();
  a.place_bid(bid("b1", "alice", 1000, 2000), events);
  const Decision d = a.place_bid(bid("b2", "bob", 1050, 5000), events);
  EXPECT_TRUE(d.leading);
  // max(amount 1050, min(M 5000, L 2000 + inc(2000) 50)) = 2050
  EXPECT_EQ(a.price(), amt(2050));
  EXPECT_EQ(a.leader_id(), UserId{"bob"});
}

TEST_F(AuctionRules, HigherMaximumJustAboveLeaderPaysItsMaximum) {
  Auction a = open_auction();
  a.place_bid(bid("b1", "alice", 1000, 2000), events);
  a.place_bid(bid("b2", "bob", 1050, 2030), events);
  // min(M 2030, 2050) = 2030
  EXPECT_EQ(a.price(), amt(2030));
  EXPECT_EQ(a.leader_id(), UserId{"bob"});
}

TEST_F(AuctionRules, HigherMaximumWithLargeAmountPaysTheAmount) {
  Auction a = open_auction();
  a.place_bid(bid("b1", "alice", 1000, 2000), events);
  a.place_bid(bid("b2", "bob", 4000, 9000), events);
  EXPECT_EQ(a.price(), amt(4000));  // amount beats L + increment
}

TEST_F(AuctionRules, LowerMaximumMovesPriceButLeaderStays) {
  Auction a = open_auction();
  a.place_bid(bid("b1", "alice", 1000, 3000), events);
  const Decision d = a.place_bid(bid("b2", "bob", 1100, 2000), events);
  EXPECT_TRUE(d.accepted);
  EXPECT_FALSE(d.leading);
  EXPECT_EQ(a.price(), amt(2050));  // min(L 3000, M 2000 + 50)
  EXPECT_EQ(a.leader_id(), UserId{"alice"});
  ASSERT_NE(last(EventType::outbid), nullptr);
  EXPECT_EQ(last(EventType::outbid)->user_id, UserId{"bob"});  // told at once
}

TEST_F(AuctionRules, LowerMaximumNearLeaderMaxCapsAtLeaderMax) {
  Auction a = open_auction();
  a.place_bid(bid("b1", "alice", 1000, 2020), events);
  a.place_bid(bid("b2", "bob", 1100, 2000), events);
  EXPECT_EQ(a.price(), amt(2020));  // min(L 2020, 2000 + 50)
  EXPECT_EQ(a.leader_id(), UserId{"alice"});
}

TEST_F(AuctionRules, EqualMaximumKeepsTheEarlierLeaderAtThatPrice) {
  Auction a = open_auction();
  a.place_bid(bid("b1", "alice", 1000, 2000), events);
  const Decision d = a.place_bid(bid("b2", "bob", 1500, 2000, 20), events);
  EXPECT_TRUE(d.accepted);
  EXPECT_FALSE(d.leading);
  EXPECT_EQ(a.price(), amt(2000));
  EXPECT_EQ(a.leader_id(), UserId{"alice"});
  EXPECT_EQ(last(EventType::outbid)->user_id, UserId{"bob"});
}

TEST_F(AuctionRules, EqualMaximumReceivedEarlierWinsEvenIfDecidedLater) {
  // Two gateways: bob's bid was stamped first but reached the queue second.
  Auction a = open_auction();
  a.place_bid(bid("b1", "alice", 1000, 2000, 30), events);
  const Decision d = a.place_bid(bid("b2", "bob", 1500, 2000, 29), events);
  EXPECT_TRUE(d.leading);
  EXPECT_EQ(a.leader_id(), UserId{"bob"});
  EXPECT_EQ(a.price(), amt(2000));
  EXPECT_EQ(last(EventType::outbid)->user_id, UserId{"alice"});
}

TEST_F(AuctionRules, EqualMaximumAndEqualTimeGoesToQueueOrder) {
  Auction a = open_auction();
  a.place_bid(bid("b1", "alice", 1000, 2000, 30), events);
  a.place_bid(bid("b2", "bob", 1500, 2000, 30), events);
  EXPECT_EQ(a.leader_id(), UserId{"alice"});
}

TEST_F(AuctionRules, OutbidLeaderIsToldAndNewLeaderNamesPreviousOne) {
  Auction a = open_auction();
  a.place_bid(bid("b1", "alice", 1000), events);
  a.place_bid(bid("b2", "bob", 1100), events);
  EXPECT_EQ(last(EventType::outbid)->user_id, UserId{"alice"});
  EXPECT_EQ(last(EventType::bid_accepted)->previous_leader, UserId{"alice"});
  EXPECT_EQ(last(EventType::bid_accepted)->leader_id, UserId{"bob"});
}

// --- The leader and themselves ------------------------------------------------------------

TEST_F(AuctionRules, LeaderRaisingMaximumKeepsThePrice) {
  Auction a = open_auction();
  a.place_bid(bid("b1", "alice", 1000, 2000), events);
  a.place_bid(bid("b2", "bob", 1100, 1500), events);
  ASSERT_EQ(a.price(), amt(1550));
  const Decision d = a.place_bid(bid("b3", "alice", 1600, 5000), events);
  EXPECT_TRUE(d.accepted);
  EXPECT_TRUE(d.leading);
  EXPECT_EQ(a.price(), amt(1550));
  EXPECT_EQ(a.state().leader_max, amt(5000));
  EXPECT_EQ(a.bid_count(), 3u);
}

TEST_F(AuctionRules, NobodyBidsAgainstThemselves) {
  Auction a = open_auction();
  a.place_bid(bid("b1", "alice", 1000, 2000), events);
  const Decision same = a.place_bid(bid("b2", "alice", 1500, 2000), events);
  EXPECT_EQ(same.reason, Reason::not_raising_max);
  const Decision lower = a.place_bid(bid("b3", "alice", 1800), events);
  EXPECT_EQ(lower.reason, Reason::not_raising_max);
  EXPECT_EQ(a.price(), amt(1000));
  EXPECT_EQ(a.bid_count(), 1u);
}

TEST_F(AuctionRules, SellerCannotBid) {
  Auction a = open_auction();
  EXPECT_EQ(a.place_bid(bid("b1", "seller", 5000), events).reason, Reason::seller_cannot_bid);
  EXPECT_EQ(a.bid_count(), 0u);
}

// --- Input checks -------------------------------------------------------------------------

TEST_F(AuctionRules, CurrencyMustMatch) {
  Auction a = open_auction();
  BidRequest usd = bid("b1", "alice", 1000);
  usd.currency = Currency::parse("USD");
  EXPECT_EQ(a.place_bid(usd, events).reason, Reason::currency_mismatch);
  BidRequest eur = bid("b2", "alice", 1000);
  eur.currency = Currency::parse("EUR");
  EXPECT_TRUE(a.place_bid(eur, events).accepted);
}

TEST_F(AuctionRules, AmountsMustBePositiveAndBounded) {
  Auction a = open_auction();
  EXPECT_EQ(a.place_bid(bid("b1", "alice", 0), events).reason, Reason::invalid_amount);
  EXPECT_EQ(a.place_bid(bid("b2", "alice", -5), events).reason, Reason::invalid_amount);
  EXPECT_EQ(a.place_bid(bid("b3", "alice", 10'000'000'000'001), events).reason,
            Reason::invalid_amount);
  EXPECT_EQ(a.place_bid(bid("b4", "alice", 1000, 10'000'000'000'001), events).reason,
            Reason::invalid_amount);
  EXPECT_EQ(a.bid_count(), 0u);
}

TEST_F(AuctionRules, MaximumBelowAmountIsRejected) {
  Auction a = open_auction();
  EXPECT_EQ(a.place_bid(bid("b1", "alice", 2000, 1999), events).reason, Reason::max_below_amount);
}

TEST_F(AuctionRules, RejectionChangesNothingButEmitsAnEventWithTheSameSeq) {
  Auction a = open_auction();
  a.place_bid(bid("b1", "alice", 1000), events);
  const AuctionState before = a.state();
  const Decision d = a.place_bid(bid("b2", "bob", 1001), events);
  EXPECT_EQ(d.reason, Reason::bid_too_low);
  EXPECT_EQ(a.seq(), before.seq);
  EXPECT_EQ(a.price(), before.price);
  EXPECT_EQ(a.state().accepted, before.accepted);
  const Event& rejected = events.back();
  EXPECT_EQ(rejected.type, EventType::bid_rejected);
  EXPECT_EQ(rejected.reason, Reason::bid_too_low);
  EXPECT_EQ(rejected.min_next_bid, amt(1050));
  EXPECT_EQ(rejected.seq, before.seq);
}

// --- Reserve ------------------------------------------------------------------------------

TEST_F(AuctionRules, ReserveIsMetWhenLeaderMaximumReachesItAndPriceRisesToIt) {
  AuctionTerms t = terms();
  t.reserve_price = amt(5000);
  Auction a = open_auction(t);
  a.place_bid(bid("b1", "alice", 1000, 4000), events);
  EXPECT_FALSE(a.reserve_met());
  EXPECT_EQ(a.price(), amt(1000));
  a.place_bid(bid("b2", "bob", 1100, 8000), events);
  EXPECT_TRUE(a.reserve_met());
  EXPECT_EQ(a.price(), amt(5000));  // max(1100, min(8000, 4100)) = 4100, raised to the reserve
  EXPECT_EQ(a.leader_id(), UserId{"bob"});
}

TEST_F(AuctionRules, LeaderRaisingMaximumRaisesPriceOnlyToMeetReserve) {
  AuctionTerms t = terms();
  t.reserve_price = amt(5000);
  Auction a = open_auction(t);
  a.place_bid(bid("b1", "alice", 1000, 2000), events);
  a.place_bid(bid("b2", "alice", 1000, 9000), events);
  EXPECT_EQ(a.price(), amt(5000));
  EXPECT_TRUE(a.reserve_met());
}

TEST_F(AuctionRules, ReserveNotMetClosesUnsold) {
  AuctionTerms t = terms();
  t.reserve_price = amt(5000);
  Auction a = open_auction(t);
  a.place_bid(bid("b1", "alice", 1000, 4000), events);
  EXPECT_TRUE(a.close_if_due(at(600), events));
  EXPECT_EQ(a.state().result, AuctionResult::unsold);
  EXPECT_TRUE(a.state().winner_id.empty());
}

TEST_F(AuctionRules, NoReserveMeansReserveMet) {
  Auction a = open_auction();
  EXPECT_TRUE(a.reserve_met());
}

// --- Buy-now ------------------------------------------------------------------------------

TEST_F(AuctionRules, BuyNowBeforeFirstBidClosesSoldAtThatPrice) {
  AuctionTerms t = terms();
  t.buy_now_price = amt(9000);
  Auction a = open_auction(t);
  const Decision d = a.buy_now(UserId{"carol"}, at(5), events);
  EXPECT_TRUE(d.accepted);
  EXPECT_EQ(a.status(), AuctionStatus::closed);
  EXPECT_EQ(a.state().result, AuctionResult::sold);
  EXPECT_EQ(a.state().winner_id, UserId{"carol"});
  EXPECT_EQ(a.state().final_price, amt(9000));
  EXPECT_EQ(events.back().type, EventType::auction_closed);
  EXPECT_EQ(a.place_bid(bid("b1", "alice", 9500, std::nullopt, 6), events).reason,
            Reason::auction_closed);
}

TEST_F(AuctionRules, BuyNowIsGoneOnceABidIsAccepted) {
  AuctionTerms t = terms();
  t.buy_now_price = amt(9000);
  Auction a = open_auction(t);
  a.place_bid(bid("b1", "alice", 1000), events);
  EXPECT_EQ(a.buy_now(UserId{"carol"}, at(20), events).reason, Reason::buy_now_unavailable);
  EXPECT_EQ(a.status(), AuctionStatus::open);
}

TEST_F(AuctionRules, BuyNowNeedsABuyNowPriceAndAnOpenAuctionAndNotTheSeller) {
  Auction plain = open_auction();
  EXPECT_EQ(plain.buy_now(UserId{"carol"}, at(5), events).reason, Reason::buy_now_unavailable);
  AuctionTerms t = terms();
  t.buy_now_price = amt(9000);
  Auction a{t};
  EXPECT_EQ(a.buy_now(UserId{"carol"}, at(-5), events).reason, Reason::auction_not_open);
  EXPECT_EQ(a.buy_now(UserId{"seller"}, at(5), events).reason, Reason::seller_cannot_bid);
  EXPECT_EQ(a.buy_now(UserId{"carol"}, at(600), events).reason, Reason::auction_closed);
}

// --- Time ---------------------------------------------------------------------------------

TEST_F(AuctionRules, InTimeMeansStartsAtUpToButExcludingEndsAt) {
  Auction a{terms()};
  EXPECT_EQ(a.place_bid(bid("b0", "alice", 1000, std::nullopt, -1), events).reason,
            Reason::auction_not_open);
  EXPECT_EQ(a.status(), AuctionStatus::scheduled);
  BidRequest first = bid("b1", "alice", 1000, std::nullopt, 0);
  EXPECT_TRUE(a.place_bid(first, events).accepted);  // opens the auction first
  EXPECT_EQ(a.status(), AuctionStatus::open);
  BidRequest last_moment = bid("b2", "bob", 1100, std::nullopt, 600);
  last_moment.received_at -= Duration{1};
  EXPECT_TRUE(a.place_bid(last_moment, events).accepted);
  EXPECT_EQ(a.place_bid(bid("b3", "carol", 1200, std::nullopt, 600), events).reason,
            Reason::auction_closed);
}

TEST_F(AuctionRules, LateBidIsJudgedByReceivedAtNotByWhenItIsDecided) {
  Auction a = open_auction();
  // The engine decides this after endsAt (a queue backlog), but it was received in time.
  EXPECT_TRUE(a.place_bid(bid("b1", "alice", 1000, std::nullopt, 599), events).accepted);
  EXPECT_TRUE(a.close_if_due(at(700), events));
  EXPECT_EQ(a.state().winner_id, UserId{"alice"});
}

TEST_F(AuctionRules, SoftCloseExtendsToReceivedAtPlusExtension) {
  AuctionTerms t = terms();
  t.soft_close = seconds(60);
  t.extension = seconds(120);
  Auction a = open_auction(t);
  a.place_bid(bid("b1", "alice", 1000, std::nullopt, 539), events);  // 61 s before the end
  EXPECT_EQ(a.ends_at(), at(600));
  a.place_bid(bid("b2", "bob", 1100, std::nullopt, 540), events);  // exactly 60 s before
  EXPECT_EQ(a.ends_at(), at(660));
  ASSERT_NE(last(EventType::auction_extended), nullptr);
  EXPECT_EQ(last(EventType::auction_extended)->ends_at, at(660));
  a.place_bid(bid("b3", "alice", 1200, std::nullopt, 650), events);
  EXPECT_EQ(a.ends_at(), at(770));
}

TEST_F(AuctionRules, SoftCloseNeverMovesTheEndEarlier) {
  AuctionTerms t = terms();
  t.soft_close = seconds(300);
  t.extension = seconds(30);
  Auction a = open_auction(t);
  a.place_bid(bid("b1", "alice", 1000, std::nullopt, 400), events);  // 400 + 30 < 600
  EXPECT_EQ(a.ends_at(), at(600));
  EXPECT_EQ(count(EventType::auction_extended), 0u);
}

TEST_F(AuctionRules, SoftCloseStopsAtTheHardEnd) {
  AuctionTerms t = terms();
  t.soft_close = seconds(60);
  t.extension = seconds(60);
  t.max_ends_at = at(630);
  Auction a = open_auction(t);
  a.place_bid(bid("b1", "alice", 1000, std::nullopt, 590), events);
  EXPECT_EQ(a.ends_at(), at(630));
  a.place_bid(bid("b2", "bob", 1100, std::nullopt, 620), events);
  EXPECT_EQ(a.ends_at(), at(630));
  EXPECT_EQ(a.place_bid(bid("b3", "alice", 1200, std::nullopt, 630), events).reason,
            Reason::auction_closed);
}

TEST_F(AuctionRules, LeaderRaisingMaximumNeverExtends) {
  AuctionTerms t = terms();
  t.soft_close = seconds(60);
  t.extension = seconds(60);
  Auction a = open_auction(t);
  a.place_bid(bid("b1", "alice", 1000, 2000, 100), events);
  a.place_bid(bid("b2", "alice", 1000, 3000, 590), events);
  EXPECT_EQ(a.ends_at(), at(600));
}

TEST_F(AuctionRules, ClosesOnceAtEndsAtSoldToTheLeaderAtTheCurrentPrice) {
  Auction a = open_auction();
  a.place_bid(bid("b1", "alice", 1000, 5000), events);
  a.place_bid(bid("b2", "bob", 1100, 2000), events);
  EXPECT_FALSE(a.close_if_due(at(599), events));
  EXPECT_TRUE(a.close_if_due(at(600), events));
  EXPECT_FALSE(a.close_if_due(at(601), events));
  EXPECT_EQ(count(EventType::auction_closed), 1u);
  EXPECT_EQ(a.state().result, AuctionResult::sold);
  EXPECT_EQ(a.state().winner_id, UserId{"alice"});
  EXPECT_EQ(a.state().final_price, amt(2050));
}

TEST_F(AuctionRules, ClosesUnsoldWithoutBids) {
  Auction a = open_auction();
  EXPECT_TRUE(a.close_if_due(at(600), events));
  EXPECT_EQ(a.state().result, AuctionResult::unsold);
}

// --- Lifecycle and rights -----------------------------------------------------------------

TEST_F(AuctionRules, ScheduledOpensAtStartsAtAndSeqRisesWithEachChange) {
  Auction a{terms()};
  EXPECT_EQ(a.status(), AuctionStatus::scheduled);
  EXPECT_EQ(a.seq(), 1u);
  EXPECT_FALSE(a.open_if_due(at(-1), events));
  EXPECT_TRUE(a.open_if_due(at(0), events));
  EXPECT_EQ(a.seq(), 2u);
  a.place_bid(bid("b1", "alice", 1000), events);
  EXPECT_EQ(a.seq(), 3u);
  a.close_if_due(at(600), events);
  EXPECT_EQ(a.seq(), 4u);
  for (std::size_t i = 1; i < events.size(); ++i) {
    EXPECT_EQ(events[i].number, events[i - 1].number + 1);
  }
}

TEST_F(AuctionRules, SellerCancelsOnlyBeforeTheFirstAcceptedBid) {
  Auction a = open_auction();
  EXPECT_EQ(a.cancel(Actor{UserId{"mallory"}, false}, "", at(1), events).reason,
            Reason::not_allowed);
  a.place_bid(bid("b1", "alice", 1000), events);
  EXPECT_EQ(a.cancel(Actor{UserId{"seller"}, false}, "", at(20), events).reason,
            Reason::auction_has_bids);
  Auction fresh = open_auction();
  EXPECT_TRUE(
      fresh.cancel(Actor{UserId{"seller"}, false}, "changed my mind", at(1), events).accepted);
  EXPECT_EQ(fresh.status(), AuctionStatus::cancelled);
  EXPECT_EQ(events.back().note, "changed my mind");
  EXPECT_EQ(fresh.place_bid(bid("b2", "alice", 1000), events).reason, Reason::auction_closed);
}

TEST_F(AuctionRules, AdminCancelsAnytimeBeforeTheClose) {
  Auction a = open_auction();
  a.place_bid(bid("b1", "alice", 1000), events);
  EXPECT_TRUE(a.cancel(Actor{UserId{"root"}, true}, "fraud", at(30), events).accepted);
  EXPECT_EQ(a.status(), AuctionStatus::cancelled);
  EXPECT_FALSE(a.close_if_due(at(600), events));
  EXPECT_EQ(a.cancel(Actor{UserId{"root"}, true}, "", at(31), events).reason,
            Reason::auction_closed);
}

TEST_F(AuctionRules, AdminVoidRecomputesFromTheRemainingBids) {
  Auction a = open_auction();
  a.place_bid(bid("b1", "alice", 1000, 3000, 10), events);
  a.place_bid(bid("b2", "bob", 1100, 2000, 20), events);
  a.place_bid(bid("b3", "carol", 2100, 2500, 30), events);
  ASSERT_EQ(a.price(), amt(2600));  // min(3000, 2500 + inc(2500) 100)
  const std::uint64_t seq = a.seq();

  EXPECT_EQ(a.void_bid(Actor{UserId{"bob"}, false}, BidId{"b1"}, at(40), events).reason,
            Reason::not_allowed);
  EXPECT_EQ(a.void_bid(Actor{UserId{"root"}, true}, BidId{"nope"}, at(40), events).reason,
            Reason::bid_not_found);
  const Decision d = a.void_bid(Actor{UserId{"root"}, true}, BidId{"b1"}, at(40), events);
  EXPECT_TRUE(d.accepted);
  // bob 1100 (max 2000), then carol 2100 (max 2500) > 2000: max(2100, min(2500, 2050)) = 2100
  EXPECT_EQ(a.leader_id(), UserId{"carol"});
  EXPECT_EQ(a.price(), amt(2100));
  EXPECT_EQ(a.bid_count(), 2u);
  EXPECT_EQ(a.seq(), seq + 1);
  const Event& voided = events.back();
  EXPECT_EQ(voided.type, EventType::bid_voided);
  EXPECT_EQ(voided.user_id, UserId{"alice"});
  EXPECT_EQ(voided.previous_leader, UserId{"alice"});
}

TEST_F(AuctionRules, VoidingTheOnlyBidLeavesNoLeader) {
  Auction a = open_auction();
  a.place_bid(bid("b1", "alice", 1500), events);
  a.void_bid(Actor{UserId{"root"}, true}, BidId{"b1"}, at(40), events);
  EXPECT_TRUE(a.leader_id().empty());
  EXPECT_EQ(a.price(), amt(1000));
  EXPECT_EQ(a.min_next_bid(), amt(1000));
  EXPECT_EQ(a.bid_count(), 0u);
}

TEST_F(AuctionRules, TermsAreValidated) {
  AuctionTerms t = terms();
  EXPECT_FALSE(validate(t));
  t.ends_at = t.starts_at;
  EXPECT_EQ(validate(t)->field, "endsAt");
  t = terms();
  t.starting_price = amt(0);
  EXPECT_EQ(validate(t)->field, "startingPrice");
  t = terms();
  t.buy_now_price = amt(999);
  EXPECT_EQ(validate(t)->field, "buyNowPrice");
  t = terms();
  t.max_ends_at = at(599);
  EXPECT_EQ(validate(t)->field, "maxEndsAt");
  t = terms();
  t.id = AuctionId{"has space"};
  EXPECT_EQ(validate(t)->field, "id");
}

}  // namespace
}  // namespace gavel::domain
