// The audit log contract, run against the memory and SQLite adapters, and what is specific to
// SQLite: the log outlives the process and refuses changes to what it holds.

#include "contract/audit_log_contract.hpp"

#include <sqlite3.h>

#include <memory>

#include "adapters/memory/memory_audit_log.hpp"
#include "adapters/sqlite/sqlite_audit_log.hpp"
#include "contract/temp_dir.hpp"

namespace gavel::contract {
namespace {

using adapters::sqlite::SqliteAuditLog;

struct MemoryAuditLogFactory {
  ports::AuditLogPtr make() { return std::make_unique<adapters::memory::MemoryAuditLog>(); }
};

struct SqliteAuditLogFactory {
  ports::AuditLogPtr make() { return std::make_unique<SqliteAuditLog>(dir.path() / "audit.db"); }
  TempDir dir;  // outlives the log: the fixture destroys the log first
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Memory, AuditLogContract, ::testing::Types<MemoryAuditLogFactory>);
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, AuditLogContract, ::testing::Types<SqliteAuditLogFactory>);

namespace {

ports::AuditAppend entry(std::string key) {
  return {std::move(key), domain::AuctionId{"a1"}, "event", {}, "{}"};
}

ports::Result<std::vector<ports::AuditAppendOutcome>> append(ports::AuditLog& log,
                                                             std::vector<ports::AuditAppend> all) {
  return await<std::vector<ports::AuditAppendOutcome>>(
      [&](auto done) { log.append(std::move(all), done); });
}

TEST(SqliteAuditLogTest, ReopenedLogKeepsItsEntriesAndContinuesTheChain) {
  TempDir dir;
  ports::AuditHead first_head;
  {
    SqliteAuditLog log(dir.path() / "audit.db");
    ASSERT_EQ(describe(append(log, {entry("k1"), entry("k2")})), "ok");
    first_head = await<ports::AuditHead>([&](auto done) { log.head(done); }).value();
  }
  SqliteAuditLog log(dir.path() / "audit.db");
  EXPECT_EQ(await<ports::AuditHead>([&](auto done) { log.head(done); }).value(), first_head);
  auto again = append(log, {entry("k2"), entry("k3")});
  ASSERT_EQ(describe(again), "ok");
  EXPECT_EQ(again.value(), (std::vector<ports::AuditAppendOutcome>{{2, true}, {3, false}}));
  auto entries =
      await<std::vector<ports::AuditEntry>>([&](auto done) { log.entries(2, 10, done); });
  ASSERT_EQ(entries.value().size(), 1u);
  EXPECT_EQ(entries.value()[0].prev_hash, first_head.hash);
}

TEST(SqliteAuditLogTest, TheTableRefusesUpdatesAndDeletes) {
  TempDir dir;
  const auto path = dir.path() / "audit.db";
  {
    SqliteAuditLog log(path);
    ASSERT_EQ(describe(append(log, {entry("k1")})), "ok");
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  for (const char* sql : {"UPDATE audit_log SET body = '{\"x\":1}' WHERE seq = 1",
                          "DELETE FROM audit_log WHERE seq = 1"}) {
    char* message = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &message), SQLITE_CONSTRAINT) << sql;
    EXPECT_STREQ(message, "the audit log is append-only");
    sqlite3_free(message);
  }
  sqlite3_close(db);
}

TEST(SqliteAuditLogTest, AMissingDirectoryIsAClearError) {
  TempDir dir;
  try {
    SqliteAuditLog log(dir.path() / "missing" / "audit.db");
    FAIL() << "opened a log in a missing directory";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("does not exist"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace gavel::contract
