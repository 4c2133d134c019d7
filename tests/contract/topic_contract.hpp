#pragma once
// The contract of ports::Topic and ports::Subscription (ports/topic.hpp), for every adapter.
//
//   struct MyTopicFactory {
//     static constexpr bool kSimulatedTime = ...;  // can advance() move the topic's time?
//     ports::TopicPtr make(const TopicConfig& config);  // a new topic with no subscriptions
//     domain::Timestamp now();
//     void advance(domain::Duration by);          // only if kSimulatedTime
//   };
//   INSTANTIATE_TYPED_TEST_SUITE_P(My, TopicContract, ::testing::Types<MyTopicFactory>);

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "contract/await.hpp"
#include "contract/support.hpp"
#include "ports/topic.hpp"

namespace gavel::contract {

struct TopicConfig {
  domain::Duration dedup_window = std::chrono::minutes(5);
};

template <typename Factory>
class TopicContract : public ::testing::Test {
 protected:
  using Deliveries = std::vector<ports::Delivery>;

  static constexpr domain::Duration kVisibility = std::chrono::seconds(10);

  void SetUp() override { topic_ = factory_.make(config_); }

  domain::Timestamp now() { return factory_.now(); }
  void advance(domain::Duration by) { factory_.advance(by); }

  /// An event: its id is the dedup id (and the message id consumers see).
  ports::OutgoingMessage event(std::string id, std::string body = "", std::string key = "a1") {
    if (body.empty()) body = "body of " + id;
    return ports::OutgoingMessage{std::move(key), std::move(id), now(), std::move(body)};
  }

  void publish(std::vector<ports::OutgoingMessage> messages) {
    auto result = await<void>([&](auto done) { topic_->publish(std::move(messages), done); });
    EXPECT_EQ(describe(result), "ok") << "publish";
  }

  Deliveries receive(ports::Subscription& subscription, std::size_t max_messages = 10,
                     domain::Duration visibility = kVisibility) {
    auto result = await<Deliveries>([&](auto done) {
      subscription.receive(max_messages, domain::Duration::zero(), visibility, done);
    });
    if (!result.ok()) {
      ADD_FAILURE() << "receive failed: " << describe(result);
      return {};
    }
    return std::move(result.value());
  }

  Pending<Deliveries> receive_waiting(ports::Subscription& subscription, domain::Duration wait) {
    Pending<Deliveries> pending;
    subscription.receive(10, wait, kVisibility, pending.callback());
    return pending;
  }

  void ack(ports::Subscription& subscription, const Deliveries& deliveries) {
    std::vector<std::string> receipts;
    for (const auto& delivery : deliveries) receipts.push_back(delivery.receipt);
    auto result = await<void>([&](auto done) { subscription.ack(std::move(receipts), done); });
    EXPECT_EQ(describe(result), "ok") << "ack";
  }

  static std::vector<std::string> ids(const Deliveries& deliveries) {
    std::vector<std::string> out;
    for (const auto& delivery : deliveries) out.push_back(delivery.message_id);
    return out;
  }

  Factory factory_;
  TopicConfig config_;
  ports::TopicPtr topic_;
};

TYPED_TEST_SUITE_P(TopicContract);

TYPED_TEST_P(TopicContract, EverySubscriptionGetsEveryMessageWithItsFields) {
  auto gateway = this->topic_->subscribe("gateway");
  auto notifier = this->topic_->subscribe("notifier");
  const auto at = this->now() - std::chrono::milliseconds(10);
  this->publish({ports::OutgoingMessage{"a1", "a1:1", at, "first"},
                 ports::OutgoingMessage{"a2", "a2:1", at, "second"}});
  for (auto* subscription : {gateway.get(), notifier.get()}) {
    const auto got = this->receive(*subscription);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].message_id, "a1:1");
    EXPECT_EQ(got[0].ordering_key, "a1");
    EXPECT_TIME_EQ(got[0].event_time, at);
    EXPECT_EQ(got[0].body, "first");
    EXPECT_EQ(got[0].delivery_count, 1);
    EXPECT_FALSE(got[0].receipt.empty());
    EXPECT_EQ(got[1].message_id, "a2:1");
    EXPECT_EQ(got[1].body, "second");
  }
}

TYPED_TEST_P(TopicContract, ASubscriptionGetsOnlyMessagesPublishedAfterItWasCreated) {
  this->publish({this->event("a1:1")});
  auto late = this->topic_->subscribe("late");
  this->publish({this->event("a1:2")});
  EXPECT_THAT(this->ids(this->receive(*late)), ::testing::ElementsAre("a1:2"));
}

