#pragma once
// The PostgreSQL adapters' tables (the store's, the audit log's and the notice store's), as one
// list of versioned migrations. `gavel migrate` applies the pending ones; each adapter only
// checks at start, with one rule for all of them: the database must have exactly this build's
// migrations (none missing, none newer), so a schema change is always a deliberate step of the
// operator and every process of one build sees the same schema.
//
// Applied versions are rows of schema_migrations (version, name, applied_at). migrate() runs in
// one transaction under an advisory lock, so two at once are safe: the second waits and then
// finds nothing to do.

#include <stdexcept>
#include <string>
#include <vector>

#include "adapters/postgres/connection.hpp"

namespace gavel::adapters::postgres {

struct Migration {
  int version;       ///< 1, 2, ... in order
  const char* name;  ///< what it does, for `gavel migrate`'s report
  const char* sql;
};

/// Every migration, oldest first.
const std::vector<Migration>& migrations();

/// The newest schema version this build knows.
int latest_schema_version();

/// The database's schema does not fit this build: it lacks migrations, or it is newer.
class SchemaMismatch : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct MigrationReport {
  int before = 0;                  ///< the schema version found (0: none)
  std::vector<Migration> applied;  ///< what this run applied, in order
  int after = 0;                   ///< the schema version now
};

/// Applies the pending migrations in one transaction. Throws SchemaMismatch when the database
/// is newer than this build (and changes nothing), PgError when PostgreSQL fails.
MigrationReport migrate(Connection& connection);

/// The applied schema versions, ascending (empty: no schema_migrations table). Throws PgError.
std::vector<int> applied_versions(Connection& connection);

/// Throws SchemaMismatch, naming the missing versions and `gavel migrate`, unless every
/// migration of this build is applied and none newer. Throws PgError when PostgreSQL fails.
void check_schema(Connection& connection);

}  // namespace gavel::adapters::postgres
