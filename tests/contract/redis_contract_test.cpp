// The cache, topic and queue contracts against the Redis adapters on a real redis-server
// (tests/contract/redis_server.hpp says how the server is found). Time comes from a simulated
// clock: the adapters take every time from the clock port and pass it to their scripts, so
// the time-dependent cases run against the real server too.

#include <memory>

#include "adapters/redis/redis_cache.hpp"
#include "contract/cache_contract.hpp"
#include "contract/redis_server.hpp"

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

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Redis, CacheContract, ::testing::Types<RedisCacheFactory>);

}  // namespace gavel::contract
