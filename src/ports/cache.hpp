#pragma once
// Current auction state for fast reads (the seed's ElastiCache): a versioned copy of what the
// store holds. The store is the truth; the cache may lag or be wiped and is rebuilt from it.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "domain/ids.hpp"
#include "ports/result.hpp"

namespace gavel::ports {

/// The public state of one auction, serialized (JSON of GET /v1/auctions/{id}), and its seq.
struct CachedAuction {
  domain::AuctionId id;
  std::uint64_t seq = 0;
  std::string body;
  bool operator==(const CachedAuction&) const = default;
};

class Cache {
 public:
  virtual ~Cache() = default;

  /// Stores each entry unless the cache holds that auction at an equal or higher seq, so a
  /// delayed writer never rolls the state back.
  virtual void put(std::vector<CachedAuction> entries, Callback<void> done) = 0;

  /// One answer per id, in order; nullopt when the cache does not hold it.
  virtual void get(std::vector<domain::AuctionId> ids,
                   Callback<std::vector<std::optional<CachedAuction>>> done) = 0;

  /// Forgets everything (reconciliation and tests rebuild it from the store).
  virtual void clear(Callback<void> done) = 0;
};

using CachePtr = std::unique_ptr<Cache>;

}  // namespace gavel::ports
