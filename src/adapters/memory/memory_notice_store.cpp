#include "adapters/memory/memory_notice_store.hpp"

#include <algorithm>

namespace gavel::adapters::memory {

void MemoryNoticeStore::record(ports::NoticeBatch batch,
                               ports::Callback<std::vector<ports::DeliveryRecord>> done) {
  std::vector<ports::DeliveryRecord> pending;
  {
    std::lock_guard lock(mutex_);
    for (const auto& update : batch.watches) {
      auto [it, inserted] = watches_.try_emplace(update.auction_id);
      if (inserted) it->second.auction_id = update.auction_id;
      ports::merge_watch(it->second, update);
    }
    for (auto& entry : batch.inbox) {
      if (inbox_index_.contains(entry.notice.id)) continue;
      auto& inbox = inboxes_[entry.notice.user_id];
      inbox_index_.emplace(entry.notice.id, std::pair{entry.notice.user_id, inbox.size()});
      entry.notice.address.clear();
      entry.notice.secret.clear();
      inbox.push_back(std::move(entry));
    }
    for (auto& record : batch.deliveries) {
      auto key = std::pair{record.notice.id, record.channel};
      auto it = deliveries_.find(key);
      if (it == deliveries_.end()) {
        record.state = ports::DeliveryState::pending;
        it = deliveries_.emplace(std::move(key), Delivery{std::move(record), next_order_++, 0})
                 .first;
      }
      if (it->second.record.state == ports::DeliveryState::pending) {
        pending.push_back(it->second.record);
      }
    }
  }
  done(std::move(pending));
}

void MemoryNoticeStore::get_watch(const domain::AuctionId& auction_id,
                                  ports::Callback<std::optional<ports::AuctionWatch>> done) {
  std::optional<ports::AuctionWatch> watch;
  {
    std::lock_guard lock(mutex_);
    if (auto it = watches_.find(auction_id); it != watches_.end()) watch = it->second;
  }
  done(std::move(watch));
}

void MemoryNoticeStore::list_open_watches(const domain::AuctionId& after, std::size_t limit,
                                          ports::Callback<std::vector<ports::AuctionWatch>> done) {
  std::vector<ports::AuctionWatch> open;
  {
    std::lock_guard lock(mutex_);
    for (auto it = watches_.upper_bound(after); it != watches_.end() && open.size() < limit; ++it) {
      if (!it->second.finished) open.push_back(it->second);
    }
  }
  done(std::move(open));
}

void MemoryNoticeStore::pending_deliveries(
    std::size_t limit, ports::Callback<std::vector<ports::DeliveryRecord>> done) {
  std::vector<const Delivery*> pending;
  std::vector<ports::DeliveryRecord> records;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, delivery] : deliveries_) {
      if (delivery.record.state == ports::DeliveryState::pending) pending.push_back(&delivery);
    }
    std::sort(pending.begin(), pending.end(),
              [](const Delivery* a, const Delivery* b) { return a->order < b->order; });
    for (std::size_t i = 0; i < pending.size() && i < limit; ++i) {
      records.push_back(pending[i]->record);
    }
  }
  done(std::move(records));
}

void MemoryNoticeStore::settle(ports::DeliveryOutcome outcome, ports::Callback<void> done) {
  {
    std::lock_guard lock(mutex_);
    auto it = deliveries_.find({outcome.notice_id, outcome.channel});
    if (it != deliveries_.end() && it->second.record.state == ports::DeliveryState::pending) {
      auto& record = it->second.record;
      record.state = outcome.state;
      if (outcome.state != ports::DeliveryState::sent) {
        record.attempts = outcome.attempts;
        if (!record.first_failure) record.first_failure = outcome.at;
        record.last_failure = outcome.at;
        record.last_error = std::move(outcome.error);
      }
      if (outcome.state == ports::DeliveryState::dead) it->second.dead_order = next_order_++;
    }
  }
  done({});
}

void MemoryNoticeStore::dead_letters(std::size_t limit,
                                     ports::Callback<std::vector<ports::DeliveryRecord>> done) {
  std::vector<const Delivery*> dead;
  std::vector<ports::DeliveryRecord> records;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, delivery] : deliveries_) {
      if (delivery.record.state == ports::DeliveryState::dead) dead.push_back(&delivery);
    }
    std::sort(dead.begin(), dead.end(),
              [](const Delivery* a, const Delivery* b) { return a->dead_order > b->dead_order; });
    for (std::size_t i = 0; i < dead.size() && i < limit; ++i) records.push_back(dead[i]->record);
  }
  done(std::move(records));
}

void MemoryNoticeStore::list_inbox(const ports::InboxQuery& query,
                                   ports::Callback<ports::InboxPage> done) {
  ports::InboxPage page;
  {
    std::lock_guard lock(mutex_);
    auto it = inboxes_.find(query.user_id);
    if (it != inboxes_.end()) {
      const auto& inbox = it->second;
      page.unread = static_cast<std::uint64_t>(std::count_if(
          inbox.begin(), inbox.end(), [](const ports::InboxNotice& n) { return !n.read; }));
      std::size_t end = inbox.size();  // one past the newest notice of the page
      if (query.before) {
        auto found = inbox_index_.find(*query.before);
        end = found != inbox_index_.end() && found->second.first == query.user_id
                  ? found->second.second
                  : 0;
      }
      for (std::size_t i = end; i > 0 && page.notices.size() < query.limit; --i) {
        page.notices.push_back(inbox[i - 1]);
      }
      if (!page.notices.empty() && end > page.notices.size()) {
        page.next = page.notices.back().notice.id;
      }
    }
  }
  done(std::move(page));
}

void MemoryNoticeStore::mark_read(const domain::UserId& user_id, std::vector<std::string> ids,
                                  ports::Callback<std::size_t> done) {
  std::size_t marked = 0;
  {
    std::lock_guard lock(mutex_);
    auto it = inboxes_.find(user_id);
    if (it != inboxes_.end()) {
      const auto mark = [&marked](ports::InboxNotice& notice) {
        if (!notice.read) ++marked;
        notice.read = true;
      };
      if (ids.empty()) {
        std::for_each(it->second.begin(), it->second.end(), mark);
      }
      for (const auto& id : ids) {
        auto found = inbox_index_.find(id);
        if (found != inbox_index_.end() && found->second.first == user_id) {
          mark(it->second[found->second.second]);
        }
      }
    }
  }
  done(marked);
}

void MemoryNoticeStore::get_preferences(std::vector<domain::UserId> user_ids,
                                        ports::Callback<std::vector<ports::Preferences>> done) {
  std::vector<ports::Preferences> answers;
  {
    std::lock_guard lock(mutex_);
    for (const auto& user : user_ids) {
      auto it = preferences_.find(user);
      answers.push_back(it != preferences_.end() ? it->second : ports::Preferences{});
    }
  }
  done(std::move(answers));
}

void MemoryNoticeStore::put_preferences(const domain::UserId& user_id,
                                        ports::Preferences preferences,
                                        ports::Callback<void> done) {
  {
    std::lock_guard lock(mutex_);
    preferences_[user_id] = std::move(preferences);
  }
  done({});
}

}  // namespace gavel::adapters::memory
