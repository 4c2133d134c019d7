// The store contract, run against the PostgreSQL store on a real server, and what is specific to
// it: the schema is migrated by `gavel migrate` (run here as the built binary) and checked at
// start, queued commits share a pipelined transaction, and a lost connection is reconnected.
// Every test gets its own database (postgres_test_db.hpp).

#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "adapters/postgres/postgres_audit_log.hpp"
#include "adapters/postgres/postgres_notice_store.hpp"
#include "adapters/postgres/postgres_store.hpp"
#include "contract/postgres_test_db.hpp"
#include "contract/store_contract.hpp"
#include "support/run_gavel.hpp"

namespace gavel::contract {
namespace {

using testing::CliRun;
using testing::gavel;
using testing::shell_quote;

namespace pg = adapters::postgres;
using adapters::postgres::PostgresStore;

using PostgresStoreFactory = PostgresAdapterFactory<PostgresStore>;

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, StoreContract, ::testing::Types<PostgresStoreFactory>);

namespace {

// --- helpers -----------------------------------------------------------------------------

ports::Result<void> commit(ports::Store& store, ports::CommitBatch batch) {
  return await<void>([&](auto done) { store.commit(std::move(batch), done); });
}

std::optional<ports::StoredAuction> get_auction(ports::Store& store, const std::string& id) {
  auto result = await<std::optional<ports::StoredAuction>>(
      [&](auto done) { store.get_auction(domain::AuctionId{id}, done); });
  EXPECT_EQ(describe(result), "ok");
  return result.ok() ? std::move(result.value()) : std::nullopt;
}

bool has_bid(ports::Store& store, const std::string& id) {
  auto result = await<std::optional<ports::StoredBid>>(
      [&](auto done) { store.get_bid(domain::BidId{id}, done); });
  EXPECT_EQ(describe(result), "ok");
  return result.ok() && result.value().has_value();
}

std::size_t pending_count(ports::Store& store) {
  auto result =
      await<std::vector<domain::Event>>([&](auto done) { store.pending_events(1000, done); });
  EXPECT_EQ(describe(result), "ok");
  return result.ok() ? result.value().size() : 0;
}

/// The message of the std::runtime_error that `open` throws, or "(no exception)".
template <typename Open>
std::string open_failure(Open open) {
  try {
    open();
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  return "(no exception)";
}

/// Every version of this build's migrations, ascending.
std::vector<int> all_versions() {
  std::vector<int> versions;
  for (const auto& migration : pg::migrations()) versions.push_back(migration.version);
  return versions;
}

/// What each PostgreSQL adapter answers when it opens on `url`: one line each.
std::vector<std::string> open_failures(const std::string& url) {
  return {open_failure([&] { PostgresStore store(url); }),
          open_failure([&] { pg::PostgresAuditLog log(url); }),
          open_failure([&] { pg::PostgresNoticeStore store(url); })};
}

/// The same message from each adapter, after its own "cannot open the PostgreSQL <what>: ".
std::vector<std::string> from_every_adapter(const std::string& why) {
  return {"cannot open the PostgreSQL store: " + why,
          "cannot open the PostgreSQL audit log: " + why,
          "cannot open the PostgreSQL notice store: " + why};
}

class PostgresStoreTest : public PostgresDatabaseTest {};

class PostgresMigrateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    require_test_postgres();
    if (!test_postgres_url()) return;
    database_.emplace(false);
  }
  std::vector<int> versions() {
    pg::Connection connection(database_->url());
    return pg::applied_versions(connection);
  }
  std::optional<TestDatabase> database_;
};

// --- schema ------------------------------------------------------------------------------

TEST_F(PostgresMigrateTest, EveryAdapterRefusesAnUnmigratedDatabaseAndNamesTheCommand) {
  std::string missing;
  for (const int version : all_versions()) {
    missing += (missing.empty() ? "" : ", ") + std::to_string(version);
  }
  EXPECT_EQ(
      open_failures(database_->url()),
      from_every_adapter("the database lacks schema migrations " + missing + " of " +
                         std::to_string(pg::latest_schema_version()) + ": run gavel migrate"));
  EXPECT_TRUE(versions().empty());  // none migrated by itself
}

// One rule for every adapter: exactly this build's migrations. A database an older build
// migrated (lacking the newer tables) is refused by all of them, the store included, so that
// no process of a new build runs against half a schema.
TEST_F(PostgresMigrateTest, EveryAdapterRefusesADatabaseMissingALaterMigration) {
  ASSERT_EQ(gavel("migrate --postgres-url " + shell_quote(database_->url())).status, 0);
  {
    pg::Connection connection(database_->url());
    connection.exec("DELETE FROM schema_migrations WHERE version = " +
                    std::to_string(pg::latest_schema_version()));
  }
  EXPECT_EQ(
      open_failures(database_->url()),
      from_every_adapter("the database lacks schema migration " +
                         std::to_string(pg::latest_schema_version()) + " of " +
                         std::to_string(pg::latest_schema_version()) + ": run gavel migrate"));
}

TEST_F(PostgresMigrateTest, MigrateAppliesEverythingOnceThenHasNothingToDo) {
  const auto first = gavel("migrate --postgres-url " + shell_quote(database_->url()));
  EXPECT_EQ(first.status, 0) << first.output;
  std::string applied;
  for (const auto& migration : pg::migrations()) {
    applied += "gavel migrate: applied " + std::to_string(migration.version) + " (" +
               migration.name + ")\n";
  }
  const std::string latest = std::to_string(pg::latest_schema_version());
  EXPECT_EQ(first.output, applied + "gavel migrate: schema version 0 -> " + latest + "\n");
  EXPECT_EQ(versions(), all_versions());
  EXPECT_EQ(pg::latest_schema_version(), 6);
  EXPECT_EQ(applied,
            "gavel migrate: applied 1 (auctions, bids and the outbox)\n"
            "gavel migrate: applied 2 (the audit log)\n"
            "gavel migrate: applied 3 (the notifier's watches, inboxes, deliveries and "
            "preferences)\n"
            "gavel migrate: applied 4 (the audit outbox)\n"
            "gavel migrate: applied 5 (the write fence on the event count)\n"
            "gavel migrate: applied 6 (the bid history in chunks)\n");

  // Again, with the URL from the environment as for gavel serve: nothing to do.
  const auto second = gavel("migrate", "GAVEL_POSTGRES_URL=" + shell_quote(database_->url()));
  EXPECT_EQ(second.status, 0) << second.output;
  EXPECT_EQ(second.output,
            "gavel migrate: the database is at schema version " + latest + ": nothing to do\n");
  EXPECT_EQ(versions(), all_versions());

  // Now every adapter opens.
  PostgresStore store(database_->url());
  EXPECT_EQ(describe(commit(store, {{StoreSamples::write("a1", 0, 1)}, {}, {}})), "ok");
  pg::PostgresAuditLog log(database_->url());
  pg::PostgresNoticeStore notices(database_->url());
}

TEST_F(PostgresMigrateTest, TwoMigrationsAtOnceApplyEachVersionOnce) {
  const std::string one = std::string(GAVEL_BINARY) + " migrate --postgres-url " +
                          shell_quote(database_->url()) + " >/dev/null 2>&1";
  // Both must succeed: the advisory lock makes the second wait, then find nothing to do.
  const auto both =
      gavel("--version", "(" + one + " & a=$!; " + one + " & b=$!; wait $a && wait $b) &&");
  EXPECT_EQ(both.status, 0) << both.output;
  EXPECT_EQ(versions(), all_versions());
}

TEST_F(PostgresMigrateTest, MigrateWithoutADatabaseIsAUsageError) {
  const auto run = gavel("migrate", "env -u GAVEL_POSTGRES_URL -u GAVEL_CONFIG");
  EXPECT_EQ(run.status, 2);
  EXPECT_EQ(run.output, "gavel migrate: no database: set --postgres-url or GAVEL_POSTGRES_URL\n");
  const auto unknown =
      gavel("migrate --data-dir x --postgres-url " + shell_quote(database_->url()));
  EXPECT_EQ(unknown.status, 2);
  EXPECT_EQ(unknown.output, "gavel migrate: unknown flag --data-dir (see gavel migrate --help)\n");
  EXPECT_TRUE(versions().empty());
}

TEST_F(PostgresMigrateTest, AnUnreachableServerFailsWithStatusOne) {
  const auto run = gavel("migrate --postgres-url postgresql://postgres@127.0.0.1:9/postgres");
  EXPECT_EQ(run.status, 1);
  EXPECT_THAT(run.output, ::testing::StartsWith("gavel migrate: postgres: cannot connect: "));
}

TEST_F(PostgresMigrateTest, ANewerDatabaseIsRefusedByMigrateAndEveryAdapter) {
  ASSERT_EQ(gavel("migrate --postgres-url " + shell_quote(database_->url())).status, 0);
  const int future = pg::latest_schema_version() + 1;
  {
    pg::Connection connection(database_->url());
    connection.exec("INSERT INTO schema_migrations (version, name) VALUES (" +
                    std::to_string(future) + ", 'from the future')");
  }
  const std::string too_new = "the database has schema version " + std::to_string(future) +
                              ", newer than this build knows (" +
                              std::to_string(pg::latest_schema_version()) + "): run a newer gavel";
  EXPECT_EQ(open_failures(database_->url()), from_every_adapter(too_new));
  const auto run = gavel("migrate --postgres-url " + shell_quote(database_->url()));
  EXPECT_EQ(run.status, 1);
  EXPECT_EQ(run.output, "gavel migrate: " + too_new + "\n");
}

// --- the store ---------------------------------------------------------------------------

TEST_F(PostgresStoreTest, AnUnreachableServerIsAOneLineError) {
  const std::string message = open_failure(
      [&] { PostgresStore store("postgresql://postgres@127.0.0.1:9/postgres?connect_timeout=2"); });
  EXPECT_THAT(message, ::testing::StartsWith("cannot open the PostgreSQL store: cannot connect: "));
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

TEST_F(PostgresStoreTest, QueuedCommitsShareATransactionButEachIsAllOrNothing) {
  PostgresStore store(database_->url());
  ASSERT_EQ(describe(commit(store, {{StoreSamples::write("taken", 0, 1)}, {}, {}})), "ok");
  std::vector<Pending<void>> answers(40);
  for (std::size_t i = 0; i < answers.size(); ++i) {
    const std::string id = "a" + std::to_string(i);
    ports::CommitBatch batch{{StoreSamples::write(id, 0, 1)},
                             {StoreSamples::bid("b" + std::to_string(i), id, 1)},
                             {StoreSamples::event(id, 1)}};
    // Every fifth batch also tries to create an existing auction: it must leave no trace.
    if (i % 5 == 0) batch.auctions.push_back(StoreSamples::write("taken", 0, 1, 9999));
    store.commit(std::move(batch), answers[i].callback());
  }
  for (std::size_t i = 0; i < answers.size(); ++i) {
    const auto result = answers[i].get();
    const std::string id = "a" + std::to_string(i);
    if (i % 5 == 0) {
      EXPECT_EQ(error_kind(result), "conflict") << id;
      EXPECT_EQ(result.ok() ? "" : result.error().message,
                "auction taken is at seq 1, expected it not to exist")
          << id;
      EXPECT_FALSE(get_auction(store, id).has_value()) << id;
      EXPECT_FALSE(has_bid(store, "b" + std::to_string(i))) << id;
    } else {
      EXPECT_EQ(describe(result), "ok") << id;
      EXPECT_TRUE(get_auction(store, id).has_value()) << id;
      EXPECT_TRUE(has_bid(store, "b" + std::to_string(i))) << id;
    }
    EXPECT_EQ(answers[i].calls(), 1);
  }
  EXPECT_EQ(pending_count(store), 32u);
  EXPECT_EQ(get_auction(store, "taken")->state.price, domain::Amount{1000});
}

// A batch's bids, events and audit records go as one array per column (ColumnArrays): text
// that means something in an array literal must come back as it went in, and a row repeated
// within one batch is stored once (the first).
TEST_F(PostgresStoreTest, TextThatLooksLikeArraySyntaxRoundTripsThroughABatch) {
  PostgresStore store(database_->url());
  const std::vector<std::string> awkward{"",        "NULL",        "null",        "a,b",
                                         "{x}",     "q\"uote\"",   "back\\slash", " spaced ",
                                         "\\\"{,}", "ünïcode — ✓", "\n\t"};
  ports::CommitBatch batch{{StoreSamples::write("a1", 0, 1)}, {}, {}};
  for (std::size_t i = 0; i < awkward.size(); ++i) {
    auto bid = StoreSamples::bid("b" + std::to_string(i), "a1", i + 1);
    bid.idempotency_key = awkward[i];
    if (i % 2 == 0) bid.max_amount.reset();
    batch.bids.push_back(bid);
    batch.events.push_back(StoreSamples::event("a1", i + 1, awkward[i]));
    batch.audit.push_back({"a1", "k" + std::to_string(i), StoreSamples::t0(), awkward[i]});
  }
  batch.bids.push_back(StoreSamples::bid("b0", "a1", 99, 7777));  // a repeat: the first stays
  ASSERT_EQ(describe(commit(store, batch)), "ok");
  for (std::size_t i = 0; i < awkward.size(); ++i) {
    auto stored = await<std::optional<ports::StoredBid>>(
        [&](auto done) { store.get_bid(batch.bids[i].id, done); });
    ASSERT_TRUE(stored.ok() && stored.value().has_value()) << i;
    EXPECT_EQ(*stored.value(), batch.bids[i]) << i;
  }
  auto events =
      await<std::vector<domain::Event>>([&](auto done) { store.pending_events(100, done); });
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events.value(), batch.events);
  auto audit = await<std::vector<ports::OutgoingMessage>>(
      [&](auto done) { store.pending_audit(100, done); });
  ASSERT_TRUE(audit.ok());
  ASSERT_EQ(audit.value().size(), awkward.size());
  for (std::size_t i = 0; i < awkward.size(); ++i) EXPECT_EQ(audit.value()[i].body, awkward[i]);
}

TEST_F(PostgresStoreTest, AStaleSeqNamesBothSeqs) {
  PostgresStore store(database_->url());
  ASSERT_EQ(describe(commit(store, {{StoreSamples::write("a1", 0, 3)}, {}, {}})), "ok");
  const auto stale = commit(store, {{StoreSamples::write("a1", 2, 4)}, {}, {}});
  ASSERT_EQ(error_kind(stale), "conflict");
  EXPECT_EQ(stale.error().message, "auction a1 is at seq 3, expected 2");
  const auto missing = commit(store, {{StoreSamples::write("zz", 5, 6)}, {}, {}});
  ASSERT_EQ(error_kind(missing), "conflict");
  EXPECT_EQ(missing.error().message, "auction zz does not exist, expected seq 5");
}

TEST_F(PostgresStoreTest, ALostConnectionIsReconnected) {
  PostgresStore store(database_->url());
  ASSERT_EQ(describe(commit(store, {{StoreSamples::write("a1", 0, 1)}, {}, {}})), "ok");
  ASSERT_TRUE(get_auction(store, "a1").has_value());
  // Ends every connection to the database, as a server restart does, and waits until they
  // are gone (a write in flight when its connection drops answers retryable instead).
  database_->admin().exec(
      "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE datname = '" +
      database_->name() + "'");
  EXPECT_EQ(describe(commit(store, {{StoreSamples::write("a1", 1, 2)}, {}, {}})), "ok");
  const auto stored = get_auction(store, "a1");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->state.seq, 2u);
}

