#include "engine/engine.hpp"

#include <utility>

#include "domain/overloaded.hpp"

namespace gavel::engine {

using domain::Auction;
using domain::AuctionStatus;
using domain::Decision;
using domain::Event;
using domain::Reason;

namespace {

Decision rejected(Reason reason) {
  return Decision{false, reason, false, {}, {}};
}

}  // namespace

void Engine::process(std::span<const Command> commands, BatchResult& out) {
  out.decisions.reserve(out.decisions.size() + commands.size());
  for (const Command& command : commands) out.decisions.push_back(apply(command, out.events));
}

Decision Engine::apply(const Command& command, std::vector<Event>& events) {
  if (const auto* create_command = std::get_if<CreateAuction>(&command)) {
    return create(*create_command, events);
  }
  const domain::AuctionId& auction_id = domain::target_of(command);
  Auction* auction = find_mutable(auction_id);
  if (auction == nullptr) return rejected(Reason::auction_not_found);

  const domain::Timestamp ends_before = auction->ends_at();
  const Decision decision = std::visit(
      domain::Overloaded{
          [](const CreateAuction&) { return rejected(Reason::auction_exists); },
          [&](const PlaceBid& c) { return auction->place_bid(c.bid, events); },
          [&](const BuyNow& c) { return auction->buy_now(c.buyer_id, c.received_at, events); },
          [&](const CancelAuction& c) { return auction->cancel(c.actor, c.note, c.at, events); },
          [&](const VoidBid& c) { return auction->void_bid(c.actor, c.bid_id, c.at, events); },
      },
      command);
  // An extension (or a void that undid one) moved the end: the old deadline entry becomes
  // stale and is skipped when popped; the new one is what counts.
  if (auction->ends_at() != ends_before && !auction->is_final()) {
    deadlines_.schedule(auction->ends_at(), auction->terms().id);
  }
  return decision;
}

Decision Engine::create(const CreateAuction& command, std::vector<Event>& events) {
  if (domain::validate(command.terms)) return rejected(Reason::invalid_auction);
  if (auctions_.contains(command.terms.id)) return rejected(Reason::auction_exists);
  auto [it, inserted] = auctions_.emplace(command.terms.id, Auction{command.terms});
  Auction& auction = it->second;
  auction.announce_creation(command.at, events);
  auction.open_if_due(command.at, events);
  schedule_deadlines(auction);
  return Decision{true, Reason::none, false, auction.price(), auction.min_next_bid()};
}

void Engine::schedule_deadlines(const Auction& auction) {
  if (auction.is_final()) return;
  if (auction.status() == AuctionStatus::scheduled) {
    deadlines_.schedule(auction.terms().starts_at, auction.terms().id);
  }
  deadlines_.schedule(auction.ends_at(), auction.terms().id);
}

std::size_t Engine::advance(domain::Timestamp safe_until, std::vector<Event>& events) {
  return advance(safe_until, events, nullptr);
}

std::size_t Engine::advance(domain::Timestamp safe_until, std::vector<Event>& events,
                            const std::function<bool(const domain::AuctionId&)>& mine) {
  constexpr auto kLookAgain = std::chrono::seconds(1);
  std::size_t changed = 0;
  std::vector<domain::AuctionId> not_mine;
  deadlines_.pop_due(safe_until, [&](const domain::AuctionId& id) {
    Auction* auction = find_mutable(id);
    if (auction == nullptr) return;
    if (mine && !mine(id)) {
      not_mine.push_back(id);
      return;
    }
    // Entries are checked against the auction's real deadlines: stale ones change nothing.
    const bool opened = auction->open_if_due(safe_until, events);
    const bool closed = auction->close_if_due(safe_until, events);
    if (opened || closed) ++changed;
  });
  // Scheduled after the loop: an entry due again within `safe_until` would be popped anew.
  for (const auto& id : not_mine) deadlines_.schedule(safe_until + kLookAgain, id);
  return changed;
}

void Engine::restore(Auction auction) {
  const domain::AuctionId id = auction.terms().id;
  auto [it, inserted] = auctions_.insert_or_assign(id, std::move(auction));
  schedule_deadlines(it->second);
}

const Auction* Engine::find(const domain::AuctionId& id) const {
  const auto it = auctions_.find(id);
  return it == auctions_.end() ? nullptr : &it->second;
}

Auction* Engine::find_mutable(const domain::AuctionId& id) {
  const auto it = auctions_.find(id);
  return it == auctions_.end() ? nullptr : &it->second;
}

}  // namespace gavel::engine
