#pragma once
// The cache port on Redis (the seed's ElastiCache): one hash per auction,
// `{<prefix>:cache}:a:<auction id>` with fields `s` (seq) and `b` (the JSON body), and a set
// `{<prefix>:cache}:ids` of the ids held, so clear() can forget them without a SCAN.
//
// put() is one Lua script: each entry replaces the hash only when its seq is greater than the
// stored one (compared as decimal text, so exact for every uint64), so a delayed writer never
// rolls an auction back, whichever process it runs in. All keys share one hash tag: on a Redis
// Cluster the cache lives on one shard (the scripts need their keys in one slot).
//
// Calls are answered from the adapter's worker thread (one connection, commands in order);
// lookups made while it is busy go to Redis together, as one script call.
// Connection failures answer ErrorKind::retryable and the next call reconnects.

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "adapters/redis/connection.hpp"
#include "adapters/redis/worker.hpp"
#include "ports/cache.hpp"

namespace gavel::adapters::redis {

struct RedisCacheOptions {
  /// Namespace of the keys; several deployments (or test runs) may share one server.
  std::string prefix = "gavel";
  ConnectionOptions connection;
};

class RedisCache final : public ports::Cache {
 public:
  using Options = RedisCacheOptions;

  /// `url`: redis://[[user]:password@]host[:port][/db]. Connects lazily (the first call);
  /// throws std::invalid_argument for a malformed URL.
  explicit RedisCache(const std::string& url, const Options& options = {});
  ~RedisCache() override;
  RedisCache(const RedisCache&) = delete;
  RedisCache& operator=(const RedisCache&) = delete;

  void put(std::vector<ports::CachedAuction> entries, ports::Callback<void> done) override;
  using Answers = std::vector<std::optional<ports::CachedAuction>>;
  void get(std::vector<domain::AuctionId> ids, ports::Callback<Answers> done) override;
  void clear(ports::Callback<void> done) override;

 private:
  struct PendingGet {
    std::vector<domain::AuctionId> ids;
    ports::Callback<Answers> done;
  };
  void flush_gets(Connection& connection, const std::vector<PendingGet>& batch);
  static ports::Result<void> look_up(
      Connection& connection, const std::vector<std::string>& args,
      std::map<std::string, std::optional<ports::CachedAuction>>& found);

  const std::string base_;  // "{<prefix>:cache}:"
  Coalescer<PendingGet> gets_{[this](Connection& connection, const std::vector<PendingGet>& batch) {
    flush_gets(connection, batch);
  }};
  std::unique_ptr<Worker> worker_;  // last: destroyed first, running the jobs still posted
};

}  // namespace gavel::adapters::redis
