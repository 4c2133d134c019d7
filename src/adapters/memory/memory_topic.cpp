#include "adapters/memory/memory_topic.hpp"

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>

namespace gavel::adapters::memory {

namespace {

struct AfterUnlock {
  std::vector<ports::Clock::TimerId> cancel_timers;
  std::vector<domain::Timestamp> wake_at;
  std::vector<std::function<void()>> calls;
};

struct TopicMessage {
  std::string id;
  std::string ordering_key;
  domain::Timestamp event_time{};
  std::string body;
  int deliveries = 0;
  std::string receipt;  // empty while visible
  domain::Timestamp visible_at{};
};

// One durable subscription: its copy of every message published since it was opened.
struct SubscriptionState {
  std::map<std::uint64_t, TopicMessage> messages;  // by seq: visible and in flight
  std::set<std::uint64_t> visible;
  std::set<std::pair<domain::Timestamp, std::uint64_t>> deadlines;  // in flight
  std::unordered_map<std::string, std::uint64_t> receipts;          // receipt → seq
  std::uint64_t next_seq = 1;
};

struct Waiter {
  std::string subscription;
  std::uint64_t handle = 0;
  std::size_t max_messages = 0;
  domain::Duration visibility{};
  ports::Callback<std::vector<ports::Delivery>> done;
  std::optional<ports::Clock::TimerId> timer;
};

}  // namespace

class MemoryTopic::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(ports::ClockPtr clock, Options options) : clock_(std::move(clock)), options_(options) {}

  void publish(const std::vector<ports::OutgoingMessage>& messages,
               const ports::Callback<void>& done) {
    AfterUnlock after;
    {
      std::lock_guard lock(mutex_);
      const domain::Timestamp now = clock_->now();
      prologue(now, after);
      prune_dedup(now);
      for (auto& message : messages) {
        std::string id;
        if (message.dedup_id.empty()) {
          id = "t-" + std::to_string(next_generated_id_++);
        } else {
          if (dedup_.contains(message.dedup_id)) continue;
          dedup_.emplace(message.dedup_id, now);
          dedup_order_.emplace_back(now, message.dedup_id);
          id = message.dedup_id;
        }
        for (auto& [name, subscription] : subscriptions_) {
          subscription.messages.emplace(
              subscription.next_seq,
              TopicMessage{id, message.ordering_key, message.event_time, message.body, 0, {}, {}});
          subscription.visible.insert(subscription.next_seq);
          ++subscription.next_seq;
        }
      }
      serve_waiters(now, after);
    }
    run(after);
    done({});
  }

  // Opens `name`, creating it if needed; returns a new handle id.
  std::uint64_t open(const std::string& name) {
    std::lock_guard lock(mutex_);
    subscriptions_.try_emplace(name);
    return next_handle_++;
  }

  void receive(const std::string& name, std::uint64_t handle, std::size_t max_messages,
               domain::Duration wait, domain::Duration visibility,
               ports::Callback<std::vector<ports::Delivery>> done) {
    AfterUnlock after;
    std::optional<std::uint64_t> waiter_id;
    std::vector<ports::Delivery> deliveries;
    ports::Callback<std::vector<ports::Delivery>> answer_now;  // empty when the call waits
    domain::Timestamp wait_until{};
    {
      std::lock_guard lock(mutex_);
      const domain::Timestamp now = clock_->now();
      prologue(now, after);
      deliveries = collect(subscriptions_.at(name), max_messages, visibility, now, after);
      if (deliveries.empty() && wait > domain::Duration::zero() && max_messages > 0) {
        waiter_id = next_waiter_++;
        waiters_.emplace(*waiter_id,
                         Waiter{name, handle, max_messages, visibility, std::move(done), {}});
        wait_until = now + wait;
      } else {
        answer_now = std::move(done);
      }
    }
    run(after);
    if (!waiter_id) {
      if (answer_now) answer_now(std::move(deliveries));
      return;
    }
    const auto timer = clock_->call_at(wait_until, [weak = weak_from_this(), id = *waiter_id] {
      if (const auto self = weak.lock()) self->expire_waiter(id);
    });
    bool still_waiting = false;
    {
      std::lock_guard lock(mutex_);
      if (const auto waiter = waiters_.find(*waiter_id); waiter != waiters_.end()) {
        waiter->second.timer = timer;
        still_waiting = true;
      }
    }
    if (!still_waiting) clock_->cancel(timer);
  }

