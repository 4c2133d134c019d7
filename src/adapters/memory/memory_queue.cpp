#include "adapters/memory/memory_queue.hpp"

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

// Work gathered under the lock and done after releasing it: clock calls and callbacks.
struct AfterUnlock {
  std::vector<ports::Clock::TimerId> cancel_timers;
  std::vector<domain::Timestamp> wake_at;  // visibility deadlines to re-check at
  std::vector<std::function<void()>> calls;
};

struct Message {
  std::uint64_t seq = 0;  // position in the queue: 0 until enqueued; kept when it comes back
  std::string id;
  std::string ordering_key;
  std::string dedup_id;
  domain::Timestamp event_time{};
  std::string body;
  int deliveries = 0;
  // Counted in the watermark from its send until it is acknowledged or dead-lettered (a redriven
  // dead letter is late by then, and an operator's decision: it is not counted again).
  bool holds_watermark = false;
  bool in_flight = false;
  std::string receipt;
  domain::Timestamp visible_at{};
  std::optional<domain::Timestamp> first_failure;
};

struct KeyState {
  std::set<std::uint64_t> visible;  // seqs of visible messages, in send order
  int in_flight = 0;
  std::optional<std::uint64_t> ready_head;  // the entry this key has in Impl::ready_
};

struct Waiter {
  std::size_t max_messages = 0;
  domain::Duration visibility{};
  ports::Callback<std::vector<ports::Delivery>> done;
  std::optional<ports::Clock::TimerId> timer;
};

struct DedupEntry {
  std::string message_id;
  domain::Timestamp at{};
};

}  // namespace

