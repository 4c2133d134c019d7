#pragma once
// A notification channel that keeps what it delivers, for tests: deduplicates by Notice::id
// (as a channel whose backend allows it should) and fails on demand. Thread-safe; answers
// every call before returning.

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "ports/notification_channel.hpp"

namespace gavel::adapters::memory {

class RecordingChannel final : public ports::NotificationChannel {
 public:
  /// `tracked`: what tracked() answers (an untracked channel is sent each notice once).
  explicit RecordingChannel(std::string name = "recording", bool tracked = true);

  std::string_view name() const override { return name_; }
  bool tracked() const override { return tracked_; }
  /// Records `notice` unless one with its id was delivered already; answers ok either way.
  /// An injected failure answers the error and records nothing.
  void send(ports::Notice notice, ports::Callback<void> done) override;

  /// The next `count` sends fail with `kind` (message "injected failure").
  void fail_next(std::size_t count, ports::ErrorKind kind);

  /// Notices delivered, in delivery order, each once.
  std::vector<ports::Notice> delivered() const;
  /// Calls of send(), including failed and duplicate ones.
  std::size_t attempts() const;

 private:
  const std::string name_;
  const bool tracked_;
  mutable std::mutex mutex_;
  std::vector<ports::Notice> delivered_;
  std::unordered_set<std::string> delivered_ids_;
  std::size_t failures_left_ = 0;
  ports::ErrorKind failure_kind_ = ports::ErrorKind::retryable;
  std::size_t attempts_ = 0;
};

}  // namespace gavel::adapters::memory
