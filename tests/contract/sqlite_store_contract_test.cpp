// The store contract, run against the SQLite store, and what is specific to SQLite: the data
// outlives the process, the file's schema is versioned, and a commit answered ok is on disk.

#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "adapters/sqlite/schema.hpp"
#include "adapters/sqlite/sqlite_store.hpp"
#include "contract/store_contract.hpp"
#include "contract/temp_dir.hpp"

namespace gavel::contract {
namespace {

namespace fs = std::filesystem;
using adapters::sqlite::SqliteStore;
using adapters::sqlite::SqliteStoreOptions;

struct SqliteStoreFactory {
  ports::StorePtr make() { return std::make_unique<SqliteStore>(dir.path() / "gavel.db"); }
  TempDir dir;  // outlives the store: the fixture destroys the store first
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, StoreContract, ::testing::Types<SqliteStoreFactory>);

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

std::optional<ports::StoredBid> get_bid(ports::Store& store, const std::string& id) {
  auto result = await<std::optional<ports::StoredBid>>(
      [&](auto done) { store.get_bid(domain::BidId{id}, done); });
  EXPECT_EQ(describe(result), "ok");
  return result.ok() ? std::move(result.value()) : std::nullopt;
}

std::vector<domain::Event> pending_events(ports::Store& store) {
  auto result =
      await<std::vector<domain::Event>>([&](auto done) { store.pending_events(100, done); });
  EXPECT_EQ(describe(result), "ok");
  return result.ok() ? std::move(result.value()) : std::vector<domain::Event>{};
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

/// Runs one statement on the file with the plain C API (not through the store).
void sql(const fs::path& path, const std::string& statement) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(db, statement.c_str(), nullptr, nullptr, &error), SQLITE_OK)
      << (error != nullptr ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

int user_version(const fs::path& path) {
  sqlite3* db = nullptr;
  sqlite3_stmt* statement = nullptr;
  int version = -1;
  if (sqlite3_open(path.c_str(), &db) == SQLITE_OK &&
      sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &statement, nullptr) == SQLITE_OK &&
      sqlite3_step(statement) == SQLITE_ROW) {
    version = sqlite3_column_int(statement, 0);
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return version;
}

/// A batch with every field of every value set, and values that differ from the defaults.
struct FullBatch : StoreSamples {
  static ports::AuctionWrite sold_auction() {
    auto write = StoreSamples::write("full", 0, 9, 4200);
    write.terms.increment = domain::IncrementPolicy::default_table();
    write.state.status = domain::AuctionStatus::closed;
    write.state.result = domain::AuctionResult::sold;
    write.state.winner_id = domain::UserId{"leader"};
    write.state.final_price = domain::Amount{4200};
    write.state.accepted.push_back(domain::BidRecord{domain::BidId{"b-2"}, domain::UserId{"other"},
                                                     domain::Amount{4100}, domain::Amount{4150},
                                                     t0() + std::chrono::microseconds(7)});
    write.state.accepted.push_back(domain::BidRecord{
        domain::BidId{std::string(64, 'x')}, domain::UserId{std::string(64, 'y')},
        domain::Amount{4200}, domain::Amount{10'000'000'000'000}, t0() - std::chrono::hours(1)});
    return write;
  }

  // No optionals set, an empty history and a custom table.
  static ports::AuctionWrite plain_auction() {
    auto write = StoreSamples::write("plain", 0, 1, 1000);
    write.terms.reserve_price.reset();
    write.terms.buy_now_price.reset();
    write.terms.max_ends_at.reset();
    write.terms.title = "";
    write.terms.increment = *domain::IncrementPolicy::table(
        {{domain::Amount{0}, domain::Amount{1}}, {domain::Amount{1000}, domain::Amount{7}}});
    write.state = domain::AuctionState{};
    return write;
  }

  static ports::StoredBid accepted_bid() {
    auto bid = StoreSamples::bid("bid-1", "full", 1, 4200);
    bid.decision.event_number = 17;
    return bid;
  }

  static ports::StoredBid rejected_bid() {
    auto bid = StoreSamples::bid("bid-2", "full", 2, 10);
    bid.max_amount.reset();
    bid.idempotency_key.clear();
    bid.decision = domain::Decision{
        false, domain::Reason::bid_too_low, false, domain::Amount{4200}, domain::Amount{4300}, 18};
    return bid;
  }

  static domain::Event full_event() {
    auto event = StoreSamples::event("full", 19, "line one\nline \"two\" ü");
    event.type = domain::EventType::auction_closed;
    event.previous_leader = domain::UserId{"before"};
    event.reason = domain::Reason::auction_closed;
    event.min_next_bid = domain::Amount{4300};
    event.result = domain::AuctionResult::sold;
    return event;
  }

  static ports::CommitBatch batch() {
    return ports::CommitBatch{{sold_auction(), plain_auction()},
                              {accepted_bid(), rejected_bid()},
                              {event("full", 18), full_event()}};
  }

  /// Checks that `store` holds exactly batch(), with event full:18 published.
  static void expect_stored(ports::Store& store) {
    for (const auto& write : {sold_auction(), plain_auction()}) {
      const auto stored = get_auction(store, write.terms.id.str());
      ASSERT_TRUE(stored.has_value()) << write.terms.id.str();
      expect_same_terms(stored->terms, write.terms);
      EXPECT_EQ(stored->state, write.state) << write.terms.id.str();
    }
    EXPECT_EQ(get_bid(store, "bid-1"), accepted_bid());
    EXPECT_EQ(get_bid(store, "bid-2"), rejected_bid());
    auto by_key = await<std::optional<ports::StoredBid>>([&](auto done) {
      store.find_bid_by_key(accepted_bid().bidder_id, accepted_bid().idempotency_key, done);
    });
    ASSERT_EQ(describe(by_key), "ok");
    EXPECT_EQ(by_key.value(), accepted_bid());
    auto closed = await<std::vector<ports::StoredAuction>>([&](auto done) {
      store.list_auctions(ports::AuctionListQuery{domain::AuctionStatus::closed, {}, 10}, done);
    });
    ASSERT_EQ(describe(closed), "ok");
    ASSERT_EQ(closed.value().size(), 1u);
    EXPECT_EQ(closed.value()[0].terms.id.str(), "full");
    const auto pending = pending_events(store);
    ASSERT_EQ(pending.size(), 1u);
    expect_same_event(pending[0], full_event());
  }
};

class SqliteStoreTest : public ::testing::Test {
 protected:
  fs::path db() const { return dir_.path() / "gavel.db"; }

  TempDir dir_;
};

// --- durability --------------------------------------------------------------------------

TEST_F(SqliteStoreTest, EveryFieldSurvivesClosingAndReopening) {
  {
    SqliteStore store(db());
    ASSERT_EQ(describe(commit(store, FullBatch::batch())), "ok");
    auto marked = await<void>([&](auto done) { store.mark_published({"full:18"}, done); });
    ASSERT_EQ(describe(marked), "ok");
  }
  SqliteStore reopened(db());
  FullBatch::expect_stored(reopened);
  // The fence holds across reopening too: on the seq, and on the event count.
  auto stale = FullBatch::sold_auction();
  stale.expected_seq = 8;
  EXPECT_EQ(error_kind(commit(reopened, {{stale}, {}, {}})), "conflict");
  stale.expected_seq = 9;
  stale.expected_events = stale.state.events - 1;
  EXPECT_EQ(error_kind(commit(reopened, {{stale}, {}, {}})), "conflict");
  // A retried batch does not bring the published event back.
  ASSERT_EQ(describe(commit(reopened, {{}, {}, {FullBatch::event("full", 18)}})), "ok");
  EXPECT_EQ(pending_events(reopened).size(), 1u);
}

TEST_F(SqliteStoreTest, ACommitAnsweredOkSurvivesAKillRightAfterTheAnswer) {
  const pid_t child = fork();
  ASSERT_NE(child, -1);
  if (child == 0) {
    // The child commits and dies inside the callback: no destructor, no close, no checkpoint.
    alarm(30);
    try {
      auto store = std::make_unique<SqliteStore>(db());
      store->commit(FullBatch::batch(), [&store](const ports::Result<void>& result) {
        if (!result.ok()) _exit(3);
        // mark_published is another transaction: the kill comes after its answer too.
        store->mark_published(
            {"full:18"}, [](const ports::Result<void>& marked) { _exit(marked.ok() ? 0 : 4); });
      });
      for (;;) pause();
    } catch (...) {
      _exit(5);
    }
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  ASSERT_EQ(WEXITSTATUS(status), 0);
  // The commit is in the write-ahead log, never checkpointed into the main file.
  EXPECT_TRUE(fs::exists(db().string() + "-wal"));
  SqliteStore reopened(db());
  FullBatch::expect_stored(reopened);
}

TEST_F(SqliteStoreTest, TheDestructorAnswersEveryQueuedCallOnce) {
  std::atomic<int> ok{0};
  std::atomic<int> answered{0};
  {
    SqliteStore store(db());
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
  SqliteStore reopened(db());
  EXPECT_TRUE(get_auction(reopened, "a49").has_value());
}

// --- grouping ----------------------------------------------------------------------------

TEST_F(SqliteStoreTest, QueuedCommitsShareATransactionButEachIsAllOrNothing) {
  SqliteStore store(db());
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
      EXPECT_THAT(describe(result), ::testing::HasSubstr("auction taken is at seq 1")) << id;
      EXPECT_FALSE(get_auction(store, id).has_value()) << id;
      EXPECT_FALSE(get_bid(store, "b" + std::to_string(i)).has_value()) << id;
    } else {
      EXPECT_EQ(describe(result), "ok") << id;
      EXPECT_TRUE(get_auction(store, id).has_value()) << id;
      EXPECT_TRUE(get_bid(store, "b" + std::to_string(i)).has_value()) << id;
    }
    EXPECT_EQ(answers[i].calls(), 1);
  }
  EXPECT_EQ(pending_events(store).size(), 32u);
  EXPECT_EQ(get_auction(store, "taken")->state.price, domain::Amount{1000});
}

TEST_F(SqliteStoreTest, AMarkWaitsForTheNextCommitToShareItsTransactionButNoLongerThanItsDelay) {
  using std::chrono::milliseconds;
  using std::chrono::steady_clock;
  SqliteStore store(db(), SqliteStoreOptions{milliseconds(5000), 64, milliseconds(300)});
  const auto first = StoreSamples::event("a1", 1);
  const auto second = StoreSamples::event("a1", 2);
  ASSERT_EQ(describe(commit(store, {{StoreSamples::write("a1", 0, 1)}, {}, {first, second}})),
            "ok");

  // Alone, a mark is written once its delay has passed.
  auto started = steady_clock::now();
  Pending<void> alone;
  store.mark_published({domain::event_id(first)}, alone.callback());
  EXPECT_EQ(describe(alone.get()), "ok");
  EXPECT_GE(steady_clock::now() - started, milliseconds(250));

  // Followed by a commit, it is written with that commit, at once.
  started = steady_clock::now();
  Pending<void> marked;
  Pending<void> committed;
  store.mark_published({domain::event_id(second)}, marked.callback());
  store.commit({{}, {StoreSamples::bid("b1", "a1", 1)}, {}}, committed.callback());
  EXPECT_EQ(describe(committed.get()), "ok");
  EXPECT_EQ(describe(marked.get()), "ok");
  EXPECT_LT(steady_clock::now() - started, milliseconds(250));
  EXPECT_THAT(pending_events(store), ::testing::IsEmpty());
}

TEST_F(SqliteStoreTest, AFileLockedByAnotherWriterAnswersRetryable) {
  SqliteStore store(db(), SqliteStoreOptions{std::chrono::milliseconds(50), 64});
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(db().c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  const auto result = commit(store, {{StoreSamples::write("a1", 0, 1)}, {}, {}});
  EXPECT_EQ(error_kind(result), "retryable") << describe(result);
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  // Once the lock is gone, the same commit succeeds.
  EXPECT_EQ(describe(commit(store, {{StoreSamples::write("a1", 0, 1)}, {}, {}})), "ok");
}

// --- opening -----------------------------------------------------------------------------

TEST_F(SqliteStoreTest, OpeningInAMissingDirectoryThrowsAOneLineMessage) {
  const fs::path path = dir_.path() / "missing" / "gavel.db";
  const std::string message = open_failure([&] { SqliteStore store(path); });
  EXPECT_EQ(message, "cannot open the SQLite store " + path.string() + ": directory " +
                         path.parent_path().string() + " does not exist");
  EXPECT_FALSE(fs::exists(path.parent_path()));
}

TEST_F(SqliteStoreTest, OpeningUnderAFileThrows) {
  std::ofstream(dir_.path() / "file") << "not a directory";
  const fs::path path = dir_.path() / "file" / "gavel.db";
  const std::string message = open_failure([&] { SqliteStore store(path); });
  EXPECT_EQ(message, "cannot open the SQLite store " + path.string() + ": " +
                         path.parent_path().string() + " is not a directory");
}

TEST_F(SqliteStoreTest, OpeningSomethingThatIsNotADatabaseThrows) {
  std::ofstream(db()) << std::string(4096, 'x');
  const std::string message = open_failure([&] { SqliteStore store(db()); });
  EXPECT_THAT(message, ::testing::StartsWith("cannot open the SQLite store " + db().string()));
  EXPECT_THAT(message, ::testing::HasSubstr("not a database"));
}

TEST_F(SqliteStoreTest, OpeningInAReadOnlyDirectoryThrows) {
  if (geteuid() == 0) GTEST_SKIP() << "root writes to read-only directories";
  fs::permissions(dir_.path(), fs::perms::owner_read | fs::perms::owner_exec);
  const std::string message = open_failure([&] { SqliteStore store(db()); });
  fs::permissions(dir_.path(), fs::perms::owner_all);
  EXPECT_THAT(message, ::testing::StartsWith("cannot open the SQLite store " + db().string()));
  EXPECT_THAT(message, ::testing::HasSubstr("writable"));
}

TEST_F(SqliteStoreTest, TheSchemaVersionIsRecorded) {
  { SqliteStore store(db()); }
  EXPECT_EQ(user_version(db()), adapters::sqlite::kSchemaVersion);
  // Reopening at the current version changes nothing.
  { SqliteStore store(db()); }
  EXPECT_EQ(user_version(db()), adapters::sqlite::kSchemaVersion);
}

TEST_F(SqliteStoreTest, AFutureSchemaVersionIsRefused) {
  {
    SqliteStore store(db());
    ASSERT_EQ(describe(commit(store, {{StoreSamples::write("a1", 0, 1)}, {}, {}})), "ok");
  }
  const int future = adapters::sqlite::kSchemaVersion + 1;
  sql(db(), "PRAGMA user_version = " + std::to_string(future));
  const std::string message = open_failure([&] { SqliteStore store(db()); });
  EXPECT_EQ(message, "cannot open the SQLite store " + db().string() +
                         ": the database has schema version " + std::to_string(future) +
                         ", newer than this build knows (" +
                         std::to_string(adapters::sqlite::kSchemaVersion) + "): run a newer gavel");
  EXPECT_EQ(user_version(db()), future);  // left as it was
}

// --- measurements (not a test: run with --gtest_also_run_disabled_tests) -------------------

double percentile(std::vector<double> values, double fraction) {
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(fraction * static_cast<double>(values.size() - 1));
  return values[index];
}

TEST_F(SqliteStoreTest, DISABLED_MeasureCommitLatencyAndThroughput) {
  using Clock = std::chrono::steady_clock;
  const auto ms = [](Clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
  };
  SqliteStore store(db());
  ASSERT_EQ(describe(commit(store, {{StoreSamples::write("a", 0, 1)}, {}, {}})), "ok");

  // One bid per commit, one commit at a time: the latency a lone bidder sees.
  std::vector<double> latencies;
  for (std::uint64_t i = 1; i <= 200; ++i) {
    const auto start = Clock::now();
    const auto result = commit(store, {{StoreSamples::write("a", i, i + 1)},
                                       {StoreSamples::bid("s" + std::to_string(i), "a", i)},
                                       {StoreSamples::event("a", i)}});
    latencies.push_back(ms(Clock::now() - start));
    ASSERT_EQ(describe(result), "ok");
  }
  std::cout << "single-bid commit: median " << percentile(latencies, 0.5) << " ms, p99 "
            << percentile(latencies, 0.99) << " ms\n";

  // 100 bids per commit, one commit at a time.
  constexpr int kBatches = 50;
  std::uint64_t seq = 201;
  std::uint64_t position = 200;
  auto start = Clock::now();
  for (int b = 0; b < kBatches; ++b) {
    ports::CommitBatch batch{{StoreSamples::write("a", seq, seq + 1)}, {}, {}};
    ++seq;
    for (int i = 0; i < 100; ++i) {
      ++position;
      batch.bids.push_back(StoreSamples::bid("p" + std::to_string(position), "a", position));
      batch.events.push_back(StoreSamples::event("a", position));
    }
    ASSERT_EQ(describe(commit(store, std::move(batch))), "ok");
  }
  const double batch_ms = ms(Clock::now() - start);
  std::cout << "100-bid batches: " << batch_ms / kBatches << " ms per batch, "
            << 100.0 * kBatches / (batch_ms / 1000.0) << " bids/s\n";

  // 2000 single-bid commits of different auctions queued at once: the writer groups them.
  constexpr int kConcurrent = 2000;
  std::vector<Pending<void>> answers(kConcurrent);
  start = Clock::now();
  for (int i = 0; i < kConcurrent; ++i) {
    const std::string id = "c" + std::to_string(i);
    store.commit({{StoreSamples::write(id, 0, 1)}, {StoreSamples::bid("q" + id, id, 1)}, {}},
                 answers[static_cast<std::size_t>(i)].callback());
  }
  for (auto& answer : answers) ASSERT_EQ(describe(answer.get()), "ok");
  const double grouped_ms = ms(Clock::now() - start);
  std::cout << "queued single-bid commits: " << kConcurrent / (grouped_ms / 1000.0)
            << " commits/s\n";
}

}  // namespace
}  // namespace gavel::contract
