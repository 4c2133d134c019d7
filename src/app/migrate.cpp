#include "app/migrate.hpp"

#include <ostream>

#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/schema.hpp"
#include "app/config.hpp"

namespace gavel::app {

const char* migrate_help() {
  return R"(gavel migrate — create or upgrade the selfhosted profile's PostgreSQL schema: the
store's tables (auctions, bids, the outbox), the audit log and the notifier's tables (watches,
inboxes, deliveries, preferences)

Usage: gavel migrate [--postgres-url URL] [--config FILE]

  --postgres-url URL   the database (postgresql://user:password@host:port/database or a libpq
                       key=value string); default GAVEL_POSTGRES_URL or the config file
  --config FILE        a file of `name = value` lines, as for gavel serve

Applies every migration the database lacks, in one transaction, under an advisory lock (two
runs at once are safe), and prints what it did. `gavel serve --profile selfhosted` checks the
schema at start (the store, the audit log and the notice store, in every process, whatever its
roles) and refuses a database that lacks a migration or is newer than this build.
Exit status: 0 done or nothing to do, 1 PostgreSQL failed or the database is newer than this
build, 2 bad usage.
)";
}

int run_migrate(const std::vector<std::string>& args, char** environment, std::ostream& out,
                std::ostream& err) {
  namespace pg = adapters::postgres;
  std::string url;
  try {
    // Only the settings that mean something here; the rest of serve's would be ignored.
    for (const auto& arg : args) {
      if (arg.starts_with("--") && !arg.starts_with("--postgres-url") &&
          !arg.starts_with("--config")) {
        throw ConfigError("unknown flag " + arg + " (see gavel migrate --help)");
      }
    }
    url = load_config(args, environment).postgres_url;
  } catch (const ConfigError& error) {
    err << "gavel migrate: " << error.what() << "\n";
    return 2;
  }
  if (url.empty()) {
    err << "gavel migrate: no database: set --postgres-url or GAVEL_POSTGRES_URL\n";
    return 2;
  }
  try {
    pg::Connection connection(url);
    const pg::MigrationReport report = pg::migrate(connection);
    if (report.applied.empty()) {
      out << "gavel migrate: the database is at schema version " << report.after
          << ": nothing to do\n";
      return 0;
    }
    for (const auto& migration : report.applied) {
      out << "gavel migrate: applied " << migration.version << " (" << migration.name << ")\n";
    }
    out << "gavel migrate: schema version " << report.before << " -> " << report.after << "\n";
    return 0;
  } catch (const pg::SchemaMismatch& error) {
    err << "gavel migrate: " << error.what() << "\n";
  } catch (const pg::PgError& error) {
    err << "gavel migrate: " << error.what() << "\n";
  }
  return 1;
}

}  // namespace gavel::app
