#pragma once
// The notice store port on its own SQLite file, `<data dir>/notices.db` (the embedded profile's
// notifier state), apart from the auction store so that the notifier's writes never contend
// with the engine's commits.
//
// Durability: WAL with synchronous=FULL; a write answers ok only after it was committed and
// fsynced. Threading and lifecycle: the constructor opens the file, applies the migrations
// (PRAGMA user_version) and starts one worker thread that owns the connection and runs every
// call in arrival order; callers never touch the disk. The notifier's traffic is a few writes
// per auction event, so one thread is plenty. Callbacks run on the worker thread and must not
// throw. The destructor runs what is queued, then joins; calls after that answer permanent.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "ports/notice_store.hpp"

namespace gavel::adapters::sqlite {

class Connection;

struct SqliteNoticeStoreOptions {
  /// How long a statement waits for another process's lock before answering retryable.
  std::chrono::milliseconds busy_timeout{5000};
};

class SqliteNoticeStore final : public ports::NoticeStore {
 public:
  /// Opens (or creates) `path` and brings its schema up to date. Throws std::runtime_error
  /// naming the path when it cannot (missing or unwritable directory, damaged or newer file).
  explicit SqliteNoticeStore(const std::filesystem::path& path,
                             SqliteNoticeStoreOptions options = {});
  ~SqliteNoticeStore() override;
  SqliteNoticeStore(const SqliteNoticeStore&) = delete;
  SqliteNoticeStore& operator=(const SqliteNoticeStore&) = delete;

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
  /// One call: its work, run in its own savepoint inside a group's transaction, and its answer,
  /// given once the group's commit is known (the group's error, if the commit failed).
  struct Job {
    std::function<void(Connection&)> run;
    std::function<void(const std::optional<ports::Error>&)> answer;
  };

  // Runs `work` on the worker thread and answers `done` with its result once it is committed.
  template <typename T, typename Work>
  void enqueue(ports::Callback<T> done, Work work);
  void run();
  // The calls queued together share one transaction, so one fsync: a delivery worker settles
  // each notice on its own, and a hot auction's notices would otherwise cost a commit each.
  void run_group(std::vector<Job>& group);

  std::unique_ptr<Connection> connection_;  // used only by the worker thread
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  bool closed_ = false;
  std::thread worker_;
};

}  // namespace gavel::adapters::sqlite
