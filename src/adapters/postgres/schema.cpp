#include "adapters/postgres/schema.hpp"

#include <algorithm>
#include <string_view>

namespace gavel::adapters::postgres {
namespace {

// Version 1. The columns are those of adapters/sql/records.hpp, as in the SQLite store: amounts
// in minor units and times in microseconds since the epoch (bigint, so every field round-trips
// exactly), enums by their wire names, the increment table and the accepted-bid history as
// bytea. Ids compare bytewise (COLLATE "C") so that listing by id pages the same way whatever
// the database's locale. No foreign keys: a batch may carry bids and events of an auction it
// does not write (ports/store.hpp).
//
// gavel_seq_fence turns a failed seq condition into an error (SQLSTATE GV409), so that the
// transaction of a pipelined batch aborts on the server without a round trip to the client;
// DETAIL carries the seq the store holds (empty: no such auction) for the conflict message.
constexpr const char* kVersion1 = R"sql(
CREATE TABLE auctions (
  id             text COLLATE "C" PRIMARY KEY,
  status         text NOT NULL,
  seq            bigint NOT NULL,
  seller_id      text NOT NULL,
  title          text NOT NULL,
  currency       text NOT NULL,
  starting_price bigint NOT NULL,
  starts_at      bigint NOT NULL,
  ends_at        bigint NOT NULL,
  reserve_price  bigint,
  buy_now_price  bigint,
  soft_close     bigint NOT NULL,
  extension      bigint NOT NULL,
  max_ends_at    bigint,
  increment      bytea NOT NULL,
  result         text NOT NULL,
  price          bigint NOT NULL,
  leader_id      text NOT NULL,
  leader_max     bigint NOT NULL,
  leader_max_at  bigint NOT NULL,
  state_ends_at  bigint NOT NULL,
  events         bigint NOT NULL,
  accepted       bytea NOT NULL,
  winner_id      text NOT NULL,
  final_price    bigint NOT NULL
);
CREATE INDEX auctions_by_status ON auctions (status, id);

-- `stored` grows with the order of storing: the first bid stored with an idempotency key is
-- the one with the smallest.
CREATE TABLE bids (
  id              text PRIMARY KEY,
  auction_id      text NOT NULL,
  position        bigint NOT NULL,
  bidder_id       text NOT NULL,
  amount          bigint NOT NULL,
  max_amount      bigint,
  received_at     bigint NOT NULL,
  accepted        boolean NOT NULL,
  reason          text NOT NULL,
  "leading"       boolean NOT NULL,
  price           bigint NOT NULL,
  min_next_bid    bigint NOT NULL,
  event_number    bigint NOT NULL,
  idempotency_key text NOT NULL,
  stored          bigint GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX bids_by_position ON bids (auction_id, position, stored);
CREATE INDEX bids_by_key ON bids (bidder_id, idempotency_key, stored)
  WHERE idempotency_key <> '';

-- The outbox. A published event keeps its row, so a retried batch carrying it finds its id and
-- does not put it back; `position` is the order of storing.
CREATE TABLE outbox (
  position        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id        text NOT NULL UNIQUE,
  published       boolean NOT NULL DEFAULT false,
  type            text NOT NULL,
  auction_id      text NOT NULL,
  number          bigint NOT NULL,
  seq             bigint NOT NULL,
  at              bigint NOT NULL,
  bid_id          text NOT NULL,
  user_id         text NOT NULL,
  amount          bigint NOT NULL,
  price           bigint NOT NULL,
  leader_id       text NOT NULL,
  previous_leader text NOT NULL,
  ends_at         bigint NOT NULL,
  reason          text NOT NULL,
  min_next_bid    bigint NOT NULL,
  result          text NOT NULL,
  note            text NOT NULL
);
CREATE INDEX outbox_pending ON outbox (position) WHERE NOT published;

CREATE FUNCTION gavel_seq_fence(written bigint, stored bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF written <> 1 THEN
    RAISE EXCEPTION 'the auction''s seq condition failed'
      USING ERRCODE = 'GV409', DETAIL = coalesce(stored::text, '');
  END IF;
END
$$;
)sql";

// Version 2: the audit log (ports/audit_log.hpp), as in SQLite: seq from 1 without gaps, a
// unique key (dedupe), times in microseconds since the epoch. The triggers make the table
// append-only for every role that connects (TRUNCATE too, which skips row triggers); a
// superuser who drops them is what the hash chain catches.
constexpr const char* kVersion2 = R"sql(
CREATE TABLE audit_log (
  seq         bigint PRIMARY KEY,
  key         text NOT NULL UNIQUE,
  auction_id  text COLLATE "C" NOT NULL,
  kind        text NOT NULL,
  occurred_at bigint NOT NULL,
  body        text NOT NULL,
  prev_hash   text NOT NULL,
  hash        text NOT NULL
);
CREATE INDEX audit_log_by_auction ON audit_log (auction_id, seq);

CREATE FUNCTION gavel_audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit log is append-only';
END
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION gavel_audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION gavel_audit_log_append_only();
)sql";

// Version 3: the notifier's state (ports/notice_store.hpp), as in SQLite. `position` columns
// are identities: the order of first storing, which is the inbox's and the pending queue's
// order and the participants' "first seen". dead_order numbers dead letters from a sequence so
// that concurrent settles never share one. Ids compare bytewise (COLLATE "C") so that open
// watches page the same way whatever the database's locale.
constexpr const char* kVersion3 = R"sql(
CREATE TABLE notice_watches (
  auction_id       text COLLATE "C" PRIMARY KEY,
  seller_id        text NOT NULL,
  ends_at          bigint NOT NULL,
  ending_soon_sent boolean NOT NULL,
  finished         boolean NOT NULL
);
CREATE INDEX notice_watches_open ON notice_watches (auction_id) WHERE NOT finished;
CREATE TABLE notice_participants (
  auction_id text NOT NULL,
  user_id    text NOT NULL,
  position   bigint GENERATED ALWAYS AS IDENTITY,
  PRIMARY KEY (auction_id, user_id)
);
CREATE TABLE notice_inbox (
  position   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id         text NOT NULL UNIQUE,
  user_id    text NOT NULL,
  auction_id text NOT NULL,
  kind       text NOT NULL,
  subject    text NOT NULL,
  text       text NOT NULL,
  html       text NOT NULL,
  at         bigint NOT NULL,
  read       boolean NOT NULL
);
CREATE INDEX notice_inbox_by_user ON notice_inbox (user_id, position);
CREATE INDEX notice_inbox_unread ON notice_inbox (user_id) WHERE NOT read;
CREATE SEQUENCE notice_dead_order;
CREATE TABLE notice_deliveries (
  position      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  notice_id     text NOT NULL,
  channel       text NOT NULL,
  user_id       text NOT NULL,
  auction_id    text NOT NULL,
  kind          text NOT NULL,
  address       text NOT NULL,
  subject       text NOT NULL,
  text          text NOT NULL,
  html          text NOT NULL,
  secret        text NOT NULL,
  state         text NOT NULL,
  attempts      bigint NOT NULL,
  first_failure bigint,
  last_failure  bigint,
  last_error    text NOT NULL,
  dead_order    bigint,
  UNIQUE (notice_id, channel)
);
CREATE INDEX notice_deliveries_pending ON notice_deliveries (position) WHERE state = 'pending';
CREATE INDEX notice_deliveries_dead ON notice_deliveries (dead_order) WHERE state = 'dead';
CREATE TABLE notice_preferences (
  user_id        text PRIMARY KEY,
  webhook        boolean NOT NULL,
  email          boolean NOT NULL,
  sms            boolean NOT NULL,
  email_address  text NOT NULL,
  phone          text NOT NULL,
  webhook_url    text NOT NULL,
  webhook_secret text NOT NULL
);
)sql";

// Serializes concurrent `gavel migrate` runs on one database (any constant works; this one
// spells "gavel" in ASCII).
constexpr const char* kLockKey = "444016780652";

std::string list(const std::vector<int>& versions) {
  std::string out;
  for (const int version : versions) out += (out.empty() ? "" : ", ") + std::to_string(version);
  return out;
}

SchemaMismatch too_new(int found) {
  return SchemaMismatch("the database has schema version " + std::to_string(found) +
                        ", newer than this build knows (" +
                        std::to_string(latest_schema_version()) + "): run a newer gavel");
}

}  // namespace

