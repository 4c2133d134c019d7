#pragma once
// The contract of ports::NoticeStore (ports/notice_store.hpp), for every adapter.
//
//   struct MyNoticeStoreFactory {
//     ports::NoticeStorePtr make();  // a store; called again after the first one is destroyed
//                                    // by the reopening cases (durable adapters only)
//     static constexpr bool kDurable = ...;  // does a store made again see the first one's data?
//   };
//   INSTANTIATE_TYPED_TEST_SUITE_P(My, NoticeStoreContract, ::testing::Types<MyFactory>);

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "contract/await.hpp"
#include "contract/support.hpp"
#include "ports/notice_store.hpp"

namespace gavel::contract {

template <typename Factory>
class NoticeStoreContract : public ::testing::Test {
 protected:
  void SetUp() override { store_ = factory_.make(); }

  static domain::Timestamp at(int second) {
    return domain::Timestamp{} + std::chrono::hours(24 * 365 * 56) + std::chrono::seconds(second);
  }

  static ports::Notice notice(const std::string& id, const std::string& user) {
    ports::Notice notice;
    notice.id = id;
    notice.user_id = domain::UserId{user};
    notice.auction_id = domain::AuctionId{"a1"};
    notice.kind = "outbid";
    notice.subject = "subject of " + id;
    notice.text = "text of " + id;
    notice.html = "<p>html of " + id + "</p>";
    return notice;
  }

  static ports::InboxNotice inbox(const std::string& id, const std::string& user, int second) {
    return ports::InboxNotice{notice(id, user), at(second), false};
  }

  static ports::DeliveryRecord delivery(const std::string& id, const std::string& channel) {
    ports::DeliveryRecord record;
    record.notice = notice(id, "u1");
    record.notice.address = "https://hooks.example.com/u1";
    record.notice.secret = "k";
    record.channel = channel;
    return record;
  }

  ports::Result<std::vector<ports::DeliveryRecord>> record(ports::NoticeBatch batch) {
    return await<std::vector<ports::DeliveryRecord>>(
        [&](auto done) { store_->record(std::move(batch), done); });
  }
  ports::InboxPage page(const std::string& user, std::size_t limit,
                        std::optional<std::string> before = std::nullopt) {
    auto result = await<ports::InboxPage>([&](auto done) {
      store_->list_inbox(ports::InboxQuery{domain::UserId{user}, std::move(before), limit}, done);
    });
    EXPECT_EQ(describe(result), "ok");
    return result.ok() ? result.value() : ports::InboxPage{};
  }
  std::vector<std::string> ids(const ports::InboxPage& page) {
    std::vector<std::string> out;
    for (const auto& entry : page.notices) out.push_back(entry.notice.id);
    return out;
  }
  std::size_t mark_read(const std::string& user, std::vector<std::string> notice_ids) {
    auto result = await<std::size_t>(
        [&](auto done) { store_->mark_read(domain::UserId{user}, std::move(notice_ids), done); });
    EXPECT_EQ(describe(result), "ok");
    return result.ok() ? result.value() : 999;
  }
  std::optional<ports::AuctionWatch> watch(const std::string& auction) {
    auto result = await<std::optional<ports::AuctionWatch>>(
        [&](auto done) { store_->get_watch(domain::AuctionId{auction}, done); });
    EXPECT_EQ(describe(result), "ok");
    return result.ok() ? result.value() : std::nullopt;
  }
  std::vector<ports::DeliveryRecord> pending(std::size_t limit = 100) {
    auto result = await<std::vector<ports::DeliveryRecord>>(
        [&](auto done) { store_->pending_deliveries(limit, done); });
    EXPECT_EQ(describe(result), "ok");
    return result.ok() ? result.value() : std::vector<ports::DeliveryRecord>{};
  }
  std::vector<ports::DeliveryRecord> dead(std::size_t limit = 100) {
    auto result = await<std::vector<ports::DeliveryRecord>>(
        [&](auto done) { store_->dead_letters(limit, done); });
    EXPECT_EQ(describe(result), "ok");
    return result.ok() ? result.value() : std::vector<ports::DeliveryRecord>{};
  }
  void settle(ports::DeliveryOutcome outcome) {
    EXPECT_EQ(describe(await<void>([&](auto done) { store_->settle(std::move(outcome), done); })),
              "ok");
  }
  static std::vector<std::string> delivery_ids(const std::vector<ports::DeliveryRecord>& list) {
    std::vector<std::string> out;
    for (const auto& record : list) out.push_back(record.notice.id + "/" + record.channel);
    return out;
  }

