// `gavel audit verify` and `gavel audit replay` on the selfhosted profile's audit log: the
// auditor role writes a genuine feed through PostgresAuditLog into a fresh database, the built
// binary reads it with --profile selfhosted, and a superuser who switches the append-only
// triggers off tampers with it. Every test gets its own database (postgres_test_db.hpp).

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>

#include "adapters/memory/memory_topic.hpp"
#include "adapters/memory/simulated_clock.hpp"
#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/postgres_audit_log.hpp"
#include "contract/postgres_test_db.hpp"
#include "ports/blocking.hpp"
#include "roles/auditor/auditor.hpp"
#include "support/audit_feed.hpp"
#include "support/run_gavel.hpp"

namespace gavel::contract {
namespace {

using testing::CliRun;
using testing::gavel;
using testing::shell_quote;

namespace pg = adapters::postgres;

std::size_t lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

class PostgresAuditCliTest : public PostgresDatabaseTest {
 protected:
  void SetUp() override {
    PostgresDatabaseTest::SetUp();
    if (!database_) return;  // skipped
    // The auditor role writes the log from the feed, as in `gavel serve --roles auditor`.
    auto clock = std::make_shared<adapters::memory::SimulatedClock>();
    adapters::memory::MemoryTopic topic(clock);
    auto subscription = topic.subscribe("auditor");
    pg::PostgresAuditLog log(database_->url());
    for (auto& batch : testing::sample_audit_feed()) {
      entries_ += batch.size();
      ASSERT_TRUE(ports::call_blocking<void>([&](auto done) {
                    topic.publish(std::move(batch), std::move(done));
                  }).ok());
    }
    roles::Auditor auditor(*subscription, log,
                           roles::AuditorOptions{1000, domain::Duration::zero()});
    ASSERT_EQ(auditor.run_once().appended, entries_);
  }

  /// Runs SQL on the table directly, as the superuser, with its append-only triggers off.
  void tamper(const std::string& sql) {
    pg::Connection connection(database_->url());
    connection.exec("ALTER TABLE audit_log DISABLE TRIGGER ALL");
    const auto result = connection.exec(sql);
    EXPECT_GT(pg::affected_rows(result.get()), 0u) << sql;
    connection.exec("ALTER TABLE audit_log ENABLE TRIGGER ALL");
  }

  std::string selfhosted() const {
    return " --profile selfhosted --postgres-url " + shell_quote(database_->url());
  }

  std::size_t entries_ = 0;
};

TEST_F(PostgresAuditCliTest, VerifyAndReplayAcceptAGenuineLog) {
  const CliRun verify = gavel("audit verify" + selfhosted());
  EXPECT_EQ(verify.status, 0) << verify.output;
  EXPECT_EQ(
      verify.output.rfind("audit chain ok: " + std::to_string(entries_) + " entries, head ", 0), 0u)
      << verify.output;

  const CliRun replay = gavel("audit replay a1" + selfhosted());
  EXPECT_EQ(replay.status, 0) << replay.output;
  EXPECT_EQ(replay.output,
            "audit replay a1: identical (5 commands, 9 events; final: closed sold, price 1850, "
            "leader \"u2\", seq 6)\n");
}

TEST_F(PostgresAuditCliTest, TheProfileAndUrlMayComeFromTheEnvironment) {
  const std::string env =
      "GAVEL_PROFILE=selfhosted GAVEL_POSTGRES_URL=" + shell_quote(database_->url()) + " ";
  const CliRun verify = gavel("audit verify", env);
  EXPECT_EQ(verify.status, 0) << verify.output;
  EXPECT_EQ(verify.output.rfind("audit chain ok: ", 0), 0u) << verify.output;
  EXPECT_EQ(gavel("audit replay a1", env).status, 0);
}

TEST_F(PostgresAuditCliTest, VerifyPinpointsAnAlteredEntry) {
  // Entry 4 is the command record of bid b2 (1500).
  tamper("UPDATE audit_log SET body = replace(body, '1500', '1600') WHERE seq = 4");
  const CliRun run = gavel("audit verify" + selfhosted());
  EXPECT_EQ(run.status, 1) << run.output;
  EXPECT_EQ(run.output.rfind("audit chain broken at seq 4: altered", 0), 0u) << run.output;
}

TEST_F(PostgresAuditCliTest, VerifyPinpointsARemovedEntry) {
  tamper("DELETE FROM audit_log WHERE seq = 6");
  const CliRun run = gavel("audit verify" + selfhosted());
  EXPECT_EQ(run.status, 1) << run.output;
  EXPECT_EQ(run.output.rfind("audit chain broken at seq 6: removed", 0), 0u) << run.output;
}

TEST_F(PostgresAuditCliTest, ReplayReportsAnAlteredDecision) {
  tamper(
      "UPDATE audit_log SET body = replace(body, '\"accepted\":false', '\"accepted\":true') "
      "WHERE key = 'command:b4'");
  const CliRun replay = gavel("audit replay a1" + selfhosted());
  EXPECT_EQ(replay.status, 1) << replay.output;
  EXPECT_NE(replay.output.find("command command:b4 (entry "), std::string::npos) << replay.output;
  EXPECT_NE(replay.output.find("audit replay a1: 1 difference(s)"), std::string::npos)
      << replay.output;
  const CliRun verify = gavel("audit verify" + selfhosted());
  EXPECT_EQ(verify.status, 1) << verify.output;
  EXPECT_NE(verify.output.find(": altered"), std::string::npos) << verify.output;
}

TEST_F(PostgresAuditCliTest, UnreadableLogsExitWithTwoAndOneLine) {
  // Nothing listens on port 1.
  const CliRun unreachable = gavel(
      "audit verify --profile selfhosted --postgres-url "
      "'postgresql://gavel@127.0.0.1:1/gavel?connect_timeout=5'");
  EXPECT_EQ(unreachable.status, 2) << unreachable.output;
  EXPECT_EQ(unreachable.output.rfind("gavel audit verify: ", 0), 0u) << unreachable.output;
  EXPECT_EQ(lines(unreachable.output), 1u) << unreachable.output;

  TestDatabase bare(/*migrated=*/false);
  const CliRun unmigrated =
      gavel("audit replay a1 --profile selfhosted --postgres-url=" + shell_quote(bare.url()));
  EXPECT_EQ(unmigrated.status, 2) << unmigrated.output;
  EXPECT_EQ(unmigrated.output.rfind("gavel audit replay: ", 0), 0u) << unmigrated.output;
  EXPECT_NE(unmigrated.output.find("gavel migrate"), std::string::npos) << unmigrated.output;
  EXPECT_EQ(lines(unmigrated.output), 1u) << unmigrated.output;

  const CliRun no_url =
      gavel("audit verify --profile selfhosted", "env -u GAVEL_POSTGRES_URL -u GAVEL_CONFIG ");
  EXPECT_EQ(no_url.status, 2) << no_url.output;
  EXPECT_EQ(no_url.output,
            "gavel audit verify: profile selfhosted needs postgres-url (--postgres-url or "
            "GAVEL_POSTGRES_URL)\n");
  EXPECT_EQ(gavel("audit verify --data-dir /tmp" + selfhosted()).status, 2);
  EXPECT_EQ(gavel("audit replay nobody" + selfhosted()).output,
            "gavel audit replay: no audit entries for auction nobody\n");
}

}  // namespace
}  // namespace gavel::contract
