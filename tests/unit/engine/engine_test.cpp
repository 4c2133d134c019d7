#include "engine/engine.hpp"

#include <gtest/gtest.h>

#include <set>

#include "support/auction_builders.hpp"

namespace gavel::engine {
namespace {

using domain::AuctionStatus;
using domain::EventType;
using domain::Reason;
using testing::amt;
using testing::at;
using testing::bid;
using testing::terms;

Command place(std::string auction, domain::BidRequest request) {
  return PlaceBid{domain::AuctionId{std::move(auction)}, std::move(request)};
}

class EngineTest : public ::testing::Test {
 protected:
  void create(std::string id, domain::Timestamp now = at(-60)) {
    std::vector<domain::Event> events;
    ASSERT_TRUE(engine.apply(CreateAuction{terms(std::move(id)), now}, events).accepted);
  }
  Engine engine;
  BatchResult out;
};

TEST_F(EngineTest, EveryCommandInABatchGetsExactlyOneDecisionInOrder) {
  create("a1");
  create("a2");
  std::vector<Command> batch{
      place("a1", bid("b1", "alice", 1000)), place("a2", bid("b2", "bob", 500)),
      place("zz", bid("b3", "carol", 1000)), place("a1", bid("b4", "bob", 1100))};
  engine.process(batch, out);
  ASSERT_EQ(out.decisions.size(), 4u);
  EXPECT_TRUE(out.decisions[0].accepted);
  EXPECT_EQ(out.decisions[1].reason, Reason::bid_too_low);
  EXPECT_EQ(out.decisions[2].reason, Reason::auction_not_found);
  EXPECT_TRUE(out.decisions[3].accepted);
  EXPECT_EQ(engine.find(domain::AuctionId{"a1"})->leader_id(), domain::UserId{"bob"});
}

TEST_F(EngineTest, EventsCarryIdsAndTheAuctionSeq) {
  create("a1");
  std::vector<Command> batch{place("a1", bid("b1", "alice", 1000)),
                             place("a1", bid("b2", "bob", 1100))};
  engine.process(batch, out);
  // opened (seq 2), accepted (3), accepted (4) + outbid (4)
  ASSERT_GE(out.events.size(), 4u);
  EXPECT_EQ(out.events[0].type, EventType::auction_opened);
  EXPECT_EQ(out.events[0].seq, 2u);
  EXPECT_EQ(out.events[1].type, EventType::bid_accepted);
  EXPECT_EQ(out.events[1].seq, 3u);
  EXPECT_EQ(out.events[2].type, EventType::bid_accepted);
  EXPECT_EQ(out.events[3].type, EventType::outbid);
  EXPECT_EQ(out.events[3].seq, 4u);
  EXPECT_EQ(domain::event_id(out.events[3]), "a1:5");  // created was a1:1
}

TEST_F(EngineTest, CreateRefusesDuplicatesAndInvalidTerms) {
  create("a1");
  std::vector<domain::Event> events;
  EXPECT_EQ(engine.apply(CreateAuction{terms("a1"), at(0)}, events).reason, Reason::auction_exists);
  domain::AuctionTerms bad = terms("a2");
  bad.ends_at = bad.starts_at;
  EXPECT_EQ(engine.apply(CreateAuction{bad, at(0)}, events).reason, Reason::invalid_auction);
  EXPECT_EQ(engine.size(), 1u);
}

TEST_F(EngineTest, AdvanceOpensAndClosesOnlyWhatIsDue) {
  create("a1");
  domain::AuctionTerms later = terms("a2");
  later.ends_at = at(900);
  std::vector<domain::Event> events;
  engine.apply(CreateAuction{later, at(-60)}, events);
  EXPECT_EQ(engine.find(domain::AuctionId{"a1"})->status(), AuctionStatus::scheduled);

  EXPECT_EQ(engine.advance(at(0), events), 2u);  // both open
  EXPECT_EQ(engine.find(domain::AuctionId{"a1"})->status(), AuctionStatus::open);
  EXPECT_EQ(engine.advance(at(599), events), 0u);
  EXPECT_EQ(engine.advance(at(600), events), 1u);
  EXPECT_EQ(engine.find(domain::AuctionId{"a1"})->status(), AuctionStatus::closed);
  EXPECT_EQ(engine.find(domain::AuctionId{"a2"})->status(), AuctionStatus::open);
  EXPECT_EQ(engine.advance(at(900), events), 1u);
  EXPECT_EQ(engine.pending_deadlines(), 0u);
}

TEST_F(EngineTest, AdvanceLeavesAuctionsThatAreNotMineAndLooksAgainWhenTheyAre) {
  create("a1");
  create("a2");
  std::vector<domain::Event> events;
  std::set<std::string> mine{"a1"};
  const auto is_mine = [&](const domain::AuctionId& id) { return mine.contains(id.str()); };
  EXPECT_EQ(engine.advance(at(600), events, is_mine), 1u);  // a1 opens and closes; a2 waits
  EXPECT_EQ(engine.find(domain::AuctionId{"a1"})->status(), AuctionStatus::closed);
  EXPECT_EQ(engine.find(domain::AuctionId{"a2"})->status(), AuctionStatus::scheduled);
  mine.insert("a2");                                        // its partition moved here
  EXPECT_EQ(engine.advance(at(600), events, is_mine), 0u);  // looked at again a second later
  EXPECT_EQ(engine.advance(at(601), events, is_mine), 1u);
  EXPECT_EQ(engine.find(domain::AuctionId{"a2"})->status(), AuctionStatus::closed);
  EXPECT_EQ(engine.pending_deadlines(), 0u);
}

TEST_F(EngineTest, ExtensionMovesTheCloseAndTheStaleDeadlineChangesNothing) {
  domain::AuctionTerms soft = terms("a1");
  soft.soft_close = domain::seconds(60);
  soft.extension = domain::seconds(60);
  std::vector<domain::Event> events;
  engine.apply(CreateAuction{soft, at(0)}, events);
  engine.apply(place("a1", bid("b1", "alice", 1000, std::nullopt, 590)), events);
  ASSERT_EQ(engine.find(domain::AuctionId{"a1"})->ends_at(), at(650));

  EXPECT_EQ(engine.advance(at(600), events), 0u);  // the old end: stale
  EXPECT_EQ(engine.find(domain::AuctionId{"a1"})->status(), AuctionStatus::open);
  EXPECT_EQ(engine.advance(at(650), events), 1u);
  EXPECT_EQ(engine.find(domain::AuctionId{"a1"})->state().winner_id, domain::UserId{"alice"});
}

TEST_F(EngineTest, FairCloseBidsStillQueuedAtEndsAtAreDecidedBeforeTheClose) {
  // The host's clock is past endsAt but the watermark is not: the engine must not close yet.
  create("a1");
  std::vector<domain::Event> events;
  engine.advance(at(0), events);
  const domain::Timestamp watermark = at(599);
  EXPECT_EQ(engine.advance(watermark, events), 0u);
  engine.apply(place("a1", bid("b1", "alice", 1000, std::nullopt, 599)), events);
  EXPECT_EQ(engine.advance(at(601), events), 1u);
  EXPECT_EQ(engine.find(domain::AuctionId{"a1"})->state().winner_id, domain::UserId{"alice"});
}

TEST_F(EngineTest, RestoredAuctionKeepsItsStateAndDeadlines) {
  create("a1");
  std::vector<domain::Event> events;
  engine.apply(place("a1", bid("b1", "alice", 1500)), events);
  const domain::Auction snapshot = *engine.find(domain::AuctionId{"a1"});

  Engine restarted;
  restarted.restore(domain::Auction{snapshot.terms(), snapshot.state()});
  EXPECT_EQ(restarted.find(domain::AuctionId{"a1"})->state(), snapshot.state());
  EXPECT_EQ(restarted.advance(at(600), events), 1u);
  EXPECT_EQ(restarted.find(domain::AuctionId{"a1"})->state().final_price, amt(1500));
}

TEST_F(EngineTest, ManyAuctionsDueAtTheSameSecondAllClose) {
  std::vector<domain::Event> events;
  for (int i = 0; i < 1000; ++i) {
    engine.apply(CreateAuction{terms("lot-" + std::to_string(i)), at(0)}, events);
  }
  events.clear();
  EXPECT_EQ(engine.advance(at(600), events), 1000u);
  EXPECT_EQ(events.size(), 1000u);
  for (const auto& event : events) EXPECT_EQ(event.type, EventType::auction_closed);
}

}  // namespace
}  // namespace gavel::engine
