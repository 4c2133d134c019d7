// The engine host on memory adapters and simulated time: batches, durability before the ack,
// roll-back on a failed commit, redelivery after a lost ack, fair close, recovery.
#include "roles/engine_host/engine_host.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>
#include <set>

#include "adapters/memory/memory_cache.hpp"
#include "adapters/memory/memory_queue.hpp"
#include "adapters/memory/memory_store.hpp"
#include "adapters/memory/memory_topic.hpp"
#include "adapters/memory/simulated_clock.hpp"
#include "ports/blocking.hpp"
#include "ports/wire/command_json.hpp"
#include "support/auction_builders.hpp"

namespace gavel::roles {
namespace {

namespace json = boost::json;
using testing::at;

/// A store that passes every call to another: the base of the fault-injecting stores below.
class ForwardingStore : public ports::Store {
 public:
  explicit ForwardingStore(ports::Store& inner) : inner_(inner) {}
  void commit(ports::CommitBatch batch, ports::Callback<void> done) override {
    inner_.commit(std::move(batch), std::move(done));
  }
  void get_auction(const domain::AuctionId& id,
                   ports::Callback<std::optional<ports::StoredAuction>> done) override {
    inner_.get_auction(id, std::move(done));
  }
  void list_auctions(const ports::AuctionListQuery& query,
                     ports::Callback<std::vector<ports::StoredAuction>> done) override {
    inner_.list_auctions(query, std::move(done));
  }
  void find_bid_by_key(const domain::UserId& bidder, const std::string& key,
                       ports::Callback<std::optional<ports::StoredBid>> done) override {
    inner_.find_bid_by_key(bidder, key, std::move(done));
  }
  void get_bid(const domain::BidId& id,
               ports::Callback<std::optional<ports::StoredBid>> done) override {
    inner_.get_bid(id, std::move(done));
  }
  void list_bids(const domain::AuctionId& id, std::uint64_t after, std::size_t limit,
                 ports::Callback<std::vector<ports::StoredBid>> done) override {
    inner_.list_bids(id, after, limit, std::move(done));
  }
  void pending_events(std::size_t limit,
                      ports::Callback<std::vector<domain::Event>> done) override {
    inner_.pending_events(limit, std::move(done));
  }
  void mark_published(std::vector<std::string> ids, ports::Callback<void> done) override {
    inner_.mark_published(std::move(ids), std::move(done));
  }
  void pending_audit(std::size_t limit,
                     ports::Callback<std::vector<ports::OutgoingMessage>> done) override {
    inner_.pending_audit(limit, std::move(done));
  }
  void mark_audit_published(std::vector<std::string> keys, ports::Callback<void> done) override {
    inner_.mark_audit_published(std::move(keys), std::move(done));
  }

 protected:
  ports::Store& inner() { return inner_; }

 private:
  ports::Store& inner_;
};

/// A store that remembers each auction write's history_kept and history length.
class HistoryKeptStore final : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  void commit(ports::CommitBatch batch, ports::Callback<void> done) override {
    for (const auto& write : batch.auctions) {
      writes.push_back(std::to_string(write.history_kept) + " of " +
                       std::to_string(write.state.accepted.size()));
    }
    ForwardingStore::commit(std::move(batch), std::move(done));
  }
  std::vector<std::string> writes;
};

/// A store whose next N commits (or reads of an auction) fail.
class FailingStore final : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  void fail_next_commits(int n, ports::ErrorKind kind = ports::ErrorKind::retryable) {
    failures_ = n;
    kind_ = kind;
  }
  int commits = 0;
  int failing_reads = 0;  ///< the next N get_auction calls answer retryable

  void commit(ports::CommitBatch batch, ports::Callback<void> done) override {
    ++commits;
    if (failures_ > 0) {
      --failures_;
      done(ports::Error{kind_, "injected failure"});
      return;
    }
    inner().commit(std::move(batch), std::move(done));
  }
  void get_auction(const domain::AuctionId& id,
                   ports::Callback<std::optional<ports::StoredAuction>> done) override {
    if (failing_reads > 0) {
      --failing_reads;
      done(ports::Error{ports::ErrorKind::retryable, "injected read failure"});
      return;
    }
    inner().get_auction(id, std::move(done));
  }

 private:
  int failures_ = 0;
  ports::ErrorKind kind_ = ports::ErrorKind::retryable;
};

/// A queue whose next N acks are lost (the engine died between its commit and its ack).
class LosingAcksQueue final : public ports::Queue {
 public:
  explicit LosingAcksQueue(ports::Queue& inner) : inner_(inner) {}
  int lose_next_acks = 0;

