#pragma once
// The adapters a profile plugs into the ports (ARCHITECTURE.md §2): one object owning them
// all, so `gavel serve` wires roles to ports without knowing which backend is behind them.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "app/config.hpp"
#include "ports/audit_log.hpp"
#include "ports/cache.hpp"
#include "ports/clock.hpp"
#include "ports/notice_store.hpp"
#include "ports/queue.hpp"
#include "ports/store.hpp"
#include "ports/topic.hpp"

namespace gavel::app {

struct Backends {
  std::unique_ptr<ports::Queue> queue;
  std::unique_ptr<ports::Topic> topic;        ///< auction events
  std::unique_ptr<ports::Topic> audit_topic;  ///< the audit feed (commands and events)
  /// The notifier's in-app notices on their way to the gateways holding the users' sockets.
  std::unique_ptr<ports::Topic> notice_topic;
  std::unique_ptr<ports::Cache> cache;
  std::unique_ptr<ports::Store> store;
  std::unique_ptr<ports::AuditLog> audit_log;
  std::unique_ptr<ports::NoticeStore> notices;
  /// Whether an enqueued command survives this process (a networked queue): then 202 can
  /// answer at enqueue; otherwise it waits for the engine's durable commit.
  bool durable_queue = false;
  /// Whether a message published to a topic survives this process (a networked topic): else a
  /// consumer in this process must confirm what it has handled (the audit outbox).
  bool durable_topics = false;
  /// Removes the topic subscriptions of gateways idle for longer than the given time (gone: their
  /// consumer groups would keep the streams' entries pending forever) and answers their
  /// "topic/name"s. Blocking; empty when the topics are in memory (they die with the process).
  std::function<std::vector<std::string>(domain::Duration idle)> prune_gone_gateways;
};

/// The profile's adapters. Throws ConfigError for a profile or setting that cannot be served,
/// std::runtime_error when a backend cannot be opened.
Backends open_backends(const Config& config, const ports::ClockPtr& clock);

}  // namespace gavel::app
