#include "roles/gateway/waiters.hpp"

#include <boost/asio/post.hpp>

namespace gavel::gateway {

std::shared_ptr<DecisionWaiters::Waiter> DecisionWaiters::expect(
    const std::string& command_id, const boost::asio::any_io_executor& strand) {
  auto waiter = std::make_shared<Waiter>(strand);
  waiter->timer.expires_at(boost::asio::steady_timer::time_point::max());
  std::lock_guard lock{mutex_};
  waiters_.emplace(command_id, waiter);
  return waiter;
}

void DecisionWaiters::forget(const std::string& command_id, const std::shared_ptr<Waiter>& waiter) {
  std::lock_guard lock{mutex_};
  auto [first, last] = waiters_.equal_range(command_id);
  for (auto it = first; it != last; ++it) {
    if (it->second == waiter) {
      waiters_.erase(it);
      return;
    }
  }
}

void DecisionWaiters::mark_queued(const std::string& command_id) {
  std::lock_guard lock{mutex_};
  ++queued_[command_id];
}

void DecisionWaiters::abandon(const std::string& command_id) {
  std::lock_guard lock{mutex_};
  queued_.erase(command_id);
}

bool DecisionWaiters::queued(const std::string& command_id) const {
  std::lock_guard lock{mutex_};
  return queued_.contains(command_id);
}

void DecisionWaiters::complete(const std::vector<roles::DecidedCommand>& decided) {
  std::vector<std::pair<std::shared_ptr<Waiter>, const roles::DecidedCommand*>> woken;
  {
    std::lock_guard lock{mutex_};
    for (const auto& command : decided) {
      queued_.erase(command.command_id);
      if (auto key = bid_to_key_.find(command.command_id); key != bid_to_key_.end()) {
        key_to_bid_.erase(key->second);
        bid_to_key_.erase(key);
      }
      auto [first, last] = waiters_.equal_range(command.command_id);
      for (auto it = first; it != last; ++it) woken.emplace_back(it->second, &command);
      waiters_.erase(first, last);
    }
  }
  for (auto& [waiter, command] : woken) {
    boost::asio::post(waiter->timer.get_executor(), [waiter = waiter, result = *command] {
      waiter->result = result;
      waiter->timer.cancel();
    });
  }
}

std::optional<std::string> DecisionWaiters::claim_key(const std::string& scoped_key,
                                                      const std::string& bid_id) {
  std::lock_guard lock{mutex_};
  auto [it, inserted] = key_to_bid_.try_emplace(scoped_key, KeyHolder{bid_id, false});
  if (!inserted) return it->second.bid_id;
  bid_to_key_[bid_id] = scoped_key;
  return std::nullopt;
}

void DecisionWaiters::release_key(const std::string& scoped_key) {
  std::lock_guard lock{mutex_};
  if (auto it = key_to_bid_.find(scoped_key); it != key_to_bid_.end()) {
    wake_locked(it->second.bid_id);
    bid_to_key_.erase(it->second.bid_id);
    key_to_bid_.erase(it);
  }
}

void DecisionWaiters::mark_sent(const std::string& command_id) {
  std::lock_guard lock{mutex_};
  if (auto key = bid_to_key_.find(command_id); key != bid_to_key_.end()) {
    if (auto it = key_to_bid_.find(key->second); it != key_to_bid_.end()) it->second.sent = true;
  }
}

std::optional<DecisionWaiters::KeyHolder> DecisionWaiters::key_holder(
    const std::string& scoped_key) const {
  std::lock_guard lock{mutex_};
  if (auto it = key_to_bid_.find(scoped_key); it != key_to_bid_.end()) return it->second;
  return std::nullopt;
}

void DecisionWaiters::wake_locked(const std::string& command_id) {
  auto [first, last] = waiters_.equal_range(command_id);
  for (auto it = first; it != last; ++it) {
    boost::asio::post(it->second->timer.get_executor(),
                      [waiter = it->second] { waiter->timer.cancel(); });
  }
}

void DecisionWaiters::rebind_key(const std::string& scoped_key, const std::string& bid_id,
                                 const std::string& original) {
  std::lock_guard lock{mutex_};
  auto it = key_to_bid_.find(scoped_key);
  if (it == key_to_bid_.end() || it->second.bid_id != bid_id) return;  // released meanwhile
  bid_to_key_.erase(bid_id);
  it->second = KeyHolder{original, true};  // the queue holds (or held) the original
  bid_to_key_[original] = scoped_key;
  wake_locked(bid_id);
}

}  // namespace gavel::gateway