class MemoryQueue::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(ports::ClockPtr clock, Options options) : clock_(std::move(clock)), options_(options) {}

  void send(std::vector<ports::OutgoingMessage> messages,
            const ports::Callback<std::vector<ports::SendReceipt>>& done) {
    AfterUnlock after;
    std::optional<ports::Error> failure;
    std::vector<ports::SendReceipt> receipts;
    {
      std::lock_guard lock(mutex_);
      const domain::Timestamp now = clock_->now();
      prologue(now, after);
      prune_dedup(now);
      // Check the whole call before enqueuing any of it. A dedup id repeated within the call
      // is a duplicate of its first occurrence.
      std::unordered_map<std::string, std::size_t> first_in_call;
      receipts.resize(messages.size());
      for (std::size_t i = 0; i < messages.size() && !failure; ++i) {
        const auto& message = messages[i];
        if (!message.dedup_id.empty()) {
          if (const auto seen = dedup_.find(message.dedup_id); seen != dedup_.end()) {
            receipts[i] = ports::SendReceipt{seen->second.message_id, true,
                                             held_body(seen->second.message_id)};
            continue;
          }
          const auto [earlier, added] = first_in_call.emplace(message.dedup_id, i);
          if (!added) {
            receipts[i].duplicate = true;  // its id is filled in once the first one has one
            continue;
          }
        }
        if (message.event_time < now - options_.max_lateness) {
          failure =
              ports::Error{ports::ErrorKind::permanent,
                           "message event_time " + domain::format_rfc3339(message.event_time) +
                               " is older than the queue's lateness bound"};
        }
      }
      if (!failure) {
        for (std::size_t i = 0; i < messages.size(); ++i) {
          auto& message = messages[i];
          if (receipts[i].duplicate) {
            if (receipts[i].message_id.empty()) {
              const std::size_t first = first_in_call.at(message.dedup_id);
              receipts[i].message_id = receipts[first].message_id;
              // The first one was moved into the queue just above: its body is held there.
              receipts[i].first_body = held_body(receipts[first].message_id);
            }
            continue;
          }
          std::string id = "m-" + std::to_string(next_message_id_++);
          if (!message.dedup_id.empty()) {
            dedup_.emplace(message.dedup_id, DedupEntry{id, now});
            dedup_order_.emplace_back(now, message.dedup_id);
          }
          receipts[i].message_id = id;
          unsettled_.insert(message.event_time);
          Message stored;
          stored.holds_watermark = true;
          stored.id = std::move(id);
          stored.ordering_key = std::move(message.ordering_key);
          stored.dedup_id = std::move(message.dedup_id);
          stored.event_time = message.event_time;
          stored.body = std::move(message.body);
          enqueue(std::move(stored));
        }
        serve_waiters(now, after);
      }
    }
    run(after);
    if (failure) {
      done(std::move(*failure));
    } else {
      done(std::move(receipts));
    }
  }

  void receive(ports::ReceiveOptions options, ports::Callback<std::vector<ports::Delivery>> done) {
    AfterUnlock after;
    std::optional<std::uint64_t> waiter_id;
    std::vector<ports::Delivery> deliveries;
    ports::Callback<std::vector<ports::Delivery>> answer_now;  // empty when the call waits
    domain::Timestamp wait_until{};
    {
      std::lock_guard lock(mutex_);
      const domain::Timestamp now = clock_->now();
      prologue(now, after);
      deliveries = collect(options.max_messages, options.visibility, now, after);
      if (deliveries.empty() && options.wait > domain::Duration::zero() &&
          options.max_messages > 0) {
        waiter_id = next_waiter_id_++;
        waiters_.emplace(*waiter_id,
                         Waiter{options.max_messages, options.visibility, std::move(done), {}});
        wait_until = now + options.wait;
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
    if (!still_waiting) clock_->cancel(timer);  // answered already: harmless if it fired
  }

  void ack(const std::vector<std::string>& receipts, const ports::Callback<void>& done) {
    settle(receipts, done, [this](Message&& message, domain::Timestamp) {
      release_watermark(message);  // the message is dropped
    });
  }

  void nack(const std::vector<std::string>& receipts, const std::string& reason,
            const ports::Callback<void>& done) {
    settle(receipts, done, [&](Message&& message, domain::Timestamp now) {
      if (!message.first_failure) message.first_failure = now;
      if (message.deliveries >= options_.max_deliveries) {
        to_dead_letters(std::move(message), reason, now);
      } else {
        enqueue(std::move(message));
      }
    });
  }

  void dead_letter(const std::vector<std::string>& receipts, const std::string& reason,
                   const ports::Callback<void>& done) {
    settle(receipts, done, [&](Message&& message, domain::Timestamp now) {
      to_dead_letters(std::move(message), reason, now);
    });
  }

  void list_dead_letters(std::size_t limit,
                         const ports::Callback<std::vector<ports::DeadLetter>>& done) {
    AfterUnlock after;
    std::vector<ports::DeadLetter> answer;
    {
      std::lock_guard lock(mutex_);
      prologue(clock_->now(), after);
      for (auto it = dead_.begin(); it != dead_.end() && answer.size() < limit; ++it) {
        answer.push_back(it->second);
      }
    }
    run(after);
    done(std::move(answer));
  }

  void redrive(const std::vector<std::string>& message_ids,
               const ports::Callback<std::size_t>& done) {
    AfterUnlock after;
    std::size_t moved = 0;
    {
      std::lock_guard lock(mutex_);
      const domain::Timestamp now = clock_->now();
      prologue(now, after);
      for (const auto& id : message_ids) {
        const auto found = dead_index_.find(id);
        if (found == dead_index_.end()) continue;
        auto letter = std::move(dead_.at(found->second));
        dead_.erase(found->second);
        dead_index_.erase(found);
        Message message;
        message.id = std::move(letter.message_id);
        message.ordering_key = std::move(letter.ordering_key);
        message.dedup_id = std::move(letter.dedup_id);
        message.event_time = letter.event_time;
        message.body = std::move(letter.body);
        enqueue(std::move(message));
        ++moved;
      }
      serve_waiters(now, after);
    }
    run(after);
    done(moved);
  }

  void purge_dead_letters(const ports::Callback<std::size_t>& done) {
    AfterUnlock after;
    std::size_t purged = 0;
    {
      std::lock_guard lock(mutex_);
      prologue(clock_->now(), after);
      purged = dead_.size();
      dead_.clear();
      dead_index_.clear();
    }
    run(after);
    done(purged);
  }

  void watermark(const ports::Callback<domain::Timestamp>& done) {
    AfterUnlock after;
    domain::Timestamp answer{};
    {
      std::lock_guard lock(mutex_);
      const domain::Timestamp now = clock_->now();
      prologue(now, after);
      answer = now - options_.max_lateness;
      if (!unsettled_.empty() && *unsettled_.begin() < answer) answer = *unsettled_.begin();
    }
    run(after);
    done(answer);
  }

  void stats(const ports::Callback<ports::QueueStats>& done) {
    AfterUnlock after;
    ports::QueueStats answer;
    {
      std::lock_guard lock(mutex_);
      prologue(clock_->now(), after);  // expired deliveries count as waiting (or dead) again
      answer.in_flight = receipts_.size();
      answer.waiting = messages_.size() - answer.in_flight;
      answer.dead_letters = dead_.size();
      for (const auto& [seq, message] : messages_) {
        if (!answer.oldest_event_time || message.event_time < *answer.oldest_event_time) {
          answer.oldest_event_time = message.event_time;
        }
      }
    }
    run(after);
    done(answer);
  }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return messages_.size();
  }

  // Answers every pending long poll with an error; called once, by ~MemoryQueue.
  void shut_down() {
    AfterUnlock after;
    {
      std::lock_guard lock(mutex_);
      for (auto& [id, waiter] : waiters_) {
        if (waiter.timer) after.cancel_timers.push_back(*waiter.timer);
        after.calls.emplace_back([done = std::move(waiter.done)] {
          done(ports::Error{ports::ErrorKind::retryable, "queue closed"});
        });
      }
      waiters_.clear();
    }
    run(after);
  }

 private:
  // Runs when a visibility deadline passes: expired deliveries become visible again (or dead).
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
      // Served already (by the prologue, or earlier) when it is no longer there.
      if (const auto found = waiters_.find(id); found != waiters_.end()) {
        auto waiter = std::move(found->second);
        waiters_.erase(found);
        after.calls.emplace_back(
            [done = std::move(waiter.done),
             deliveries = collect(waiter.max_messages, waiter.visibility, now, after)]() mutable {
              done(std::move(deliveries));
            });
      }
    }
    run(after);
  }

  // What every operation does first: take back expired deliveries, then serve long polls.
  void prologue(domain::Timestamp now, AfterUnlock& after) {
    reclaim_expired(now);
    serve_waiters(now, after);
  }

  void reclaim_expired(domain::Timestamp now) {
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
      const auto [deadline, seq] = *deadlines_.begin();
      const std::string receipt = messages_.at(seq).receipt;
      auto taken = take_in_flight(receipt);
      if (!taken->first_failure) taken->first_failure = deadline;
      if (taken->deliveries >= options_.max_deliveries) {
        to_dead_letters(std::move(*taken), "max deliveries exceeded", deadline);
      } else {
        enqueue(std::move(*taken));
      }
    }
  }

  void serve_waiters(domain::Timestamp now, AfterUnlock& after) {
    while (!waiters_.empty() && !ready_.empty()) {
      auto waiter = std::move(waiters_.begin()->second);
      waiters_.erase(waiters_.begin());
      if (waiter.timer) after.cancel_timers.push_back(*waiter.timer);
      after.calls.emplace_back(
          [done = std::move(waiter.done),
           deliveries = collect(waiter.max_messages, waiter.visibility, now, after)]() mutable {
            done(std::move(deliveries));
          });
    }
  }

  // Delivers up to `max` visible messages of unlocked keys, oldest first. A key taken in this
  // call may give further messages in this call; afterwards it is locked until they are done.
  std::vector<ports::Delivery> collect(std::size_t max, domain::Duration visibility,
                                       domain::Timestamp now, AfterUnlock& after) {
    std::vector<ports::Delivery> out;
    std::set<std::string> taken_keys;
    const domain::Timestamp deadline = now + visibility;
    while (out.size() < max && !ready_.empty()) {
      const auto [seq, key_name] = *ready_.begin();
      ready_.erase(ready_.begin());
      auto& key = keys_.at(key_name);
      key.ready_head.reset();
      key.visible.erase(seq);
      ++key.in_flight;
      auto& message = messages_.at(seq);
      ++message.deliveries;
      message.in_flight = true;
      message.receipt = "r-" + std::to_string(next_receipt_++);
      message.visible_at = deadline;
      receipts_.emplace(message.receipt, seq);
      deadlines_.emplace(deadline, seq);
      out.push_back(ports::Delivery{message.id, message.receipt, message.ordering_key,
                                    message.event_time, message.body, message.deliveries});
      // Let the key continue in this call, competing by age with the other keys.
      if (!key.visible.empty()) {
        key.ready_head = *key.visible.begin();
        ready_.emplace(*key.ready_head, key_name);
      }
      taken_keys.insert(key_name);
    }
    for (const auto& key_name : taken_keys) refresh(key_name);
    if (!out.empty()) after.wake_at.push_back(deadline);
    return out;
  }

  // Makes a message visible. A new (or redriven) message goes to the end; one that comes back
  // from flight keeps its place, ahead of the later messages of its key.
  void enqueue(Message message) {
    if (message.seq == 0) message.seq = next_seq_++;
    const std::uint64_t seq = message.seq;
    message.in_flight = false;
    message.receipt.clear();
    const std::string key_name = message.ordering_key;
    seq_by_id_.insert_or_assign(message.id, seq);
    messages_.emplace(seq, std::move(message));
    keys_[key_name].visible.insert(seq);
    refresh(key_name);
  }

  // Takes an in-flight message out of the queue by its current receipt (nullopt: unknown or
  // expired receipt); the caller drops it, enqueues it again or dead-letters it.
  // ack, nack and dead_letter: take each receipt's in-flight message and hand it to `what`
  // (unknown or expired receipts are skipped), then serve waiting receivers; answers once.
  template <typename What>
  void settle(const std::vector<std::string>& receipts, const ports::Callback<void>& done,
              What&& what) {
    AfterUnlock after;
    {
      std::lock_guard lock(mutex_);
      const domain::Timestamp now = clock_->now();
      prologue(now, after);
      for (const auto& receipt : receipts) {
        if (auto message = take_in_flight(receipt)) what(std::move(*message), now);
      }
      serve_waiters(now, after);
    }
    run(after);
    done({});
  }

  std::optional<Message> take_in_flight(const std::string& receipt) {
    const auto found = receipts_.find(receipt);
    if (found == receipts_.end()) return std::nullopt;
    const std::uint64_t seq = found->second;
    receipts_.erase(found);
    auto node = messages_.extract(seq);
    Message message = std::move(node.mapped());
    seq_by_id_.erase(message.id);  // enqueue() puts it back if the message comes back
    deadlines_.erase({message.visible_at, seq});
    message.in_flight = false;
    message.receipt.clear();
    --keys_.at(message.ordering_key).in_flight;
    refresh(message.ordering_key);
    return message;
  }

  void release_watermark(Message& message) {
    if (!message.holds_watermark) return;
    unsettled_.erase(unsettled_.find(message.event_time));
    message.holds_watermark = false;
  }

  void to_dead_letters(Message message, std::string reason, domain::Timestamp at) {
    release_watermark(message);
    const std::uint64_t seq = next_dead_seq_++;
    dead_index_.emplace(message.id, seq);
    const std::string key_name = message.ordering_key;
    dead_.emplace(seq,
                  ports::DeadLetter{std::move(message.id), std::move(message.ordering_key),
                                    std::move(message.dedup_id), message.event_time,
                                    std::move(message.body), message.deliveries, std::move(reason),
                                    message.first_failure.value_or(at), at});
    refresh(key_name);
  }

  // Restores the invariant: a key has an entry in ready_ iff it has visible messages and none
  // in flight; a key with neither is dropped.
  void refresh(const std::string& key_name) {
    const auto found = keys_.find(key_name);
    if (found == keys_.end()) return;
    auto& key = found->second;
    if (key.ready_head) {
      ready_.erase({*key.ready_head, key_name});
      key.ready_head.reset();
    }
    if (key.in_flight == 0 && !key.visible.empty()) {
      key.ready_head = *key.visible.begin();
      ready_.emplace(*key.ready_head, key_name);
    } else if (key.in_flight == 0 && key.visible.empty()) {
      keys_.erase(found);
    }
  }

  // The body of a message the queue still holds (visible, in flight or dead), for a
  // duplicate's receipt; nullopt once it was acknowledged (or purged).
  std::optional<std::string> held_body(const std::string& message_id) const {
    if (const auto found = seq_by_id_.find(message_id); found != seq_by_id_.end()) {
      return messages_.at(found->second).body;
    }
    if (const auto found = dead_index_.find(message_id); found != dead_index_.end()) {
      return dead_.at(found->second).body;
    }
    return std::nullopt;
  }

  void prune_dedup(domain::Timestamp now) {
    while (!dedup_order_.empty() && dedup_order_.front().first + options_.dedup_window <= now) {
      const auto& [at, dedup_id] = dedup_order_.front();
      const auto found = dedup_.find(dedup_id);
      if (found != dedup_.end() && found->second.at == at) dedup_.erase(found);
      dedup_order_.pop_front();
    }
  }

  void run(AfterUnlock& after) {
    for (const auto timer : after.cancel_timers) clock_->cancel(timer);
    std::set<domain::Timestamp> wake(after.wake_at.begin(), after.wake_at.end());
    for (const auto at : wake) {
      clock_->call_at(at, [weak = weak_from_this()] {
        if (const auto self = weak.lock()) self->on_visibility_deadline();
      });
    }
    for (auto& call : after.calls) call();
  }

  const ports::ClockPtr clock_;
  const Options options_;

  mutable std::mutex mutex_;
  std::uint64_t next_message_id_ = 1;
  std::uint64_t next_receipt_ = 1;
  std::uint64_t next_seq_ = 1;
  std::uint64_t next_dead_seq_ = 1;
  std::uint64_t next_waiter_id_ = 1;

  std::unordered_map<std::uint64_t, Message> messages_;       // by seq: visible and in flight
  std::unordered_map<std::string, std::uint64_t> seq_by_id_;  // message id → seq in messages_
  std::unordered_map<std::string, KeyState> keys_;
  std::set<std::pair<std::uint64_t, std::string>> ready_;    // (head seq, key) of unlocked keys
  std::unordered_map<std::string, std::uint64_t> receipts_;  // receipt → seq
  std::set<std::pair<domain::Timestamp, std::uint64_t>> deadlines_;  // in flight, by deadline
  // Event times of the messages sent and not yet acknowledged or dead-lettered, delivered or
  // not: a bid in flight on one engine holds back the close on every engine.
  std::multiset<domain::Timestamp> unsettled_;

  std::unordered_map<std::string, DedupEntry> dedup_;
  std::deque<std::pair<domain::Timestamp, std::string>> dedup_order_;

  std::map<std::uint64_t, ports::DeadLetter> dead_;            // oldest first
  std::unordered_map<std::string, std::uint64_t> dead_index_;  // message id → dead seq

  std::map<std::uint64_t, Waiter> waiters_;  // long polls, first come first served
};

