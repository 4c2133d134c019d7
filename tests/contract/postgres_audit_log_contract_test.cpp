// The audit log contract, run against the PostgreSQL audit log on a real server, and what is
// specific to it: the table refuses changes to what it holds, and several logs on one database
// (several auditor processes) append to one chain. Every test gets its own database
// (postgres_test_db.hpp).

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "adapters/postgres/postgres_audit_log.hpp"
#include "contract/audit_log_contract.hpp"
#include "contract/postgres_test_db.hpp"
#include "ports/wire/audit_chain.hpp"

namespace gavel::contract {
namespace {

namespace pg = adapters::postgres;
using adapters::postgres::PostgresAuditLog;

using PostgresAuditLogFactory = PostgresAdapterFactory<PostgresAuditLog>;

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, AuditLogContract,
                               ::testing::Types<PostgresAuditLogFactory>);

namespace {

using Outcomes = std::vector<ports::AuditAppendOutcome>;

/// An event record as the auditor appends it: a body that verify_chain accepts (its key, kind,
/// auction and time agree with the columns).
ports::AuditAppend event_record(const std::string& id, const std::string& auction) {
  const std::string at = "2026-11-28T10:00:00Z";
  return {"event:" + id, domain::AuctionId{auction}, "event", *domain::parse_rfc3339(at),
          R"({"type":"event","event":{"id":")" + id + R"(","auctionId":")" + auction +
              R"(","at":")" + at + R"("}})"};
}

std::vector<ports::AuditEntry> whole_log(ports::AuditLog& log) {
  auto result =
      await<std::vector<ports::AuditEntry>>([&](auto done) { log.entries(0, 100000, done); });
  EXPECT_EQ(describe(result), "ok");
  return result.ok() ? result.value() : std::vector<ports::AuditEntry>{};
}

class PostgresAuditLogTest : public PostgresDatabaseTest {};

TEST_F(PostgresAuditLogTest, TheTableRefusesUpdatesDeletesAndTruncation) {
  PostgresAuditLog log(database_->url());
  ASSERT_EQ(
      describe(await<Outcomes>([&](auto done) { log.append({event_record("e1", "a1")}, done); })),
      "ok");
  pg::Connection connection(database_->url());
  for (const char* sql : {"UPDATE audit_log SET body = '{}' WHERE seq = 1",
                          "DELETE FROM audit_log WHERE seq = 1", "TRUNCATE audit_log"}) {
    try {
      connection.exec(sql);
      ADD_FAILURE() << "accepted: " << sql;
    } catch (const pg::PgError& error) {
      EXPECT_STREQ(error.what(), "postgres: the audit log is append-only") << sql;
    }
  }
  EXPECT_EQ(whole_log(log).size(), 1u);
}

// Two logs on one database stand for two auditor processes: each has its own connections, so
// their appends really interleave on the server. Each batch also carries a key the other log
// appends at about the same time, so that dedupe is raced too.
TEST_F(PostgresAuditLogTest, TwoLogsAppendingAtOnceMakeOneChainWithoutGaps) {
  PostgresAuditLog first(database_->url());
  PostgresAuditLog second(database_->url());
  constexpr int kBatches = 40;
  constexpr int kPerBatch = 5;
  std::vector<Pending<Outcomes>> answers(2 * kBatches);
  std::vector<std::vector<ports::AuditAppend>> sent(2 * kBatches);
  std::set<std::string> keys;
  for (int batch = 0; batch < kBatches; ++batch) {
    for (int side = 0; side < 2; ++side) {
      auto& entries = sent[static_cast<std::size_t>(2 * batch + side)];
      for (int i = 0; i < kPerBatch; ++i) {
        const std::string id =
            std::to_string(side) + "-" + std::to_string(batch) + "-" + std::to_string(i);
        entries.push_back(event_record(id, "a" + std::to_string(i)));
      }
      entries.push_back(event_record("shared-" + std::to_string(batch), "a0"));
      for (const auto& entry : entries) keys.insert(entry.key);
      (side == 0 ? first : second)
          .append(entries, answers[static_cast<std::size_t>(2 * batch + side)].callback());
    }
  }
  std::map<std::string, std::uint64_t> seq_of_key;
  for (std::size_t i = 0; i < answers.size(); ++i) {
    const auto result = answers[i].get(std::chrono::seconds(30));
    ASSERT_EQ(describe(result), "ok") << "batch " << i;
    ASSERT_EQ(result.value().size(), sent[i].size());
    for (std::size_t j = 0; j < sent[i].size(); ++j) {
      const auto [it, first_seen] = seq_of_key.emplace(sent[i][j].key, result.value()[j].seq);
      // Both logs answer the same seq for a key, whichever appended it.
      EXPECT_EQ(it->second, result.value()[j].seq) << sent[i][j].key;
    }
  }

  const auto entries = whole_log(second);
  ASSERT_EQ(entries.size(), keys.size());  // every key once
  const auto problem = wire::verify_chain(entries);
  EXPECT_FALSE(problem.has_value())
      << problem->seq << " " << wire::to_string(problem->fault) << ": " << problem->detail;
  for (const auto& entry : entries) EXPECT_EQ(seq_of_key[entry.key], entry.seq) << entry.key;
  const auto head = await<ports::AuditHead>([&](auto done) { first.head(done); });
  ASSERT_EQ(describe(head), "ok");
  EXPECT_EQ(head.value(), (ports::AuditHead{entries.back().seq, entries.back().hash}));
}

TEST_F(PostgresAuditLogTest, TheDestructorAnswersEveryQueuedCallOnce) {
  std::atomic<int> ok{0};
  {
    PostgresAuditLog log(database_->url());
    for (int i = 0; i < 30; ++i) {
      log.append({event_record("e" + std::to_string(i), "a1")},
                 [&](const ports::Result<Outcomes>& result) { ok.fetch_add(result.ok() ? 1 : 0); });
      log.head([&](const ports::Result<ports::AuditHead>& result) {
        ok.fetch_add(result.ok() ? 1 : 0);
      });
    }
  }  // destroyed with calls still queued
  EXPECT_EQ(ok.load(), 60);
  PostgresAuditLog reopened(database_->url());
  EXPECT_EQ(whole_log(reopened).size(), 30u);
}

}  // namespace
}  // namespace gavel::contract
