// The notice store contract, run against the memory and SQLite adapters, and what is specific
// to the SQLite file: its schema version and its refusal of a newer one.

#include "contract/notice_store_contract.hpp"

#include <sqlite3.h>

#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <thread>

#include "adapters/memory/memory_notice_store.hpp"
#include "adapters/sqlite/sqlite_notice_store.hpp"
#include "contract/temp_dir.hpp"

namespace gavel::contract {
namespace {

struct MemoryNoticeStoreFactory {
  static constexpr bool kDurable = false;
  ports::NoticeStorePtr make() { return std::make_unique<adapters::memory::MemoryNoticeStore>(); }
};

struct SqliteNoticeStoreFactory {
  static constexpr bool kDurable = true;
  ports::NoticeStorePtr make() {
    return std::make_unique<adapters::sqlite::SqliteNoticeStore>(dir.path() / "notices.db");
  }
  TempDir dir;  // outlives the store: the fixture destroys the store first
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Memory, NoticeStoreContract,
                               ::testing::Types<MemoryNoticeStoreFactory>);
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, NoticeStoreContract,
                               ::testing::Types<SqliteNoticeStoreFactory>);

namespace {

std::string pragma(const std::filesystem::path& path, const char* sql) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  std::string answer;
  sqlite3_exec(
      db, sql,
      [](void* out, int, char** values, char**) {
        *static_cast<std::string*>(out) = values[0] != nullptr ? values[0] : "";
        return 0;
      },
      &answer, nullptr);
  sqlite3_close(db);
  return answer;
}

TEST(SqliteNoticeStoreTest, TheFileIsVersionedInWalModeAndANewerOneIsRefused) {
  TempDir dir;
  const auto path = dir.path() / "notices.db";
  { adapters::sqlite::SqliteNoticeStore store(path); }
  EXPECT_EQ(pragma(path, "PRAGMA user_version"), "1");
  EXPECT_EQ(pragma(path, "PRAGMA journal_mode"), "wal");
  pragma(path, "PRAGMA user_version = 7");
  try {
    adapters::sqlite::SqliteNoticeStore store(path);
    FAIL() << "a newer schema was accepted";
  } catch (const std::runtime_error& error) {
    EXPECT_THAT(error.what(), ::testing::HasSubstr("schema version 7"));
    EXPECT_THAT(error.what(), ::testing::HasSubstr(path.string()));
  }
}

TEST(SqliteNoticeStoreTest, AMissingDirectoryIsNamedInTheError) {
  TempDir dir;
  const auto path = dir.path() / "missing" / "notices.db";
  EXPECT_THROW(
      {
        try {
          adapters::sqlite::SqliteNoticeStore store(path);
        } catch (const std::runtime_error& error) {
          EXPECT_THAT(error.what(), ::testing::HasSubstr(path.string()));
          throw;
        }
      },
      std::runtime_error);
}

TEST(SqliteNoticeStoreTest, ACallMadeWhileTheStoreIsClosingIsAnsweredWithAnError) {
  // A callback run during the destructor (the last queued calls) calls the store again: that
  // call is answered, with an error, not dropped.
  TempDir dir;
  auto store = std::make_unique<adapters::sqlite::SqliteNoticeStore>(dir.path() / "notices.db");
  ports::NoticeStore* const closing = store.get();
  std::promise<void> first_answered;
  std::promise<void> destroying;
  Pending<void> late;
  closing->put_preferences(
      domain::UserId{"u1"}, ports::Preferences{}, [&](const ports::Result<void>&) {
        first_answered.set_value();
        destroying.get_future().wait();
        // The destructor marks the store closing first thing; give it time.
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        closing->put_preferences(domain::UserId{"u2"}, ports::Preferences{}, late.callback());
      });
  first_answered.get_future().wait();
  std::thread destroyer([&] {
    destroying.set_value();
    store.reset();
  });
  destroyer.join();
  const auto answer = late.get();
  EXPECT_EQ(error_kind(answer), "permanent");
  EXPECT_EQ(late.calls(), 1);
}

}  // namespace
}  // namespace gavel::contract