MemoryQueue::MemoryQueue(ports::ClockPtr clock, Options options)
    : impl_(std::make_shared<Impl>(std::move(clock), options)) {}

MemoryQueue::~MemoryQueue() {
  impl_->shut_down();
}

void MemoryQueue::send(std::vector<ports::OutgoingMessage> messages,
                       ports::Callback<std::vector<ports::SendReceipt>> done) {
  impl_->send(std::move(messages), done);
}
void MemoryQueue::receive(ports::ReceiveOptions options,
                          ports::Callback<std::vector<ports::Delivery>> done) {
  impl_->receive(options, std::move(done));
}
void MemoryQueue::ack(std::vector<std::string> receipts, ports::Callback<void> done) {
  impl_->ack(receipts, done);
}
void MemoryQueue::nack(std::vector<std::string> receipts, std::string reason,
                       ports::Callback<void> done) {
  impl_->nack(receipts, reason, done);
}
void MemoryQueue::dead_letter(std::vector<std::string> receipts, std::string reason,
                              ports::Callback<void> done) {
  impl_->dead_letter(receipts, reason, done);
}
void MemoryQueue::list_dead_letters(std::size_t limit,
                                    ports::Callback<std::vector<ports::DeadLetter>> done) {
  impl_->list_dead_letters(limit, done);
}
void MemoryQueue::redrive(std::vector<std::string> message_ids, ports::Callback<std::size_t> done) {
  impl_->redrive(message_ids, done);
}
void MemoryQueue::purge_dead_letters(ports::Callback<std::size_t> done) {
  impl_->purge_dead_letters(done);
}
void MemoryQueue::watermark(ports::Callback<domain::Timestamp> done) {
  impl_->watermark(done);
}
void MemoryQueue::stats(ports::Callback<ports::QueueStats> done) {
  impl_->stats(done);
}
std::size_t MemoryQueue::size() const {
  return impl_->size();
}

}  // namespace gavel::adapters::memory
