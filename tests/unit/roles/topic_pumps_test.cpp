// The gateway's topic pumps: events fanned out once per event id, snapshots after a broken feed
// or a gap in an auction's events, and decisions from the audit feed completing the requests
// waiting on this gateway (when the engine runs elsewhere).
#include "roles/gateway/topic_pumps.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include "adapters/memory/memory_cache.hpp"
#include "adapters/memory/memory_topic.hpp"
#include "adapters/memory/simulated_clock.hpp"
#include "ports/blocking.hpp"
#include "roles/notifier/topic_push_channel.hpp"
#include "support/audit_feed.hpp"

namespace gavel::gateway {
namespace {

class CountingClient final : public WsClient {
 public:
  /// A snapshot request (null message) is recorded as "snapshot <auction>".
  void deliver(std::shared_ptr<const std::string> message,
               const domain::AuctionId& auction_id) override {
    messages.push_back(message ? *message : "snapshot " + auction_id.str());
  }
  std::vector<std::string> messages;
};

/// A subscription whose receives fail while `failing` is set (its server away), and otherwise
/// go to a real one.
class FlakySubscription final : public ports::Subscription {
 public:
  FlakySubscription(ports::SubscriptionPtr inner, std::shared_ptr<std::atomic<bool>> failing)
      : inner_(std::move(inner)), failing_(std::move(failing)) {}
  void receive(std::size_t max_messages, domain::Duration wait, domain::Duration visibility,
               ports::Callback<std::vector<ports::Delivery>> done) override {
    if (failing_->load()) {
      done(ports::Error{ports::ErrorKind::retryable, "connection refused"});
      return;
    }
    inner_->receive(max_messages, wait, visibility, std::move(done));
  }
  void ack(std::vector<std::string> receipts, ports::Callback<void> done) override {
    inner_->ack(std::move(receipts), std::move(done));
  }

 private:
  ports::SubscriptionPtr inner_;
  std::shared_ptr<std::atomic<bool>> failing_;
};

std::string event_json(const std::string& auction, std::uint64_t number, std::uint64_t seq) {
  return R"({"type":"bid.accepted","id":")" + auction + ":" + std::to_string(number) +
         R"(","auctionId":")" + auction + R"(","seq":)" + std::to_string(seq) + "}";
}

void publish_event(ports::Topic& topic, const std::string& auction, std::uint64_t number) {
  const std::string id = auction + ":" + std::to_string(number);
  ASSERT_TRUE(ports::call_blocking<void>([&](auto done) {
    topic.publish({{auction, id, domain::Timestamp{}, event_json(auction, number, number)}},
                  std::move(done));
  }));
}

ports::Delivery delivery(std::string id, std::string body) {
  ports::Delivery out;
  out.message_id = std::move(id);
  out.receipt = out.message_id + "-receipt";
  out.body = std::move(body);
  out.delivery_count = 1;
  return out;
}

TEST(EventFanOut, ARedeliveredEventReachesWatchersOnce) {
  WsHub hub;
  auto client = std::make_shared<CountingClient>();
  hub.subscribe(client, domain::AuctionId{"a1"});
  const std::string event =
      R"({"type":"auction.extended","id":"a1:7","auctionId":"a1","seq":5,"price":100})";
  const auto handle = fan_out_events(hub);
  handle({delivery("a1:7", event)});
  handle({delivery("a1:7", event), delivery("a1:8", event)});  // a1:7 again, then a new id
  EXPECT_EQ(client->messages.size(), 2u);
}

TEST(EventFanOut, AGapInAnAuctionsEventNumbersResyncsItsWatchersBeforeTheEvent) {
  WsHub hub;
  auto a1_watcher = std::make_shared<CountingClient>();
  auto a2_watcher = std::make_shared<CountingClient>();
  hub.subscribe(a1_watcher, domain::AuctionId{"a1"});
  hub.subscribe(a2_watcher, domain::AuctionId{"a2"});
  const auto handle = fan_out_events(hub);
  handle({delivery("a1:4", event_json("a1", 4, 3)), delivery("a1:5", event_json("a1", 5, 4)),
          delivery("a2:9", event_json("a2", 9, 9))});
  EXPECT_EQ(a1_watcher->messages.size(), 2u);  // the first number seen is no gap

  handle({delivery("a1:8", event_json("a1", 8, 6))});  // 6 and 7 never came
  ASSERT_EQ(a1_watcher->messages.size(), 4u);
  EXPECT_EQ(a1_watcher->messages[2], "snapshot a1");
  EXPECT_EQ(a1_watcher->messages[3], event_json("a1", 8, 6));

  // Late and out of order (an engine's outbox sending again) is no gap; a2 was not touched.
  handle({delivery("a1:7", event_json("a1", 7, 5)), delivery("a1:9", event_json("a1", 9, 7))});
  EXPECT_EQ(a1_watcher->messages.size(), 6u);
  EXPECT_EQ(a2_watcher->messages.size(), 1u);
}

