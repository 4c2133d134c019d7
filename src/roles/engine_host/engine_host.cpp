#include "roles/engine_host/engine_host.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <set>
#include <stdexcept>

#include "ports/blocking.hpp"
#include "ports/thread_name.hpp"
#include "ports/wire/auction_json.hpp"
#include "ports/wire/audit_json.hpp"
#include "roles/log.hpp"

namespace gavel::roles {

namespace json = boost::json;
using domain::AuctionId;

namespace {
constexpr std::size_t kRecoveryPage = 1000;
constexpr std::size_t kOutboxPage = 1000;
/// How many times a batch is judged again at once after a seq conflict before it is nacked.
constexpr int kConflictRetries = 3;
}  // namespace

EngineHost::StoredVersion EngineHost::StoredVersion::of(const domain::AuctionState& state) {
  return {state.seq, state.events, state.accepted.size(),
          state.accepted.empty() ? domain::BidId{} : state.accepted.back().id};
}

std::size_t EngineHost::StoredVersion::kept_in(const domain::AuctionState& now) const {
  // Bids are only ever added at the end, and a void removes entries (the voided bid, and any
  // that no longer stand without it) keeping the rest in order: after a void, the entry at the
  // stored length's last index is a later bid, or there is none. Bid ids are unique.
  if (history == 0 || now.accepted.size() < history) return 0;
  return now.accepted[history - 1].id == last_accepted ? history : 0;
}

EngineHost::EngineHost(ports::Queue& queue, ports::Store& store, ports::Cache& cache,
                       ports::Topic& topic, ports::Clock& clock, EngineHostOptions options)
    : queue_(queue),
      store_(store),
      cache_(cache),
      topic_(topic),
      clock_(clock),
      options_(options) {}

EngineHost::~EngineHost() {
  stop();
}

void EngineHost::start() {
  recover();
  running_ = true;
  thread_ = std::thread([this] {
    ports::name_this_thread("engine");
    while (running_.load()) run_once();
  });
}

void EngineHost::recover() {
  AuctionId after;
  std::vector<ports::CachedAuction> views;
  for (;;) {
    auto page = ports::call_blocking<std::vector<ports::StoredAuction>>([&](auto done) {
      store_.list_auctions(ports::AuctionListQuery{std::nullopt, after, kRecoveryPage},
                           std::move(done));
    });
    if (!page)
      throw std::runtime_error("cannot load auctions from the store: " + page.error().message);
    for (auto& stored : page.value()) {
      after = stored.terms.id;
      stored_[stored.terms.id] = StoredVersion::of(stored.state);
      domain::Auction auction{std::move(stored.terms), std::move(stored.state)};
      views.push_back(
          {auction.terms().id, auction.seq(), json::serialize(wire::public_view(auction))});
      engine_.restore(std::move(auction));
    }
    if (page.value().size() < kRecoveryPage) break;
  }
  auction_count_ = engine_.size();
  // The store is the truth: the cache is rebuilt from it (put never rolls a newer entry back).
  if (!views.empty()) {
    ports::call_blocking<void>([&](auto done) { cache_.put(std::move(views), std::move(done)); });
  }
  publish_pending_outbox();
  if (audit_topic_ != nullptr) publish_pending_audit();
}

void EngineHost::stop() {
  stopping_ = true;
  running_ = false;
  if (thread_.joinable()) thread_.join();
}

void EngineHost::publish_pending_outbox() {
  for (;;) {
    auto pending = ports::call_blocking<std::vector<domain::Event>>(
        [&](auto done) { store_.pending_events(kOutboxPage, std::move(done)); });
    if (!pending || pending.value().empty()) {
      outbox_dirty_ = !pending.ok();
      return;
    }
    std::vector<ports::OutgoingMessage> messages;
    std::vector<std::string> ids;
    for (const auto& event : pending.value()) {
      ids.push_back(domain::event_id(event));
      messages.push_back(
          {event.auction_id.str(), ids.back(), event.at, json::serialize(wire::event_json(event))});
    }
    auto published = ports::call_blocking<void>(
        [&](auto done) { topic_.publish(std::move(messages), std::move(done)); });
    if (!published) {
      outbox_dirty_ = true;
      return;
    }
    stats_.events_published += ids.size();
    auto marked = ports::call_blocking<void>(
        [&](auto done) { store_.mark_published(std::move(ids), std::move(done)); });
    if (!marked || pending.value().size() < kOutboxPage) {
      outbox_dirty_ = !marked.ok();
      return;
    }
  }
}

EngineHost::Parsed EngineHost::parse(const std::vector<ports::Delivery>& deliveries) {
  Parsed parsed;
  for (const auto& delivery : deliveries) {
    boost::system::error_code ec;
    json::value document = json::parse(delivery.body, ec);
    if (ec || !document.is_object()) {
      parsed.unparseable.push_back(delivery.receipt);
      continue;
    }
    auto envelope = wire::parse_command(document.get_object(), delivery.event_time);
    if (std::holds_alternative<wire::FieldError>(envelope)) {
      parsed.unparseable.push_back(delivery.receipt);
      continue;
    }
    if (delivery.delivery_count > 1 && already_decided(std::get<wire::CommandEnvelope>(envelope))) {
      parsed.duplicates.push_back(delivery.receipt);
      continue;
    }
    parsed.envelopes.push_back(std::move(std::get<wire::CommandEnvelope>(envelope)));
    parsed.receipts.push_back(delivery.receipt);
  }
  return parsed;
}

bool EngineHost::already_decided(const wire::CommandEnvelope& envelope) {
  // A redelivered message may have been committed by an engine that died before its ack (or
  // by this one, when a commit's answer was lost). Bids and creates are looked up: judging
  // them twice would change state or refuse what was done.
  if (const auto* bid = std::get_if<domain::PlaceBid>(&envelope.command)) {
    auto stored = ports::call_blocking<std::optional<ports::StoredBid>>(
        [&](auto done) { store_.get_bid(bid->bid.id, std::move(done)); });
    return stored && stored.value().has_value();
  }
  if (const auto* create = std::get_if<domain::CreateAuction>(&envelope.command)) {
    auto stored = ports::call_blocking<std::optional<ports::StoredAuction>>(
        [&](auto done) { store_.get_auction(create->terms.id, std::move(done)); });
    return stored && stored.value().has_value();
  }
  return false;
}

void EngineHost::drop_already_decided(Parsed& parsed) {
  Parsed kept;
  kept.duplicates = std::move(parsed.duplicates);
  kept.unparseable = std::move(parsed.unparseable);
  std::vector<DecidedCommand> recovered;
  for (std::size_t i = 0; i < parsed.envelopes.size(); ++i) {
    auto& envelope = parsed.envelopes[i];
    if (!already_decided(envelope)) {
      kept.envelopes.push_back(std::move(envelope));
      kept.receipts.push_back(std::move(parsed.receipts[i]));
      continue;
    }
    kept.duplicates.push_back(std::move(parsed.receipts[i]));
    // Whoever waits on it hears what the store holds.
    if (const auto* bid = std::get_if<domain::PlaceBid>(&envelope.command)) {
      auto stored = ports::call_blocking<std::optional<ports::StoredBid>>(
          [&](auto done) { store_.get_bid(bid->bid.id, std::move(done)); });
      if (stored && stored.value())
        recovered.push_back({envelope.command_id, "bid", stored.value()->decision, ""});
    } else if (const auto* create = std::get_if<domain::CreateAuction>(&envelope.command)) {
      auto stored = ports::call_blocking<std::optional<ports::StoredAuction>>(
          [&](auto done) { store_.get_auction(create->terms.id, std::move(done)); });
      if (stored && stored.value()) {
        domain::Decision accepted;
        accepted.accepted = true;
        const domain::Auction auction{stored.value()->terms, stored.value()->state};
        recovered.push_back(
            {envelope.command_id, "create", accepted, json::serialize(wire::public_view(auction))});
      }
    }
  }
  parsed = std::move(kept);
  if (listener_ && !recovered.empty()) listener_(recovered);
}

domain::Timestamp EngineHost::safe_until() {
  domain::Timestamp until = clock_.now();
  auto watermark = ports::call_blocking<domain::Timestamp>(
      [&](auto done) { queue_.watermark(std::move(done)); });
  // Without a watermark nothing may close: an in-time bid could still be on its way.
  if (!watermark) return domain::Timestamp{};
  until = std::min(until, watermark.value());
  if (!unfinished_.empty()) {
    for (const auto& [id, event_time] : unfinished_) until = std::min(until, event_time);
  }
  return until;
}

std::vector<AuctionId> EngineHost::touched_auctions(const Parsed& parsed,
                                                    const engine::BatchResult& result) const {
  std::set<AuctionId> touched;
  for (const auto& envelope : parsed.envelopes) {
    const AuctionId& id = domain::target_of(envelope.command);
    if (engine_.find(id) != nullptr) touched.insert(id);
  }
  for (const auto& event : result.events) touched.insert(event.auction_id);
  return {touched.begin(), touched.end()};
}

ports::CommitBatch EngineHost::build_commit(
    const Parsed& parsed, const engine::BatchResult& result, const std::vector<AuctionId>& touched,
    const std::vector<ports::OutgoingMessage>& audit) const {
  ports::CommitBatch batch;
  for (const AuctionId& id : touched) {
    const domain::Auction* auction = engine_.find(id);
    if (auction == nullptr) continue;
    // Not stored yet (a creation): expected_seq 0, the auction must not exist.
    const auto stored = stored_.find(id);
    const StoredVersion expected = stored == stored_.end() ? StoredVersion{} : stored->second;
    batch.auctions.push_back({auction->terms(), auction->state(), expected.seq, expected.events,
                              expected.kept_in(auction->state())});
  }
  for (std::size_t i = 0; i < parsed.envelopes.size(); ++i) {
    const auto* bid = std::get_if<domain::PlaceBid>(&parsed.envelopes[i].command);
    if (bid == nullptr) continue;
    const domain::Decision& decision = result.decisions[i];
    batch.bids.push_back(ports::StoredBid{bid->bid.id, bid->auction_id, bid->bid.bidder_id,
                                          bid->bid.amount, bid->bid.max_amount,
                                          bid->bid.received_at, decision, decision.event_number,
                                          parsed.envelopes[i].idempotency_key});
  }
  batch.events = result.events;
  batch.audit = audit;
  return batch;
}

bool EngineHost::load_missing(const Parsed& parsed) {
  // Another engine may have created the auction (several engines share one store): the store
  // is asked before a command for an auction this engine has not seen is judged. Stale copies
  // need no such care: their commit fails its condition (seq and event count) and roll_back
  // reloads them.
  std::set<AuctionId> missing;
  for (const auto& envelope : parsed.envelopes) {
    if (std::holds_alternative<domain::CreateAuction>(envelope.command)) continue;
    const AuctionId& id = domain::target_of(envelope.command);
    if (engine_.find(id) == nullptr) missing.insert(id);
  }
  for (const AuctionId& id : missing) {
    auto stored = ports::call_blocking<std::optional<ports::StoredAuction>>(
        [&](auto done) { store_.get_auction(id, std::move(done)); });
    // A store that does not answer is not a store without the auction: judging now would
    // commit a wrong auction_not_found.
    if (!stored) return false;
    if (!stored.value()) continue;  // unknown: the engine rejects it
    stored_[id] = StoredVersion::of(stored.value()->state);
    engine_.restore(
        domain::Auction{std::move(stored.value()->terms), std::move(stored.value()->state)});
  }
  auction_count_ = engine_.size();
  return true;
}

void EngineHost::roll_back(const std::vector<AuctionId>& touched) {
  // The store is the truth: forget what this batch did and reload what the store holds.
  for (const AuctionId& id : touched) {
    auto stored = ports::call_blocking<std::optional<ports::StoredAuction>>(
        [&](auto done) { store_.get_auction(id, std::move(done)); });
    if (stored && stored.value()) {
      stored_[id] = StoredVersion::of(stored.value()->state);
      engine_.restore(domain::Auction{stored.value()->terms, stored.value()->state});
    } else {
      stored_.erase(id);
      engine_.erase(id);
    }
  }
  auction_count_ = engine_.size();
}

void EngineHost::after_commit(const Parsed& parsed, const engine::BatchResult& result,
                              const std::vector<AuctionId>& touched,
                              const std::vector<std::size_t>& cause,
                              std::vector<ports::OutgoingMessage> audit) {
  std::vector<ports::CachedAuction> views;
  std::unordered_map<AuctionId, std::string> view_of;
  for (const AuctionId& id : touched) {
    const domain::Auction* auction = engine_.find(id);
    if (auction == nullptr) continue;
    stored_[id] = StoredVersion::of(auction->state());
    std::string view = json::serialize(wire::public_view(*auction));
    view_of[id] = view;
    views.push_back({id, auction->seq(), std::move(view)});
  }
  if (!views.empty()) {
    ports::call_blocking<void>([&](auto done) { cache_.put(std::move(views), std::move(done)); });
  }

  if (!result.events.empty()) {
    std::vector<ports::OutgoingMessage> messages;
    std::vector<std::string> ids;
    messages.reserve(result.events.size());
    for (std::size_t i = 0; i < result.events.size(); ++i) {
      const domain::Event& event = result.events[i];
      json::object body = wire::event_json(event);
      if (i < cause.size() && !parsed.envelopes[cause[i]].request_id.empty())
        body["requestId"] = parsed.envelopes[cause[i]].request_id;
      ids.push_back(domain::event_id(event));
      messages.push_back({event.auction_id.str(), ids.back(), event.at, json::serialize(body)});
    }
    auto published = ports::call_blocking<void>(
        [&](auto done) { topic_.publish(std::move(messages), std::move(done)); });
    if (published) {
      stats_.events_published += ids.size();
      store_.mark_published(std::move(ids), [this](const ports::Result<void>& marked) {
        if (!marked) outbox_dirty_ = true;
      });
    } else {
      outbox_dirty_ = true;  // the outbox keeps them; the next batch publishes them again
    }
  }

  publish_audit(std::move(audit));

  if (!parsed.receipts.empty()) {
    // A failed ack means redelivery; parse() recognises redelivered bids that are already
    // decided, so they are never judged twice.
    ports::call_blocking<void>([&](auto done) { queue_.ack(parsed.receipts, std::move(done)); });
  }

  if (log_enabled(LogLevel::debug)) {
    for (std::size_t i = 0; i < parsed.envelopes.size(); ++i) {
      const auto& envelope = parsed.envelopes[i];
      const domain::Decision& decision = result.decisions[i];
      log(LogLevel::debug, "engine", "decided",
          {{"requestId", envelope.request_id},
           {"commandId", envelope.command_id},
           {"op", domain::op_name(envelope.command)},
           {"auctionId", domain::target_of(envelope.command).view()},
           {"accepted", decision.accepted},
           {"reason", domain::to_string(decision.reason)}});
    }
  }

  std::vector<DecidedCommand> decided;
  decided.reserve(parsed.envelopes.size());
  for (std::size_t i = 0; i < parsed.envelopes.size(); ++i) {
    const auto& envelope = parsed.envelopes[i];
    const AuctionId& id = domain::target_of(envelope.command);
    const auto view = view_of.find(id);
    decided.push_back({envelope.command_id, std::string(domain::op_name(envelope.command)),
                       result.decisions[i], view == view_of.end() ? std::string{} : view->second});
  }
  if (listener_ && !decided.empty()) listener_(decided);
}

void EngineHost::publish_audit(std::vector<ports::OutgoingMessage> records) {
  if (audit_topic_ == nullptr || records.empty()) return;
  // Older records wait in the audit outbox: they, then these (committed there too), in order.
  if (audit_dirty_.load()) {
    publish_pending_audit();
    return;
  }
  send_audit(std::move(records), /*wait_for_mark=*/false);  // the batch does not wait on it
}

void EngineHost::publish_pending_audit() {
  for (;;) {
    auto pending = ports::call_blocking<std::vector<ports::OutgoingMessage>>(
        [&](auto done) { store_.pending_audit(kOutboxPage, std::move(done)); });
    if (!pending) return;  // still dirty: tried again before the next batch
    if (pending.value().empty()) {
      audit_dirty_ = false;
      return;
    }
    const bool last_page = pending.value().size() < kOutboxPage;
    if (!send_audit(std::move(pending.value()), /*wait_for_mark=*/true)) return;
    // With a memory topic the auditor forgets them once appended; until then they stay first in
    // the outbox, so a further page can only be read after that: a full page leaves the outbox
    // dirty, and the next batch publishes again (the topic drops the ids it already has).
    if (!audit_topic_durable_ || last_page) {
      audit_dirty_ = !last_page;
      return;
    }
  }
}

bool EngineHost::send_audit(std::vector<ports::OutgoingMessage> records, bool wait_for_mark) {
  const std::size_t count = records.size();
  std::vector<std::string> keys;  // what the outbox forgets once the durable topic has them
  if (audit_topic_durable_) {
    keys.reserve(count);
    for (const auto& record : records) keys.push_back(record.dedup_id);
  }
  auto published = ports::call_blocking<void>(
      [&](auto done) { audit_topic_->publish(std::move(records), std::move(done)); });
  if (!published) {
    ++stats_.audit_publish_failures;
    audit_dirty_ = true;  // the outbox keeps them; sent before the next batch's
    return false;
  }
  stats_.audit_records_published += count;
  if (!audit_topic_durable_) return true;  // the auditor marks them once appended
  if (!wait_for_mark) {
    store_.mark_audit_published(std::move(keys), [this](const ports::Result<void>& marked) {
      if (!marked) audit_dirty_ = true;
    });
    return true;
  }
  const auto marked = ports::call_blocking<void>(
      [&](auto done) { store_.mark_audit_published(std::move(keys), std::move(done)); });
  if (!marked) audit_dirty_ = true;
  return marked.ok();
}

void EngineHost::rescan_open_auctions() {
  AuctionId after;
  for (;;) {
    auto page = ports::call_blocking<std::vector<ports::StoredAuction>>([&](auto done) {
      store_.list_auctions(
          ports::AuctionListQuery{domain::AuctionStatus::open, after, kRecoveryPage},
          std::move(done));
    });
    if (!page) return;  // tried again at the next rescan
    std::vector<ports::CachedAuction> views;
    views.reserve(page.value().size());
    for (auto& stored : page.value()) {
      after = stored.terms.id;
      domain::Auction auction{std::move(stored.terms), std::move(stored.state)};
      views.push_back(
          {auction.terms().id, auction.seq(), json::serialize(wire::public_view(auction))});
      if (engine_.find(views.back().id) != nullptr) continue;  // known (stale copies conflict)
      stored_[views.back().id] = StoredVersion::of(auction.state());
      engine_.restore(std::move(auction));
    }
    // The cache converges to the store: an entry that was wiped (FLUSHALL, a Redis restarted
    // without its data) or missed a put (Redis down after a commit) is put back from the
    // store's view. put never replaces a higher seq, so a view older than the cache's is a
    // no-op, and an unchanged one writes nothing. Failures wait for the next rescan.
    if (!views.empty()) {
      ports::call_blocking<void>([&](auto done) { cache_.put(std::move(views), std::move(done)); });
    }
    if (page.value().size() < kRecoveryPage) break;
  }
  auction_count_ = engine_.size();
}

std::size_t EngineHost::run_once() {
  if (outbox_dirty_) publish_pending_outbox();
  // Audit records the topic refused (Redis restarting) go out once it answers again, not only
  // when a later batch commits: an engine left idle would hold them back from the auditor.
  if (audit_topic_ != nullptr && audit_dirty_.load()) publish_pending_audit();
  if (options_.rescan_every.count() > 0 && clock_.now() >= next_rescan_) {
    rescan_open_auctions();
    next_rescan_ = clock_.now() + options_.rescan_every;
  }
  auto received = ports::call_blocking<std::vector<ports::Delivery>>([&](auto done) {
    queue_.receive(
        ports::ReceiveOptions{options_.batch_size, options_.receive_wait, options_.visibility},
        std::move(done));
  });
  if (!received) {
    ++stats_.failed_batches;
    std::this_thread::sleep_for(options_.retry_backoff);
    return 0;
  }
  Parsed parsed = parse(received.value());
  if (!parsed.duplicates.empty()) {
    ports::call_blocking<void>([&](auto done) { queue_.ack(parsed.duplicates, std::move(done)); });
  }
  if (!parsed.unparseable.empty()) {
    stats_.dead_lettered += parsed.unparseable.size();
    ports::call_blocking<void>([&](auto done) {
      queue_.dead_letter(parsed.unparseable, "not a command (unparseable body)", std::move(done));
    });
  }

  if (!load_missing(parsed)) {
    ++stats_.failed_batches;
    log(LogLevel::warn, "engine", "the store did not answer; the batch comes again",
        {{"commands", parsed.envelopes.size()}});
    if (!parsed.receipts.empty()) {
      ports::call_blocking<void>(
          [&](auto done) { queue_.nack(parsed.receipts, "store unreachable", std::move(done)); });
    }
    std::this_thread::sleep_for(options_.retry_backoff);
    return 0;
  }

  engine::BatchResult result;
  std::vector<std::size_t> cause;
  std::vector<AuctionId> touched;
  std::vector<ports::OutgoingMessage> audit;
  ports::Result<void> committed;
  // Another engine sharing the store may have moved an auction on since this engine loaded
  // it (an accepted bid moves the seq, a rejection only the event count): the commit then
  // fails its condition. The stale copies are reloaded and the same batch judged again at
  // once, a few times, before it goes back to the queue (a nack counts a delivery, and enough
  // of them would dead-letter a bid that did nothing wrong).
  for (int attempt = 0;; ++attempt) {
    result.clear();
    cause.clear();
    // Decided one by one (Engine::process does the same) so that each event knows the command
    // that caused it: its request id goes out with the event, for the logs downstream.
    result.decisions.reserve(parsed.envelopes.size());
    for (std::size_t i = 0; i < parsed.envelopes.size(); ++i) {
      result.decisions.push_back(engine_.apply(parsed.envelopes[i].command, result.events));
      cause.resize(result.events.size(), i);
    }
    // This batch's messages are decided now (if its commit fails, closings roll back with it).
    for (const auto& delivery : received.value()) unfinished_.erase(delivery.message_id);
    // Each engine opens and closes the auctions whose queue partition it holds (all of them
    // without partitions); the store's fence settles a close raced by a lease that moved.
    // The watermark (a round trip to the queue) is asked only when a deadline has come.
    if (engine_.deadline_due(clock_.now())) {
      engine_.advance(safe_until(), result.events,
                      [this](const AuctionId& id) { return queue_.receives(id.str()); });
    }
    if (parsed.envelopes.empty() && result.events.empty()) return 0;

    touched = touched_auctions(parsed, result);
    audit = audit_topic_ == nullptr
                ? std::vector<ports::OutgoingMessage>{}
                : wire::audit_messages(parsed.envelopes, result.decisions, result.events);
    const auto started = std::chrono::steady_clock::now();
    committed = ports::call_blocking<void>([&](auto done) {
      store_.commit(build_commit(parsed, result, touched, audit), std::move(done));
    });
    const auto commit_micros = std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::steady_clock::now() - started)
                                   .count();
    stats_.commit_micros_total += static_cast<std::uint64_t>(commit_micros);
    stats_.commit_seconds.observe(static_cast<double>(commit_micros) / 1e6);
    // The store is out of reach: the same commit is tried again, backing off, for up to half
    // the visibility timeout (the messages stay in flight meanwhile). Nacking at once would
    // spend a delivery each time and dead-letter bids after a short outage.
    auto backoff = std::chrono::duration_cast<domain::Duration>(std::chrono::milliseconds(50));
    const auto give_up = std::chrono::steady_clock::now() + options_.commit_retry_for;
    while (!committed && committed.error().kind == ports::ErrorKind::retryable &&
           !stopping_.load() && std::chrono::steady_clock::now() + backoff < give_up) {
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2,
                         std::chrono::duration_cast<domain::Duration>(std::chrono::seconds(2)));
      ++stats_.commit_retries;
      committed = ports::call_blocking<void>([&](auto done) {
        store_.commit(build_commit(parsed, result, touched, audit), std::move(done));
      });
    }
    if (committed || committed.error().kind != ports::ErrorKind::conflict ||
        attempt == kConflictRetries) {
      break;
    }
    ++stats_.conflicts;
    log(LogLevel::debug, "engine", "another engine moved an auction on; judging the batch again",
        {{"error", committed.error().message}});
    roll_back(touched);
    // A conflict after a retried commit may be that commit itself having landed (its answer
    // lost): what the store already holds is not judged again.
    drop_already_decided(parsed);
    if (!parsed.duplicates.empty()) {
      ports::call_blocking<void>(
          [&](auto done) { queue_.ack(parsed.duplicates, std::move(done)); });
      parsed.duplicates.clear();
    }
  }
  if (!committed) {
    ++stats_.failed_batches;
    log(LogLevel::warn, "engine", "batch commit failed; the batch comes again",
        {{"error", committed.error().message}, {"commands", parsed.envelopes.size()}});
    roll_back(touched);
    // A store still out of reach after the retries: the messages are left in flight and come
    // back when their visibility runs out, so an outage spends one delivery per visibility
    // timeout, not one per attempt. Anything else is sent back at once.
    if (!parsed.receipts.empty() && committed.error().kind != ports::ErrorKind::retryable) {
      ports::call_blocking<void>([&](auto done) {
        queue_.nack(parsed.receipts, "store commit failed: " + committed.error().message,
                    std::move(done));
      });
    }
    // They come again and hold closing auctions open until decided, except those at their
    // last delivery: the queue dead-letters them now and an operator decides what they become.
    for (const auto& delivery : received.value()) {
      if (delivery.delivery_count < options_.max_deliveries) {
        unfinished_.emplace(delivery.message_id, delivery.event_time);
      }
    }
    std::this_thread::sleep_for(options_.retry_backoff);
    return 0;
  }
  ++stats_.batches;
  stats_.commands += parsed.envelopes.size();
  stats_.batch_commands.observe(parsed.envelopes.size());
  for (const auto& decision : result.decisions) {
    ++(decision.accepted ? stats_.accepted : stats_.rejected);
    if (!decision.accepted) ++stats_.rejected_by_reason[static_cast<std::size_t>(decision.reason)];
  }
  auction_count_ = engine_.size();
  after_commit(parsed, result, touched, cause, std::move(audit));
  return parsed.envelopes.size();
}

}  // namespace gavel::roles
