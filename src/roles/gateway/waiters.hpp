#pragma once
// Requests waiting for their command's decision. The engine host completes them from its thread;
// each waiter wakes on its own strand. Also answers "is this bid still queued?" and keeps the
// in-flight idempotency keys (until the decision is durable and the store can answer instead).

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "roles/engine_host/engine_host.hpp"

namespace gavel::gateway {

class DecisionWaiters {
 public:
  /// One waiting request. Touch it only on the strand it was created for.
  struct Waiter {
    explicit Waiter(const boost::asio::any_io_executor& strand) : timer(strand) {}
    boost::asio::steady_timer timer;
    std::optional<roles::DecidedCommand> result;
  };

  /// Registers interest in `command_id` before the command is enqueued (so no decision is
  /// missed). `strand` must be the caller's strand.
  std::shared_ptr<Waiter> expect(const std::string& command_id,
                                 const boost::asio::any_io_executor& strand);
  /// Forgets a waiter that gave up.
  void forget(const std::string& command_id, const std::shared_ptr<Waiter>& waiter);
  /// Hands decisions to their waiters (any thread) and releases their idempotency keys.
  void complete(const std::vector<roles::DecidedCommand>& decided);
  /// Whether a command is enqueued and not decided yet.
  bool queued(const std::string& command_id) const;

  /// Claims an idempotency key (already scoped by user) for `bid_id`. Returns the bid that
  /// holds it if another request got there first.
  std::optional<std::string> claim_key(const std::string& scoped_key, const std::string& bid_id);
  /// Releases a key whose command could not be enqueued (or whose first bid is unknown here).
  /// Requests waiting on the bid that held it wake up without a result: see key_holder().
  void release_key(const std::string& scoped_key);
  /// Hands a key claimed for `bid_id` to `original`, the bid another attempt queued first (the
  /// queue answered duplicate): later retries here wait for the bid that will be decided, and
  /// those already waiting on `bid_id` (which never will be) wake up to wait for `original`.
  void rebind_key(const std::string& scoped_key, const std::string& bid_id,
                  const std::string& original);
  /// Marks the key held by `command_id` (if any) as sent: the queue took its bid, so it is the
  /// key's bid for good (until decided). Before that the queue may still call it a duplicate.
  void mark_sent(const std::string& command_id);
  struct KeyHolder {
    std::string bid_id;
    bool sent = false;  ///< the queue took it (see mark_sent)
  };
  /// The bid that holds a key now, if any.
  std::optional<KeyHolder> key_holder(const std::string& scoped_key) const;
  /// Marks `command_id` queued until it is decided.
  void mark_queued(const std::string& command_id);
  /// Forgets a command that could not be queued after all.
  void abandon(const std::string& command_id);

 private:
  /// Wakes (without a result) the waiters of `command_id`; they forget themselves. Call with
  /// the lock held; the wake-ups are posted to the waiters' strands.
  void wake_locked(const std::string& command_id);

  mutable std::mutex mutex_;
  std::unordered_multimap<std::string, std::shared_ptr<Waiter>> waiters_;
  std::unordered_map<std::string, KeyHolder> key_to_bid_;
  std::unordered_map<std::string, std::string> bid_to_key_;
  std::unordered_map<std::string, int> queued_;
};

}  // namespace gavel::gateway