  Factory factory_;
  ports::NoticeStorePtr store_;
};

TYPED_TEST_SUITE_P(NoticeStoreContract);

TYPED_TEST_P(NoticeStoreContract, AnInboxListsNewestFirstEachNoticeOnceWithoutAddress) {
  ports::NoticeBatch batch;
  batch.inbox = {this->inbox("n1", "u1", 1), this->inbox("n2", "u1", 2),
                 this->inbox("x1", "u2", 3)};
  batch.inbox[0].notice.address = "alice@example.com";
  batch.inbox[0].notice.secret = "k";
  ASSERT_EQ(describe(this->record(batch)), "ok");
  // The same notices again (a redelivered event) and one new one.
  ports::NoticeBatch again;
  again.inbox = {this->inbox("n2", "u1", 9), this->inbox("n3", "u1", 4)};
  again.inbox[0].notice.subject = "changed";
  ASSERT_EQ(describe(this->record(again)), "ok");

  const auto page = this->page("u1", 10);
  EXPECT_THAT(this->ids(page), ::testing::ElementsAre("n3", "n2", "n1"));
  EXPECT_EQ(page.unread, 3u);
  EXPECT_FALSE(page.next.has_value());
  ASSERT_EQ(page.notices.size(), 3u);
  auto expected = this->inbox("n1", "u1", 1);
  EXPECT_EQ(page.notices[2], expected);  // address and secret are not kept in the inbox
  EXPECT_EQ(page.notices[1].notice.subject, "subject of n2");  // the first write stays
  EXPECT_TIME_EQ(page.notices[1].at, this->at(2));
  EXPECT_THAT(this->ids(this->page("u2", 10)), ::testing::ElementsAre("x1"));
  EXPECT_THAT(this->ids(this->page("nobody", 10)), ::testing::IsEmpty());
}

TYPED_TEST_P(NoticeStoreContract, AnInboxPagesWithACursor) {
  ports::NoticeBatch batch;
  for (int i = 1; i <= 5; ++i) batch.inbox.push_back(this->inbox("n" + std::to_string(i), "u1", i));
  batch.inbox.push_back(this->inbox("other", "u2", 6));
  ASSERT_EQ(describe(this->record(batch)), "ok");

  const auto first = this->page("u1", 2);
  EXPECT_THAT(this->ids(first), ::testing::ElementsAre("n5", "n4"));
  ASSERT_EQ(first.next, std::optional<std::string>("n4"));
  const auto second = this->page("u1", 2, first.next);
  EXPECT_THAT(this->ids(second), ::testing::ElementsAre("n3", "n2"));
  ASSERT_TRUE(second.next.has_value());
  const auto last = this->page("u1", 2, second.next);
  EXPECT_THAT(this->ids(last), ::testing::ElementsAre("n1"));
  EXPECT_FALSE(last.next.has_value());
  EXPECT_EQ(last.unread, 5u);  // the whole inbox's count
  // Exactly a page's worth left: no cursor to an empty page.
  EXPECT_FALSE(this->page("u1", 2, std::string("n3")).next.has_value());
  // Another user's notice is no cursor into this inbox.
  EXPECT_THAT(this->ids(this->page("u1", 2, std::string("other"))), ::testing::IsEmpty());
}

TYPED_TEST_P(NoticeStoreContract, MarkReadCountsOnlyTheUsersUnreadNotices) {
  ports::NoticeBatch batch;
  batch.inbox = {this->inbox("n1", "u1", 1), this->inbox("n2", "u1", 2), this->inbox("n3", "u1", 3),
                 this->inbox("x1", "u2", 4)};
  ASSERT_EQ(describe(this->record(batch)), "ok");

  EXPECT_EQ(this->mark_read("u1", {"n1", "x1", "missing"}), 1u);
  EXPECT_EQ(this->mark_read("u1", {"n1"}), 0u);  // already read
  auto page = this->page("u1", 10);
  EXPECT_EQ(page.unread, 2u);
  ASSERT_EQ(page.notices.size(), 3u);
  EXPECT_TRUE(page.notices[2].read);
  EXPECT_FALSE(page.notices[1].read);
  EXPECT_EQ(this->page("u2", 10).unread, 1u);  // u1 cannot mark u2's notice

  EXPECT_EQ(this->mark_read("u1", {}), 2u);  // all
  EXPECT_EQ(this->page("u1", 10).unread, 0u);
  EXPECT_EQ(this->page("u2", 10).unread, 1u);
}

TYPED_TEST_P(NoticeStoreContract, WatchesMergeWhatEachBatchLearns) {
  EXPECT_FALSE(this->watch("a1").has_value());
  ports::AuctionWatch created;
  created.auction_id = domain::AuctionId{"a1"};
  created.seller_id = domain::UserId{"seller"};
  created.ends_at = this->at(100);
  ASSERT_EQ(describe(this->record({{created}, {}, {}})), "ok");

  ports::AuctionWatch bids;
  bids.auction_id = domain::AuctionId{"a1"};
  bids.participants = {domain::UserId{"bob"}, domain::UserId{"carol"}};
  ASSERT_EQ(describe(this->record({{bids}, {}, {}})), "ok");
  ports::AuctionWatch later;
  later.auction_id = domain::AuctionId{"a1"};
  later.ends_at = this->at(130);
  later.ending_soon_sent = true;
  later.participants = {domain::UserId{"carol"}, domain::UserId{"alice"}};
  ASSERT_EQ(describe(this->record({{later}, {}, {}})), "ok");

  auto stored = this->watch("a1");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->seller_id, domain::UserId{"seller"});  // an empty seller keeps the stored one
  EXPECT_TIME_EQ(stored->ends_at, this->at(130));
  EXPECT_TRUE(stored->ending_soon_sent);
  EXPECT_FALSE(stored->finished);
  EXPECT_THAT(stored->participants,
              ::testing::ElementsAre(domain::UserId{"bob"}, domain::UserId{"carol"},
                                     domain::UserId{"alice"}));

