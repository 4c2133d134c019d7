// `gavel audit verify` and `gavel audit replay` on a real SQLite audit log, written by the
// auditor role from a genuine feed and then tampered with through the SQLite C API, as an
// intruder with access to the file would. The commands run as the built binary.
#include "app/audit.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "adapters/memory/memory_topic.hpp"
#include "adapters/memory/simulated_clock.hpp"
#include "adapters/sqlite/sqlite_audit_log.hpp"
#include "contract/temp_dir.hpp"
#include "ports/blocking.hpp"
#include "roles/auditor/auditor.hpp"
#include "support/audit_feed.hpp"
#include "support/run_gavel.hpp"

namespace gavel::app {
namespace {

using testing::CliRun;
using testing::gavel;

class AuditCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The auditor role writes the log from the feed, as in `gavel serve`.
    auto clock = std::make_shared<adapters::memory::SimulatedClock>();
    adapters::memory::MemoryTopic topic(clock);
    auto subscription = topic.subscribe("auditor");
    adapters::sqlite::SqliteAuditLog log(audit_log_path(dir_.path()));
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

  /// Runs SQL on the log's file directly, past its append-only triggers.
  void tamper(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(audit_log_path(dir_.path()).c_str(), &db), SQLITE_OK);
    const std::string script =
        "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; " + sql;
    char* message = nullptr;
    EXPECT_EQ(sqlite3_exec(db, script.c_str(), nullptr, nullptr, &message), SQLITE_OK)
        << (message != nullptr ? message : "");
    sqlite3_free(message);
    EXPECT_GT(sqlite3_changes(db), 0) << sql;
    sqlite3_close(db);
  }

  std::string data_dir() const { return " --data-dir " + dir_.path().string(); }

  contract::TempDir dir_;
  std::size_t entries_ = 0;
};

TEST_F(AuditCliTest, VerifyAcceptsAGenuineLog) {
  const CliRun run = gavel("audit verify" + data_dir());
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_EQ(run.output.rfind("audit chain ok: " + std::to_string(entries_) + " entries, head ", 0),
            0u)
      << run.output;
}

TEST_F(AuditCliTest, VerifyPinpointsAnAlteredEntry) {
  // Entry 4 is the command record of bid b2 (1500).
  tamper("UPDATE audit_log SET body = replace(body, '1500', '1600') WHERE seq = 4");
  const CliRun run = gavel("audit verify" + data_dir());
  EXPECT_EQ(run.status, 1) << run.output;
  EXPECT_EQ(run.output.rfind("audit chain broken at seq 4: altered", 0), 0u) << run.output;
}

TEST_F(AuditCliTest, VerifyPinpointsARemovedEntry) {
  tamper("DELETE FROM audit_log WHERE seq = 6");
  const CliRun run = gavel("audit verify" + data_dir());
  EXPECT_EQ(run.status, 1) << run.output;
  EXPECT_EQ(run.output.rfind("audit chain broken at seq 6: removed", 0), 0u) << run.output;
}

TEST_F(AuditCliTest, VerifyPinpointsTwoSwappedEntries) {
  // Entries 7 and 8 trade places: everything but their numbers moves.
  tamper(
      "UPDATE audit_log SET seq = -7 WHERE seq = 7;"
      "UPDATE audit_log SET seq = 7 WHERE seq = 8;"
      "UPDATE audit_log SET seq = 8 WHERE seq = -7;");
  const CliRun run = gavel("audit verify" + data_dir());
  EXPECT_EQ(run.status, 1) << run.output;
  EXPECT_EQ(run.output.rfind("audit chain broken at seq 7: reordered", 0), 0u) << run.output;
}

