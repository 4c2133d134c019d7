#pragma once
// Turns a port's callback into a blocking wait with a timeout. Adapters may answer before the
// call returns or later from their own threads (ports/result.hpp), so the contract suites wait
// on a future: immediate for the memory adapters, bounded for real backends.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <utility>

#include "ports/result.hpp"

namespace gavel::contract {

/// How long a suite waits for any one answer before it calls the adapter broken.
inline constexpr std::chrono::seconds kAwaitTimeout{5};

/// One expected answer. callback() is what the port is given; get() waits for it. The state is
/// shared with the callback, so an answer arriving after the test gave up is harmless.
template <typename T>
class Pending {
 public:
  Pending() : state_(std::make_shared<State>()), future_(state_->promise.get_future()) {}

  /// The callback to pass to the port. Counts calls: ports answer exactly once.
  ports::Callback<T> callback() const {
    return [state = state_](ports::Result<T> result) {
      if (state->calls.fetch_add(1) == 0) state->promise.set_value(std::move(result));
    };
  }

  /// Whether the answer has arrived (does not wait).
  bool ready() const {
    return future_.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  }

  /// How often the callback was called so far.
  int calls() const { return state_->calls.load(); }

  /// Waits for the answer (once). On timeout, records a test failure and answers an error.
  ports::Result<T> get(std::chrono::milliseconds timeout = kAwaitTimeout) {
    if (future_.wait_for(timeout) != std::future_status::ready) {
      ADD_FAILURE() << "no answer within " << timeout.count() << " ms";
      return ports::Error{ports::ErrorKind::retryable, "await: no answer"};
    }
    return future_.get();
  }

 private:
  struct State {
    std::promise<ports::Result<T>> promise;
    std::atomic<int> calls{0};
  };
  std::shared_ptr<State> state_;
  std::future<ports::Result<T>> future_;
};

/// Calls `start(callback)` and waits for the answer:
///   auto result = await<std::size_t>([&](auto done) { queue.redrive(ids, done); });
template <typename T, typename Start>
ports::Result<T> await(Start&& start) {
  Pending<T> pending;
  std::forward<Start>(start)(pending.callback());
  return pending.get();
}

}  // namespace gavel::contract
