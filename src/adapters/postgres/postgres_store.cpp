#include "adapters/postgres/postgres_store.hpp"

#include <charconv>
#include <exception>
#include <optional>
#include <stdexcept>
#include <utility>

#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/worker.hpp"
#include "adapters/sql/records.hpp"

namespace gavel::adapters::postgres {
namespace {

using sql::kAuctionColumnCount;
using sql::kAuctionColumns;
using sql::kBidColumns;
using sql::kEventColumns;

// --- SQL ---------------------------------------------------------------------------------

std::string placeholders(int count) {
  std::string out;
  for (int i = 1; i <= count; ++i) out += (i > 1 ? ", $" : "$") + std::to_string(i);
  return out;
}

// Each auction write is one statement that fails on the server (gavel_auction_fence, SQLSTATE
// GV409) unless it changed exactly one row: then the transaction aborts where it stands, and no
// client round trip is needed between the writes of a pipeline. The sub-selects read the seq
// and the event count as they were before the statement, for the conflict message.
std::string fenced(const std::string& write) {
  return "WITH written AS (" + write +
         " RETURNING 1) SELECT gavel_auction_fence((SELECT count(*) FROM written),"
         " (SELECT seq FROM auctions WHERE id = $1), (SELECT events FROM auctions WHERE id = $1))";
}

constexpr const char* kCreateAuction = "gavel_create_auction";
constexpr const char* kUpdateAuction = "gavel_update_auction";
constexpr const char* kInsertBids = "gavel_insert_bids";
constexpr const char* kInsertEvents = "gavel_insert_events";
constexpr const char* kInsertAudit = "gavel_insert_audit";
constexpr const char* kInsertHistory = "gavel_insert_history";
constexpr const char* kDeleteHistory = "gavel_delete_history";

// By event id and by key, planned per call (Connection::exec_params): outbox keeps every event
// and audit_outbox fills up with dead rows between vacuums, so a generic plan made while they
// were small would scan them whole on every call.
constexpr const char* kMarkPublished =
    "UPDATE outbox SET published = true WHERE event_id = ANY($1::text[]) AND NOT published";
constexpr const char* kDeleteAudit = "DELETE FROM audit_outbox WHERE key = ANY($1::text[])";

// A batch's bids, events and audit records go as one statement each (ColumnArrays: one array
// per column), not one per row: a row costs the server far less than a statement. unnest keeps
// the arrays' order, which is the order of storing (bids.stored, outbox.position).
std::vector<PreparedStatement> write_statements() {
  const std::string auctions(kAuctionColumns);
  return {
      {kCreateAuction, fenced("INSERT INTO auctions (" + auctions + ") VALUES (" +
                              placeholders(kAuctionColumnCount) + ") ON CONFLICT (id) DO NOTHING")},
      // Parameters 26 and 27: the expected seq and event count (a rejection takes an event
      // number without moving the seq: ports/store.hpp, AuctionWrite).
      // `accepted` ($23) is written only by a whole-history write ($28 = 1, sql::bind_auction).
      {kUpdateAuction, fenced("UPDATE auctions SET (" + auctions + ") = (" + placeholders(22) +
                              ", CASE WHEN $28 = 1 THEN $23 ELSE accepted END, $24, $25)"
                              " WHERE id = $1 AND seq = $26 AND events = $27")},
      {kInsertHistory, std::string("INSERT INTO auction_history (") + sql::kHistoryColumns +
                           ") VALUES ($1, $2, $3)"},
      {kDeleteHistory, "DELETE FROM auction_history WHERE auction_id = $1"},
      {kInsertBids, std::string("INSERT INTO bids (") + kBidColumns + ") " +
                        ColumnArrays::select_rows({"text", "text", "bigint", "text", "bigint",
                                                   "bigint", "bigint", "boolean", "text", "boolean",
                                                   "bigint", "bigint", "bigint", "text"}) +
                        " ON CONFLICT (id) DO NOTHING"},
      {kInsertEvents,
       std::string("INSERT INTO outbox (") + kEventColumns + ") " +
           ColumnArrays::select_rows({"text", "text", "text", "bigint", "bigint", "bigint", "text",
                                      "text", "bigint", "bigint", "text", "text", "bigint", "text",
                                      "bigint", "text", "text"}) +
           " ON CONFLICT (event_id) DO NOTHING"},
      {kInsertAudit, std::string("INSERT INTO audit_outbox (") + sql::kAuditOutboxColumns + ") " +
                         ColumnArrays::select_rows({"text", "text", "bigint", "text"}) +
                         " ON CONFLICT (key) DO NOTHING"},
  };
}

constexpr const char* kSelectAuction = "gavel_select_auction";
constexpr const char* kListAuctions = "gavel_list_auctions";
constexpr const char* kListAuctionsByStatus = "gavel_list_auctions_by_status";
constexpr const char* kSelectBid = "gavel_select_bid";
constexpr const char* kFindBidByKey = "gavel_find_bid_by_key";
constexpr const char* kListBids = "gavel_list_bids";
constexpr const char* kPendingEvents = "gavel_pending_events";
constexpr const char* kPendingAudit = "gavel_pending_audit";

std::vector<PreparedStatement> read_statements() {
  const std::string auctions = std::string("SELECT ") + kAuctionColumns + " FROM auctions ";
  const std::string bids = std::string("SELECT ") + kBidColumns + " FROM bids ";
  return {
      // An auction and its history chunks in one statement, so one snapshot (READ COMMITTED
      // takes one per statement): sql::with_history_chunks.
      {kSelectAuction, sql::with_history_chunks(auctions + "WHERE id = $1")},
      {kListAuctions, sql::with_history_chunks(auctions + "WHERE id > $1 ORDER BY id LIMIT $2")},
      {kListAuctionsByStatus,
       sql::with_history_chunks(auctions + "WHERE status = $3 AND id > $1 ORDER BY id LIMIT $2")},
      {kSelectBid, bids + "WHERE id = $1"},
      // The repeated `idempotency_key <> ''` lets the planner use the partial index bids_by_key.
      {kFindBidByKey, bids +
                          "WHERE bidder_id = $1 AND idempotency_key = $2 AND idempotency_key <> ''"
                          " ORDER BY stored LIMIT 1"},
      {kListBids, bids + "WHERE auction_id = $1 AND position > $2 ORDER BY position, stored"
                         " LIMIT $3"},
      {kPendingEvents, std::string("SELECT ") + kEventColumns +
                           " FROM outbox WHERE NOT published ORDER BY position LIMIT $1"},
      {kPendingAudit, std::string("SELECT ") + sql::kAuditOutboxColumns +
                          " FROM audit_outbox ORDER BY position LIMIT $1"},
  };
}

ports::Error closed_error() {
  return {ports::ErrorKind::permanent, "the PostgreSQL store is closed"};
}

// --- the write pipeline ------------------------------------------------------------------

// One statement sent in a pipeline: whose it is, and the auction write it fences (if any).
struct Sent {
  std::size_t job;
  const ports::AuctionWrite* fence;
};

// Why a pipeline did not commit: the statement that failed (nullopt: the connection or the
// transaction as a whole) and its error.
struct PipelineFailure {
  std::optional<Sent> statement;
  PgError error;
};

// A pipeline being built: its statements, and whose each one is.
struct Pipeline {
  std::vector<PipelinedStatement> statements;
  std::vector<Sent> sent;

