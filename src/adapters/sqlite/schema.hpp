#pragma once
// The store's tables and their migrations. The version lives in the file's header
// (PRAGMA user_version), written in the same transaction as the migration that reaches it.

#include <stdexcept>
#include <string>
#include <vector>

#include "adapters/sqlite/connection.hpp"

namespace gavel::adapters::sqlite {

struct Migration {
  int version;      ///< the schema version after this migration
  std::string sql;  ///< run in one transaction with the version bump
};

/// The database was written by a newer build (its schema version is above kSchemaVersion).
class SchemaTooNew : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Every migration, oldest first; the last one's version is kSchemaVersion.
const std::vector<Migration>& migrations();

/// The newest schema this build knows.
inline constexpr int kSchemaVersion = 3;

/// The schema version recorded in the open database (0: a new, empty file).
int schema_version(Connection& connection);

/// Applies the migrations the database lacks, each in its own transaction. Throws SchemaTooNew
/// when the database is newer than this build, and SqliteError when SQLite fails.
void migrate(Connection& connection);

/// The same for another database's migrations (oldest first; the last one's version is the
/// newest this build knows), e.g. the notice store's.
void migrate(Connection& connection, const std::vector<Migration>& list);

}  // namespace gavel::adapters::sqlite