  void send(std::vector<ports::OutgoingMessage> m,
            ports::Callback<std::vector<ports::SendReceipt>> d) override {
    inner_.send(std::move(m), std::move(d));
  }
  void receive(ports::ReceiveOptions o, ports::Callback<std::vector<ports::Delivery>> d) override {
    inner_.receive(o, std::move(d));
  }
  void ack(std::vector<std::string> receipts, ports::Callback<void> done) override {
    if (lose_next_acks > 0) {
      --lose_next_acks;
      done(ports::Error{ports::ErrorKind::retryable, "ack lost"});
      return;
    }
    inner_.ack(std::move(receipts), std::move(done));
  }
  void nack(std::vector<std::string> r, std::string reason, ports::Callback<void> d) override {
    inner_.nack(std::move(r), std::move(reason), std::move(d));
  }
  void dead_letter(std::vector<std::string> r, std::string reason,
                   ports::Callback<void> d) override {
    inner_.dead_letter(std::move(r), std::move(reason), std::move(d));
  }
  void list_dead_letters(std::size_t limit,
                         ports::Callback<std::vector<ports::DeadLetter>> d) override {
    inner_.list_dead_letters(limit, std::move(d));
  }
  void redrive(std::vector<std::string> ids, ports::Callback<std::size_t> d) override {
    inner_.redrive(std::move(ids), std::move(d));
  }
  void purge_dead_letters(ports::Callback<std::size_t> d) override {
    inner_.purge_dead_letters(std::move(d));
  }
  void watermark(ports::Callback<domain::Timestamp> d) override { inner_.watermark(std::move(d)); }
  void stats(ports::Callback<ports::QueueStats> d) override { inner_.stats(std::move(d)); }

 private:
  ports::Queue& inner_;
};

class EngineHostTest : public ::testing::Test {
 protected:
  EngineHostTest()
      : clock_(std::make_shared<adapters::memory::SimulatedClock>(at(-100))),
        memory_queue_(clock_),
        queue_(memory_queue_),
        store_(memory_store_),
        topic_(clock_),
        watcher_(topic_.subscribe("test")) {}

  /// A host on the fixture's store, or on `store` (a wrapper of memory_store_).
  std::unique_ptr<EngineHost> make_host(ports::Store* store = nullptr) {
    EngineHostOptions options;
    options.receive_wait = domain::Duration{0};
    options.retry_backoff = domain::Duration{0};
    options.commit_retry_for = commit_retry_for_;
    auto host = std::make_unique<EngineHost>(queue_, store != nullptr ? *store : store_, cache_,
                                             topic_, *clock_, options);
    host->set_listener([this](const std::vector<DecidedCommand>& decided) {
      for (const auto& d : decided) decided_.push_back(d);
    });
    return host;
  }

  void send(const domain::Command& command, const std::string& id) {
    wire::CommandEnvelope envelope{command, id, "", "", ""};
    std::vector<ports::OutgoingMessage> messages{{domain::target_of(command).str(), id,
                                                  domain::time_of(command),
                                                  json::serialize(wire::command_json(envelope))}};
    auto sent = ports::call_blocking<std::vector<ports::SendReceipt>>(
        [&](auto done) { queue_.send(std::move(messages), std::move(done)); });
    ASSERT_TRUE(sent.ok()) << sent.error().message;
  }

  void create(const std::string& id = "a1") {
    domain::AuctionTerms terms = testing::terms(id);
    send(domain::CreateAuction{terms, clock_->now()}, id);
  }

  void bid(const std::string& bid_id, const std::string& bidder, std::int64_t amount,
           std::int64_t second, std::optional<std::int64_t> max = std::nullopt) {
    send(domain::PlaceBid{domain::AuctionId{"a1"},
                          testing::bid(bid_id, bidder, amount, max, second)},
         bid_id);
  }

  /// An open auction ending at 600, and alice's bid b1 stamped at 597 on its way (queued).
  std::unique_ptr<EngineHost> auction_ending_with_a_bid_on_its_way() {
    auto host = make_host();
    host->recover();
    create();
    clock_->advance_to(at(598));
    EXPECT_EQ(host->run_once(), 1u);
    bid("b1", "alice", 1000, 597);
    return host;
  }

  /// b1 was decided (accepted) by the last batch; it held the watermark until that batch was
  /// acknowledged, so the close comes with the next one, won by alice.
  void expect_b1_wins_at_the_next_batch(EngineHost& host) {
    EXPECT_TRUE(stored_bid("b1")->decision.accepted);
    host.run_once();
    EXPECT_EQ(stored_auction()->state.status, domain::AuctionStatus::closed);
    EXPECT_EQ(stored_auction()->state.winner_id, domain::UserId{"alice"});
  }

  /// Runs batches until the queue has nothing ready; answers how many commands were decided.
  static std::size_t drain(EngineHost& host) {
    std::size_t total = 0;
    for (int i = 0; i < 100; ++i) {
      const std::size_t decided = host.run_once();
      if (decided == 0) break;
      total += decided;
    }
    return total;
  }