  void ack(const std::string& name, const std::vector<std::string>& receipts,
           const ports::Callback<void>& done) {
    AfterUnlock after;
    {
      std::lock_guard lock(mutex_);
      prologue(clock_->now(), after);
      auto& subscription = subscriptions_.at(name);
      for (const auto& receipt : receipts) {
        const auto found = subscription.receipts.find(receipt);
        if (found == subscription.receipts.end()) continue;
        const auto message = subscription.messages.find(found->second);
        subscription.deadlines.erase({message->second.visible_at, found->second});
        subscription.messages.erase(message);
        subscription.receipts.erase(found);
      }
    }
    run(after);
    done({});
  }

  // A handle is closing: its pending long polls answer retryable.
  void close(std::uint64_t handle) {
    AfterUnlock after;
    {
      std::lock_guard lock(mutex_);
      for (auto it = waiters_.begin(); it != waiters_.end();) {
        if (it->second.handle != handle) {
          ++it;
          continue;
        }
        if (it->second.timer) after.cancel_timers.push_back(*it->second.timer);
        after.calls.emplace_back([done = std::move(it->second.done)] {
          done(ports::Error{ports::ErrorKind::retryable, "subscription closed"});
        });
        it = waiters_.erase(it);
      }
    }
    run(after);
  }

 private:
  void on_visibility_deadline() {
    AfterUnlock after;
    {
      std::lock_guard lock(mutex_);
      prologue(clock_->now(), after);
    }
    run(after);
  }

  void expire_waiter(std::uint64_t id) {
    AfterUnlock after;
    {
      std::lock_guard lock(mutex_);
      const domain::Timestamp now = clock_->now();
      prologue(now, after);
      if (const auto found = waiters_.find(id); found != waiters_.end()) {
        auto waiter = std::move(found->second);
        waiters_.erase(found);
        after.calls.emplace_back(
            [done = std::move(waiter.done),
             deliveries = collect(subscriptions_.at(waiter.subscription), waiter.max_messages,
                                  waiter.visibility, now, after)]() mutable {
              done(std::move(deliveries));
            });
      }
    }
    run(after);
  }

  void prologue(domain::Timestamp now, AfterUnlock& after) {
    for (auto& [name, subscription] : subscriptions_) {
      auto& deadlines = subscription.deadlines;
      while (!deadlines.empty() && deadlines.begin()->first <= now) {
        const std::uint64_t seq = deadlines.begin()->second;
        deadlines.erase(deadlines.begin());
        auto& message = subscription.messages.at(seq);
        subscription.receipts.erase(message.receipt);
        message.receipt.clear();
        subscription.visible.insert(seq);
      }
    }
    serve_waiters(now, after);
  }