TEST_F(AuditCliTest, AnAnchorFromAnEarlierVerifyCatchesEntriesCutFromTheEnd) {
  const CliRun first = gavel("audit verify" + data_dir());
  ASSERT_EQ(first.status, 0) << first.output;
  const auto open = first.output.find("(anchor ");
  ASSERT_NE(open, std::string::npos) << first.output;
  const std::string anchor = first.output.substr(open + 8, first.output.find(')', open) - open - 8);
  EXPECT_EQ(gavel("audit verify --anchor " + anchor + data_dir()).status, 0);

  // The last two entries are cut: the rest is still a valid chain.
  tamper("DELETE FROM audit_log WHERE seq > " + std::to_string(entries_ - 2));
  EXPECT_EQ(gavel("audit verify" + data_dir()).status, 0);
  const CliRun cut = gavel("audit verify --anchor " + anchor + data_dir());
  EXPECT_EQ(cut.status, 1) << cut.output;
  EXPECT_EQ(
      cut.output.rfind("audit chain broken at seq " + std::to_string(entries_) + ": removed", 0),
      0u)
      << cut.output;
  EXPECT_EQ(gavel("audit verify --anchor nonsense" + data_dir()).status, 2);
}

TEST_F(AuditCliTest, ReplayFindsTheRecordedOutcomeIdentical) {
  const CliRun run = gavel("audit replay a1" + data_dir());
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_EQ(run.output,
            "audit replay a1: identical (5 commands, 9 events; final: closed sold, price 1850, "
            "leader \"u2\", seq 6)\n");
}

TEST_F(AuditCliTest, ReplayReportsAnAlteredDecisionAndVerifyFailsToo) {
  // Someone makes b4's rejection look like an acceptance.
  tamper(
      "UPDATE audit_log SET body = replace(body, '\"accepted\":false', '\"accepted\":true') "
      "WHERE key = 'command:b4'");
  const CliRun replay = gavel("audit replay a1" + data_dir());
  EXPECT_EQ(replay.status, 1) << replay.output;
  EXPECT_NE(replay.output.find("command command:b4 (entry "), std::string::npos) << replay.output;
  EXPECT_NE(replay.output.find("recorded decision {\"accepted\":true"), std::string::npos)
      << replay.output;
  EXPECT_NE(replay.output.find("audit replay a1: 1 difference(s)"), std::string::npos)
      << replay.output;
  const CliRun verify = gavel("audit verify" + data_dir());
  EXPECT_EQ(verify.status, 1) << verify.output;
  EXPECT_NE(verify.output.find(": altered"), std::string::npos) << verify.output;
}

TEST_F(AuditCliTest, BadUsageAndMissingLogsExitWithTwo) {
  EXPECT_EQ(gavel("audit").status, 2);
  EXPECT_EQ(gavel("audit frobnicate" + data_dir()).status, 2);
  EXPECT_EQ(gavel("audit replay" + data_dir()).status, 2);
  EXPECT_EQ(gavel("audit replay nobody" + data_dir()).output,
            "gavel audit replay: no audit entries for auction nobody\n");
  const CliRun missing = gavel("audit verify --data-dir " + dir_.path().string() + "/none");
  EXPECT_EQ(missing.status, 2);
  EXPECT_EQ(missing.output,
            "gavel audit verify: no audit log at " + dir_.path().string() + "/none/audit.db\n");
}

// The log's order is the auditor's receive order. A batch whose records waited in an engine's
// audit outbox (the topic was unreachable) is logged after a later batch of another engine;
// the replay puts the records back in decision order (event numbers) and finds no difference.
TEST(AuditReplayOrder, ABatchLoggedAfterALaterOneReplaysIdentical) {
  auto feed = testing::sample_audit_feed();
  ASSERT_GE(feed.size(), 4u);
  std::swap(feed[1], feed[2]);  // the second batch reached the log after the third
  std::vector<ports::AuditEntry> entries;
  for (const auto& batch : feed) {
    for (const auto& message : batch) {
      ports::AuditEntry entry;
      entry.seq = entries.size() + 1;
      entry.key = message.dedup_id;
      entry.body = message.body;
      entries.push_back(std::move(entry));
    }
  }
  const AuditReplayReport report = replay_audit_entries(domain::AuctionId{"a1"}, entries);
  EXPECT_TRUE(report.differences.empty()) << report.differences.front();
  EXPECT_EQ(report.commands, 5u);
}

}  // namespace
}  // namespace gavel::app