// Version 4: the audit outbox (ports/store.hpp, CommitBatch::audit). A published record's row
// is deleted: the audit log keeps it. event_time is microseconds since the epoch.
constexpr const char* kVersion4 = R"sql(
CREATE TABLE audit_outbox (
  position     bigserial PRIMARY KEY,
  key          text NOT NULL UNIQUE,
  ordering_key text NOT NULL,
  event_time   bigint NOT NULL,
  body         text NOT NULL
);
)sql";

// Version 5: the write fence covers the event count as well as the seq (ports/store.hpp,
// AuctionWrite; the condition itself is the WHERE clause of postgres_store.cpp's UPDATE).
// gavel_auction_fence raises GV409 as gavel_seq_fence does, with both values the store holds in
// DETAIL ("<seq> <events>"; empty: no such auction) for the conflict message. gavel_seq_fence
// stays: an engine of the previous build still running while the schema is migrated keeps its
// prepared statements until it restarts (then it refuses the newer schema).
constexpr const char* kVersion5 = R"sql(
CREATE FUNCTION gavel_auction_fence(written bigint, stored_seq bigint, stored_events bigint)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF written <> 1 THEN
    RAISE EXCEPTION 'the auction''s write condition failed'
      USING ERRCODE = 'GV409',
            DETAIL = coalesce(stored_seq::text || ' ' || stored_events::text, '');
  END IF;