TEST_F(PostgresStoreTest, TheDestructorAnswersEveryQueuedCallOnce) {
  std::atomic<int> ok{0};
  std::atomic<int> answered{0};
  {
    PostgresStore store(database_->url());
    for (int i = 0; i < 50; ++i) {
      const std::string id = "a" + std::to_string(i);
      store.commit({{StoreSamples::write(id, 0, 1)}, {}, {}},
                   [&](const ports::Result<void>& result) {
                     answered.fetch_add(1);
                     if (result.ok()) ok.fetch_add(1);
                   });
      store.get_auction(domain::AuctionId{id},
                        [&](const ports::Result<std::optional<ports::StoredAuction>>& result) {
                          answered.fetch_add(1);
                          if (result.ok()) ok.fetch_add(1);
                        });
    }
  }  // destroyed with calls still queued
  EXPECT_EQ(answered.load(), 100);
  EXPECT_EQ(ok.load(), 100);
  PostgresStore reopened(database_->url());
  EXPECT_TRUE(get_auction(reopened, "a49").has_value());
}

// --- measurements (not a test: run with --gtest_also_run_disabled_tests) -------------------

double percentile(std::vector<double> values, double fraction) {
  std::sort(values.begin(), values.end());
  return values[static_cast<std::size_t>(fraction * static_cast<double>(values.size() - 1))];
}

TEST_F(PostgresStoreTest, DISABLED_MeasureCommitLatency) {
  using Clock = std::chrono::steady_clock;
  PostgresStore store(database_->url());
  ASSERT_EQ(describe(commit(store, {{StoreSamples::write("a", 0, 1)}, {}, {}})), "ok");
  std::uint64_t seq = 1;
  std::uint64_t position = 0;
  for (const int bids : {1, 64}) {
    std::vector<double> latencies;
    for (int round = 0; round < 100; ++round) {
      ports::CommitBatch batch{{StoreSamples::write("a", seq, seq + 1)}, {}, {}};
      ++seq;
      for (int i = 0; i < bids; ++i) {
        ++position;
        batch.bids.push_back(StoreSamples::bid("p" + std::to_string(position), "a", position));
        batch.events.push_back(StoreSamples::event("a", position));
      }
      const auto start = Clock::now();
      ASSERT_EQ(describe(commit(store, std::move(batch))), "ok");
      latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    }
    std::cout << bids << "-bid commit (auction + bids + events): median "
              << percentile(latencies, 0.5) << " ms, p99 " << percentile(latencies, 0.99)
              << " ms\n";
  }
}

}  // namespace
}  // namespace gavel::contract
