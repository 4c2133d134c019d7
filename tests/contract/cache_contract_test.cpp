// The cache contract, run against the memory cache.

#include "contract/cache_contract.hpp"

#include <memory>

#include "adapters/memory/memory_cache.hpp"

namespace gavel::contract {
namespace {

struct MemoryCacheFactory {
  ports::CachePtr make() { return std::make_unique<adapters::memory::MemoryCache>(); }
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Memory, CacheContract, ::testing::Types<MemoryCacheFactory>);

}  // namespace gavel::contract