  std::optional<ports::StoredBid> stored_bid(const std::string& id) {
    return ports::call_blocking<std::optional<ports::StoredBid>>(
               [&](auto done) { store_.get_bid(domain::BidId{id}, std::move(done)); })
        .value();
  }
  std::optional<ports::StoredAuction> stored_auction(const std::string& id = "a1") {
    return ports::call_blocking<std::optional<ports::StoredAuction>>(
               [&](auto done) { store_.get_auction(domain::AuctionId{id}, std::move(done)); })
        .value();
  }
  std::vector<std::string> published_types() {
    auto received = ports::call_blocking<std::vector<ports::Delivery>>([&](auto done) {
      watcher_->receive(1000, domain::Duration{0}, std::chrono::seconds(30), std::move(done));
    });
    std::vector<std::string> types;
    for (const auto& d : received.value())
      types.emplace_back(json::parse(d.body).at("type").as_string());
    return types;
  }

  std::shared_ptr<adapters::memory::SimulatedClock> clock_;
  adapters::memory::MemoryQueue memory_queue_;
  LosingAcksQueue queue_;
  adapters::memory::MemoryStore memory_store_;
  FailingStore store_;
  adapters::memory::MemoryCache cache_;
  adapters::memory::MemoryTopic topic_;
  ports::SubscriptionPtr watcher_;
  std::vector<DecidedCommand> decided_;
  domain::Duration commit_retry_for_{0};  // most tests: a failed commit is nacked at once
};

TEST_F(EngineHostTest, ABatchIsDecidedCommittedCachedPublishedThenAcknowledged) {
  auto host = make_host();
  host->recover();
  create();
  clock_->advance_to(at(11));
  bid("b1", "alice", 1000, 10, 3000);
  bid("b2", "bob", 1100, 11, 2000);
  EXPECT_EQ(drain(*host), 3u);

  ASSERT_EQ(decided_.size(), 3u);
  EXPECT_EQ(decided_[1].command_id, "b1");
  EXPECT_TRUE(decided_[1].decision.accepted);
  EXPECT_FALSE(decided_[2].decision.leading);
  const auto b2 = stored_bid("b2");
  ASSERT_TRUE(b2);
  EXPECT_EQ(b2->decision.price, domain::Amount{2050});
  EXPECT_EQ(stored_auction()->state.price, domain::Amount{2050});
  auto cached = ports::call_blocking<std::vector<std::optional<ports::CachedAuction>>>(
      [&](auto done) { cache_.get({domain::AuctionId{"a1"}}, std::move(done)); });
  ASSERT_TRUE(cached.value()[0]);
  EXPECT_EQ(cached.value()[0]->seq, stored_auction()->state.seq);
  EXPECT_EQ(published_types(),
            (std::vector<std::string>{"auction.created", "auction.opened", "bid.accepted",
                                      "bid.accepted", "outbid"}));
  EXPECT_EQ(host->run_once(), 0u);  // acknowledged: nothing comes again
}

TEST_F(EngineHostTest, ACommitTellsTheStoreHowMuchOfTheBidHistoryItHoldsAndAVoidRewritesIt) {
  HistoryKeptStore store(memory_store_);
  auto host = make_host(&store);
  host->recover();
  create();
  clock_->advance_to(at(11));
  ASSERT_EQ(host->run_once(), 1u);
  bid("b1", "alice", 1000, 10);
  bid("b2", "bob", 2000, 11);
  ASSERT_EQ(host->run_once(), 2u);
  clock_->advance_to(at(12));
  bid("b3", "carol", 3000, 12);
  ASSERT_EQ(host->run_once(), 1u);
  clock_->advance_to(at(13));
  bid("b4", "dave", 1500, 13);  // below the price: rejected, the history stays
  ASSERT_EQ(host->run_once(), 1u);
  clock_->advance_to(at(14));
  send(domain::VoidBid{domain::AuctionId{"a1"}, domain::Actor{domain::UserId{"ops"}, true},
                       domain::BidId{"b2"}, at(14)},
       "void-b2");
  ASSERT_EQ(host->run_once(), 1u);
  clock_->advance_to(at(15));
  bid("b5", "erin", 4000, 15);
  ASSERT_EQ(host->run_once(), 1u);

  // The creation and the first bids write it whole (nothing stored yet), then only what each
  // batch adds; the void rewrites it whole, and the next bid adds to what the void wrote.
  EXPECT_THAT(store.writes,
              ::testing::ElementsAre("0 of 0", "0 of 2", "2 of 3", "3 of 3", "0 of 2", "2 of 3"));
  const auto stored = stored_auction();
  ASSERT_TRUE(stored);
  std::vector<std::string> history;
  for (const auto& record : stored->state.accepted) history.push_back(record.id.str());
  EXPECT_THAT(history, ::testing::ElementsAre("b1", "b3", "b5"));
}

