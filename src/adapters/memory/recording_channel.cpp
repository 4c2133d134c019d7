#include "adapters/memory/recording_channel.hpp"

#include <optional>
#include <utility>

namespace gavel::adapters::memory {

RecordingChannel::RecordingChannel(std::string name, bool tracked)
    : name_(std::move(name)), tracked_(tracked) {}

void RecordingChannel::send(ports::Notice notice, ports::Callback<void> done) {
  std::optional<ports::Error> failure;
  {
    std::lock_guard lock(mutex_);
    ++attempts_;
    if (failures_left_ > 0) {
      --failures_left_;
      failure = ports::Error{failure_kind_, "injected failure"};
    } else if (delivered_ids_.insert(notice.id).second) {
      delivered_.push_back(std::move(notice));
    }
  }
  if (failure) {
    done(std::move(*failure));
  } else {
    done({});
  }
}

void RecordingChannel::fail_next(std::size_t count, ports::ErrorKind kind) {
  std::lock_guard lock(mutex_);
  failures_left_ = count;
  failure_kind_ = kind;
}

std::vector<ports::Notice> RecordingChannel::delivered() const {
  std::lock_guard lock(mutex_);
  return delivered_;
}

std::size_t RecordingChannel::attempts() const {
  std::lock_guard lock(mutex_);
  return attempts_;
}

}  // namespace gavel::adapters::memory
