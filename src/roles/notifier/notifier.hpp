#pragma once
// The notifier role (RULES.md §Notifications): consumes auction events from its topic
// subscription, decides who hears what (notice_rules.hpp), puts each notice in the user's inbox
// and promises a delivery on each channel the user chose; a DeliveryWorker per channel then
// delivers, retries and dead-letters on its own schedule. A batch of events is acknowledged
// only after its inbox notices, its deliveries and what it taught about the auctions are
// durably recorded, so a crash redelivers it, and the notice ids make the second pass a no-op:
// each notice reaches each user once per event, on each channel at most once per success.
//
// Ending-soon notices are not events: run_once() checks the auctions it watches against the
// clock and sends one per auction and bidder when the clock passes endsAt − lead.
//
// Lifecycle and threads: construct, then start() (recovers pending deliveries and open
// auctions from the store, then consumes on a thread of its own; each channel worker has its
// own thread), stop() from any other thread. Tests skip start() and call recover() and
// run_once() on their own thread, which then also runs the due deliveries.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "ports/clock.hpp"
#include "ports/notice_store.hpp"
#include "ports/notification_channel.hpp"
#include "ports/topic.hpp"
#include "roles/notifier/delivery_worker.hpp"
#include "roles/notifier/notice_rules.hpp"

namespace gavel::roles::notifier {

/// Looks up an auction's title and currency for the words of a notice (events carry neither).
/// Called on the notifier's thread, once per auction while it is open; may block. Nothing:
/// the notice says "auction <id>" and amounts without a currency.
using FactsLookup = std::function<std::optional<AuctionFacts>(const domain::AuctionId&)>;

struct NotifierOptions {
  /// How long before endsAt the ending-soon notice goes out.
  domain::Duration ending_soon_lead = std::chrono::minutes(5);
  RetryPolicy retry;
  std::size_t batch_size = 64;
  domain::Duration receive_wait = std::chrono::milliseconds(250);
  domain::Duration visibility = std::chrono::seconds(30);
  /// The pause after a failed batch (store or topic unavailable), on the notifier's thread.
  std::chrono::milliseconds failure_pause{500};
  /// Seeds the retry jitter (each channel's worker gets seed + its index).
  std::uint64_t seed = std::random_device{}();
  FactsLookup facts;
};

/// What the notifier has done so far, for /metrics.
struct NotifierStats {
  std::atomic<std::uint64_t> events{0};   ///< events consumed (redeliveries included)
  std::atomic<std::uint64_t> skipped{0};  ///< messages that were not events
  std::atomic<std::uint64_t> notices{0};  ///< inbox notices written (redeliveries included)
  std::atomic<std::uint64_t> failed_batches{0};
};

class Notifier {
 public:
  /// `channels` are the delivery channels besides the inbox, by name: "webhook", "email" and
  /// "sms" go to users who chose them and gave an address; any other (e.g. "inapp", a
  /// WebSocket push) goes to every recipient. The references must outlive the notifier.
  Notifier(ports::Subscription& subscription, ports::NoticeStore& store,
           const std::vector<ports::NotificationChannel*>& channels, ports::Clock& clock,
           NotifierOptions options = {});
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  /// Loads the open auctions and pending deliveries from the store. Throws std::runtime_error
  /// when the store does not answer.
  void recover();

  /// recover(), then consumes on the notifier's thread and delivers on the workers' threads
  /// until stop().
  void start();
  /// Stops consuming and delivering; pending deliveries stay in the store. Idempotent.
  void stop();

  /// One round on the calling thread: receives a batch of events and records what they
  /// decide, sends the ending-soon notices that are due, and, unless started, attempts the due
  /// deliveries. Returns the number of events consumed.
  std::size_t run_once();

  const NotifierStats& stats() const { return stats_; }
  /// Per channel, by name: sent, failed attempts, dead-lettered.
  const ChannelCounts* channel_counts(std::string_view channel) const;
  /// Appends the notifier's Prometheus samples (gavel_notifier_*).
  void append_metrics(std::ostream& out) const;

 private:
  struct Watch {
    ports::AuctionWatch stored;  // as the store has it (after the last recorded batch)
    domain::Amount price{};      // the last price seen (not stored: for the words only)
    std::optional<AuctionFacts> facts;
    /// How many of stored.participants the store holds: a batch records only those after
    /// them (the store merges, ports::merge_watch), so that a hot auction's every batch does
    /// not write all its bidders again.
    std::size_t recorded_participants = 0;
  };
  struct Pending;  // what one round decided, before it is recorded

  Watch& watch_for(const domain::AuctionId& auction_id);
  const AuctionFacts& facts_for(const domain::AuctionId& auction_id, Watch& watch);
  std::size_t consume(Pending& pending);
  void log_notices(const std::string& event_body, const Pending& pending, std::size_t from) const;
  void apply(const domain::Event& event, Pending& pending);
  void add_ending_soon(Pending& pending);
  void add_notices(const domain::Event& event, const std::vector<Recipient>& who,
                   domain::Timestamp at, Watch& watch, Pending& pending);
  bool commit(Pending& pending);

  ports::Subscription& subscription_;
  ports::NoticeStore& store_;
  ports::Clock& clock_;
  NotifierOptions options_;
  std::vector<std::unique_ptr<DeliveryWorker>> workers_;  // the tracked channels
  /// An untracked channel (ports::NotificationChannel::tracked): sent each notice once after
  /// it is recorded, with no delivery record to write, retry or settle.
  struct DirectChannel {
    explicit DirectChannel(ports::NotificationChannel& to) : channel(to) {}
    ports::NotificationChannel& channel;
    ChannelCounts counts;
  };
  std::vector<std::unique_ptr<DirectChannel>> direct_;
  void send_direct(const std::vector<ports::InboxNotice>& notices);

  // Auctions not finished, as far as this notifier knows; only the consuming thread uses it.
  std::map<domain::AuctionId, Watch> watches_;
  bool lookup_failed_ = false;  // a watch could not be read this round

  NotifierStats stats_;
  std::atomic<bool> running_{false};
  bool started_ = false;
  std::thread thread_;
};

}  // namespace gavel::roles::notifier
