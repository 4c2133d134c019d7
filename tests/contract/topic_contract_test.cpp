// The topic contract, run against the memory topic.

#include "contract/topic_contract.hpp"

#include <memory>

#include "adapters/memory/memory_topic.hpp"
#include "adapters/memory/simulated_clock.hpp"

namespace gavel::contract {
namespace {

namespace memory = adapters::memory;

struct MemoryTopicFactory {
  static constexpr bool kSimulatedTime = true;
  std::shared_ptr<memory::SimulatedClock> clock = std::make_shared<memory::SimulatedClock>();

  ports::TopicPtr make(const TopicConfig& config) {
    return std::make_unique<memory::MemoryTopic>(clock,
                                                 memory::MemoryTopicOptions{config.dedup_window});
  }
  domain::Timestamp now() { return clock->now(); }
  void advance(domain::Duration by) { clock->advance_by(by); }
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Memory, TopicContract, ::testing::Types<MemoryTopicFactory>);

// --- memory-specific behaviour -----------------------------------------------------------

namespace {

TEST(MemoryTopicTest, ClosingAHandleAnswersItsLongPollsRetryable) {
  auto clock = std::make_shared<memory::SimulatedClock>();
  memory::MemoryTopic topic(clock);
  auto kept = topic.subscribe("s");
  Pending<std::vector<ports::Delivery>> pending;
  {
    auto closing = topic.subscribe("s");
    closing->receive(10, std::chrono::seconds(20), std::chrono::seconds(30), pending.callback());
    EXPECT_FALSE(pending.ready());
  }
  ASSERT_TRUE(pending.ready());
  EXPECT_EQ(describe(pending.get()), "retryable: subscription closed");
  clock->advance_by(std::chrono::minutes(1));
  EXPECT_EQ(pending.calls(), 1);
}

TEST(MemoryTopicTest, AMessageWithoutDedupIdGetsAnIdAndIsNeverADuplicate) {
  auto clock = std::make_shared<memory::SimulatedClock>();
  memory::MemoryTopic topic(clock);
  auto subscription = topic.subscribe("s");
  auto published = await<void>([&](auto done) {
    topic.publish({{"a1", "", clock->now(), "x"}, {"a1", "", clock->now(), "x"}}, done);
  });
  ASSERT_TRUE(published.ok());
  auto got = await<std::vector<ports::Delivery>>([&](auto done) {
    subscription->receive(10, std::chrono::seconds(0), std::chrono::seconds(30), done);
  });
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got.value().size(), 2u);
  EXPECT_EQ(got.value()[0].message_id, "t-1");
  EXPECT_EQ(got.value()[1].message_id, "t-2");
}

TEST(MemoryTopicTest, SubscriptionsOutliveTheTopic) {
  auto clock = std::make_shared<memory::SimulatedClock>();
  ports::SubscriptionPtr subscription;
  {
    memory::MemoryTopic topic(clock);
    subscription = topic.subscribe("s");
    auto published = await<void>([&](auto done) {
      topic.publish({{"a1", "a1:1", clock->now(), "x"}}, done);
    });
    ASSERT_TRUE(published.ok());
  }
  auto got = await<std::vector<ports::Delivery>>([&](auto done) {
    subscription->receive(10, std::chrono::seconds(0), std::chrono::seconds(30), done);
  });
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got.value().size(), 1u);
  EXPECT_EQ(got.value()[0].message_id, "a1:1");
}

}  // namespace
}  // namespace gavel::contract