  ports::AuctionWatch flags_stay;  // false flags never clear true ones
  flags_stay.auction_id = domain::AuctionId{"a1"};
  ASSERT_EQ(describe(this->record({{flags_stay}, {}, {}})), "ok");
  EXPECT_TRUE(this->watch("a1")->ending_soon_sent);
  EXPECT_TIME_EQ(this->watch("a1")->ends_at, this->at(130));
}

TYPED_TEST_P(NoticeStoreContract, OpenWatchesSkipFinishedAuctionsAndPage) {
  ports::NoticeBatch batch;
  for (const char* id : {"a1", "a2", "a3", "a4"}) {
    ports::AuctionWatch watch;
    watch.auction_id = domain::AuctionId{id};
    watch.ends_at = this->at(50);
    watch.finished = std::string(id) == "a2";
    batch.watches.push_back(watch);
  }
  ASSERT_EQ(describe(this->record(batch)), "ok");
  const auto list = [this](const char* after, std::size_t limit) {
    auto result = await<std::vector<ports::AuctionWatch>>(
        [&](auto done) { this->store_->list_open_watches(domain::AuctionId{after}, limit, done); });
    std::vector<std::string> ids;
    if (result.ok()) {
      for (const auto& watch : result.value()) ids.push_back(watch.auction_id.str());
    }
    return ids;
  };
  EXPECT_THAT(list("", 10), ::testing::ElementsAre("a1", "a3", "a4"));
  EXPECT_THAT(list("", 2), ::testing::ElementsAre("a1", "a3"));
  EXPECT_THAT(list("a3", 2), ::testing::ElementsAre("a4"));
}

