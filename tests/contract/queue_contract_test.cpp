// The queue contract, run against the memory queue on simulated time and on the system clock
// (the latter shows the suite's shape for adapters whose time cannot be simulated: the
// time-dependent cases skip).

#include "contract/queue_contract.hpp"

#include <memory>

#include "adapters/memory/memory_queue.hpp"
#include "adapters/memory/simulated_clock.hpp"
#include "adapters/memory/system_clock.hpp"

namespace gavel::contract {
namespace {

namespace memory = adapters::memory;

memory::MemoryQueueOptions options_for(const QueueConfig& config) {
  return memory::MemoryQueueOptions{config.max_deliveries, config.dedup_window,
                                    config.max_lateness};
}

struct MemoryQueueFactory {
  static constexpr bool kSimulatedTime = true;
  std::shared_ptr<memory::SimulatedClock> clock = std::make_shared<memory::SimulatedClock>();

  ports::QueuePtr make(const QueueConfig& config) {
    return std::make_unique<memory::MemoryQueue>(clock, options_for(config));
  }
  domain::Timestamp now() { return clock->now(); }
  void advance(domain::Duration by) { clock->advance_by(by); }
};

struct MemoryQueueOnSystemClockFactory {
  static constexpr bool kSimulatedTime = false;
  std::shared_ptr<memory::SystemClock> clock = std::make_shared<memory::SystemClock>();

  ports::QueuePtr make(const QueueConfig& config) {
    return std::make_unique<memory::MemoryQueue>(clock, options_for(config));
  }
  domain::Timestamp now() { return clock->now(); }
  void advance(domain::Duration /*by*/) {}
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Memory, QueueContract, ::testing::Types<MemoryQueueFactory>);
INSTANTIATE_TYPED_TEST_SUITE_P(MemoryOnSystemClock, QueueContract,
                               ::testing::Types<MemoryQueueOnSystemClockFactory>);

// --- memory-specific behaviour (beyond the port's contract) ------------------------------

namespace {

class MemoryQueueTest : public ::testing::Test {
 protected:
  std::shared_ptr<memory::SimulatedClock> clock_ = std::make_shared<memory::SimulatedClock>();
};

TEST_F(MemoryQueueTest, OneReceiveMayCarrySeveralMessagesOfAKeyInOrder) {
  memory::MemoryQueue queue(clock_);
  auto sent = await<std::vector<ports::SendReceipt>>([&](auto done) {
    queue.send({{"a1", "1", clock_->now(), "one"},
                {"a2", "2", clock_->now(), "other"},
                {"a1", "3", clock_->now(), "two"}},
               done);
  });
  ASSERT_TRUE(sent.ok());
  auto got = await<std::vector<ports::Delivery>>(
      [&](auto done) { queue.receive(ports::ReceiveOptions{}, done); });
  ASSERT_TRUE(got.ok());
  std::vector<std::string> bodies;
  for (const auto& delivery : got.value()) bodies.push_back(delivery.body);
  EXPECT_THAT(bodies, ::testing::ElementsAre("one", "other", "two"));
  EXPECT_EQ(queue.size(), 3u);
}

TEST_F(MemoryQueueTest, DefaultOptionsMatchSqs) {
  const memory::MemoryQueueOptions options;
  EXPECT_EQ(options.max_deliveries, 5);
  EXPECT_EQ(options.dedup_window, std::chrono::minutes(5));
  EXPECT_EQ(options.max_lateness, std::chrono::seconds(2));
}

TEST_F(MemoryQueueTest, DestroyingTheQueueAnswersPendingLongPollsRetryable) {
  Pending<std::vector<ports::Delivery>> pending;
  {
    memory::MemoryQueue queue(clock_);
    queue.receive(ports::ReceiveOptions{10, std::chrono::seconds(20), std::chrono::seconds(30)},
                  pending.callback());
    EXPECT_FALSE(pending.ready());
  }
  ASSERT_TRUE(pending.ready());
  EXPECT_EQ(describe(pending.get()), "retryable: queue closed");
  clock_->advance_by(std::chrono::minutes(1));  // the dropped timer finds no queue
  EXPECT_EQ(pending.calls(), 1);
}

TEST_F(MemoryQueueTest, ALateMessageIsRefusedWithAReadableReason) {
  memory::MemoryQueue queue(clock_);
  const auto late = clock_->now() - std::chrono::seconds(3);
  auto result = await<std::vector<ports::SendReceipt>>([&](auto done) {
    queue.send({{"a1", "1", late, "x"}}, done);
  });
  EXPECT_EQ(describe(result),
            "permanent: message event_time 2025-12-31T23:59:57Z is older than the queue's "
            "lateness bound");
}

TEST_F(MemoryQueueTest, AnEmptyDedupIdIsNeverADuplicate) {
  memory::MemoryQueue queue(clock_);
  auto result = await<std::vector<ports::SendReceipt>>([&](auto done) {
    queue.send({{"a1", "", clock_->now(), "x"}, {"a1", "", clock_->now(), "x"}}, done);
  });
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(result.value().size(), 2u);
  EXPECT_FALSE(result.value()[1].duplicate);
  EXPECT_NE(result.value()[0].message_id, result.value()[1].message_id);
  EXPECT_EQ(queue.size(), 2u);
}

TEST_F(MemoryQueueTest, CallbacksMayCallTheQueue) {
  memory::MemoryQueue queue(clock_);
  Pending<std::vector<ports::SendReceipt>> resent;
  queue.receive(ports::ReceiveOptions{10, std::chrono::seconds(5), std::chrono::seconds(30)},
                [&](ports::Result<std::vector<ports::Delivery>> got) {
                  // Runs inside send(): the queue's lock must not be held here.
                  ASSERT_TRUE(got.ok());
                  queue.send({{"a2", "2", clock_->now(), "from callback"}}, resent.callback());
                });
  auto sent = await<std::vector<ports::SendReceipt>>([&](auto done) {
    queue.send({{"a1", "1", clock_->now(), "x"}}, done);
  });
  ASSERT_TRUE(sent.ok());
  ASSERT_TRUE(resent.ready());
  EXPECT_EQ(queue.size(), 2u);
}

}  // namespace
}  // namespace gavel::contract
