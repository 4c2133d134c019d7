// The clock contract, run against the simulated and the system clock, and what is particular
// to each.

#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include "adapters/memory/simulated_clock.hpp"
#include "adapters/memory/system_clock.hpp"
#include "contract/clock_contract.hpp"

namespace gavel::contract {
namespace {

namespace memory = adapters::memory;
using std::chrono::microseconds;
using std::chrono::seconds;

struct SimulatedClockFactory {
  static constexpr bool kSimulatedTime = true;
  std::shared_ptr<memory::SimulatedClock> simulated = std::make_shared<memory::SimulatedClock>();

  std::shared_ptr<ports::Clock> clock() { return simulated; }
  void run_until(domain::Timestamp at) { simulated->advance_to(at); }
};

struct SystemClockFactory {
  static constexpr bool kSimulatedTime = false;
  std::shared_ptr<memory::SystemClock> system = std::make_shared<memory::SystemClock>();

  std::shared_ptr<ports::Clock> clock() { return system; }
  void run_until(domain::Timestamp /*at*/) {}
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Simulated, ClockContract, ::testing::Types<SimulatedClockFactory>);
INSTANTIATE_TYPED_TEST_SUITE_P(System, ClockContract, ::testing::Types<SystemClockFactory>);

namespace {

// --- SimulatedClock ----------------------------------------------------------------------

class SimulatedClockTest : public ::testing::Test {
 protected:
  memory::SimulatedClock clock_;
  const domain::Timestamp start_ = clock_.now();
};

TEST_F(SimulatedClockTest, StartsAtAFixedTimeAndMovesOnlyWhenTold) {
  EXPECT_EQ(rfc(start_), "2026-01-01T00:00:00Z");
  EXPECT_EQ(clock_.now(), start_);
  clock_.advance_by(microseconds(1500));
  EXPECT_EQ(rfc(clock_.now()), "2026-01-01T00:00:00.001500Z");
  clock_.advance_to(start_ + seconds(60));
  EXPECT_EQ(rfc(clock_.now()), "2026-01-01T00:01:00Z");
}

TEST_F(SimulatedClockTest, StartsWhereItIsTold) {
  const auto at = *domain::parse_rfc3339("2030-05-06T07:08:09Z");
  memory::SimulatedClock clock(at);
  EXPECT_EQ(clock.now(), at);
}

TEST_F(SimulatedClockTest, NeverMovesBackwards) {
  clock_.advance_to(start_ + seconds(10));
  clock_.advance_to(start_ + seconds(5));
  EXPECT_EQ(clock_.now(), start_ + seconds(10));
}

TEST_F(SimulatedClockTest, ATimerDoesNotRunBeforeItsTimeAndSeesItsTimeAsNow) {
  domain::Timestamp seen{};
  clock_.call_at(start_ + seconds(5), [&] { seen = clock_.now(); });
  clock_.advance_to(start_ + seconds(5) - microseconds(1));
  EXPECT_EQ(seen, domain::Timestamp{});
  EXPECT_EQ(clock_.pending_timers(), 1u);
  clock_.advance_to(start_ + seconds(9));
  EXPECT_EQ(seen, start_ + seconds(5));
  EXPECT_EQ(clock_.now(), start_ + seconds(9));
  EXPECT_EQ(clock_.pending_timers(), 0u);
}

TEST_F(SimulatedClockTest, TimersDueTogetherRunInSchedulingOrder) {
  std::vector<int> order;
  for (int i = 0; i < 5; ++i) clock_.call_at(start_ + seconds(1), [&, i] { order.push_back(i); });
  clock_.advance_by(seconds(1));
  EXPECT_THAT(order, ::testing::ElementsAre(0, 1, 2, 3, 4));
}

TEST_F(SimulatedClockTest, ATimerScheduledByATimerForAPassedTimeRunsInTheSameAdvance) {
  std::vector<std::string> ran;
  clock_.call_at(start_ + seconds(2), [&] {
    ran.push_back("outer@" + rfc(clock_.now()));
    clock_.call_at(start_ + seconds(1), [&] { ran.push_back("past@" + rfc(clock_.now())); });
    clock_.call_at(start_ + seconds(3), [&] { ran.push_back("later@" + rfc(clock_.now())); });
    clock_.call_at(start_ + seconds(20), [&] { ran.push_back("beyond"); });
  });
  clock_.advance_by(seconds(10));
  EXPECT_THAT(ran, ::testing::ElementsAre("outer@2026-01-01T00:00:02Z", "past@2026-01-01T00:00:02Z",
                                          "later@2026-01-01T00:00:03Z"));
  EXPECT_EQ(clock_.pending_timers(), 1u);
}

TEST_F(SimulatedClockTest, TimersMayBeScheduledFromOtherThreads) {
  std::atomic<int> ran{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) clock_.call_at(start_ + seconds(i % 7), [&] { ++ran; });
    });
  }
  for (auto& thread : threads) thread.join();
  clock_.advance_by(seconds(7));
  EXPECT_EQ(ran.load(), 400);
}

// --- SystemClock -------------------------------------------------------------------------

TEST(SystemClockTest, NowIsTheSystemTimeInMicroseconds) {
  memory::SystemClock clock;
  const auto before = std::chrono::floor<microseconds>(std::chrono::system_clock::now());
  const auto now = clock.now();
  const auto after = std::chrono::ceil<microseconds>(std::chrono::system_clock::now());
  EXPECT_LE(before, now);
  EXPECT_LE(now, after);
}

TEST(SystemClockTest, DestructionDropsPendingTimersWithoutRunningThem) {
  auto ran = std::make_shared<std::atomic<bool>>(false);
  {
    memory::SystemClock clock;
    clock.call_at(clock.now() + std::chrono::hours(1), [ran] { *ran = true; });
  }
  EXPECT_FALSE(ran->load());
}

TEST(SystemClockTest, ACallbackMayDropTheLastReferenceToItsClock) {
  auto clock = std::make_shared<memory::SystemClock>();
  Pending<domain::Timestamp> done;
  std::promise<void> released;
  // The timer holds the last reference once the test lets go of its own; running it destroys
  // the clock on the clock's own timer thread.
  clock->call_at(clock->now(), [owner = clock, released = released.get_future().share(),
                                callback = done.callback()]() mutable {
    released.wait_for(kAwaitTimeout);
    const auto at = owner->now();
    owner.reset();
    callback(at);
  });
  clock.reset();
  released.set_value();
  EXPECT_EQ(describe(done.get()), "ok");
}

}  // namespace
}  // namespace gavel::contract