TEST_F(EngineHostTest, AFailedCommitRollsBackAndTheRedeliveryDecidesEachBidOnce) {
  auto host = make_host();
  host->recover();
  create();
  clock_->advance_to(at(11));
  ASSERT_EQ(host->run_once(), 1u);
  bid("b1", "alice", 1000, 10, 3000);
  bid("b2", "bob", 1100, 11, 2000);
  store_.fail_next_commits(1, ports::ErrorKind::permanent);  // sent back at once
  EXPECT_EQ(host->run_once(), 0u);
  EXPECT_FALSE(stored_bid("b1"));
  EXPECT_EQ(stored_auction()->state.accepted.size(), 0u);

  EXPECT_EQ(host->run_once(), 2u);  // nacked at once, so redelivered now
  EXPECT_TRUE(stored_bid("b1")->decision.accepted);
  EXPECT_EQ(stored_auction()->state.price, domain::Amount{2050});
  EXPECT_EQ(stored_auction()->state.accepted.size(), 2u);  // not 4: the first try left no trace
  EXPECT_EQ(host->stats().failed_batches.load(), 1u);
}

TEST_F(EngineHostTest, AFailedCommitOfANewAuctionForgetsIt) {
  auto host = make_host();
  host->recover();
  create();
  store_.fail_next_commits(1, ports::ErrorKind::permanent);  // sent back at once
  EXPECT_EQ(host->run_once(), 0u);
  EXPECT_EQ(host->auctions(), 0u);
  EXPECT_EQ(host->run_once(), 1u);
  EXPECT_EQ(host->auctions(), 1u);
  EXPECT_TRUE(stored_auction());
}

TEST_F(EngineHostTest, ABidRedeliveredAfterALostAckIsNotJudgedTwice) {
  auto host = make_host();
  host->recover();
  create();
  clock_->advance_to(at(10));
  ASSERT_EQ(host->run_once(), 1u);
  bid("b1", "alice", 1000, 10);
  queue_.lose_next_acks = 1;
  ASSERT_EQ(host->run_once(), 1u);  // committed, but the ack is lost
  const auto seq = stored_auction()->state.seq;

  clock_->advance_by(std::chrono::seconds(31));  // the visibility timeout: it comes again
  EXPECT_EQ(host->run_once(), 0u);               // recognised as decided, acknowledged
  EXPECT_EQ(stored_auction()->state.seq, seq);
  EXPECT_EQ(stored_auction()->state.accepted.size(), 1u);
  clock_->advance_by(std::chrono::seconds(31));
  EXPECT_EQ(host->run_once(), 0u);
}

TEST_F(EngineHostTest, TheCloseWaitsForTheWatermarkNotJustTheClock) {
  auto host = make_host();
  host->recover();
  create();
  clock_->advance_to(at(20));
  ASSERT_EQ(host->run_once(), 1u);
  // The clock passes endsAt (600) but the memory queue's lateness bound (2 s) means a bid
  // stamped before 600 may still be on its way: no close yet.
  clock_->advance_to(at(601));
  host->run_once();
  EXPECT_EQ(stored_auction()->state.status, domain::AuctionStatus::open);
  bid("late-but-in-time", "alice", 1000, 599);  // stamped at 599.0, arrives at 601
  host->run_once();
  EXPECT_TRUE(stored_bid("late-but-in-time")->decision.accepted);
  clock_->advance_to(at(602) + std::chrono::milliseconds(1));
  host->run_once();
  EXPECT_EQ(stored_auction()->state.status, domain::AuctionStatus::closed);
  EXPECT_EQ(stored_auction()->state.winner_id, domain::UserId{"alice"});
}

TEST_F(EngineHostTest, AnInTimeBidWhoseBatchFailedHoldsTheCloseUntilDecided) {
  auto host = auction_ending_with_a_bid_on_its_way();
  store_.fail_next_commits(4, ports::ErrorKind::permanent);  // sent back at once
  for (int i = 0; i < 4; ++i) host->run_once();  // delivered four times, never committed
  clock_->advance_to(at(700));                   // far past endsAt and the lateness bound
  ASSERT_EQ(host->run_once(), 1u);
  expect_b1_wins_at_the_next_batch(*host);
}

TEST_F(EngineHostTest, ABidInFlightOnAnotherEngineHoldsTheClose) {
  auto host = auction_ending_with_a_bid_on_its_way();
  // Another engine takes b1 and is still judging it (its store stalls, say).
  auto taken = ports::call_blocking<std::vector<ports::Delivery>>([&](auto done) {
    memory_queue_.receive(ports::ReceiveOptions{10, domain::Duration{0}, std::chrono::seconds(600)},
                          std::move(done));
  });
  ASSERT_EQ(taken.value().size(), 1u);
  clock_->advance_to(at(700));  // far past endsAt and the lateness bound
  host->run_once();
  EXPECT_EQ(stored_auction()->state.status, domain::AuctionStatus::open)
      << "closed while an in-time bid was being judged elsewhere";
  // That engine dies: the bid comes back here, is judged in time, and then the auction closes.
  ports::call_blocking<void>([&](auto done) {
    memory_queue_.nack({taken.value()[0].receipt}, "engine died", std::move(done));
  });
  ASSERT_EQ(host->run_once(), 1u);
  expect_b1_wins_at_the_next_batch(*host);
}

