#include "adapters/jwt/verified_cache.hpp"

namespace gavel::adapters::jwt {

VerifiedCache::VerifiedCache(std::size_t capacity) : capacity_(capacity) {}

std::optional<ports::Principal> VerifiedCache::find(std::string_view token,
                                                    domain::Timestamp now) const {
  if (capacity_ == 0) return std::nullopt;
  const std::lock_guard lock(mutex_);
  const auto it = entries_.find(token);
  if (it == entries_.end() || now >= it->second.valid_until) return std::nullopt;
  return it->second.principal;
}

void VerifiedCache::insert(std::string_view token, const ports::Principal& principal,
                           domain::Timestamp valid_until, domain::Timestamp now) {
  if (capacity_ == 0) return;
  const std::lock_guard lock(mutex_);
  if (entries_.size() >= capacity_) {
    std::erase_if(entries_, [now](const auto& entry) { return now >= entry.second.valid_until; });
    if (entries_.size() >= capacity_) entries_.clear();
  }
  entries_.insert_or_assign(std::string(token), Entry{principal, valid_until});
}

}  // namespace gavel::adapters::jwt
