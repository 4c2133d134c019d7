#pragma once
// The engine role: drains the queue in batches and, per batch, decides the commands, commits
// bids + auction states + events in one store transaction, updates the cache, publishes the
// events, and only then acknowledges the queue (ARCHITECTURE.md §3). Recovers its state from
// the store on start. Runs on one thread of its own (start/stop from any other thread).

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "engine/engine.hpp"
#include "ports/cache.hpp"
#include "ports/clock.hpp"
#include "ports/queue.hpp"
#include "ports/store.hpp"
#include "ports/topic.hpp"
#include "ports/wire/command_json.hpp"
#include "roles/metrics_text.hpp"

namespace gavel::roles {

struct EngineHostOptions {
  std::size_t batch_size = 256;
  domain::Duration receive_wait = std::chrono::milliseconds(20);
  domain::Duration visibility = std::chrono::seconds(30);
  /// The queue's max deliveries: a message failed that often is dead-lettered by the queue,
  /// so it stops holding the watermark down (keep equal to the queue's setting).
  int max_deliveries = 5;
  /// How long a commit is tried again while the store is out of reach (retryable errors)
  /// before the batch goes back to the queue; keep it below `visibility`.
  domain::Duration commit_retry_for = std::chrono::seconds(15);
  /// How long to back off after a failed batch (store or queue unavailable).
  domain::Duration retry_backoff = std::chrono::milliseconds(200);
  /// With several engines on one store: how often (on the host's clock) to load the open
  /// auctions this engine has not seen, so that one known only to an engine that died still
  /// closes on time, and to put the store's view of every open auction back in the cache (a
  /// shared cache may have been wiped or missed a put). Zero: never (one engine, which knows
  /// every auction and is the only writer of its cache).
  domain::Duration rescan_every{0};
};

/// One decided command, as the gateway's waiters need it.
struct DecidedCommand {
  std::string command_id;
  std::string op;
  domain::Decision decision;
  std::string auction_view;  ///< JSON public state after the batch; empty if no such auction
};

/// What the engine host has done so far (for /metrics and logs).
struct EngineHostStats {
  std::atomic<std::uint64_t> batches{0};
  std::atomic<std::uint64_t> commands{0};
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> rejected{0};
  std::atomic<std::uint64_t> failed_batches{0};
  /// Commits refused because another engine had moved an auction on (judged again at once).
  std::atomic<std::uint64_t> conflicts{0};
  /// Commits tried again while the store was out of reach.
  std::atomic<std::uint64_t> commit_retries{0};
  std::atomic<std::uint64_t> dead_lettered{0};
  std::atomic<std::uint64_t> events_published{0};
  std::atomic<std::uint64_t> commit_micros_total{0};
  std::atomic<std::uint64_t> audit_records_published{0};
  std::atomic<std::uint64_t> audit_publish_failures{0};
  /// Rejections by reason, indexed by domain::Reason.
  std::array<std::atomic<std::uint64_t>,
             static_cast<std::size_t>(domain::Reason::invalid_auction) + 1>
      rejected_by_reason{};
  SecondsHistogram commit_seconds;  ///< one store commit per batch
  CountHistogram batch_commands;    ///< commands decided per committed batch
};

class EngineHost {
 public:
  using Listener = std::function<void(const std::vector<DecidedCommand>&)>;

  EngineHost(ports::Queue& queue, ports::Store& store, ports::Cache& cache, ports::Topic& topic,
             ports::Clock& clock, EngineHostOptions options = {});
  ~EngineHost();
  EngineHost(const EngineHost&) = delete;
  EngineHost& operator=(const EngineHost&) = delete;

  /// Called on the engine thread after each durable batch (keep it short: post elsewhere).
  void set_listener(Listener listener) { listener_ = std::move(listener); }

  /// Publishes the audit feed (wire/audit_json.hpp: every decided command and every event) to
  /// `topic` after each committed batch. The records are committed with the batch (the store's
  /// audit outbox) and published from there, in commit order, so none is lost when the engine
  /// dies between its commit and the publish. Set before start().
  /// `durable_topic` false (a memory topic, gone with the process): the records stay in the
  /// outbox after the publish, until the auditor has appended them and calls
  /// Store::mark_audit_published itself (Auditor::on_appended).
  void set_audit_topic(ports::Topic* topic, bool durable_topic = true) {
    audit_topic_ = topic;
    audit_topic_durable_ = durable_topic;
  }

  /// Loads every auction from the store, republishes unpublished outbox events and refills the
  /// cache. Throws std::runtime_error if the store is unreachable.
  void recover();