  void serve_waiters(domain::Timestamp now, AfterUnlock& after) {
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      auto& subscription = subscriptions_.at(it->second.subscription);
      if (subscription.visible.empty()) {
        ++it;
        continue;
      }
      auto waiter = std::move(it->second);
      it = waiters_.erase(it);
      if (waiter.timer) after.cancel_timers.push_back(*waiter.timer);
      after.calls.emplace_back(
          [done = std::move(waiter.done),
           deliveries = collect(subscription, waiter.max_messages, waiter.visibility, now,
                                after)]() mutable { done(std::move(deliveries)); });
    }
  }

  std::vector<ports::Delivery> collect(SubscriptionState& subscription, std::size_t max,
                                       domain::Duration visibility, domain::Timestamp now,
                                       AfterUnlock& after) {
    std::vector<ports::Delivery> out;
    const domain::Timestamp deadline = now + visibility;
    while (out.size() < max && !subscription.visible.empty()) {
      const std::uint64_t seq = *subscription.visible.begin();
      subscription.visible.erase(subscription.visible.begin());
      auto& message = subscription.messages.at(seq);
      ++message.deliveries;
      message.receipt = "s-" + std::to_string(next_receipt_++);
      message.visible_at = deadline;
      subscription.receipts.emplace(message.receipt, seq);
      subscription.deadlines.emplace(deadline, seq);
      out.push_back(ports::Delivery{message.id, message.receipt, message.ordering_key,
                                    message.event_time, message.body, message.deliveries});
    }
    if (!out.empty()) after.wake_at.push_back(deadline);
    return out;
  }

  void prune_dedup(domain::Timestamp now) {
    while (!dedup_order_.empty() && dedup_order_.front().first + options_.dedup_window <= now) {
      const auto& [at, dedup_id] = dedup_order_.front();
      const auto found = dedup_.find(dedup_id);
      if (found != dedup_.end() && found->second == at) dedup_.erase(found);
      dedup_order_.pop_front();
    }
  }

  void run(AfterUnlock& after) {
    for (const auto timer : after.cancel_timers) clock_->cancel(timer);
    const std::set<domain::Timestamp> wake(after.wake_at.begin(), after.wake_at.end());
    for (const auto at : wake) {
      clock_->call_at(at, [weak = weak_from_this()] {
        if (const auto self = weak.lock()) self->on_visibility_deadline();
      });
    }
    for (auto& call : after.calls) call();
  }

  const ports::ClockPtr clock_;
  const Options options_;

  std::mutex mutex_;
  std::uint64_t next_generated_id_ = 1;
  std::uint64_t next_receipt_ = 1;
  std::uint64_t next_waiter_ = 1;
  std::uint64_t next_handle_ = 1;
  std::unordered_map<std::string, SubscriptionState> subscriptions_;
  std::unordered_map<std::string, domain::Timestamp> dedup_;  // dedup id → first published
  std::deque<std::pair<domain::Timestamp, std::string>> dedup_order_;
  std::map<std::uint64_t, Waiter> waiters_;  // long polls of every subscription, in arrival order
};

namespace {

class MemorySubscription final : public ports::Subscription {
 public:
  MemorySubscription(std::shared_ptr<MemoryTopic::Impl> topic, std::string name)
      : topic_(std::move(topic)), name_(std::move(name)), handle_(topic_->open(name_)) {}
  ~MemorySubscription() override { topic_->close(handle_); }
  MemorySubscription(const MemorySubscription&) = delete;
  MemorySubscription& operator=(const MemorySubscription&) = delete;

  void receive(std::size_t max_messages, domain::Duration wait, domain::Duration visibility,
               ports::Callback<std::vector<ports::Delivery>> done) override {
    topic_->receive(name_, handle_, max_messages, wait, visibility, std::move(done));
  }

  void ack(std::vector<std::string> receipts, ports::Callback<void> done) override {
    topic_->ack(name_, receipts, done);
  }

 private:
  const std::shared_ptr<MemoryTopic::Impl> topic_;
  const std::string name_;
  const std::uint64_t handle_;
};

}  // namespace

MemoryTopic::MemoryTopic(ports::ClockPtr clock, Options options)
    : impl_(std::make_shared<Impl>(std::move(clock), options)) {}

MemoryTopic::~MemoryTopic() = default;

void MemoryTopic::publish(std::vector<ports::OutgoingMessage> messages,
                          ports::Callback<void> done) {
  impl_->publish(messages, done);
}

ports::SubscriptionPtr MemoryTopic::subscribe(const std::string& name) {
  return std::make_unique<MemorySubscription>(impl_, name);
}

}  // namespace gavel::adapters::memory