TEST_F(EngineHostTest, AMessageDeadLetteredAfterMaxDeliveriesNoLongerHoldsTheClose) {
  auto host = auction_ending_with_a_bid_on_its_way();
  store_.fail_next_commits(5, ports::ErrorKind::permanent);  // sent back at once
  for (int i = 0; i < 5; ++i) host->run_once();              // the fifth failure dead-letters it
  clock_->advance_to(at(700));
  host->run_once();
  EXPECT_FALSE(stored_bid("b1"));
  EXPECT_EQ(stored_auction()->state.status, domain::AuctionStatus::closed);
  EXPECT_EQ(stored_auction()->state.result, domain::AuctionResult::unsold);
  auto dead = ports::call_blocking<std::vector<ports::DeadLetter>>(
      [&](auto done) { queue_.list_dead_letters(10, std::move(done)); });
  ASSERT_EQ(dead.value().size(), 1u);
  EXPECT_EQ(dead.value()[0].delivery_count, 5);
}

TEST_F(EngineHostTest, AnUnparseableMessageIsDeadLettered) {
  auto host = make_host();
  host->recover();
  std::vector<ports::OutgoingMessage> junk{{"a1", "junk", clock_->now(), "{not json"}};
  ASSERT_TRUE(ports::call_blocking<std::vector<ports::SendReceipt>>([&](auto done) {
                queue_.send(std::move(junk), std::move(done));
              }).ok());
  EXPECT_EQ(host->run_once(), 0u);
  auto dead = ports::call_blocking<std::vector<ports::DeadLetter>>(
      [&](auto done) { queue_.list_dead_letters(10, std::move(done)); });
  ASSERT_EQ(dead.value().size(), 1u);
  EXPECT_EQ(dead.value()[0].body, "{not json");
  EXPECT_NE(dead.value()[0].reason.find("unparseable"), std::string::npos);
}

TEST_F(EngineHostTest, ARestartedHostRecoversTheAuctionsFromTheStore) {
  {
    auto host = make_host();
    host->recover();
    create();
    clock_->advance_to(at(10));
    bid("b1", "alice", 1500, 10);
    ASSERT_EQ(host->run_once(), 2u);
  }
  cache_.clear([](ports::Result<void>) {});
  auto host = make_host();
  host->recover();
  EXPECT_EQ(host->auctions(), 1u);
  auto cached = ports::call_blocking<std::vector<std::optional<ports::CachedAuction>>>(
      [&](auto done) { cache_.get({domain::AuctionId{"a1"}}, std::move(done)); });
  ASSERT_TRUE(cached.value()[0]);  // the cache is rebuilt from the store
  clock_->advance_to(at(11));
  bid("b2", "bob", 1500, 11);  // too low now: the recovered price is 1500
  ASSERT_EQ(host->run_once(), 1u);
  EXPECT_EQ(stored_bid("b2")->decision.reason, domain::Reason::bid_too_low);
  EXPECT_EQ(stored_bid("b2")->decision.min_next_bid, domain::Amount{1550});
}

}  // namespace
}  // namespace gavel::roles

