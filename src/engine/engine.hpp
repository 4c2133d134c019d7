#pragma once
// The single writer: commands in (in queue order), one decision per command and the events
// they cause out. The engine owns the state of the auctions given to it; exactly one engine
// may write an auction at any time (the host guarantees it with queue ordering groups or
// leases). It does no I/O and reads no clock: its host passes time in. Not thread-safe.

#include <functional>
#include <span>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "domain/auction.hpp"
#include "domain/command.hpp"
#include "engine/deadline_queue.hpp"

namespace gavel::engine {

using domain::BuyNow;
using domain::CancelAuction;
using domain::Command;
using domain::CreateAuction;
using domain::PlaceBid;
using domain::VoidBid;

/// What a batch produced: `decisions[i]` answers `commands[i]`; `events` in the order they
/// happened.
struct BatchResult {
  std::vector<domain::Decision> decisions;
  std::vector<domain::Event> events;
  void clear() {
    decisions.clear();
    events.clear();
  }
};

class Engine {
 public:
  /// Decides every command in order and appends one decision per command to `out.decisions`.
  /// Commands about an unknown auction are rejected with auction_not_found and emit no event
  /// (there is no auction to number it).
  void process(std::span<const Command> commands, BatchResult& out);

  /// Decides one command; appends its events to `events`.
  domain::Decision apply(const Command& command, std::vector<domain::Event>& events);

  /// Opens and closes every auction whose startsAt or endsAt is at or before `safe_until`.
  /// The host passes min(clock now, queue watermark): every bid received before
  /// `safe_until` must already have been given to `process`. That is the fair-close promise
  /// (docs/design/fair-close.md). Returns how many auctions changed.
  std::size_t advance(domain::Timestamp safe_until, std::vector<domain::Event>& events);

  /// The same, for the auctions `mine` answers true for; the others' deadlines are looked at
  /// again a second later (several engines: each opens and closes the auctions whose queue
  /// partition it holds, and takes over the others' when their partitions move to it).
  std::size_t advance(domain::Timestamp safe_until, std::vector<domain::Event>& events,
                      const std::function<bool(const domain::AuctionId&)>& mine);

  /// Adopts an auction loaded from the store (its deadlines are scheduled again).
  /// Replaces an auction with the same id.
  void restore(domain::Auction auction);

  /// Forgets an auction (a host rolling back a batch whose commit failed). Its deadline
  /// entries become stale and are skipped.
  void erase(const domain::AuctionId& id) { auctions_.erase(id); }

  /// The auction, or nullptr.
  const domain::Auction* find(const domain::AuctionId& id) const;
  std::size_t size() const { return auctions_.size(); }
  std::size_t pending_deadlines() const { return deadlines_.size(); }
  /// Whether some auction may open or close at `now` (an entry may be stale: then nothing does).
  bool deadline_due(domain::Timestamp now) const {
    return !deadlines_.empty() && deadlines_.next_due() <= now;
  }

 private:
  domain::Decision create(const CreateAuction& command, std::vector<domain::Event>& events);
  domain::Auction* find_mutable(const domain::AuctionId& id);
  void schedule_deadlines(const domain::Auction& auction);

  std::unordered_map<domain::AuctionId, domain::Auction> auctions_;
  DeadlineQueue deadlines_;
};

}  // namespace gavel::engine
