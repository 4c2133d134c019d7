#pragma once
// The contract of ports::Clock (ports/clock.hpp), for every clock.
//
//   struct MyClockFactory {
//     static constexpr bool kSimulatedTime = ...;
//     std::shared_ptr<ports::Clock> clock();
//     void run_until(domain::Timestamp at);  // simulated: advance to `at`; real: nothing (time
//                                            // passes on its own and the suite waits)
//   };
//   INSTANTIATE_TYPED_TEST_SUITE_P(My, ClockContract, ::testing::Types<MyClockFactory>);
//
// Delays are a few milliseconds so that real clocks finish quickly; every wait is bounded
// by the await helper.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <vector>

#include "contract/await.hpp"
#include "contract/support.hpp"
#include "ports/clock.hpp"

namespace gavel::contract {

template <typename Factory>
class ClockContract : public ::testing::Test {
 protected:
  static constexpr domain::Duration ms(std::int64_t n) { return std::chrono::milliseconds(n); }

  ports::Clock& clock() { return *factory_.clock(); }
  void run_until(domain::Timestamp at) { factory_.run_until(at); }

  /// Schedules a timer at `at` that answers `pending` with the clock's time when it ran.
  ports::Clock::TimerId call_at(domain::Timestamp at, const Pending<domain::Timestamp>& pending) {
    return clock().call_at(
        at, [clock = factory_.clock(), done = pending.callback()] { done(clock->now()); });
  }

  Factory factory_;
};

TYPED_TEST_SUITE_P(ClockContract);

TYPED_TEST_P(ClockContract, ATimerRunsOnceAtOrAfterItsTime) {
  const auto at = this->clock().now() + this->ms(20);
  Pending<domain::Timestamp> ran;
  this->call_at(at, ran);
  this->run_until(at);
  auto result = ran.get();
  ASSERT_EQ(describe(result), "ok");
  EXPECT_GE(result.value(), at);
  // Later timers (and time) do not run it again.
  Pending<domain::Timestamp> later;
  this->call_at(at + this->ms(10), later);
  this->run_until(at + this->ms(10));
  ASSERT_EQ(describe(later.get()), "ok");
  EXPECT_EQ(ran.calls(), 1);
}

TYPED_TEST_P(ClockContract, ATimerForAPastTimeRunsPromptly) {
  const auto now = this->clock().now();
  Pending<domain::Timestamp> ran;
  this->call_at(now - std::chrono::seconds(1), ran);
  this->run_until(now);
  auto result = ran.get();
  ASSERT_EQ(describe(result), "ok");
  EXPECT_GE(result.value(), now);
}

TYPED_TEST_P(ClockContract, ACancelledTimerNeverRuns) {
  const auto now = this->clock().now();
  std::atomic<bool> cancelled_ran{false};
  const auto id = this->clock().call_at(now + this->ms(10), [&] { cancelled_ran = true; });
  EXPECT_TRUE(this->clock().cancel(id));
  EXPECT_FALSE(this->clock().cancel(id));
  Pending<domain::Timestamp> sentinel;
  this->call_at(now + this->ms(30), sentinel);
  this->run_until(now + this->ms(30));
  ASSERT_EQ(describe(sentinel.get()), "ok");
  EXPECT_FALSE(cancelled_ran.load());
}

TYPED_TEST_P(ClockContract, CancellingAFiredTimerAnswersFalse) {
  const auto now = this->clock().now();
  Pending<domain::Timestamp> ran;
  const auto id = this->call_at(now, ran);
  this->run_until(now);
  ASSERT_EQ(describe(ran.get()), "ok");
  EXPECT_FALSE(this->clock().cancel(id));
}

TYPED_TEST_P(ClockContract, CancellingAnUnknownIdAnswersFalse) {
  EXPECT_FALSE(this->clock().cancel(987654321));
}

TYPED_TEST_P(ClockContract, TimersRunInTheOrderOfTheirTimes) {
  const auto now = this->clock().now();
  std::mutex mutex;
  std::vector<int> order;
  auto record = [&](int n) {
    std::lock_guard lock(mutex);
    order.push_back(n);
  };
  Pending<domain::Timestamp> last;
  this->clock().call_at(now + this->ms(30), [&, done = last.callback()] {
    record(30);
    done(domain::Timestamp{});
  });
  this->clock().call_at(now + this->ms(10), [&] { record(10); });
  this->clock().call_at(now + this->ms(20), [&] { record(20); });
  this->run_until(now + this->ms(30));
  ASSERT_EQ(describe(last.get()), "ok");
  std::lock_guard lock(mutex);
  EXPECT_THAT(order, ::testing::ElementsAre(10, 20, 30));
}

TYPED_TEST_P(ClockContract, TimerIdsAreDistinct) {
  const auto later = this->clock().now() + std::chrono::hours(1);
  std::set<ports::Clock::TimerId> ids;
  for (int i = 0; i < 10; ++i) ids.insert(this->clock().call_at(later, [] {}));
  EXPECT_EQ(ids.size(), 10u);
  for (const auto id : ids) EXPECT_TRUE(this->clock().cancel(id));
}

TYPED_TEST_P(ClockContract, ACallbackMayUseTheClock) {
  const auto now = this->clock().now();
  const auto doomed = this->clock().call_at(now + std::chrono::hours(1), [] {});
  Pending<domain::Timestamp> nested;
  std::atomic<bool> cancelled{false};
  this->clock().call_at(now, [&, clock = this->factory_.clock(), done = nested.callback()] {
    cancelled = clock->cancel(doomed);
    clock->call_at(clock->now(), [clock, done] { done(clock->now()); });
  });
  this->run_until(now);
  ASSERT_EQ(describe(nested.get()), "ok");
  EXPECT_TRUE(cancelled.load());
}

REGISTER_TYPED_TEST_SUITE_P(ClockContract, ATimerRunsOnceAtOrAfterItsTime,
                            ATimerForAPastTimeRunsPromptly, ACancelledTimerNeverRuns,
                            CancellingAFiredTimerAnswersFalse, CancellingAnUnknownIdAnswersFalse,
                            TimersRunInTheOrderOfTheirTimes, TimerIdsAreDistinct,
                            ACallbackMayUseTheClock);

}  // namespace gavel::contract
