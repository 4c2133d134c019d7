#pragma once
// `gavel migrate`: brings a PostgreSQL database's schema up to this build's version.
//   gavel migrate [--postgres-url URL] [--config FILE]
// The URL defaults as for `gavel serve` (GAVEL_POSTGRES_URL, the config file). It applies the
// pending migrations in one transaction under an advisory lock (two at once are safe) and
// prints what it did. The PostgreSQL store itself never migrates: it refuses a database that
// lacks a migration and names this command.
// Exit status: 0 done (or nothing to do), 1 PostgreSQL failed or the database is newer than
// this build, 2 bad usage.

#include <iosfwd>
#include <string>
#include <vector>

namespace gavel::app {

/// Runs `gavel migrate <args...>` (the arguments after "migrate").
int run_migrate(const std::vector<std::string>& args, char** environment, std::ostream& out,
                std::ostream& err);

/// The text of `gavel migrate --help`.
const char* migrate_help();

}  // namespace gavel::app
