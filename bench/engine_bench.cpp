// Engine decisions per second on one core (Google Benchmark: it reports, it does not judge).
//   HotAuction      — one auction, competing proxy bidders, ~20% stale (too-low) bids
//   SpreadAuctions  — 100k open auctions, bids spread over all of them
//   Close100k       — 100k auctions due at the same second, closed by one advance()
// Inputs are generated once by simulation so every timed run decides the same valid sequence.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <random>

#include "engine/engine.hpp"

namespace gavel {
namespace {

using domain::Amount;
using domain::Timestamp;

Timestamp start() {
  return *domain::parse_rfc3339("2026-12-01T18:00:00Z");
}

domain::AuctionTerms make_terms(const std::string& id) {
  domain::AuctionTerms t;
  t.id = domain::AuctionId{id};
  t.seller_id = domain::UserId{"seller-1"};
  t.title = "Benchmark lot";
  t.currency = *domain::Currency::parse("EUR");
  t.starting_price = Amount{1000};
  t.starts_at = start();
  t.ends_at = start() + std::chrono::hours(24);
  t.reserve_price = Amount{50'000};
  t.soft_close = domain::seconds(60);
  t.extension = domain::seconds(60);
  return t;
}

// Bid ids as the gateway makes them: 26-character time-ordered ids (like ULIDs), which do not
// fit in std::string's small buffer, so copying them costs what it will cost in production.
std::string bid_id(std::uint64_t n) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "01JDZ8X4K2M7Q9%012llu", static_cast<unsigned long long>(n));
  return buffer;
}

std::string auction_id(std::size_t n) {
  return "auction-" + std::to_string(100000 + n);
}

// Competing bidders: each bids at or a little above the minimum, with a proxy maximum above it;
// one bid in five carries a stale amount (it was sent before the price moved) and is rejected.
std::vector<engine::Command> hot_auction_bids(std::size_t count) {
  engine::Engine scratch;
  std::vector<domain::Event> events;
  scratch.apply(engine::CreateAuction{make_terms("hot-lot"), start()}, events);
  std::mt19937_64 rng{42};
  std::vector<engine::Command> commands;
  commands.reserve(count);
  const domain::AuctionId id{"hot-lot"};
  Amount stale{1000};
  for (std::size_t i = 0; i < count; ++i) {
    const domain::Auction& auction = *scratch.find(id);
    const Amount min_next = auction.min_next_bid();
    const Amount step = auction.terms().increment.at(min_next);
    const bool is_stale = rng() % 5 == 0;
    const auto steps = [&](std::uint64_t n) {
      return Amount{step.minor_units() * static_cast<std::int64_t>(rng() % n)};
    };
    const Amount amount = is_stale ? stale : min_next + steps(3);
    const Amount max = amount + steps(6);
    std::string bidder = "user-" + std::to_string(1000 + rng() % 8);
    if (!is_stale && domain::UserId{bidder} == auction.leader_id()) bidder = "user-2000";
    engine::PlaceBid bid{
        id, domain::BidRequest{domain::BidId{bid_id(i)}, domain::UserId{std::move(bidder)}, amount,
                               max, std::nullopt, start() + std::chrono::milliseconds(i)}};
    stale = auction.price();
    scratch.apply(bid, events);
    events.clear();
    commands.emplace_back(std::move(bid));
  }
  return commands;
}

void HotAuction(benchmark::State& state) {
  const auto batch_size = static_cast<std::size_t>(state.range(0));
  const auto commands = hot_auction_bids(100'000);
  engine::BatchResult out;
  std::size_t decided = 0;
  std::size_t accepted = 0;
  for (auto _ : state) {
    engine::Engine engine;
    std::vector<domain::Event> events;
    engine.apply(engine::CreateAuction{make_terms("hot-lot"), start()}, events);
    for (std::size_t i = 0; i < commands.size(); i += batch_size) {
      out.clear();
      const std::size_t n = std::min(batch_size, commands.size() - i);
      engine.process(std::span{commands}.subspan(i, n), out);
      decided += out.decisions.size();
      for (const auto& d : out.decisions) accepted += d.accepted ? 1 : 0;
      benchmark::DoNotOptimize(out.events.data());
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(decided));
  state.counters["accepted_share"] = static_cast<double>(accepted) / static_cast<double>(decided);
}
BENCHMARK(HotAuction)->Arg(64)->Arg(512)->Unit(benchmark::kMillisecond);

std::vector<engine::Command> create_commands(std::size_t count, Timestamp ends_at) {
  std::vector<engine::Command> commands;
  commands.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    auto terms = make_terms(auction_id(i));
    terms.ends_at = ends_at;
    commands.emplace_back(engine::CreateAuction{std::move(terms), start()});
  }
  return commands;
}

void SpreadAuctions(benchmark::State& state) {
  constexpr std::size_t kAuctions = 100'000;
  constexpr std::size_t kRounds = 3;
  const auto creates = create_commands(kAuctions, start() + std::chrono::hours(24));
  // Each round visits every auction once, in a random order; each bid raises by one step.
  std::vector<engine::Command> bids;
  std::mt19937_64 rng{7};
  std::vector<std::size_t> order(kAuctions);
  std::iota(order.begin(), order.end(), 0);
  std::uint64_t n = 0;
  for (std::size_t round = 0; round < kRounds; ++round) {
    std::shuffle(order.begin(), order.end(), rng);
    for (const std::size_t a : order) {
      const Amount amount{1000 + static_cast<std::int64_t>(round) * 100};
      bids.emplace_back(engine::PlaceBid{
          domain::AuctionId{auction_id(a)},
          domain::BidRequest{
              domain::BidId{bid_id(n)}, domain::UserId{"user-" + std::to_string(round)}, amount,
              amount + Amount{500}, std::nullopt, start() + std::chrono::microseconds(n)}});
      ++n;
    }
  }
  engine::BatchResult out;
  std::size_t decided = 0;
  for (auto _ : state) {
    state.PauseTiming();
    engine::Engine engine;
    engine.process(creates, out);
    out.clear();
    state.ResumeTiming();
    for (std::size_t i = 0; i < bids.size(); i += 256) {
      out.clear();
      engine.process(std::span{bids}.subspan(i, std::min<std::size_t>(256, bids.size() - i)), out);
      decided += out.decisions.size();
    }
    state.PauseTiming();
    engine = engine::Engine{};  // tear down outside the timing
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(decided));
}
BENCHMARK(SpreadAuctions)->Unit(benchmark::kMillisecond);

void Close100k(benchmark::State& state) {
  constexpr std::size_t kAuctions = 100'000;
  const Timestamp due = start() + std::chrono::hours(1);
  const auto creates = create_commands(kAuctions, due);
  engine::BatchResult out;
  std::size_t closed = 0;
  for (auto _ : state) {
    state.PauseTiming();
    engine::Engine engine;
    engine.process(creates, out);
    engine.advance(start(), out.events);  // opens them all
    out.clear();
    state.ResumeTiming();
    closed += engine.advance(due, out.events);
    state.PauseTiming();
    engine = engine::Engine{};
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(closed));
}
BENCHMARK(Close100k)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace gavel

BENCHMARK_MAIN();
