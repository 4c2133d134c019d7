#pragma once
// The cache port in process memory: the embedded profile's cache and the tests' fake.
// Thread-safe; answers every call before returning.

#include <map>
#include <mutex>

#include "ports/cache.hpp"

namespace gavel::adapters::memory {

class MemoryCache final : public ports::Cache {
 public:
  void put(std::vector<ports::CachedAuction> entries, ports::Callback<void> done) override;
  void get(std::vector<domain::AuctionId> ids,
           ports::Callback<std::vector<std::optional<ports::CachedAuction>>> done) override;
  void clear(ports::Callback<void> done) override;

 private:
  std::mutex mutex_;
  std::map<domain::AuctionId, ports::CachedAuction> entries_;
};

}  // namespace gavel::adapters::memory
