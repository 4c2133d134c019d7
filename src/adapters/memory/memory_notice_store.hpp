#pragma once
// The notice store port in process memory: the unit tests' fake and a store for a notifier that
// need not survive a restart. Thread-safe; answers every call before returning, never with the
// lock held.

#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ports/notice_store.hpp"

namespace gavel::adapters::memory {

class MemoryNoticeStore final : public ports::NoticeStore {
 public:
  void record(ports::NoticeBatch batch,
              ports::Callback<std::vector<ports::DeliveryRecord>> done) override;
  void get_watch(const domain::AuctionId& auction_id,
                 ports::Callback<std::optional<ports::AuctionWatch>> done) override;
  void list_open_watches(const domain::AuctionId& after, std::size_t limit,
                         ports::Callback<std::vector<ports::AuctionWatch>> done) override;
  void pending_deliveries(std::size_t limit,
                          ports::Callback<std::vector<ports::DeliveryRecord>> done) override;
  void settle(ports::DeliveryOutcome outcome, ports::Callback<void> done) override;
  void dead_letters(std::size_t limit,
                    ports::Callback<std::vector<ports::DeliveryRecord>> done) override;
  void list_inbox(const ports::InboxQuery& query, ports::Callback<ports::InboxPage> done) override;
  void mark_read(const domain::UserId& user_id, std::vector<std::string> ids,
                 ports::Callback<std::size_t> done) override;
  void get_preferences(std::vector<domain::UserId> user_ids,
                       ports::Callback<std::vector<ports::Preferences>> done) override;
  void put_preferences(const domain::UserId& user_id, ports::Preferences preferences,
                       ports::Callback<void> done) override;

 private:
  struct Delivery {
    ports::DeliveryRecord record;
    std::uint64_t order = 0;       // when it was promised
    std::uint64_t dead_order = 0;  // when it was given up
  };

  mutable std::mutex mutex_;
  std::map<domain::AuctionId, ports::AuctionWatch> watches_;
  // Every user's inbox in insertion order, and where each notice id sits in it.
  std::unordered_map<domain::UserId, std::vector<ports::InboxNotice>> inboxes_;
  std::unordered_map<std::string, std::pair<domain::UserId, std::size_t>> inbox_index_;
  std::map<std::pair<std::string, std::string>, Delivery> deliveries_;  // by (notice, channel)
  std::uint64_t next_order_ = 1;
  std::unordered_map<domain::UserId, ports::Preferences> preferences_;
};

}  // namespace gavel::adapters::memory
