#pragma once
// Calls a port and waits for its answer, for code that runs on its own thread (the engine host,
// CLI commands). Never call this on an I/O thread: adapters may answer on the caller's executor.

#include <chrono>
#include <future>
#include <memory>
#include <utility>

#include "ports/result.hpp"

namespace gavel::ports {

/// Runs `start(callback)` and waits up to `timeout` for the callback. A late answer after the
/// timeout is dropped harmlessly; the timeout itself answers ErrorKind::retryable.
template <typename T, typename Start>
Result<T> call_blocking(Start&& start,
                        std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  auto promise = std::make_shared<std::promise<Result<T>>>();
  auto future = promise->get_future();
  auto answered = std::make_shared<std::atomic<bool>>(false);
  std::forward<Start>(start)([promise, answered](Result<T> result) {
    if (!answered->exchange(true)) promise->set_value(std::move(result));
  });
  if (future.wait_for(timeout) != std::future_status::ready) {
    return Error{ErrorKind::retryable,
                 "no answer within " + std::to_string(timeout.count()) + " ms"};
  }
  return future.get();
}

}  // namespace gavel::ports
