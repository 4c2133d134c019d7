// The cache, topic and queue contracts against the Redis adapters on a real redis-server
// (tests/contract/redis_server.hpp says how the server is found). Time comes from a simulated
// clock: the adapters take every time from the clock port and pass it to their scripts, so
// the time-dependent cases run against the real server too.

#include <chrono>
#include <memory>
#include <thread>

#include "adapters/memory/simulated_clock.hpp"
#include "adapters/redis/redis_cache.hpp"
#include "adapters/redis/redis_queue.hpp"
#include "adapters/redis/redis_topic.hpp"
#include "contract/cache_contract.hpp"
#include "contract/queue_contract.hpp"
#include "contract/redis_server.hpp"
#include "contract/topic_contract.hpp"
#include "ports/blocking.hpp"

namespace gavel::contract {
namespace {

namespace redis = adapters::redis;

struct RedisCacheFactory {
  ports::CachePtr make() {
    std::string url;
    require_test_redis(url);
    if (url.empty()) return nullptr;
    return std::make_unique<redis::RedisCache>(url,
                                               redis::RedisCacheOptions{unique_redis_prefix(), {}});
  }
};

struct RedisTopicFactory {
  static constexpr bool kSimulatedTime = true;
  std::shared_ptr<adapters::memory::SimulatedClock> clock =
      std::make_shared<adapters::memory::SimulatedClock>();

  ports::TopicPtr make(const TopicConfig& config) {
    std::string url;
    require_test_redis(url);
    if (url.empty()) return nullptr;
    redis::RedisTopicOptions options;
    options.prefix = unique_redis_prefix();
    options.dedup_window = config.dedup_window;
    return std::make_unique<redis::RedisTopic>(url, "events", clock, options);
  }
  domain::Timestamp now() { return clock->now(); }
  void advance(domain::Duration by) { clock->advance_by(by); }
};

// Partitions and leases do not change what the port promises: the suite runs on one partition
// without leases and on four with them (one receiver then holds every lease).
template <std::size_t Partitions, int LeaseMs>
struct RedisQueueFactoryOf {
  static constexpr bool kSimulatedTime = true;
  static constexpr bool kOrdersAcrossKeys = Partitions == 1;
  std::shared_ptr<adapters::memory::SimulatedClock> clock =
      std::make_shared<adapters::memory::SimulatedClock>();

  ports::QueuePtr make(const QueueConfig& config) {
    std::string url;
    require_test_redis(url);
    if (url.empty()) return nullptr;
    redis::RedisQueueOptions options;
    options.prefix = unique_redis_prefix();
    options.max_deliveries = config.max_deliveries;
    options.dedup_window = config.dedup_window;
    options.max_lateness = config.max_lateness;
    options.partitions = Partitions;
    options.lease = std::chrono::milliseconds(LeaseMs);
    return std::make_unique<redis::RedisQueue>(url, "bids", clock, options);
  }
  domain::Timestamp now() { return clock->now(); }
  void advance(domain::Duration by) { clock->advance_by(by); }
};
using RedisQueueFactory = RedisQueueFactoryOf<1, 0>;
using RedisLeasedQueueFactory = RedisQueueFactoryOf<4, 10'000>;

std::size_t receive_count(ports::Subscription& subscription) {
  auto got = ports::call_blocking<std::vector<ports::Delivery>>([&](auto done) {
    subscription.receive(10, domain::Duration{0}, std::chrono::seconds(30), std::move(done));
  });
  return got ? got.value().size() : 0;
}

// Not part of the port: the selfhosted gateways' housekeeping of the groups of gateways that
// are gone. Idle times are Redis's own (real time), hence the short real sleep.
TEST(RedisTopicHousekeeping, OnlyGatewaySubscriptionsIdleLongerThanTheLimitAreRemoved) {
  std::string url;
  require_test_redis(url);
  if (url.empty()) GTEST_SKIP() << "no Redis server";
  auto clock = std::make_shared<adapters::memory::SimulatedClock>();
  redis::RedisTopicOptions options;
  options.prefix = unique_redis_prefix();
  redis::RedisTopic topic(url, "events", clock, options);
  auto gone = topic.subscribe("gateway-gone");
  auto live = topic.subscribe("gateway-live");
  auto notifier = topic.subscribe("notifier");
  auto just_opened = topic.subscribe("gateway-new");  // never read yet: left alone
  const auto publish = [&](const std::string& id) {
    return ports::call_blocking<void>([&](auto done) {
      topic.publish({{"a1", id, clock->now(), "{}"}}, std::move(done));
    });
  };
  ASSERT_TRUE(publish("e1"));
  EXPECT_EQ(receive_count(*gone), 1u);
  EXPECT_EQ(receive_count(*notifier), 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_EQ(receive_count(*live), 1u);

  auto removed = ports::call_blocking<std::vector<std::string>>([&](auto done) {
    topic.prune_idle_subscriptions("gateway-", std::chrono::milliseconds(300), std::move(done));
  });
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(removed.value(), std::vector<std::string>{"gateway-gone"});

  // The others go on; a gateway that comes back under the pruned name starts from new messages.
  ASSERT_TRUE(publish("e2"));
  EXPECT_EQ(receive_count(*live), 1u);
  EXPECT_EQ(receive_count(*notifier), 1u);
  EXPECT_EQ(receive_count(*just_opened), 2u);
  EXPECT_EQ(receive_count(*gone), 0u);
  ASSERT_TRUE(publish("e3"));
  EXPECT_EQ(receive_count(*gone), 1u);
}

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Redis, CacheContract, ::testing::Types<RedisCacheFactory>);
INSTANTIATE_TYPED_TEST_SUITE_P(Redis, TopicContract, ::testing::Types<RedisTopicFactory>);
INSTANTIATE_TYPED_TEST_SUITE_P(Redis, QueueContract, ::testing::Types<RedisQueueFactory>);
INSTANTIATE_TYPED_TEST_SUITE_P(RedisLeased, QueueContract,
                               ::testing::Types<RedisLeasedQueueFactory>);

}  // namespace gavel::contract