namespace gavel::roles {
namespace {

TEST_F(EngineHostTest, AnEngineJudgesAnAuctionAnotherEngineCreated) {
  auto first = make_host();
  auto second = make_host();
  first->recover();
  second->recover();  // both start empty: the auction does not exist yet
  create();
  ASSERT_EQ(first->run_once(), 1u);
  clock_->advance_to(at(10));
  bid("b1", "alice", 1500, 10);
  ASSERT_EQ(second->run_once(), 1u);  // loaded from the store, not "auction_not_found"
  EXPECT_TRUE(stored_bid("b1")->decision.accepted);
  EXPECT_EQ(second->auctions(), 1u);
}

TEST_F(EngineHostTest, AStaleCopyConflictsReloadsAndDecidesOnTheStoredState) {
  auto first = make_host();
  auto second = make_host();
  first->recover();
  second->recover();
  create();
  ASSERT_EQ(first->run_once(), 1u);
  clock_->advance_to(at(10));
  bid("b1", "alice", 1500, 10);
  ASSERT_EQ(second->run_once(), 1u);  // the second engine now holds a1 at the price 1500
  clock_->advance_to(at(11));
  bid("b2", "bob", 1500, 11);  // enough on the created copy, too low after alice's bid
  // The first engine's copy is the one it created, before alice's bid: its commit fails the
  // seq condition, the copy is reloaded and the batch judged again at once on the stored state
  // (no nack: a conflict is not a failed delivery).
  EXPECT_EQ(first->run_once(), 1u);
  EXPECT_EQ(first->stats().conflicts.load(), 1u);
  EXPECT_EQ(first->stats().failed_batches.load(), 0u);
  EXPECT_EQ(stored_bid("b2")->decision.reason, domain::Reason::bid_too_low);
  EXPECT_EQ(stored_bid("b2")->decision.min_next_bid, domain::Amount{1550});
  EXPECT_EQ(stored_auction()->state.seq, 3u);  // a rejection leaves the seq where it was
}

/// A store that never marks an event published: its outbox keeps every event committed, so a
/// test sees what the store kept (the topic gets the engine's own copies, kept or not).
class KeepingOutboxStore final : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  void mark_published(std::vector<std::string>, ports::Callback<void> done) override { done({}); }
};

TEST_F(EngineHostTest, TwoEnginesRejectingBidsInTurnNeverGiveOneEventNumberTwice) {
  KeepingOutboxStore store{memory_store_};
  auto first = make_host(&store);
  auto second = make_host(&store);
  first->recover();
  second->recover();
  create();
  ASSERT_EQ(first->run_once(), 1u);
  clock_->advance_to(at(10));
  bid("b0", "alice", 1500, 10);
  ASSERT_EQ(second->run_once(), 1u);  // the second engine loads a1 and accepts alice's bid
  const std::uint64_t seq = stored_auction()->state.seq;

  // Too low, each of them: a rejection takes an event number and leaves the seq alone. Each
  // engine's copy is behind by the other's last rejection (the first's at first by alice's
  // bid too), so every commit fails its condition once, is reloaded and judged again.
  std::vector<std::string> rejected;
  for (int i = 1; i <= 6; ++i) {
    clock_->advance_to(at(10 + i));
    rejected.push_back("low" + std::to_string(i));
    bid(rejected.back(), "bob", 1000, 10 + i);
    EngineHost& host = i % 2 == 1 ? *first : *second;
    ASSERT_EQ(host.run_once(), 1u) << rejected.back();
  }
  EXPECT_EQ(first->stats().conflicts.load() + second->stats().conflicts.load(), 6u);
  EXPECT_EQ(first->stats().failed_batches.load() + second->stats().failed_batches.load(), 0u);
  EXPECT_EQ(stored_auction()->state.seq, seq);

  // Every event number once, the outbox holds them all, and each rejection's number is that
  // of its own event.
  const auto outbox = ports::call_blocking<std::vector<domain::Event>>([&](auto done) {
                        memory_store_.pending_events(1000, std::move(done));
                      }).value();
  std::map<std::uint64_t, std::string> bid_of_number;
  for (const auto& event : outbox) {
    ASSERT_EQ(event.auction_id.str(), "a1");
    EXPECT_TRUE(bid_of_number.emplace(event.number, event.bid_id.str()).second) << event.number;
  }
  const std::uint64_t events = stored_auction()->state.events;
  ASSERT_EQ(outbox.size(), events);
  EXPECT_EQ(bid_of_number.begin()->first, 1u);
  EXPECT_EQ(bid_of_number.rbegin()->first, events);  // 1..events, each once: no gap
  std::set<std::uint64_t> numbers;
  for (const auto& id : rejected) {
    const auto stored = stored_bid(id);
    ASSERT_TRUE(stored) << id;
    EXPECT_EQ(stored->decision.reason, domain::Reason::bid_too_low) << id;
    const std::uint64_t number = stored->decision.event_number;
    EXPECT_TRUE(numbers.insert(number).second) << id << " shares event number " << number;
    EXPECT_EQ(bid_of_number[number], id) << "event " << number;
  }
}

}  // namespace
}  // namespace gavel::roles

namespace gavel::roles {
namespace {

TEST_F(EngineHostTest, AStoreOutageIsRiddenOutByRetryingTheCommitNotByNacking) {
  commit_retry_for_ = std::chrono::seconds(5);
  auto host = make_host();
  host->recover();
  create();
  clock_->advance_to(at(11));
  ASSERT_EQ(host->run_once(), 1u);
  bid("b1", "alice", 1000, 10);
  store_.fail_next_commits(3);  // retryable: the store is out of reach three times
  EXPECT_EQ(host->run_once(), 1u);
  EXPECT_TRUE(stored_bid("b1")->decision.accepted);
  EXPECT_EQ(host->stats().commit_retries.load(), 3u);
  EXPECT_EQ(host->stats().failed_batches.load(), 0u);  // never nacked: no delivery spent
}

/// A store that applies a commit but answers as if it failed (the answer lost on the way).
class LostAnswerStore final : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  int lose_next = 0;
  void commit(ports::CommitBatch batch, ports::Callback<void> done) override {
    if (lose_next > 0) {
      --lose_next;
      inner().commit(std::move(batch), [done](const ports::Result<void>&) {
        done(ports::Error{ports::ErrorKind::retryable, "connection lost during commit"});
      });
      return;
    }
    inner().commit(std::move(batch), std::move(done));
  }
};

TEST_F(EngineHostTest, ACommitWhoseAnswerWasLostIsNotJudgedAgain) {
  LostAnswerStore store{memory_store_};
  EngineHostOptions options;
  options.receive_wait = domain::Duration{0};
  options.commit_retry_for = std::chrono::seconds(5);
  EngineHost host{queue_, store, cache_, topic_, *clock_, options};
  host.set_listener([this](const std::vector<DecidedCommand>& decided) {
    for (const auto& d : decided) decided_.push_back(d);
  });
  host.recover();
  create();
  clock_->advance_to(at(11));
  ASSERT_EQ(host.run_once(), 1u);
  bid("b1", "alice", 1000, 10, 3000);
  store.lose_next = 1;  // committed, but the engine hears "failed"; the retry then conflicts
  host.run_once();
  EXPECT_TRUE(stored_bid("b1")->decision.accepted);
  EXPECT_EQ(stored_auction()->state.accepted.size(), 1u);  // applied once, not twice
  ASSERT_FALSE(decided_.empty());
  EXPECT_EQ(decided_.back().command_id, "b1");  // the waiter hears the stored decision
  EXPECT_TRUE(decided_.back().decision.accepted);
  EXPECT_EQ(drain(host), 0u);  // acknowledged: nothing comes back
}

}  // namespace
}  // namespace gavel::roles

