// The Redis queue's partitions and leases, beyond the port's contract: receivers share the
// partitions, one that leaves (or dies) is taken over within the lease time with its deliveries
// in flight, and the partition count is fixed for a queue. Leases run on the server's clock
// (real time), hence the short real waits; the queue's own times come from a simulated clock
// that never moves here, so nothing comes back by a visibility timeout.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "adapters/memory/simulated_clock.hpp"
#include "adapters/redis/redis_queue.hpp"
#include "contract/redis_server.hpp"
#include "ports/blocking.hpp"

namespace gavel::contract {
namespace {

namespace redis = adapters::redis;
using std::chrono::milliseconds;

constexpr auto kLease = milliseconds(600);

class RedisQueueLeaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    require_test_redis(url_);
    if (url_.empty()) GTEST_SKIP() << "no Redis server";
    prefix_ = unique_redis_prefix();
  }

  std::unique_ptr<redis::RedisQueue> open(const std::string& receiver, std::size_t partitions = 4) {
    redis::RedisQueueOptions options;
    options.prefix = prefix_;
    options.partitions = partitions;
    options.lease = kLease;
    options.receiver = receiver;
    return std::make_unique<redis::RedisQueue>(url_, "bids", clock_, options);
  }

  ports::Result<std::vector<ports::SendReceipt>> send(redis::RedisQueue& queue,
                                                      const std::string& key) {
    return ports::call_blocking<std::vector<ports::SendReceipt>>([&](auto done) {
      queue.send({{key, "", clock_->now(), "body of " + key}}, std::move(done));
    });
  }

  std::vector<ports::Delivery> receive(redis::RedisQueue& queue, std::size_t max = 100) {
    auto got = ports::call_blocking<std::vector<ports::Delivery>>([&](auto done) {
      queue.receive({max, domain::Duration::zero(), std::chrono::minutes(10)}, std::move(done));
    });
    EXPECT_TRUE(got.ok()) << got.error().message;
    return got.ok() ? got.value() : std::vector<ports::Delivery>{};
  }

  std::string url_;
  std::string prefix_;
  std::shared_ptr<adapters::memory::SimulatedClock> clock_ =
      std::make_shared<adapters::memory::SimulatedClock>();
};

TEST_F(RedisQueueLeaseTest, TwoReceiversShareThePartitionsAndEachMessageGoesToOne) {
  auto a = open("a");
  auto b = open("b");
  EXPECT_TRUE(receive(*a).empty());  // joins: holds every partition for now
  EXPECT_TRUE(receive(*b).empty());  // joins: finds none free
  // Within a lease, a gives back the half over its share and b takes it.
  std::this_thread::sleep_for(kLease * 2);
  std::set<std::string> keys;
  for (int i = 0; i < 40; ++i) {
    keys.insert("auction-" + std::to_string(i));
    ASSERT_TRUE(send(*a, "auction-" + std::to_string(i)).ok());
  }
  std::set<std::string> by_a;
  std::set<std::string> by_b;
  for (const auto& d : receive(*a)) by_a.insert(d.ordering_key);
  for (const auto& d : receive(*b)) by_b.insert(d.ordering_key);
  EXPECT_FALSE(by_a.empty());
  EXPECT_FALSE(by_b.empty());
  std::set<std::string> both = by_a;
  both.insert(by_b.begin(), by_b.end());
  EXPECT_EQ(both.size(), by_a.size() + by_b.size()) << "a key went to both receivers";
  EXPECT_EQ(both, keys);
  // Closing follows the same split: each key is one receiver's.
  for (const auto& key : keys) {
    EXPECT_NE(a->receives(key), b->receives(key)) << key;
    EXPECT_EQ(a->receives(key), by_a.contains(key)) << key;
  }
}

