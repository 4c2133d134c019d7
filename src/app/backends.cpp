#include "app/backends.hpp"

#include <filesystem>

#include "adapters/memory/memory_cache.hpp"
#include "adapters/memory/memory_queue.hpp"
#include "adapters/memory/memory_topic.hpp"
#include "adapters/postgres/postgres_audit_log.hpp"
#include "adapters/postgres/postgres_notice_store.hpp"
#include "adapters/postgres/postgres_store.hpp"
#include "adapters/redis/redis_cache.hpp"
#include "adapters/redis/redis_queue.hpp"
#include "adapters/redis/redis_topic.hpp"
#include "adapters/sqlite/sqlite_audit_log.hpp"
#include "adapters/sqlite/sqlite_notice_store.hpp"
#include "adapters/sqlite/sqlite_store.hpp"
#include "app/audit.hpp"
#include "ports/blocking.hpp"

namespace gavel::app {

namespace fs = std::filesystem;

namespace {

/// One machine, nothing to install: memory queue, topics and cache; SQLite files in the data
/// dir.
Backends embedded(const Config& config, const ports::ClockPtr& clock) {
  fs::create_directories(config.data_dir);
  Backends backends;
  backends.queue = std::make_unique<adapters::memory::MemoryQueue>(clock);
  backends.topic = std::make_unique<adapters::memory::MemoryTopic>(clock);
  backends.audit_topic = std::make_unique<adapters::memory::MemoryTopic>(clock);
  backends.notice_topic = std::make_unique<adapters::memory::MemoryTopic>(clock);
  backends.cache = std::make_unique<adapters::memory::MemoryCache>();
  backends.store =
      std::make_unique<adapters::sqlite::SqliteStore>(fs::path(config.data_dir) / "gavel.db");
  backends.audit_log =
      std::make_unique<adapters::sqlite::SqliteAuditLog>(audit_log_path(config.data_dir));
  backends.notices = std::make_unique<adapters::sqlite::SqliteNoticeStore>(
      fs::path(config.data_dir) / "notices.db");
  return backends;
}

/// Open-source servers, any number of processes: Redis (queue and topics on Streams, cache) and
/// PostgreSQL (store, audit log, notices). The queue lives outside every process, so a command
/// is safe once Redis has it (with appendfsync always; see README.md).
Backends selfhosted(const Config& config, const ports::ClockPtr& clock) {
  if (config.redis_url.empty()) throw ConfigError("profile selfhosted needs redis-url");
  if (config.postgres_url.empty()) throw ConfigError("profile selfhosted needs postgres-url");
  Backends backends;
  adapters::redis::RedisQueueOptions queue_options;
  queue_options.partitions = config.queue_partitions;
  queue_options.lease = std::chrono::seconds(config.engine_lease_seconds);
  queue_options.receiver = config.node_id.empty() ? "engine" : config.node_id;
  backends.queue =
      std::make_unique<adapters::redis::RedisQueue>(config.redis_url, "bids", clock, queue_options);
  std::vector<std::pair<std::string, adapters::redis::RedisTopic*>> topics;
  const auto open_topic = [&](const std::string& name) {
    auto topic = std::make_unique<adapters::redis::RedisTopic>(config.redis_url, name, clock);
    topics.emplace_back(name, topic.get());
    return topic;
  };
  backends.topic = open_topic("events");
  backends.audit_topic = open_topic("audit");
  backends.notice_topic = open_topic("notices");
  // Gateways subscribe as "gateway-<node id>" (serve.cpp); the notifier and auditor are shared
  // names that every process of their role reuses, so they are never pruned.
  backends.prune_gone_gateways = [topics](domain::Duration idle) {
    std::vector<std::string> removed;
    for (const auto& entry : topics) {
      adapters::redis::RedisTopic* topic = entry.second;
      auto pruned = ports::call_blocking<std::vector<std::string>>(
          [&](auto done) { topic->prune_idle_subscriptions("gateway-", idle, std::move(done)); });
      if (!pruned) continue;  // tried again next time
      for (const auto& group : pruned.value()) {
        std::string label = entry.first;
        label += '/';
        label += group;
        removed.push_back(std::move(label));
      }
    }
    return removed;
  };
  backends.cache = std::make_unique<adapters::redis::RedisCache>(config.redis_url);
  backends.store = std::make_unique<adapters::postgres::PostgresStore>(config.postgres_url);
  backends.audit_log = std::make_unique<adapters::postgres::PostgresAuditLog>(config.postgres_url);
  backends.notices = std::make_unique<adapters::postgres::PostgresNoticeStore>(config.postgres_url);
  backends.durable_queue = true;
  backends.durable_topics = true;
  return backends;
}

}  // namespace

Backends open_backends(const Config& config, const ports::ClockPtr& clock) {
  if (config.profile == "embedded") return embedded(config, clock);
  if (config.profile == "selfhosted") return selfhosted(config, clock);
  throw ConfigError("profile: '" + config.profile +
                    "' is not available yet; 'embedded' and 'selfhosted' are (see README.md)");
}

}  // namespace gavel::app