END
$$;
)sql";

// Version 6: the bid history in chunks (adapters/sql/records.hpp, bind_auction). An auction's
// `accepted` column keeps the entries of its last whole write (its creation, or a void); each
// later write that adds entries adds a chunk here, so a hot auction's commit writes its new
// bids, not its whole history. Rows written before version 6 keep their history in `accepted`.
// An engine of the previous build must not keep writing once this is applied: it would rewrite
// `accepted` whole and leave the chunks behind (reading such an auction fails loudly).
constexpr const char* kVersion6 = R"sql(
CREATE TABLE auction_history (
  auction_id text NOT NULL,
  start      bigint NOT NULL,
  entries    bytea NOT NULL,
  PRIMARY KEY (auction_id, start)
);
)sql";

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> all{
      {1, "auctions, bids and the outbox", kVersion1},
      {2, "the audit log", kVersion2},
      {3, "the notifier's watches, inboxes, deliveries and preferences", kVersion3},
      {4, "the audit outbox", kVersion4},
      {5, "the write fence on the event count", kVersion5},
      {6, "the bid history in chunks", kVersion6},
  };
  return all;
}

int latest_schema_version() {
  return migrations().back().version;
}

std::vector<int> applied_versions(Connection& connection) {
  std::vector<int> versions;
  const auto exists = connection.exec("SELECT to_regclass('schema_migrations') IS NOT NULL");
  if (std::string_view(PQgetvalue(exists.get(), 0, 0)) != "t") return versions;
  const auto rows = connection.exec("SELECT version FROM schema_migrations ORDER BY version");
  for (int row = 0; row < PQntuples(rows.get()); ++row) {
    versions.push_back(std::stoi(PQgetvalue(rows.get(), row, 0)));
  }
  return versions;
}

MigrationReport migrate(Connection& connection) {
  connection.exec("BEGIN");
  try {
    connection.exec(std::string("SELECT pg_advisory_xact_lock(") + kLockKey + ")");
    connection.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version integer PRIMARY KEY,"
        " name text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())");
    const std::vector<int> applied = applied_versions(connection);
    MigrationReport report;
    report.before = applied.empty() ? 0 : applied.back();
    if (report.before > latest_schema_version()) throw too_new(report.before);
    for (const Migration& migration : migrations()) {
      if (std::binary_search(applied.begin(), applied.end(), migration.version)) continue;
      connection.exec(migration.sql);
      Params params;
      params.bind(1, std::int64_t{migration.version});
      params.bind(2, std::string_view(migration.name));
      // A one-off statement: not worth preparing.
      const ResultPtr inserted(PQexecParams(
          connection.get(), "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", 2,
          nullptr, params.values(), params.lengths(), params.formats(), 0));
      if (PQresultStatus(inserted.get()) != PGRES_COMMAND_OK) {
        throw result_error(connection.get(), inserted.get());
      }
      report.applied.push_back(migration);
    }
    connection.exec("COMMIT");
    report.after = std::max(report.before, latest_schema_version());
    return report;
  } catch (...) {
    // The transaction may be aborted or the connection gone: the first error is the one to
    // report.
    if (PQtransactionStatus(connection.get()) != PQTRANS_IDLE) {
      PQclear(PQexec(connection.get(), "ROLLBACK"));
    }
    throw;
  }
}

void check_schema(Connection& connection) {
  const std::vector<int> applied = applied_versions(connection);
  if (!applied.empty() && applied.back() > latest_schema_version()) throw too_new(applied.back());
  std::vector<int> missing;
  for (const Migration& migration : migrations()) {
    if (!std::binary_search(applied.begin(), applied.end(), migration.version)) {
      missing.push_back(migration.version);
    }
  }
  if (missing.empty()) return;
  throw SchemaMismatch(std::string("the database lacks schema migration") +
                       (missing.size() > 1 ? "s " : " ") + list(missing) + " of " +
                       std::to_string(latest_schema_version()) + ": run gavel migrate");
}

}  // namespace gavel::adapters::postgres
