// The cache, topic and queue contracts against the Redis adapters on a real redis-server
// (tests/contract/redis_server.hpp says how the server is found). Time comes from a simulated
// clock: the adapters take every time from the clock port and pass it to their scripts, so
// the time-dependent cases run against the real server too.

#include <memory>

#include "adapters/memory/simulated_clock.hpp"
#include "adapters/redis/redis_cache.hpp"
#include "adapters/redis/redis_queue.hpp"
#include "adapters/redis/redis_topic.hpp"
#include "contract/cache_contract.hpp"
#include "contract/queue_contract.hpp"
#include "contract/redis_server.hpp"
#include "contract/topic_contract.hpp"

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

struct RedisQueueFactory {
  static constexpr bool kSimulatedTime = true;
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
    return std::make_unique<redis::RedisQueue>(url, "bids", clock, options);
  }
  domain::Timestamp now() { return clock->now(); }
  void advance(domain::Duration by) { clock->advance_by(by); }
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Redis, CacheContract, ::testing::Types<RedisCacheFactory>);
INSTANTIATE_TYPED_TEST_SUITE_P(Redis, TopicContract, ::testing::Types<RedisTopicFactory>);
INSTANTIATE_TYPED_TEST_SUITE_P(Redis, QueueContract, ::testing::Types<RedisQueueFactory>);

}  // namespace gavel::contract
