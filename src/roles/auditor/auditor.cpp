#include "roles/auditor/auditor.hpp"

#include <iostream>

#include "ports/blocking.hpp"
#include "ports/thread_name.hpp"
#include "ports/wire/audit_json.hpp"
#include "roles/log.hpp"

namespace gavel::roles {

Auditor::Auditor(ports::Subscription& feed, ports::AuditLog& log, AuditorOptions options)
    : feed_(feed), log_(log), options_(options) {}

Auditor::~Auditor() {
  stop();
}

void Auditor::start() {
  running_ = true;
  thread_ = std::thread([this] {
    ports::name_this_thread("auditor");
    while (running_.load()) {
      if (run_once().failed) std::this_thread::sleep_for(options_.retry_backoff);
    }
  });
}

void Auditor::stop() {
  running_ = false;
  if (thread_.joinable()) thread_.join();
}

Auditor::Batch Auditor::parse(const std::vector<ports::Delivery>& deliveries) {
  Batch batch;
  for (const auto& delivery : deliveries) {
    batch.receipts.push_back(delivery.receipt);
    auto record = wire::parse_audit_record(delivery.body);
    if (const auto* error = std::get_if<wire::FieldError>(&record)) {
      ++stats_.unparseable;
      log(LogLevel::warn, "auditor", "not an audit record; acknowledged and skipped",
          {{"messageId", delivery.message_id}, {"field", error->field}, {"error", error->message}});
      continue;
    }
    auto& parsed = std::get<wire::AuditRecord>(record);
    batch.keys.push_back(parsed.key);
    batch.entries.push_back({std::move(parsed.key), parsed.auction_id,
                             std::string(wire::to_string(parsed.kind)), parsed.occurred_at,
                             delivery.body});
  }
  return batch;
}

AuditorStep Auditor::run_once() {
  AuditorStep step;
  if (!held_) {
    auto received = ports::call_blocking<std::vector<ports::Delivery>>([&](auto done) {
      feed_.receive(options_.batch_size, options_.receive_wait, options_.visibility,
                    std::move(done));
    });
    if (!received) {
      ++stats_.failures;
      step.failed = true;
      return step;
    }
    step.received = received.value().size();
    if (received.value().empty()) return step;
    held_ = parse(received.value());
  }

  if (!held_->entries.empty()) {
    auto appended = ports::call_blocking<std::vector<ports::AuditAppendOutcome>>(
        [&](auto done) { log_.append(held_->entries, std::move(done)); });
    if (!appended) {
      // Held, not acknowledged: the next run_once retries it before receiving anything newer.
      ++stats_.failures;
      log(LogLevel::warn, "auditor", "append failed; the batch is held and retried",
          {{"error", appended.error().message}});
      step.failed = true;
      return step;
    }
    for (const auto& outcome : appended.value()) {
      ++(outcome.duplicate ? step.duplicates : step.appended);
    }
    stats_.appended += step.appended;
    stats_.duplicates += step.duplicates;
    if (appended_) appended_(held_->keys);
  }

  std::vector<std::string> receipts = std::move(held_->receipts);
  held_.reset();
  auto acked = ports::call_blocking<void>(
      [&](auto done) { feed_.ack(std::move(receipts), std::move(done)); });
  if (!acked) {
    // The entries are in the log: a redelivery of them is a duplicate, nothing is lost.
    ++stats_.failures;
    step.failed = true;
  }
  return step;
}

}  // namespace gavel::roles