  /// recover(), then runs batches on the engine thread until stop().
  void start();

  /// Stops taking new batches, finishes the one in flight, and joins the thread. Idempotent.
  void stop();

  /// Runs one batch on the calling thread (tests drive the host step by step with it).
  /// Returns how many commands it decided.
  std::size_t run_once();

  const EngineHostStats& stats() const { return stats_; }
  /// Auctions the engine holds (recovered plus created).
  std::size_t auctions() const { return auction_count_.load(); }

 private:
  struct Parsed {
    std::vector<wire::CommandEnvelope> envelopes;
    std::vector<std::string> receipts;
    std::vector<std::string> unparseable;  // receipts of bodies that are not commands
    std::vector<std::string> duplicates;   // receipts of redelivered, already decided bids
  };
  bool already_decided(const wire::CommandEnvelope& envelope);
  /// Moves the commands the store already holds to `duplicates`.
  void drop_already_decided(Parsed& parsed);
  Parsed parse(const std::vector<ports::Delivery>& deliveries);
  ports::CommitBatch build_commit(const Parsed& parsed, const engine::BatchResult& result,
                                  const std::vector<domain::AuctionId>& touched,
                                  const std::vector<ports::OutgoingMessage>& audit) const;
  std::vector<domain::AuctionId> touched_auctions(const Parsed& parsed,
                                                  const engine::BatchResult& result) const;
  /// False when the store did not answer (the batch must not be judged).
  bool load_missing(const Parsed& parsed);
  void roll_back(const std::vector<domain::AuctionId>& touched);
  /// `cause[i]`: the index of the command that caused event i (advance's events have none).
  void after_commit(const Parsed& parsed, const engine::BatchResult& result,
                    const std::vector<domain::AuctionId>& touched,
                    const std::vector<std::size_t>& cause,
                    std::vector<ports::OutgoingMessage> audit);
  domain::Timestamp safe_until();
  void publish_pending_outbox();
  void rescan_open_auctions();
  /// This batch's audit records to the audit topic (or, behind older unpublished ones, the
  /// whole audit outbox in order).
  void publish_audit(std::vector<ports::OutgoingMessage> records);
  void publish_pending_audit();
  /// Publishes audit outbox records; with a durable topic the outbox then forgets them (waiting
  /// for that, or not). Answers false when the publish or the awaited mark failed (the outbox
  /// is dirty then).
  bool send_audit(std::vector<ports::OutgoingMessage> records, bool wait_for_mark);

  ports::Queue& queue_;
  ports::Store& store_;
  ports::Cache& cache_;
  ports::Topic& topic_;
  ports::Clock& clock_;
  EngineHostOptions options_;
  Listener listener_;
  ports::Topic* audit_topic_ = nullptr;
  bool audit_topic_durable_ = true;
  /// The store's audit outbox holds records not yet published (the topic refused them, or
  /// their mark failed): they go out, in commit order, before any newer ones. A record sent
  /// twice is logged once (its key is its dedup id).
  std::atomic<bool> audit_dirty_{true};

  engine::Engine engine_;
  /// An auction's seq and event count as the store holds them: the condition of its next
  /// write. Both, since a rejection takes an event number without moving the seq. Also how
  /// long its bid history is there and the last entry's bid, to tell the next write how much of
  /// the history the store holds already (AuctionWrite::history_kept).
  struct StoredVersion {
    std::uint64_t seq = 0;
    std::uint64_t events = 0;
    std::size_t history = 0;
    domain::BidId last_accepted;

    static StoredVersion of(const domain::AuctionState& state);
    /// How many leading history entries of `now` the store holds unchanged: all it holds when
    /// `now` only added to them, 0 when the history was rewritten (an admin void removes
    /// entries, so the one at the stored length's last index is no longer the same bid).
    std::size_t kept_in(const domain::AuctionState& now) const;
  };
  /// The stored version of each auction this engine holds.
  std::unordered_map<domain::AuctionId, StoredVersion> stored_;
  /// Deliveries whose batch failed, by message id, with their event time: they hold the
  /// watermark down until decided (a nacked message was delivered once, so the queue's own
  /// watermark no longer counts it).
  std::map<std::string, domain::Timestamp> unfinished_;
  std::atomic<bool> outbox_dirty_{true};  // also set by the store's callbacks
  domain::Timestamp next_rescan_{};

  EngineHostStats stats_;
  std::atomic<std::size_t> auction_count_{0};
  std::atomic<bool> running_{false};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace gavel::roles
