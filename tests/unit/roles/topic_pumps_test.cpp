// The gateway's topic pumps: events fanned out once per event id, and decisions from the audit
// feed completing the requests waiting on this gateway (when the engine runs elsewhere).
#include "roles/gateway/topic_pumps.hpp"

#include <gtest/gtest.h>

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
  void deliver(std::shared_ptr<const std::string> message, const domain::AuctionId&) override {
    messages.push_back(*message);
  }
  std::vector<std::string> messages;
};

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
  ASSERT_TRUE(hub.subscribe(client, domain::AuctionId{"a1"}));
  const std::string event =
      R"({"type":"auction.extended","id":"a1:7","auctionId":"a1","seq":5,"price":100})";
  const auto handle = fan_out_events(hub);
  handle({delivery("a1:7", event)});
  handle({delivery("a1:7", event), delivery("a1:8", event)});  // a1:7 again, then a new id
  EXPECT_EQ(client->messages.size(), 2u);
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
