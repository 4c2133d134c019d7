#include "adapters/redis/long_polls.hpp"

#include <hiredis/hiredis.h>

#include <utility>

namespace gavel::adapters::redis {

ports::Result<Fetch> parse_fetch(const Reply& reply) {
  const auto parts = reply_elements(*reply);
  if (parts.empty()) return ports::Error{ports::ErrorKind::retryable, "redis: malformed receive"};
  Fetch fetch;
  for (const redisReply* item : reply_elements(*parts[0])) {
    const auto fields = reply_elements(*item);
    if (fields.size() != 6) {
      return ports::Error{ports::ErrorKind::retryable, "redis: malformed delivery"};
    }
    fetch.deliveries.push_back(
        ports::Delivery{reply_text(*fields[0]), reply_text(*fields[1]), reply_text(*fields[2]),
                        from_micros(reply_text(*fields[3])), reply_text(*fields[4]),
                        static_cast<int>(reply_integer(*fields[5]))});
  }
  if (parts.size() > 1 && !reply_nil(*parts[1])) {
    fetch.next_visible = from_micros(reply_text(*parts[1]));
  }
  return fetch;
}

LongPolls::LongPolls(ports::ClockPtr clock, Schedule schedule)
    : clock_(std::move(clock)), schedule_(std::move(schedule)) {}

LongPolls::Ticket LongPolls::take_ticket(domain::Duration wait) {
  Ticket ticket{next_id_.fetch_add(1), std::nullopt};
  if (wait > domain::Duration::zero()) {
    ticket.timer = schedule_(clock_->now() + wait,
                             [this, id = ticket.id](Connection& later) { expire(later, id); });
    std::optional<domain::Timestamp> hint;
    {
      std::lock_guard lock(hint_mutex_);
      hint = next_visible_hint_;
    }
    const auto now = clock_->now();
    if (hint && *hint > now && *hint < now + wait) {
      schedule_(*hint, [this](Connection& later) {
        if (!empty()) serve(later);
      });
    }
  }
  return ticket;
}

void LongPolls::receive(Connection& connection, Ticket ticket, std::uint64_t owner, Attempt attempt,
                        ports::Callback<std::vector<ports::Delivery>> done) {
  auto fetched = attempt(connection);
  note(fetched);
  if (!fetched.ok() || !fetched.value().deliveries.empty() || !ticket.timer) {
    if (ticket.timer) clock_->cancel(*ticket.timer);
    if (fetched.ok()) {
      done(std::move(fetched.value().deliveries));
    } else {
      done(fetched.error());
    }
    return;
  }
  waiters_.emplace(ticket.id, Waiter{owner, std::move(attempt), std::move(done), *ticket.timer});
  wake_at(fetched.value().next_visible);
}

void LongPolls::serve(Connection& connection) {
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    auto fetched = it->second.attempt(connection);
    note(fetched);
    if (!fetched.ok() || fetched.value().deliveries.empty()) {
      // A failed attempt leaves the poll waiting: its expiry answers it in any case.
      if (fetched.ok()) wake_at(fetched.value().next_visible);
      ++it;
      continue;
    }
    auto done = std::move(it->second.done);
    clock_->cancel(it->second.timer);
    it = waiters_.erase(it);
    done(std::move(fetched.value().deliveries));
  }
}

void LongPolls::expire(Connection& connection, std::uint64_t id) {
  const auto found = waiters_.find(id);
  if (found == waiters_.end()) return;  // answered already
  Waiter waiter = std::move(found->second);
  waiters_.erase(found);
  auto fetched = waiter.attempt(connection);
  if (fetched.ok()) {
    waiter.done(std::move(fetched.value().deliveries));
  } else {
    waiter.done(fetched.error());
  }
}

void LongPolls::close(std::optional<std::uint64_t> owner, const std::string& why) {
  std::vector<ports::Callback<std::vector<ports::Delivery>>> closing;
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    if (owner && it->second.owner != *owner) {
      ++it;
      continue;
    }
    clock_->cancel(it->second.timer);
    closing.push_back(std::move(it->second.done));
    it = waiters_.erase(it);
  }
  for (auto& done : closing) done(ports::Error{ports::ErrorKind::retryable, why});
}

void LongPolls::note(const ports::Result<Fetch>& fetched) {
  if (!fetched.ok()) return;
  std::lock_guard lock(hint_mutex_);
  next_visible_hint_ = fetched.value().next_visible;
}

void LongPolls::wake_at(std::optional<domain::Timestamp> at) {
  if (!at || !wakes_.insert(*at).second) return;
  schedule_(*at, [this, at = *at](Connection& connection) {
    wakes_.erase(at);
    serve(connection);
  });
}

}  // namespace gavel::adapters::redis