TEST(EventNumbers, SplitsIdsAndIgnoresMalformedOnes) {
  EXPECT_EQ(domain::parse_event_id("a:b:12"), (std::pair<std::string, std::uint64_t>{"a:b", 12}));
  EXPECT_FALSE(domain::parse_event_id("a1"));
  EXPECT_FALSE(domain::parse_event_id("a1:"));
  EXPECT_FALSE(domain::parse_event_id(":3"));
  EXPECT_FALSE(domain::parse_event_id("a1:3x"));
  EventNumbers numbers{1};
  EXPECT_FALSE(numbers.gap_before("junk"));
  EXPECT_FALSE(numbers.gap_before("a1:1"));
  EXPECT_FALSE(numbers.gap_before("a2:5"));  // over capacity: starts over
  EXPECT_TRUE(numbers.gap_before("a2:7"));
}

TEST(EventPump, AFailedReceiveResyncsEverySocketOnceTheFeedWorksAgain) {
  auto clock = std::make_shared<adapters::memory::SimulatedClock>();
  adapters::memory::MemoryTopic topic{clock};
  WsHub hub;
  auto watcher = std::make_shared<CountingClient>();
  auto other = std::make_shared<CountingClient>();
  auto idle = std::make_shared<CountingClient>();  // connected, watching nothing
  hub.subscribe(watcher, domain::AuctionId{"a1"});
  hub.subscribe(watcher, domain::AuctionId{"a2"});
  hub.subscribe(other, domain::AuctionId{"a2"});
  hub.add_user(idle, "carol");
  auto failing = std::make_shared<std::atomic<bool>>(false);
  int recovered = 0;
  TopicPump pump{std::make_unique<FlakySubscription>(topic.subscribe("gateway-1"), failing),
                 fan_out_events(hub), [&] {
                   ++recovered;
                   resync_sockets(hub)();
                 }};

  publish_event(topic, "a1", 1);
  EXPECT_EQ(pump.run_once(domain::Duration{0}), 1u);
  EXPECT_EQ(pump.run_once(domain::Duration{0}), 0u);  // nothing new: no resync either
  ASSERT_EQ(watcher->messages.size(), 1u);
  EXPECT_EQ(recovered, 0);

  // The feed breaks (Redis restarting); an event published meanwhile is kept by the topic here,
  // but a server restarted without its data would have lost it.
  failing->store(true);
  EXPECT_EQ(pump.run_once(domain::Duration{0}), 0u);
  EXPECT_EQ(pump.run_once(domain::Duration{0}), 0u);
  publish_event(topic, "a1", 2);
  EXPECT_EQ(recovered, 0);
  EXPECT_EQ(watcher->messages.size(), 1u);

  failing->store(false);
  EXPECT_EQ(pump.run_once(domain::Duration{0}), 1u);
  EXPECT_EQ(recovered, 1);  // once for the whole outage
  // Snapshots of every watched auction first, then the events that follow them.
  ASSERT_EQ(watcher->messages.size(), 4u);
  EXPECT_THAT(
      std::vector<std::string>(watcher->messages.begin() + 1, watcher->messages.begin() + 3),
      ::testing::UnorderedElementsAre("snapshot a1", "snapshot a2"));
  EXPECT_EQ(watcher->messages[3], event_json("a1", 2, 2));
  EXPECT_THAT(other->messages, ::testing::ElementsAre("snapshot a2"));
  EXPECT_TRUE(idle->messages.empty());

  publish_event(topic, "a1", 3);
  EXPECT_EQ(pump.run_once(domain::Duration{0}), 1u);
  EXPECT_EQ(recovered, 1);
  EXPECT_EQ(watcher->messages.size(), 5u);
}

TEST(EventPump, ResyncReachesOnlyLiveWatchers) {
  WsHub hub;
  auto watcher = std::make_shared<CountingClient>();
  auto gone = std::make_shared<CountingClient>();
  hub.subscribe(watcher, domain::AuctionId{"a1"});
  hub.subscribe(gone, domain::AuctionId{"a1"});
  hub.unsubscribe(gone.get(), domain::AuctionId{"a1"});
  EXPECT_EQ(hub.resync(), 1u);
  EXPECT_EQ(hub.resync(domain::AuctionId{"a1"}), 1u);
  EXPECT_EQ(hub.resync(domain::AuctionId{"a9"}), 0u);
  EXPECT_THAT(watcher->messages, ::testing::ElementsAre("snapshot a1", "snapshot a1"));
  EXPECT_TRUE(gone->messages.empty());
}

