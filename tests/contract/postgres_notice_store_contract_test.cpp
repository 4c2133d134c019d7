// The notice store contract, run against the PostgreSQL notice store on a real server, and what
// is specific to it: several processes (gateways, the notifier) write at once. Every test gets
// its own database (postgres_test_db.hpp).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "adapters/postgres/postgres_notice_store.hpp"
#include "contract/notice_store_contract.hpp"
#include "contract/postgres_test_db.hpp"

namespace gavel::contract {
namespace {

using adapters::postgres::PostgresNoticeStore;

using PostgresNoticeStoreFactory = PostgresAdapterFactory<PostgresNoticeStore>;

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, NoticeStoreContract,
                               ::testing::Types<PostgresNoticeStoreFactory>);

namespace {

ports::InboxNotice inbox(const std::string& id, const std::string& user) {
  ports::InboxNotice entry;
  entry.notice.id = id;
  entry.notice.user_id = domain::UserId{user};
  entry.notice.auction_id = domain::AuctionId{"a1"};
  entry.notice.kind = "outbid";
  return entry;
}

ports::DeliveryRecord delivery(const std::string& id, const std::string& channel) {
  ports::DeliveryRecord record;
  record.notice = inbox(id, "u1").notice;
  record.notice.address = "u1@example.com";
  record.channel = channel;
  return record;
}

class PostgresNoticeStoreTest : public PostgresDatabaseTest {
 protected:
  void SetUp() override {
    PostgresDatabaseTest::SetUp();
    if (!database_) return;
    first_ = std::make_unique<PostgresNoticeStore>(database_->url());
    second_ = std::make_unique<PostgresNoticeStore>(database_->url());
  }
  // Two stores on one database stand for two processes: their own connections, so their
  // writes really race on the server.
  std::unique_ptr<PostgresNoticeStore> first_;
  std::unique_ptr<PostgresNoticeStore> second_;
};

TEST_F(PostgresNoticeStoreTest, MarkReadFromTwoProcessesCountsEachNoticeOnce) {
  ports::NoticeBatch batch;
  for (int i = 0; i < 50; ++i) batch.inbox.push_back(inbox("n" + std::to_string(i), "u1"));
  ASSERT_EQ(describe(await<std::vector<ports::DeliveryRecord>>(
                [&](auto done) { first_->record(batch, done); })),
            "ok");
  std::vector<Pending<std::size_t>> answers(20);
  for (std::size_t i = 0; i < answers.size(); ++i) {
    // Overlapping id lists in both orders, and "all" now and then.
    std::vector<std::string> ids;
    if (i % 7 != 6) {
      for (int n = 0; n < 50; n += 3) ids.push_back("n" + std::to_string(i % 2 ? 49 - n : n));
    }
    (i % 2 ? *second_ : *first_).mark_read(domain::UserId{"u1"}, ids, answers[i].callback());
  }
  std::size_t marked = 0;
  for (auto& answer : answers) {
    const auto result = answer.get();
    ASSERT_EQ(describe(result), "ok");
    marked += result.value();
  }
  EXPECT_EQ(marked, 50u);
  const auto page = await<ports::InboxPage>([&](auto done) {
    second_->list_inbox({domain::UserId{"u1"}, std::nullopt, 100}, done);
  });
  ASSERT_EQ(describe(page), "ok");
  EXPECT_EQ(page.value().unread, 0u);
}

TEST_F(PostgresNoticeStoreTest, TheSameBatchFromTwoProcessesIsStoredOnce) {
  ports::AuctionWatch watch;
  watch.auction_id = domain::AuctionId{"a1"};
  watch.participants = {domain::UserId{"u1"}, domain::UserId{"u2"}};
  ports::NoticeBatch batch{{watch},
                           {inbox("n1", "u1"), inbox("n2", "u2")},
                           {delivery("n1", "email"), delivery("n1", "sms")}};
  std::vector<Pending<std::vector<ports::DeliveryRecord>>> answers(10);
  for (std::size_t i = 0; i < answers.size(); ++i) {
    (i % 2 ? *second_ : *first_).record(batch, answers[i].callback());
  }
  for (auto& answer : answers) {
    const auto result = answer.get();
    ASSERT_EQ(describe(result), "ok");
    EXPECT_EQ(result.value().size(), 2u);  // both pending, whoever stored them
  }
  const auto pending = await<std::vector<ports::DeliveryRecord>>(
      [&](auto done) { first_->pending_deliveries(100, done); });
  ASSERT_EQ(describe(pending), "ok");
  EXPECT_EQ(pending.value().size(), 2u);
  const auto stored = await<std::optional<ports::AuctionWatch>>(
      [&](auto done) { second_->get_watch(domain::AuctionId{"a1"}, done); });
  ASSERT_EQ(describe(stored), "ok");
  EXPECT_EQ(stored.value(), std::optional(watch));
  const auto page = await<ports::InboxPage>([&](auto done) {
    first_->list_inbox({domain::UserId{"u1"}, std::nullopt, 100}, done);
  });
  ASSERT_EQ(describe(page), "ok");
  EXPECT_EQ(page.value().notices.size(), 1u);
}

TEST_F(PostgresNoticeStoreTest, PreferencesSavedByOneProcessAreReadByAnother) {
  ports::Preferences chosen;
  chosen.webhook = true;
  chosen.webhook_url = "https://hooks.example.com/\"quoted\"\\";
  chosen.webhook_secret = "k";
  ASSERT_EQ(describe(await<void>([&](auto done) {
              first_->put_preferences(domain::UserId{"u,\"1\"}"}, chosen, done);
            })),
            "ok");
  const auto read = await<std::vector<ports::Preferences>>([&](auto done) {
    second_->get_preferences({domain::UserId{"u2"}, domain::UserId{"u,\"1\"}"}}, done);
  });
  ASSERT_EQ(describe(read), "ok");
  EXPECT_THAT(read.value(), ::testing::ElementsAre(ports::Preferences{}, chosen));
}

}  // namespace
}  // namespace gavel::contract
