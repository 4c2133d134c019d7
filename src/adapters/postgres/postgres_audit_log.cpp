#include "adapters/postgres/postgres_audit_log.hpp"

#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "adapters/postgres/connection.hpp"
#include "adapters/postgres/worker.hpp"
#include "adapters/sql/audit_records.hpp"
#include "adapters/sql/records.hpp"
#include "ports/wire/audit_chain.hpp"

namespace gavel::adapters::postgres {
namespace {

// Serializes appends on one database, across processes. Not the migrations' key (schema.cpp):
// an append must not wait for a migration's whole transaction, nor the other way round.
constexpr const char* kAppendLockKey = "444016780653";

using sql::kAuditColumns;

constexpr const char* kLock = "gavel_audit_lock";
constexpr const char* kHead = "gavel_audit_head";
constexpr const char* kInsert = "gavel_audit_insert";
// Planned per call (Connection::exec_params), not prepared: the generic plan a prepared
// statement settles on after five runs, made while the log was small, scans the whole log on
// every append once it has grown (seen at ~350 us of server CPU per bid after 15k entries).
constexpr const char* kKnownKeys = "SELECT key, seq FROM audit_log WHERE key = ANY($1::text[])";
constexpr const char* kEntries = "gavel_audit_entries";
constexpr const char* kEntriesForAuction = "gavel_audit_entries_for_auction";

// The head is read by both threads: the writer under the lock, the reader for head().
PreparedStatement head_statement() {
  return {kHead, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"};
}

std::vector<PreparedStatement> write_statements() {
  return {
      {kLock, std::string("SELECT pg_advisory_xact_lock(") + kAppendLockKey + ")"},
      head_statement(),
      // Every new entry of an append in one statement: one array per column.
      {kInsert, std::string("INSERT INTO audit_log (") + kAuditColumns + ") " +
                    ColumnArrays::select_rows(
                        {"bigint", "text", "text", "text", "bigint", "text", "text", "text"})},
  };
}

std::vector<PreparedStatement> read_statements() {
  const std::string select = std::string("SELECT ") + kAuditColumns + " FROM audit_log WHERE ";
  return {
      head_statement(),
      {kEntries, select + "seq > $1 ORDER BY seq LIMIT $2"},
      // Served by the index (auction_id, seq).
      {kEntriesForAuction, select + "auction_id = $3 AND seq > $1 ORDER BY seq LIMIT $2"},
  };
}

ports::AuditHead head_of(const PGresult* result) {
  if (PQntuples(result) == 0) return wire::empty_head();
  const ResultRow row(result, 0);
  return {static_cast<std::uint64_t>(row.column_int64(0)), std::string(row.column_text(1))};
}

ports::AuditHead read_head(Connection& connection) {
  return head_of(connection.exec_prepared(kHead, Params{}).get());
}

std::vector<ports::AuditEntry> read_page(Connection& connection, const char* statement,
                                         const Params& params) {
  const auto result = connection.exec_prepared(statement, params);
  return read_rows(result.get(), sql::read_audit_entry);
}

// The seq of each key the known-keys statement found in the log.
std::unordered_map<std::string, std::uint64_t> known_keys(const PGresult* result) {
  std::unordered_map<std::string, std::uint64_t> known;
  for (int row = 0; row < PQntuples(result); ++row) {
    const ResultRow values(result, row);
    known.emplace(values.column_text(0), static_cast<std::uint64_t>(values.column_int64(1)));
  }
  return known;
}

PipelinedStatement insert(const std::vector<ports::AuditEntry>& chained) {
  ColumnArrays columns;  // in the order of kAuditColumns
  for (const auto& entry : chained) {
    columns.bind(1, static_cast<std::int64_t>(entry.seq));
    columns.bind(2, std::string_view(entry.key));
    columns.bind(3, entry.auction_id.view());
    columns.bind(4, std::string_view(entry.kind));
    columns.bind(5, entry.occurred_at.time_since_epoch().count());
    columns.bind(6, std::string_view(entry.body));
    columns.bind(7, std::string_view(entry.prev_hash));
    columns.bind(8, std::string_view(entry.hash));
  }
  return {kInsert, nullptr, columns.params()};
}

// Runs `statements` in one round trip; throws the first failure.
PipelineOutcome run(Connection& connection, const std::vector<PipelinedStatement>& statements) {
  PipelineOutcome outcome = connection.run_pipeline(statements);
  if (outcome.error) throw std::move(*outcome.error);
  return outcome;
}

// One transaction in two round trips: BEGIN, the lock, the head and the keys already in the log
// in the first; the new entries and COMMIT in the second. The head is read by a later statement
// than the lock (pipelined statements still run one after another): in READ COMMITTED each
// statement sees what was committed before it began, so the head read after the lock includes
// the previous holder's entries. A failure leaves the transaction open or aborted: the worker
// rolls it back.
std::vector<ports::AuditAppendOutcome> append_all(Connection& connection,
                                                  const std::vector<ports::AuditAppend>& entries) {
  std::vector<std::string> keys;
  keys.reserve(entries.size());
  for (const auto& append : entries) keys.push_back(append.key);
  std::vector<PipelinedStatement> opening(4);
  opening[0].sql = "BEGIN";
  opening[1].name = kLock;
  opening[2].name = kHead;
  opening[3].sql = kKnownKeys;
  opening[3].params.bind(1, std::string_view(text_array(keys)));
  const PipelineOutcome opened = run(connection, opening);
  ports::AuditHead head = head_of(opened.results[2].get());
  auto known = known_keys(opened.results[3].get());

  std::vector<ports::AuditAppendOutcome> outcomes;
  std::vector<ports::AuditEntry> chained;
  for (const auto& append : entries) {
    // `known` also learns the keys chained earlier in this call.
    if (const auto found = known.find(append.key); found != known.end()) {
      outcomes.push_back({found->second, true});
      continue;
    }
    auto entry = wire::chain_entry(head, append);
    if (!entry) throw JobRefused(entry.error());
    head = {entry.value().seq, entry.value().hash};
    known.emplace(append.key, head.seq);
    outcomes.push_back({head.seq, false});
    chained.push_back(std::move(entry.value()));
  }
  std::vector<PipelinedStatement> closing;
  if (!chained.empty()) closing.push_back(insert(chained));
  closing.push_back({nullptr, "COMMIT", {}});
  run(connection, closing);
  return outcomes;
}

}  // namespace

PostgresAuditLog::PostgresAuditLog(const std::string& url) {
  std::tie(writes_, reads_) = open_workers(url, "audit log", write_statements(), read_statements());
}

PostgresAuditLog::~PostgresAuditLog() = default;

void PostgresAuditLog::append(std::vector<ports::AuditAppend> entries,
                              ports::Callback<std::vector<ports::AuditAppendOutcome>> done) {
  // Its own BEGIN and COMMIT (append_all), pipelined with its statements.
  writes_->submit(JobMode::write, std::move(done),
                  [entries = std::move(entries)](Connection& connection) {
                    return append_all(connection, entries);
                  });
}

void PostgresAuditLog::entries_for_auction(const domain::AuctionId& auction_id,
                                           std::uint64_t after_seq, std::size_t limit,
                                           ports::Callback<std::vector<ports::AuditEntry>> done) {
  reads_->submit(JobMode::read, std::move(done),
                 [auction_id, after_seq, limit](Connection& connection) {
                   Params params;
                   params.bind(1, sql::limit_param(after_seq));
                   params.bind(2, sql::limit_param(limit));
                   params.bind(3, auction_id.view());
                   return read_page(connection, kEntriesForAuction, params);
                 });
}

void PostgresAuditLog::entries(std::uint64_t after_seq, std::size_t limit,
                               ports::Callback<std::vector<ports::AuditEntry>> done) {
  reads_->submit(JobMode::read, std::move(done), [after_seq, limit](Connection& connection) {
    Params params;
    params.bind(1, sql::limit_param(after_seq));
    params.bind(2, sql::limit_param(limit));
    return read_page(connection, kEntries, params);
  });
}

void PostgresAuditLog::head(ports::Callback<ports::AuditHead> done) {
  reads_->submit(JobMode::read, std::move(done),
                 [](Connection& connection) { return read_head(connection); });
}

}  // namespace gavel::adapters::postgres