TYPED_TEST_P(TopicContract, MessagesComeInPublishOrder) {
  auto subscription = this->topic_->subscribe("s");
  this->publish({this->event("a1:1"), this->event("a1:2")});
  this->publish({this->event("a1:3")});
  std::vector<std::string> order;
  for (int i = 0; i < 3; ++i) {
    const auto got = this->receive(*subscription, 1);
    ASSERT_EQ(got.size(), 1u);
    order.push_back(got[0].message_id);
    this->ack(*subscription, got);
  }
  EXPECT_THAT(order, ::testing::ElementsAre("a1:1", "a1:2", "a1:3"));
}

TYPED_TEST_P(TopicContract, HandlesOfOneNameCompeteForItsMessages) {
  auto first = this->topic_->subscribe("engine-events");
  auto second = this->topic_->subscribe("engine-events");
  this->publish({this->event("a1:1"), this->event("a1:2")});
  EXPECT_THAT(this->ids(this->receive(*first, 1)), ::testing::ElementsAre("a1:1"));
  const auto rest = this->receive(*second, 10);
  EXPECT_THAT(this->ids(rest), ::testing::ElementsAre("a1:2"));
  EXPECT_THAT(this->receive(*first), ::testing::IsEmpty());
  // Either handle may acknowledge what the subscription delivered.
  this->ack(*first, rest);
}

TYPED_TEST_P(TopicContract, ASubscriptionOutlivesItsHandles) {
  this->topic_->subscribe("durable");
  this->publish({this->event("a1:1")});
  auto reopened = this->topic_->subscribe("durable");
  EXPECT_THAT(this->ids(this->receive(*reopened)), ::testing::ElementsAre("a1:1"));
}

TYPED_TEST_P(TopicContract, AcknowledgingInOneSubscriptionLeavesTheOthers) {
  auto first = this->topic_->subscribe("first");
  auto second = this->topic_->subscribe("second");
  this->publish({this->event("a1:1")});
  this->ack(*first, this->receive(*first));
  EXPECT_THAT(this->receive(*first), ::testing::IsEmpty());
  EXPECT_THAT(this->ids(this->receive(*second)), ::testing::ElementsAre("a1:1"));
}

TYPED_TEST_P(TopicContract, AnAcknowledgedMessageNeverComesBack) {
  GAVEL_REQUIRE_SIMULATED_TIME();
  auto subscription = this->topic_->subscribe("s");
  this->publish({this->event("a1:1")});
  this->ack(*subscription, this->receive(*subscription));
  this->advance(this->kVisibility * 3);
  EXPECT_THAT(this->receive(*subscription), ::testing::IsEmpty());
}

TYPED_TEST_P(TopicContract, AnUnacknowledgedMessageComesBackAfterItsVisibility) {
  GAVEL_REQUIRE_SIMULATED_TIME();
  auto subscription = this->topic_->subscribe("s");
  auto competitor = this->topic_->subscribe("s");
  this->publish({this->event("a1:1")});
  const auto first = this->receive(*subscription);
  ASSERT_EQ(first.size(), 1u);
  this->advance(this->kVisibility - std::chrono::microseconds(1));
  EXPECT_THAT(this->receive(*competitor), ::testing::IsEmpty());
  this->advance(std::chrono::microseconds(1));
  const auto second = this->receive(*competitor);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].message_id, "a1:1");
  EXPECT_EQ(second[0].delivery_count, 2);
  EXPECT_NE(second[0].receipt, first[0].receipt);

  this->ack(*subscription, first);  // expired receipt: ignored
  this->advance(this->kVisibility);
  const auto third = this->receive(*subscription);
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(third[0].delivery_count, 3);
}

TYPED_TEST_P(TopicContract, UnknownReceiptsAreIgnored) {
  auto subscription = this->topic_->subscribe("s");
  this->publish({this->event("a1:1")});
  auto result = await<void>([&](auto done) { subscription->ack({"no-such-receipt"}, done); });
  EXPECT_EQ(describe(result), "ok");
  EXPECT_THAT(this->ids(this->receive(*subscription)), ::testing::ElementsAre("a1:1"));
}

TYPED_TEST_P(TopicContract, PublishingAnIdAgainIsANoOp) {
  auto subscription = this->topic_->subscribe("s");
  this->publish({this->event("a1:1", "first")});
  this->publish({this->event("a1:1", "again"), this->event("a1:2")});
  const auto got = this->receive(*subscription);
  EXPECT_THAT(this->ids(got), ::testing::ElementsAre("a1:1", "a1:2"));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].body, "first");
  // Still a no-op once the first copy has been acknowledged.
  this->ack(*subscription, got);
  this->publish({this->event("a1:1", "third time")});
  EXPECT_THAT(this->receive(*subscription), ::testing::IsEmpty());
}