TYPED_TEST_P(NoticeStoreContract, ADeliveryIsPendingUntilSentAndNeverPromisedTwice) {
  ports::NoticeBatch batch;
  batch.deliveries = {this->delivery("n1", "webhook"), this->delivery("n1", "email"),
                      this->delivery("n2", "webhook")};
  const auto recorded = this->record(batch);
  ASSERT_EQ(describe(recorded), "ok");
  EXPECT_THAT(this->delivery_ids(recorded.value()),
              ::testing::ElementsAre("n1/webhook", "n1/email", "n2/webhook"));
  auto list = this->pending();
  EXPECT_THAT(this->delivery_ids(list),
              ::testing::ElementsAre("n1/webhook", "n1/email", "n2/webhook"));
  ASSERT_FALSE(list.empty());
  EXPECT_EQ(list[0], this->delivery("n1", "webhook"));  // whole, with address and secret
  EXPECT_THAT(this->delivery_ids(this->pending(2)),
              ::testing::ElementsAre("n1/webhook", "n1/email"));

  this->settle({"n1", "webhook", ports::DeliveryState::sent, 0, this->at(5), ""});
  // A redelivered event promises the same deliveries again: the sent one stays sent, and
  // only the pending ones are answered.
  const auto again = this->record(batch);
  ASSERT_EQ(describe(again), "ok");
  EXPECT_THAT(this->delivery_ids(again.value()), ::testing::ElementsAre("n1/email", "n2/webhook"));
  EXPECT_THAT(this->delivery_ids(this->pending()),
              ::testing::ElementsAre("n1/email", "n2/webhook"));
  // Unknown deliveries are ignored.
  this->settle({"nope", "webhook", ports::DeliveryState::sent, 0, this->at(5), ""});
  EXPECT_EQ(this->pending().size(), 2u);
}

TYPED_TEST_P(NoticeStoreContract, FailuresAreCountedAndDeadLettersListedNewestFirst) {
  ports::NoticeBatch batch;
  batch.deliveries = {this->delivery("n1", "webhook"), this->delivery("n2", "webhook"),
                      this->delivery("n3", "sms")};
  ASSERT_EQ(describe(this->record(batch)), "ok");

  this->settle({"n1", "webhook", ports::DeliveryState::pending, 1, this->at(10), "HTTP 503"});
  this->settle({"n1", "webhook", ports::DeliveryState::pending, 2, this->at(12), "timeout"});
  auto list = this->pending();
  ASSERT_FALSE(list.empty());
  EXPECT_EQ(list[0].attempts, 2);
  ASSERT_TRUE(list[0].first_failure && list[0].last_failure);
  EXPECT_TIME_EQ(*list[0].first_failure, this->at(10));
  EXPECT_TIME_EQ(*list[0].last_failure, this->at(12));
  EXPECT_EQ(list[0].last_error, "timeout");

  this->settle({"n1", "webhook", ports::DeliveryState::dead, 3, this->at(20), "HTTP 503"});
  this->settle({"n3", "sms", ports::DeliveryState::dead, 1, this->at(21), "HTTP 400"});
  // Settling a dead (or sent) delivery again changes nothing.
  this->settle({"n1", "webhook", ports::DeliveryState::sent, 0, this->at(22), ""});
  EXPECT_THAT(this->delivery_ids(this->pending()), ::testing::ElementsAre("n2/webhook"));
  const auto letters = this->dead();
  EXPECT_THAT(this->delivery_ids(letters), ::testing::ElementsAre("n3/sms", "n1/webhook"));
  ASSERT_EQ(letters.size(), 2u);
  EXPECT_EQ(letters[1].state, ports::DeliveryState::dead);
  EXPECT_EQ(letters[1].attempts, 3);
  EXPECT_TIME_EQ(*letters[1].first_failure, this->at(10));
  EXPECT_TIME_EQ(*letters[1].last_failure, this->at(20));
  EXPECT_EQ(letters[1].last_error, "HTTP 503");
  EXPECT_THAT(this->delivery_ids(this->dead(1)), ::testing::ElementsAre("n3/sms"));
}

TYPED_TEST_P(NoticeStoreContract, PreferencesDefaultUntilSavedThenReplace) {
  const auto get = [this](std::vector<domain::UserId> users) {
    auto result = await<std::vector<ports::Preferences>>(
        [&](auto done) { this->store_->get_preferences(std::move(users), done); });
    EXPECT_EQ(describe(result), "ok");
    return result.ok() ? result.value() : std::vector<ports::Preferences>{};
  };
  EXPECT_THAT(get({domain::UserId{"u1"}}), ::testing::ElementsAre(ports::Preferences{}));

  ports::Preferences chosen{
      true, true, false, "u1@example.com", "+34600111222", "https://hooks.example.com/u1", "k1"};
  ASSERT_EQ(describe(await<void>([&](auto done) {
              this->store_->put_preferences(domain::UserId{"u1"}, chosen, done);
            })),
            "ok");
  EXPECT_THAT(get({domain::UserId{"u2"}, domain::UserId{"u1"}}),
              ::testing::ElementsAre(ports::Preferences{}, chosen));
  ports::Preferences fewer;
  fewer.sms = true;
  fewer.phone = "+15550100";
  ASSERT_EQ(describe(await<void>([&](auto done) {
              this->store_->put_preferences(domain::UserId{"u1"}, fewer, done);
            })),
            "ok");
  EXPECT_THAT(get({domain::UserId{"u1"}}), ::testing::ElementsAre(fewer));
}