  void add(std::size_t job, const ports::AuctionWrite* fence, const char* name, const char* sql,
           Params params) {
    statements.push_back({name, sql, std::move(params)});
    sent.push_back({job, fence});
  }
};

// One statement for all of `rows`, each bound by `bind` (a record function of adapters/sql).
template <typename Row, typename Bind>
void add_rows(Pipeline& pipeline, std::size_t job, const char* name, const std::vector<Row>& rows,
              Bind bind) {
  if (rows.empty()) return;
  ColumnArrays columns;
  for (const Row& row : rows) bind(columns, row);
  pipeline.add(job, nullptr, name, nullptr, columns.params());
}

void add_batch(Pipeline& pipeline, std::size_t job, const ports::CommitBatch& batch) {
  static_assert(kAuctionColumnCount == 25 && sql::kWholeHistoryParam == 28);
  for (const auto& write : batch.auctions) {
    Params params;
    const bool create = write.expected_seq == 0;
    const bool whole_history = sql::writes_whole_history(write);
    sql::bind_auction(params, write.terms, write.state, whole_history);
    if (!create) {
      params.bind(kAuctionColumnCount + 1, static_cast<std::int64_t>(write.expected_seq));
      params.bind(kAuctionColumnCount + 2, static_cast<std::int64_t>(write.expected_events));
      params.bind(sql::kWholeHistoryParam, std::int64_t{whole_history ? 1 : 0});
    }
    pipeline.add(job, &write, create ? kCreateAuction : kUpdateAuction, nullptr, std::move(params));
    if (whole_history && !create) {
      Params id;
      id.bind(1, write.terms.id.view());
      pipeline.add(job, nullptr, kDeleteHistory, nullptr, std::move(id));
    }
    if (Params chunk; sql::bind_history_chunk(chunk, write)) {
      pipeline.add(job, nullptr, kInsertHistory, nullptr, std::move(chunk));
    }
  }
  add_rows(pipeline, job, kInsertBids, batch.bids, sql::bind_bid);
  add_rows(pipeline, job, kInsertEvents, batch.events, sql::bind_event);
  add_rows(pipeline, job, kInsertAudit, batch.audit, sql::bind_audit_outbox);
}

// One statement for a list of ids (event ids to mark published, audit keys to forget), planned
// for them (see kMarkPublished).
void add_ids(Pipeline& pipeline, std::size_t job, const char* sql,
             const std::vector<std::string>& ids) {
  if (ids.empty()) return;
  Params params;
  params.bind(1, std::string_view(text_array(ids)));
  pipeline.add(job, nullptr, nullptr, sql, std::move(params));
}

// Runs the writes `live` (indexes into `group`) as one pipeline: their statements, then a
// sync, which commits the pipeline's implicit transaction when nothing failed. One round trip.
// Answers nullopt when it committed. Throws PgError when the connection fails.
std::optional<PipelineFailure> run_pipeline(Connection& connection,
                                            const std::vector<PostgresStore::WriteJob>& group,
                                            const std::vector<std::size_t>& live) {
  Pipeline pipeline;
  for (const std::size_t job : live) {
    if (const auto* batch = std::get_if<ports::CommitBatch>(&group[job].work)) {
      add_batch(pipeline, job, *batch);
    } else if (const auto* audit = std::get_if<PostgresStore::AuditPublished>(&group[job].work)) {
      add_ids(pipeline, job, kDeleteAudit, audit->keys);
    } else {
      add_ids(pipeline, job, kMarkPublished, std::get<std::vector<std::string>>(group[job].work));
    }
  }
  PipelineOutcome outcome = connection.run_pipeline(pipeline.statements);
  if (!outcome.error) return std::nullopt;
  std::optional<Sent> statement;
  if (outcome.failed) statement = pipeline.sent[*outcome.failed];
  return PipelineFailure{statement, std::move(*outcome.error)};
}

// The fence's DETAIL: "<seq> <events>" as the store held them, or empty (no such auction).
std::optional<sql::StoredVersion> parse_fence_detail(const std::string& detail) {
  const char* const end = detail.data() + detail.size();
  sql::StoredVersion stored;
  const auto seq = std::from_chars(detail.data(), end, stored.seq);
  if (seq.ec != std::errc{} || seq.ptr == end || *seq.ptr != ' ') return std::nullopt;
  const auto events = std::from_chars(seq.ptr + 1, end, stored.events);
  if (events.ec != std::errc{} || events.ptr != end) return std::nullopt;
  return stored;
}

// The error a failed statement answers its write with: a failed fence names the auction and
// what the store holds against what the write expected, as the SQLite store does.
ports::Error statement_error(const PipelineFailure& failure) {
  ports::Error error = to_port_error(failure.error);
  if (error.kind != ports::ErrorKind::conflict || failure.statement->fence == nullptr) {
    return error;
  }
  error.message =
      sql::describe_conflict(*failure.statement->fence, parse_fence_detail(failure.error.detail()));
  return error;
}

}  // namespace

// --- lifecycle ---------------------------------------------------------------------------

PostgresStore::PostgresStore(const std::string& url, PostgresStoreOptions options) {
  try {
    writer_ = connect(url, write_statements(), SchemaCheck::yes);
    reads_ = std::make_unique<Worker>(connect(url, read_statements(), SchemaCheck::no),
                                      closed_error().message);
  } catch (const std::exception& error) {
    throw open_failure("store", error);
  }
  writes_ = std::make_unique<sql::JobThread<WriteJob>>(
      "pg-store", options.max_group, [this](std::vector<WriteJob>& group) { apply_group(group); });
}

PostgresStore::~PostgresStore() {
  writes_->stop();
  reads_->stop();
}

// --- queues ------------------------------------------------------------------------------

void PostgresStore::enqueue_write(WriteJob job) {
  if (!writes_->push(job)) job.done(closed_error());
}

template <typename T, typename Query>
void PostgresStore::enqueue_read(ports::Callback<T> done, Query query) {
  reads_->submit(JobMode::read, std::move(done), std::move(query));
}

void PostgresStore::apply_group(std::vector<WriteJob>& group) {
  std::vector<std::optional<ports::Result<void>>> answers(group.size());
  std::vector<std::size_t> live(group.size());
  for (std::size_t i = 0; i < group.size(); ++i) live[i] = i;
  // A write that fails on its own (a conflict, a bad value) aborts the shared transaction: it
  // gets its error and the others go again without it. Conflicts are rare (a stale engine), so
  // the common case is one round trip.
  while (!live.empty()) {
    std::optional<PipelineFailure> failure;
    try {
      writer_->ensure_ready();
      failure = run_pipeline(*writer_, group, live);
    } catch (const PgError& error) {
      // The connection failed: whether the commit landed is unknown, which retryable allows
      // (bids and events are idempotent; a landed auction write answers conflict on retry).
      failure = PipelineFailure{std::nullopt, error};
    }
    if (!failure) {
      for (const std::size_t job : live) answers[job] = ports::Result<void>();
      break;
    }
    const ports::Error error = to_port_error(failure->error);
    if (!failure->statement || error.kind == ports::ErrorKind::retryable) {
      for (const std::size_t job : live) answers[job] = error;
      break;
    }
    const std::size_t failed = failure->statement->job;
    answers[failed] = statement_error(*failure);
    std::erase(live, failed);
  }
  for (std::size_t i = 0; i < group.size(); ++i) group[i].done(std::move(*answers[i]));
}

// --- the port ----------------------------------------------------------------------------

void PostgresStore::commit(ports::CommitBatch batch, ports::Callback<void> done) {
  enqueue_write(WriteJob{std::move(batch), std::move(done)});
}

void PostgresStore::mark_published(std::vector<std::string> event_ids, ports::Callback<void> done) {
  enqueue_write(WriteJob{std::move(event_ids), std::move(done)});
}

void PostgresStore::mark_audit_published(std::vector<std::string> keys,
                                         ports::Callback<void> done) {
  enqueue_write(WriteJob{AuditPublished{std::move(keys)}, std::move(done)});
}

void PostgresStore::get_auction(const domain::AuctionId& id,
                                ports::Callback<std::optional<ports::StoredAuction>> done) {
  enqueue_read(std::move(done), [id](Connection& connection) {
    Params params;
    params.bind(1, id.view());
    const auto result = connection.exec_prepared(kSelectAuction, params);
    std::vector<ports::StoredAuction> found;
    for (int row = 0; row < PQntuples(result.get()); ++row) {
      sql::read_auction_with_chunk(ResultRow(result.get(), row), found);
    }
    std::optional<ports::StoredAuction> answer;
    if (!found.empty()) answer = std::move(found.front());
    return answer;
  });
}

void PostgresStore::list_auctions(const ports::AuctionListQuery& query,
                                  ports::Callback<std::vector<ports::StoredAuction>> done) {
  enqueue_read(std::move(done), [query](Connection& connection) {
    std::vector<ports::StoredAuction> answer;
    if (query.limit == 0) return answer;
    Params params;
    params.bind(1, query.after.view());
    params.bind(2, sql::limit_param(query.limit));
    if (query.status) params.bind(3, domain::to_string(*query.status));
    const auto result =
        connection.exec_prepared(query.status ? kListAuctionsByStatus : kListAuctions, params);
    for (int row = 0; row < PQntuples(result.get()); ++row) {
      sql::read_auction_with_chunk(ResultRow(result.get(), row), answer);
    }
    return answer;
  });
}

void PostgresStore::get_bid(const domain::BidId& id,
                            ports::Callback<std::optional<ports::StoredBid>> done) {
  enqueue_read(std::move(done), [id](Connection& connection) {
    Params params;
    params.bind(1, id.view());
    const auto result = connection.exec_prepared(kSelectBid, params);
    std::optional<ports::StoredBid> answer;
    if (PQntuples(result.get()) > 0) answer = sql::read_bid(ResultRow(result.get(), 0));
    return answer;
  });
}

void PostgresStore::find_bid_by_key(const domain::UserId& bidder_id, const std::string& key,
                                    ports::Callback<std::optional<ports::StoredBid>> done) {
  enqueue_read(std::move(done), [bidder_id, key](Connection& connection) {
    std::optional<ports::StoredBid> answer;
    if (key.empty()) return answer;  // bids without a key are never found by one
    Params params;
    params.bind(1, bidder_id.view());
    params.bind(2, std::string_view(key));
    const auto result = connection.exec_prepared(kFindBidByKey, params);
    if (PQntuples(result.get()) > 0) answer = sql::read_bid(ResultRow(result.get(), 0));
    return answer;
  });
}

void PostgresStore::list_bids(const domain::AuctionId& auction_id, std::uint64_t after_position,
                              std::size_t limit,
                              ports::Callback<std::vector<ports::StoredBid>> done) {
  enqueue_read(std::move(done), [auction_id, after_position, limit](Connection& connection) {
    std::vector<ports::StoredBid> answer;
    if (limit == 0) return answer;
    Params params;
    params.bind(1, auction_id.view());
    params.bind(2, static_cast<std::int64_t>(after_position));
    params.bind(3, sql::limit_param(limit));
    const auto result = connection.exec_prepared(kListBids, params);
    for (int row = 0; row < PQntuples(result.get()); ++row) {
      answer.push_back(sql::read_bid(ResultRow(result.get(), row)));
    }
    return answer;
  });
}

void PostgresStore::pending_events(std::size_t limit,
                                   ports::Callback<std::vector<domain::Event>> done) {
  enqueue_read(std::move(done), [limit](Connection& connection) {
    std::vector<domain::Event> answer;
    if (limit == 0) return answer;
    Params params;
    params.bind(1, sql::limit_param(limit));
    const auto result = connection.exec_prepared(kPendingEvents, params);
    for (int row = 0; row < PQntuples(result.get()); ++row) {
      answer.push_back(sql::read_event(ResultRow(result.get(), row)));
    }
    return answer;
  });
}

void PostgresStore::pending_audit(std::size_t limit,
                                  ports::Callback<std::vector<ports::OutgoingMessage>> done) {
  enqueue_read(std::move(done), [limit](Connection& connection) {
    std::vector<ports::OutgoingMessage> answer;
    if (limit == 0) return answer;
    Params params;
    params.bind(1, sql::limit_param(limit));
    const auto result = connection.exec_prepared(kPendingAudit, params);
    for (int row = 0; row < PQntuples(result.get()); ++row) {
      answer.push_back(sql::read_audit_outbox(ResultRow(result.get(), row)));
    }
    return answer;
  });
}

}  // namespace gavel::adapters::postgres