TYPED_TEST_P(TopicContract, AnIdIsPublishedAgainAfterTheWindow) {
  GAVEL_REQUIRE_SIMULATED_TIME();
  auto subscription = this->topic_->subscribe("s");
  this->publish({this->event("a1:1", "first")});
  this->ack(*subscription, this->receive(*subscription));
  this->advance(this->config_.dedup_window - std::chrono::seconds(1));
  this->publish({this->event("a1:1", "inside")});
  EXPECT_THAT(this->receive(*subscription), ::testing::IsEmpty());
  this->advance(std::chrono::seconds(2));
  this->publish({this->event("a1:1", "after")});
  const auto got = this->receive(*subscription);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, "after");
}

TYPED_TEST_P(TopicContract, ReceiveAnswersAtMostMaxMessages) {
  auto subscription = this->topic_->subscribe("s");
  this->publish({this->event("a1:1"), this->event("a1:2"), this->event("a1:3")});
  EXPECT_THAT(this->ids(this->receive(*subscription, 2)), ::testing::ElementsAre("a1:1", "a1:2"));
  EXPECT_THAT(this->ids(this->receive(*subscription, 2)), ::testing::ElementsAre("a1:3"));
}

TYPED_TEST_P(TopicContract, ALongPollIsAnsweredByALaterPublish) {
  auto subscription = this->topic_->subscribe("s");
  auto pending = this->receive_waiting(*subscription, std::chrono::seconds(20));
  EXPECT_FALSE(pending.ready());
  this->publish({this->event("a1:1")});
  auto result = pending.get();
  ASSERT_EQ(describe(result), "ok");
  EXPECT_THAT(this->ids(result.value()), ::testing::ElementsAre("a1:1"));
}

TYPED_TEST_P(TopicContract, ALongPollAnswersNothingWhenTheWaitExpires) {
  GAVEL_REQUIRE_SIMULATED_TIME();
  auto subscription = this->topic_->subscribe("s");
  auto pending = this->receive_waiting(*subscription, std::chrono::seconds(20));
  this->advance(std::chrono::seconds(20) - std::chrono::microseconds(1));
  EXPECT_FALSE(pending.ready());
  this->advance(std::chrono::microseconds(1));
  ASSERT_TRUE(pending.ready());
  auto result = pending.get();
  ASSERT_EQ(describe(result), "ok");
  EXPECT_THAT(result.value(), ::testing::IsEmpty());
  EXPECT_EQ(pending.calls(), 1);
}

TYPED_TEST_P(TopicContract, ALongPollOfAnotherSubscriptionIsNotAnsweredByThisOne) {
  GAVEL_REQUIRE_SIMULATED_TIME();
  auto busy = this->topic_->subscribe("busy");
  this->publish({this->event("a1:1")});
  auto idle = this->topic_->subscribe("idle");
  auto pending = this->receive_waiting(*idle, std::chrono::seconds(20));
  this->ack(*busy, this->receive(*busy));
  EXPECT_FALSE(pending.ready());
  this->publish({this->event("a1:2")});
  auto result = pending.get();
  ASSERT_EQ(describe(result), "ok");
  EXPECT_THAT(this->ids(result.value()), ::testing::ElementsAre("a1:2"));
}

REGISTER_TYPED_TEST_SUITE_P(
    TopicContract, EverySubscriptionGetsEveryMessageWithItsFields,
    ASubscriptionGetsOnlyMessagesPublishedAfterItWasCreated, MessagesComeInPublishOrder,
    HandlesOfOneNameCompeteForItsMessages, ASubscriptionOutlivesItsHandles,
    AcknowledgingInOneSubscriptionLeavesTheOthers, AnAcknowledgedMessageNeverComesBack,
    AnUnacknowledgedMessageComesBackAfterItsVisibility, UnknownReceiptsAreIgnored,
    PublishingAnIdAgainIsANoOp, AnIdIsPublishedAgainAfterTheWindow, ReceiveAnswersAtMostMaxMessages,
    ALongPollIsAnsweredByALaterPublish, ALongPollAnswersNothingWhenTheWaitExpires,
    ALongPollOfAnotherSubscriptionIsNotAnsweredByThisOne);

}  // namespace gavel::contract