namespace gavel::roles {
namespace {

TEST_F(EngineHostTest, AnUnansweredStoreReadIsNotTakenForAMissingAuction) {
  auto first = make_host();
  auto second = make_host();
  first->recover();
  second->recover();  // before a1 exists: it will have to ask the store
  create();
  ASSERT_EQ(first->run_once(), 1u);
  clock_->advance_to(at(10));
  bid("b1", "alice", 1500, 10);
  store_.failing_reads = 1;
  EXPECT_EQ(second->run_once(), 0u);  // not judged "auction_not_found": sent back
  EXPECT_FALSE(stored_bid("b1"));
  EXPECT_EQ(drain(*second), 1u);
  EXPECT_TRUE(stored_bid("b1")->decision.accepted);
}

}  // namespace
}  // namespace gavel::roles

namespace gavel::roles {
namespace {

TEST_F(EngineHostTest, AStoreStillOutOfReachLeavesTheBatchToTheVisibilityTimeout) {
  auto host = make_host();  // commit_retry_for_ = 0: no retries in this test
  host->recover();
  create();
  clock_->advance_to(at(11));
  ASSERT_EQ(host->run_once(), 1u);
  bid("b1", "alice", 1000, 10);
  store_.fail_next_commits(1);  // retryable
  EXPECT_EQ(host->run_once(), 0u);
  EXPECT_EQ(host->run_once(), 0u);               // not sent back at once: still in flight
  clock_->advance_by(std::chrono::seconds(31));  // past the visibility timeout
  EXPECT_EQ(host->run_once(), 1u);
  EXPECT_TRUE(stored_bid("b1")->decision.accepted);
}

}  // namespace
}  // namespace gavel::roles

namespace gavel::roles {
namespace {

TEST_F(EngineHostTest, AnAuctionOnlyADeadEngineKnewStillClosesOnTimeAfterARescan) {
  auto survivor = make_host();  // started before the auction existed
  survivor->recover();
  {
    auto doomed = make_host();
    doomed->recover();
    create();
    clock_->advance_to(at(10));
    bid("b1", "alice", 1500, 10);
    ASSERT_EQ(doomed->run_once(), 2u);
  }  // it dies before the auction's end; no command for a1 comes any more
  clock_->advance_to(at(700));  // past endsAt (600) and the lateness bound
  survivor->run_once();
  EXPECT_EQ(stored_auction()->state.status, domain::AuctionStatus::open);  // never heard of it

  EngineHostOptions options;
  options.receive_wait = domain::Duration{0};
  options.rescan_every = std::chrono::seconds(5);
  EngineHost rescanning{queue_, store_, cache_, topic_, *clock_, options};
  rescanning.run_once();  // no recover(): it learns of a1 only by rescanning the open auctions
  EXPECT_EQ(stored_auction()->state.status, domain::AuctionStatus::closed);
  EXPECT_EQ(stored_auction()->state.winner_id, domain::UserId{"alice"});
}

}  // namespace
}  // namespace gavel::roles

namespace gavel::roles {
namespace {

/// A topic that refuses every publish while `refusing` (the audit topic's Redis restarting).
class RefusingTopic final : public ports::Topic {
 public:
  explicit RefusingTopic(ports::Topic& inner) : inner_(inner) {}
  bool refusing = false;
  void publish(std::vector<ports::OutgoingMessage> messages, ports::Callback<void> done) override {
    if (refusing) {
      done(ports::Error{ports::ErrorKind::retryable, "refused"});
      return;
    }
    inner_.publish(std::move(messages), std::move(done));
  }
  ports::SubscriptionPtr subscribe(const std::string& name) override {
    return inner_.subscribe(name);
  }