TYPED_TEST_P(NoticeStoreContract, AReopenedStoreKeepsEverything) {
  if (!TypeParam::kDurable) GTEST_SKIP() << "this adapter does not outlive its object";
  ports::AuctionWatch watch;
  watch.auction_id = domain::AuctionId{"a1"};
  watch.seller_id = domain::UserId{"seller"};
  watch.ends_at = this->at(100);
  watch.participants = {domain::UserId{"bob"}};
  ports::NoticeBatch batch{{watch}, {this->inbox("n1", "u1", 1)}, {this->delivery("n1", "sms")}};
  ASSERT_EQ(describe(this->record(batch)), "ok");
  ports::Preferences chosen;
  chosen.email = true;
  chosen.email_address = "u1@example.com";
  ASSERT_EQ(describe(await<void>([&](auto done) {
              this->store_->put_preferences(domain::UserId{"u1"}, chosen, done);
            })),
            "ok");

  this->store_.reset();
  this->store_ = this->factory_.make();
  EXPECT_EQ(this->watch("a1"), std::optional(watch));
  EXPECT_THAT(this->ids(this->page("u1", 10)), ::testing::ElementsAre("n1"));
  EXPECT_THAT(this->delivery_ids(this->pending()), ::testing::ElementsAre("n1/sms"));
  auto preferences = await<std::vector<ports::Preferences>>(
      [&](auto done) { this->store_->get_preferences({domain::UserId{"u1"}}, done); });
  ASSERT_TRUE(preferences.ok());
  EXPECT_THAT(preferences.value(), ::testing::ElementsAre(chosen));
}

TYPED_TEST_P(NoticeStoreContract, CallsMadeAtOnceAreEachAnsweredOnceAndKept) {
  // Nothing waits between the calls: an adapter that groups queued calls into one transaction
  // must still answer each one, once, and keep each one's writes.
  constexpr int kCalls = 300;
  std::vector<Pending<void>> puts(kCalls);
  for (int i = 0; i < kCalls; ++i) {
    ports::Preferences chosen;
    chosen.email = true;
    chosen.email_address = "u" + std::to_string(i) + "@example.com";
    this->store_->put_preferences(domain::UserId{"u" + std::to_string(i)}, chosen,
                                  puts[static_cast<std::size_t>(i)].callback());
  }
  std::vector<domain::UserId> users;
  for (int i = 0; i < kCalls; ++i) {
    EXPECT_EQ(describe(puts[static_cast<std::size_t>(i)].get()), "ok") << i;
    users.push_back(domain::UserId{"u" + std::to_string(i)});
  }
  auto read = await<std::vector<ports::Preferences>>(
      [&](auto done) { this->store_->get_preferences(users, done); });
  ASSERT_EQ(describe(read), "ok");
  ASSERT_EQ(read.value().size(), static_cast<std::size_t>(kCalls));
  for (int i = 0; i < kCalls; ++i) {
    EXPECT_EQ(read.value()[static_cast<std::size_t>(i)].email_address,
              "u" + std::to_string(i) + "@example.com");
    EXPECT_EQ(puts[static_cast<std::size_t>(i)].calls(), 1) << i;
  }
}

REGISTER_TYPED_TEST_SUITE_P(NoticeStoreContract,
                            AnInboxListsNewestFirstEachNoticeOnceWithoutAddress,
                            AnInboxPagesWithACursor, MarkReadCountsOnlyTheUsersUnreadNotices,
                            WatchesMergeWhatEachBatchLearns, OpenWatchesSkipFinishedAuctionsAndPage,
                            ADeliveryIsPendingUntilSentAndNeverPromisedTwice,
                            FailuresAreCountedAndDeadLettersListedNewestFirst,
                            PreferencesDefaultUntilSavedThenReplace, AReopenedStoreKeepsEverything,
                            CallsMadeAtOnceAreEachAnsweredOnceAndKept);

}  // namespace gavel::contract
