#pragma once
// The PostgreSQL the tests use, and a fresh database on it per test.
//
// The server is found through GAVEL_TEST_POSTGRES_URL (a URL to a database of a superuser, e.g.
// from `tests/support/postgres-server.sh run -- ...`) or GAVEL_TEST_POSTGRES_URL_FILE (a file
// holding it: ctest's fixture writes one). Without either, the tests skip with a message, unless
// CI is set: there they must run, and fail instead.

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/schema.hpp"

namespace gavel::contract {

/// The test server's URL, or nullopt.
inline std::optional<std::string> test_postgres_url() {
  if (const char* url = std::getenv("GAVEL_TEST_POSTGRES_URL"); url != nullptr && *url != 0) {
    return std::string(url);
  }
  if (const char* file = std::getenv("GAVEL_TEST_POSTGRES_URL_FILE"); file != nullptr) {
    std::ifstream in(file);
    std::string url;
    if (std::getline(in, url) && !url.empty()) return url;
  }
  return std::nullopt;
}

/// Skips the calling test (fails it under CI) when there is no test server. Call it from a
/// function returning void, e.g. SetUp.
inline void require_test_postgres() {
  if (test_postgres_url()) return;
  const char* ci = std::getenv("CI");
  if (ci != nullptr && *ci != 0) {
    GTEST_FAIL() << "CI is set but no PostgreSQL for the tests: set GAVEL_TEST_POSTGRES_URL "
                    "(tests/support/postgres-server.sh run -- ...) or run through ctest";
  }
  GTEST_SKIP() << "no PostgreSQL for the tests: set GAVEL_TEST_POSTGRES_URL (e.g. "
                  "tests/support/postgres-server.sh run -- <this test binary>) or run through "
                  "ctest";
}

/// A new database on the test server, dropped (with its connections) at destruction; with the
/// store's migrations applied unless asked otherwise. Precondition: test_postgres_url().
class TestDatabase {
 public:
  explicit TestDatabase(bool migrated = true) : admin_(*test_postgres_url()), name_(unique_name()) {
    admin_.exec("CREATE DATABASE " + adapters::postgres::quote_identifier(name_));
    url_ = adapters::postgres::with_database(*test_postgres_url(), name_);
    if (migrated) {
      adapters::postgres::Connection connection(url_);
      adapters::postgres::migrate(connection);
    }
  }
  ~TestDatabase() {
    try {
      admin_.ensure_ready();
      admin_.exec("DROP DATABASE IF EXISTS " + adapters::postgres::quote_identifier(name_) +
                  " WITH (FORCE)");
    } catch (const std::exception& error) {
      ADD_FAILURE() << "cannot drop the test database " << name_ << ": " << error.what();
    }
  }
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  /// A libpq connection string for this database.
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }
  /// A connection to the server's admin database (not this one).
  adapters::postgres::Connection& admin() { return admin_; }

 private:
  static std::string unique_name() {
    static std::atomic<int> counter{0};
    std::random_device random;
    return "gavel_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" +
           std::to_string(random() % 1'000'000);
  }

  adapters::postgres::Connection admin_;
  std::string name_;
  std::string url_;
};

/// A contract suite's factory for a PostgreSQL adapter: a new migrated database for the test,
/// and an `Adapter` on it; made again (by a reopening case), another on the same database.
template <typename Adapter>
struct PostgresAdapterFactory {
  static constexpr bool kDurable = true;
  std::unique_ptr<Adapter> make() {
    require_test_postgres();
    if (!test_postgres_url()) return nullptr;  // skipped (or failed): the body does not run
    if (!database) database.emplace();
    return std::make_unique<Adapter>(database->url());
  }
  std::optional<TestDatabase> database;  // outlives the adapter: the fixture destroys it first
};

/// A test with a new migrated database of its own (skipped without a test server).
class PostgresDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    require_test_postgres();
    if (!test_postgres_url()) return;
    database_.emplace();
  }
  std::optional<TestDatabase> database_;
};

}  // namespace gavel::contract