 private:
  ports::Topic& inner_;
};

/// The audit feed's message ids (record keys), in the order the auditor would see them.
std::vector<std::string> received_keys(ports::Subscription& feed) {
  auto received = ports::call_blocking<std::vector<ports::Delivery>>([&](auto done) {
    feed.receive(1000, domain::Duration{0}, std::chrono::seconds(30), std::move(done));
  });
  std::vector<std::string> keys;
  for (const auto& delivery : received.value()) keys.push_back(delivery.message_id);
  return keys;
}

TEST_F(EngineHostTest, AuditRecordsTheTopicRefusedArePublishedInCommitOrderByTheNextEngine) {
  adapters::memory::MemoryTopic audit_topic{clock_};
  RefusingTopic refusing{audit_topic};
  auto auditor_feed = audit_topic.subscribe("auditor");
  std::vector<std::string> first_keys;
  {
    // This engine commits its batches but never gets their audit records out (it dies).
    auto host = make_host();
    host->set_audit_topic(&refusing);
    host->recover();
    refusing.refusing = true;
    create();
    clock_->advance_to(at(10));
    bid("b1", "alice", 1500, 10);
    ASSERT_EQ(host->run_once(), 2u);
    EXPECT_GT(host->stats().audit_publish_failures.load(), 0u);
    EXPECT_TRUE(received_keys(*auditor_feed).empty());
    auto pending = ports::call_blocking<std::vector<ports::OutgoingMessage>>(
        [&](auto done) { store_.pending_audit(1000, std::move(done)); });
    ASSERT_TRUE(pending.ok());
    for (const auto& record : pending.value()) first_keys.push_back(record.dedup_id);
    ASSERT_GE(first_keys.size(), 4u);  // two commands, their events
  }
  refusing.refusing = false;
  auto host = make_host();
  host->set_audit_topic(&refusing);
  host->recover();  // publishes what the dead engine committed
  EXPECT_EQ(received_keys(*auditor_feed), first_keys);
  clock_->advance_to(at(11));
  bid("b2", "bob", 1600, 11);
  ASSERT_EQ(host->run_once(), 1u);
  const auto later = received_keys(*auditor_feed);
  ASSERT_FALSE(later.empty());
  for (const auto& key : later) {
    EXPECT_EQ(std::count(first_keys.begin(), first_keys.end(), key), 0) << key << " sent twice";
  }
  auto pending = ports::call_blocking<std::vector<ports::OutgoingMessage>>(
      [&](auto done) { store_.pending_audit(1000, std::move(done)); });
  EXPECT_TRUE(pending.value().empty());  // every published record was marked
}

TEST_F(EngineHostTest, AnIdleEngineSendsTheRefusedAuditRecordsOnceTheTopicAnswers) {
  adapters::memory::MemoryTopic audit_topic{clock_};
  RefusingTopic refusing{audit_topic};
  auto auditor_feed = audit_topic.subscribe("auditor");
  auto host = make_host();
  host->set_audit_topic(&refusing);
  host->recover();
  refusing.refusing = true;
  create();
  ASSERT_EQ(host->run_once(), 1u);
  EXPECT_TRUE(received_keys(*auditor_feed).empty());
  refusing.refusing = false;
  EXPECT_EQ(host->run_once(), 0u);  // nothing new to decide: the outbox goes out anyway
  EXPECT_FALSE(received_keys(*auditor_feed).empty());
}

}  // namespace
}  // namespace gavel::roles

namespace gavel::roles {
namespace {

TEST_F(EngineHostTest, WithAMemoryAuditTopicTheRecordsStayInTheOutboxUntilTheAuditorHasThem) {
  adapters::memory::MemoryTopic audit_topic{clock_};
  auto auditor_feed = audit_topic.subscribe("auditor");
  const auto pending_keys = [this] {
    std::vector<std::string> keys;
    auto pending = ports::call_blocking<std::vector<ports::OutgoingMessage>>(
        [&](auto done) { store_.pending_audit(1000, std::move(done)); });
    for (const auto& record : pending.value()) keys.push_back(record.dedup_id);
    return keys;
  };
  std::vector<std::string> published;
  {
    auto host = make_host();
    host->set_audit_topic(&audit_topic, /*durable_topic=*/false);
    host->recover();
    create();
    ASSERT_EQ(host->run_once(), 1u);
    published = received_keys(*auditor_feed);
    ASSERT_FALSE(published.empty());
    // Published, but the process could die before the auditor appends them: still pending.
    EXPECT_EQ(pending_keys(), published);
  }
  // The process died with them in the memory topic: the next start publishes them again.
  adapters::memory::MemoryTopic fresh_topic{clock_};
  auto fresh_feed = fresh_topic.subscribe("auditor");
  auto host = make_host();
  host->set_audit_topic(&fresh_topic, /*durable_topic=*/false);
  host->recover();
  EXPECT_EQ(received_keys(*fresh_feed), published);
  // The auditor appended them and says so: they leave the outbox.
  ASSERT_TRUE(ports::call_blocking<void>(
      [&](auto done) { store_.mark_audit_published(published, std::move(done)); }));
  EXPECT_TRUE(pending_keys().empty());
}

}  // namespace
}  // namespace gavel::roles