TEST_F(RedisQueueLeaseTest, AReceiverThatLeavesIsTakenOverWithItsDeliveriesInFlight) {
  auto a = open("a");
  EXPECT_TRUE(receive(*a).empty());
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(send(*a, "auction-" + std::to_string(i)).ok());
  const auto taken = receive(*a);
  ASSERT_EQ(taken.size(), 8u);  // all in flight on a, for ten minutes of the queue's clock
  auto b = open("b");
  EXPECT_TRUE(receive(*b).empty());  // a holds every partition and is alive
  a.reset();                         // gone without acknowledging anything
  std::vector<ports::Delivery> again;
  const auto give_up = std::chrono::steady_clock::now() + kLease * 4;
  while (again.size() < taken.size() && std::chrono::steady_clock::now() < give_up) {
    for (auto& d : receive(*b)) again.push_back(std::move(d));
    std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_EQ(again.size(), taken.size()) << "b took a's partitions and a's deliveries back";
  for (const auto& d : again) EXPECT_EQ(d.delivery_count, 2) << d.message_id;
}

TEST_F(RedisQueueLeaseTest, AReceiverWithoutALeaseOfAPartitionReceivesNothingFromIt) {
  auto a = open("a", 1);
  auto b = open("b", 1);
  EXPECT_TRUE(receive(*a).empty());  // a holds the only partition
  ASSERT_TRUE(send(*b, "auction-1").ok());
  EXPECT_TRUE(receive(*b).empty());  // b's share is one, but the partition is a's
  EXPECT_EQ(receive(*a).size(), 1u);
}

TEST_F(RedisQueueLeaseTest, MessageIdsNameTheirPartitionAndFitInAUrlPathSegment) {
  auto a = open("a");
  const auto sent = send(*a, "auction-1");
  ASSERT_TRUE(sent.ok());
  const std::string& id = sent.value()[0].message_id;
  // GET /v1/admin/dlq/{id} takes it as one path segment.
  EXPECT_EQ(
      id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~"),
      std::string::npos)
      << id;
  const auto got = receive(*a);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].message_id, id);
}

// Fair close across partitions (the contract's own watermark cases take the oldest key first,
// which only a one-partition queue does): the watermark is the oldest unsettled message in any
// partition, delivered or not.
TEST_F(RedisQueueLeaseTest, TheWatermarkIsHeldByAnUnsettledMessageInAnyPartition) {
  auto a = open("a");
  EXPECT_TRUE(receive(*a).empty());
  const auto sent_at = clock_->now();
  for (int i = 0; i < 16; ++i) ASSERT_TRUE(send(*a, "auction-" + std::to_string(i)).ok());
  clock_->advance_by(std::chrono::seconds(10));
  const auto watermark = [&] {
    auto mark =
        ports::call_blocking<domain::Timestamp>([&](auto done) { a->watermark(std::move(done)); });
    EXPECT_TRUE(mark.ok());
    return mark.ok() ? mark.value() : domain::Timestamp{};
  };
  EXPECT_EQ(watermark(), sent_at);  // waiting
  const auto got = receive(*a);
  ASSERT_EQ(got.size(), 16u);
  EXPECT_EQ(watermark(), sent_at);  // in flight
  std::vector<std::string> all_but_one;
  std::string last;
  for (const auto& d : got) {
    if (d.ordering_key == "auction-7") {
      last = d.receipt;
    } else {
      all_but_one.push_back(d.receipt);
    }
  }
  const auto ack = [&](std::vector<std::string> receipts) {
    ASSERT_TRUE(ports::call_blocking<void>(
        [&](auto done) { a->ack(std::move(receipts), std::move(done)); }));
  };
  ack(all_but_one);
  EXPECT_EQ(watermark(), sent_at);  // auction-7, in its partition, still holds it
  ack({last});
  EXPECT_EQ(watermark(), clock_->now() - redis::RedisQueueOptions{}.max_lateness);
}

TEST_F(RedisQueueLeaseTest, TheCountOfPartitionsIsFixedForAQueue) {
  auto four = open("a", 4);
  ASSERT_TRUE(send(*four, "auction-1").ok());
  auto two = open("b", 2);
  const auto refused = send(*two, "auction-1");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ports::ErrorKind::permanent);
  EXPECT_NE(refused.error().message.find("4 partitions"), std::string::npos)
      << refused.error().message;
}

}  // namespace
}  // namespace gavel::contract
