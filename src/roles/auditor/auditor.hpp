#pragma once
// The auditor role: drains the audit topic (the feed the engine host publishes after each
// committed batch, wire/audit_json.hpp) into the hash-chained audit log. Appends each batch in
// delivery order and acknowledges it only once the append succeeded, so nothing acknowledged is
// missing from the log; a redelivered record is a no-op (the log dedupes by key). A batch whose
// append failed is retried before anything newer is received, so the log keeps the feed's order.
// A body that is not an audit record is counted, reported on stderr and acknowledged (it would
// never parse).
//
// Threading: run_once() on the caller's thread (tests), or start() for a thread of its own and
// stop() from any other thread. Not copyable.

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "domain/time.hpp"
#include "ports/audit_log.hpp"
#include "ports/topic.hpp"

namespace gavel::roles {

struct AuditorOptions {
  std::size_t batch_size = 256;
  domain::Duration receive_wait = std::chrono::milliseconds(200);
  domain::Duration visibility = std::chrono::seconds(30);
  /// How long the thread waits after a failed receive or append before it tries again.
  domain::Duration retry_backoff = std::chrono::milliseconds(200);
};

/// What the auditor has done so far (for /metrics and logs).
struct AuditorStats {
  std::atomic<std::uint64_t> appended{0};     ///< new entries in the log
  std::atomic<std::uint64_t> duplicates{0};   ///< records already in the log (redeliveries)
  std::atomic<std::uint64_t> unparseable{0};  ///< bodies that are not audit records
  std::atomic<std::uint64_t> failures{0};     ///< failed receives, appends and acks
};

/// What one run_once() did.
struct AuditorStep {
  std::size_t received = 0;  ///< deliveries received (0 when retrying a held batch)
  std::size_t appended = 0;
  std::size_t duplicates = 0;
  bool failed = false;  ///< a receive, append or ack failed (the thread backs off)
};

class Auditor {
 public:
  Auditor(ports::Subscription& feed, ports::AuditLog& log, AuditorOptions options = {});
  ~Auditor();
  Auditor(const Auditor&) = delete;
  Auditor& operator=(const Auditor&) = delete;

  /// Runs batches on the auditor's thread until stop().
  void start();
  /// Finishes the batch in flight and joins the thread. Idempotent.
  void stop();

  /// One batch on the calling thread: the held batch if its append failed before, otherwise a
  /// newly received one.
  AuditorStep run_once();

  const AuditorStats& stats() const { return stats_; }

  /// Told the keys of each batch once they are in the log (new or already there), on the
  /// auditor's thread. With a feed that does not outlive the process (the embedded profile's
  /// memory topic), this is when the engine host's audit outbox may forget them. Set before
  /// start().
  void on_appended(std::function<void(std::vector<std::string> keys)> listener) {
    appended_ = std::move(listener);
  }

 private:
  struct Batch {
    std::vector<ports::AuditAppend> entries;
    std::vector<std::string> keys;      // the entries' keys, for on_appended
    std::vector<std::string> receipts;  // every delivery of the batch, parseable or not
  };
  Batch parse(const std::vector<ports::Delivery>& deliveries);

  ports::Subscription& feed_;
  ports::AuditLog& log_;
  AuditorOptions options_;
  AuditorStats stats_;
  std::optional<Batch> held_;  // received, not yet appended (the append failed)
  std::function<void(std::vector<std::string>)> appended_;
  std::atomic<bool> running_{false};
  std::thread thread_;
};

}  // namespace gavel::roles
