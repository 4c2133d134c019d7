#include "adapters/memory/memory_cache.hpp"

#include <utility>

namespace gavel::adapters::memory {

void MemoryCache::put(std::vector<ports::CachedAuction> entries, ports::Callback<void> done) {
  {
    std::lock_guard lock(mutex_);
    for (auto& entry : entries) {
      const auto found = entries_.find(entry.id);
      if (found == entries_.end()) {
        entries_.emplace(entry.id, std::move(entry));
      } else if (entry.seq > found->second.seq) {
        found->second = std::move(entry);
      }
    }
  }
  done({});
}

void MemoryCache::get(std::vector<domain::AuctionId> ids,
                      ports::Callback<std::vector<std::optional<ports::CachedAuction>>> done) {
  std::vector<std::optional<ports::CachedAuction>> answers;
  answers.reserve(ids.size());
  {
    std::lock_guard lock(mutex_);
    for (const auto& id : ids) {
      const auto found = entries_.find(id);
      if (found == entries_.end()) {
        answers.emplace_back(std::nullopt);
      } else {
        answers.emplace_back(found->second);
      }
    }
  }
  done(std::move(answers));
}

void MemoryCache::clear(ports::Callback<void> done) {
  {
    std::lock_guard lock(mutex_);
    entries_.clear();
  }
  done({});
}

}  // namespace gavel::adapters::memory
