#include "adapters/sqlite/schema.hpp"

#include <stdexcept>

namespace gavel::adapters::sqlite {
namespace {

// Version 1. Amounts are minor units and times microseconds since the epoch, both INTEGER;
// enums are stored by their wire names, so a reordered C++ enum does not change their meaning.
// There are no foreign keys between the tables on purpose: a batch may carry bids and events of
// an auction it does not write (ports/store.hpp), as with DynamoDB.
constexpr const char* kVersion1 = R"sql(
CREATE TABLE auctions (
  id             TEXT PRIMARY KEY,
  status         TEXT NOT NULL,
  seq            INTEGER NOT NULL,
  -- terms
  seller_id      TEXT NOT NULL,
  title          TEXT NOT NULL,
  currency       TEXT NOT NULL,
  starting_price INTEGER NOT NULL,
  starts_at      INTEGER NOT NULL,
  ends_at        INTEGER NOT NULL,
  reserve_price  INTEGER,
  buy_now_price  INTEGER,
  soft_close     INTEGER NOT NULL,
  extension      INTEGER NOT NULL,
  max_ends_at    INTEGER,
  increment      BLOB NOT NULL,   -- (from, step) pairs, int64 little-endian
  -- state
  result         TEXT NOT NULL,
  price          INTEGER NOT NULL,
  leader_id      TEXT NOT NULL,
  leader_max     INTEGER NOT NULL,
  leader_max_at  INTEGER NOT NULL,
  state_ends_at  INTEGER NOT NULL,
  events         INTEGER NOT NULL,
  accepted       BLOB NOT NULL,   -- the accepted-bid history, see records.cpp
  winner_id      TEXT NOT NULL,
  final_price    INTEGER NOT NULL
);
CREATE INDEX auctions_by_status ON auctions (status, id);

-- Bids are never deleted, so rowid grows with the order of storing: the first bid stored with
-- an idempotency key is the one with the smallest rowid.
CREATE TABLE bids (
  id              TEXT PRIMARY KEY,
  auction_id      TEXT NOT NULL,
  position        INTEGER NOT NULL,
  bidder_id       TEXT NOT NULL,
  amount          INTEGER NOT NULL,
  max_amount      INTEGER,
  received_at     INTEGER NOT NULL,
  accepted        INTEGER NOT NULL,
  reason          TEXT NOT NULL,
  leading         INTEGER NOT NULL,
  price           INTEGER NOT NULL,
  min_next_bid    INTEGER NOT NULL,
  event_number    INTEGER NOT NULL,
  idempotency_key TEXT NOT NULL
);
CREATE INDEX bids_by_position ON bids (auction_id, position);
CREATE INDEX bids_by_key ON bids (bidder_id, idempotency_key) WHERE idempotency_key <> '';

-- The outbox. A published event keeps its row (published = 1), so a retried batch carrying it
-- finds its id and does not put it back; `position` is the commit order.
CREATE TABLE outbox (
  position        INTEGER PRIMARY KEY,
  event_id        TEXT NOT NULL UNIQUE,
  published       INTEGER NOT NULL DEFAULT 0,
  type            TEXT NOT NULL,
  auction_id      TEXT NOT NULL,
  number          INTEGER NOT NULL,
  seq             INTEGER NOT NULL,
  at              INTEGER NOT NULL,
  bid_id          TEXT NOT NULL,
  user_id         TEXT NOT NULL,
  amount          INTEGER NOT NULL,
  price           INTEGER NOT NULL,
  leader_id       TEXT NOT NULL,
  previous_leader TEXT NOT NULL,
  ends_at         INTEGER NOT NULL,
  reason          TEXT NOT NULL,
  min_next_bid    INTEGER NOT NULL,
  result          TEXT NOT NULL,
  note            TEXT NOT NULL
);
CREATE INDEX outbox_pending ON outbox (position) WHERE published = 0;
)sql";

// Version 2: the audit outbox (ports/store.hpp, CommitBatch::audit). A published record's row
// is deleted: the audit log keeps it. event_time is microseconds since the epoch.
constexpr const char* kVersion2 = R"sql(
CREATE TABLE audit_outbox (
  position     INTEGER PRIMARY KEY,
  key          TEXT NOT NULL UNIQUE,
  ordering_key TEXT NOT NULL,
  event_time   INTEGER NOT NULL,
  body         TEXT NOT NULL
);
)sql";

// Version 3: the bid history in chunks (adapters/sql/records.hpp, bind_auction). An auction's
// `accepted` column keeps the entries of its last whole write (its creation, or a void); each
// later write that adds entries adds a chunk here, so a hot auction's commit writes its new
// bids, not its whole history. Rows written before version 3 keep their history in `accepted`.
constexpr const char* kVersion3 = R"sql(
CREATE TABLE auction_history (
  auction_id TEXT NOT NULL,
  start      INTEGER NOT NULL,  -- the history index of the chunk's first entry
  entries    BLOB NOT NULL,
  PRIMARY KEY (auction_id, start)
) WITHOUT ROWID;
)sql";

}  // namespace

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> all{{1, kVersion1}, {2, kVersion2}, {3, kVersion3}};
  return all;
}

int schema_version(Connection& connection) {
  return std::stoi(connection.query_text("PRAGMA user_version"));
}

void migrate(Connection& connection) {
  migrate(connection, migrations());
}

void migrate(Connection& connection, const std::vector<Migration>& list) {
  const int newest = list.empty() ? 0 : list.back().version;
  const auto too_new = [newest](int found) {
    return SchemaTooNew("the database has schema version " + std::to_string(found) +
                        ", newer than this build knows (" + std::to_string(newest) +
                        "): run a newer gavel");
  };
  if (const int found = schema_version(connection); found > newest) throw too_new(found);
  for (const Migration& migration : list) {
    // IMMEDIATE takes the write lock first, so two processes opening the same file at once
    // apply each migration once: the second one re-reads the version and skips it.
    connection.exec("BEGIN IMMEDIATE");
    try {
      const int found = schema_version(connection);
      if (found > newest) throw too_new(found);
      if (found < migration.version) {
        connection.exec(migration.sql);
        connection.exec("PRAGMA user_version = " + std::to_string(migration.version));
      }
      connection.exec("COMMIT");
    } catch (...) {
      rollback_quietly(connection);
      throw;
    }
  }
}

}  // namespace gavel::adapters::sqlite
