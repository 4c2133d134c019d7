// The store contract, run against the memory store.

#include "contract/store_contract.hpp"

#include <memory>

#include "adapters/memory/memory_store.hpp"

namespace gavel::contract {
namespace {

struct MemoryStoreFactory {
  ports::StorePtr make() { return std::make_unique<adapters::memory::MemoryStore>(); }
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Memory, StoreContract, ::testing::Types<MemoryStoreFactory>);

}  // namespace gavel::contract