TEST(NoticePush, TheNotifiersNoticeReachesTheUsersSocketsOnceThroughTheTopic) {
  auto clock = std::make_shared<adapters::memory::SimulatedClock>();
  adapters::memory::MemoryTopic notice_topic{clock};
  WsHub hub;
  auto bob = std::make_shared<CountingClient>();
  auto alice = std::make_shared<CountingClient>();
  hub.add_user(bob, "bob");
  hub.add_user(alice, "alice");
  TopicPump pump{notice_topic.subscribe("gateway-1"), push_notices(hub)};
  roles::notifier::TopicPushChannel channel{notice_topic, *clock};

  ports::Notice notice;
  notice.id = "a1:3:bob:outbid";
  notice.user_id = domain::UserId{"bob"};
  notice.auction_id = domain::AuctionId{"a1"};
  notice.kind = "outbid";
  notice.text = "Someone outbid you";
  notice.address = "bob@example.com";
  notice.secret = "must-not-leak";
  for (int attempt = 0; attempt < 2; ++attempt) {  // a redelivered notice is sent again
    ASSERT_TRUE(ports::call_blocking<void>([&](auto done) { channel.send(notice, done); }));
  }
  pump.run_once(domain::Duration{0});

  ASSERT_EQ(bob->messages.size(), 1u);
  EXPECT_TRUE(alice->messages.empty());
  const auto pushed = boost::json::parse(bob->messages.front()).as_object();
  EXPECT_EQ(pushed.at("type"), "notification");
  EXPECT_EQ(pushed.at("notification").at("id"), "a1:3:bob:outbid");
  EXPECT_EQ(pushed.at("notification").at("text"), "Someone outbid you");
  EXPECT_EQ(bob->messages.front().find("must-not-leak"), std::string::npos);
  EXPECT_EQ(bob->messages.front().find("bob@example.com"), std::string::npos);
}

TEST(NoticePush, AMalformedNoticeMessageIsSkipped) {
  WsHub hub;
  auto bob = std::make_shared<CountingClient>();
  hub.add_user(bob, "bob");
  const auto handle = push_notices(hub);
  handle({delivery("1", "not json"), delivery("2", R"({"userId":"bob"})"),
          delivery("3", R"({"userId":7,"push":{}})")});
  EXPECT_TRUE(bob->messages.empty());
}

TEST(RecentIds, ForgetsTheOldestBeyondItsCapacity) {
  RecentIds ids{2};
  EXPECT_TRUE(ids.first_time("a"));
  EXPECT_TRUE(ids.first_time("b"));
  EXPECT_FALSE(ids.first_time("a"));
  EXPECT_TRUE(ids.first_time("c"));  // "a" is forgotten now
  EXPECT_TRUE(ids.first_time("a"));
}

TEST(DecisionFeed, CompletesTheWaitingRequestsFromTheAuditFeed) {
  auto clock = std::make_shared<adapters::memory::SimulatedClock>();
  adapters::memory::MemoryTopic audit_topic{clock};
  adapters::memory::MemoryCache cache;
  DecisionWaiters waiters;
  boost::asio::io_context io;
  TopicPump pump{audit_topic.subscribe("gateway-1"), complete_waiters(waiters, cache)};

  ports::call_blocking<void>([&](auto done) {
    cache.put({{domain::AuctionId{"a1"}, 9, R"({"id":"a1","seq":9})"}}, std::move(done));
  });
  // This gateway waits on bid b2 only; the feed also decides a1, b1, b3 (others' requests).
  auto waiter = waiters.expect("b2", io.get_executor());
  waiters.mark_queued("b2");
  for (auto& batch : testing::sample_audit_feed()) {
    ports::call_blocking<void>(
        [&](auto done) { audit_topic.publish(std::move(batch), std::move(done)); });
  }
  EXPECT_GT(pump.run_once(domain::Duration{0}), 0u);
  io.poll();
  ASSERT_TRUE(waiter->result);
  EXPECT_EQ(waiter->result->command_id, "b2");
  EXPECT_EQ(waiter->result->op, "bid");
  EXPECT_EQ(waiter->result->auction_view, R"({"id":"a1","seq":9})");
  EXPECT_FALSE(waiters.queued("b2"));
  EXPECT_EQ(pump.run_once(domain::Duration{0}), 0u);  // everything was acknowledged
}

}  // namespace
}  // namespace gavel::gateway
