#pragma once
// When each auction next needs the engine's attention (to open or to close), without scanning
// every auction on each tick: a binary min-heap with lazy invalidation. An auction whose end
// moves gets a new entry; the stale one is popped later and ignored by the caller, who checks
// the auction's real deadline. Costs O(log n) per schedule and per due entry.
// Not thread-safe: owned by the engine's single writer.

#include <algorithm>
#include <vector>

#include "domain/ids.hpp"
#include "domain/time.hpp"

namespace gavel::engine {

class DeadlineQueue {
 public:
  void schedule(domain::Timestamp due, const domain::AuctionId& auction_id) {
    heap_.push_back(Entry{due, auction_id});
    std::push_heap(heap_.begin(), heap_.end(), later);
  }

  /// Removes every entry due at or before `now` (earliest first) and calls `visit(auction_id)`.
  template <typename Visit>
  void pop_due(domain::Timestamp now, Visit&& visit) {
    while (!heap_.empty() && heap_.front().due <= now) {
      std::pop_heap(heap_.begin(), heap_.end(), later);
      const Entry entry = heap_.back();
      heap_.pop_back();
      visit(entry.auction_id);
    }
  }

  bool empty() const { return heap_.empty(); }
  std::size_t size() const { return heap_.size(); }
  /// The earliest deadline; only meaningful when not empty.
  domain::Timestamp next_due() const { return heap_.front().due; }

 private:
  struct Entry {
    domain::Timestamp due;
    domain::AuctionId auction_id;
  };
  static bool later(const Entry& a, const Entry& b) { return a.due > b.due; }

  std::vector<Entry> heap_;
};

}  // namespace gavel::engine
