#include "roles/gateway/topic_pumps.hpp"

#include <algorithm>
#include <memory>

#include "ports/blocking.hpp"
#include "ports/thread_name.hpp"
#include "ports/wire/audit_json.hpp"
#include "roles/log.hpp"
#include "roles/notifier/notifier_api.hpp"

namespace gavel::gateway {

namespace {
constexpr std::size_t kBatch = 512;
constexpr auto kReceiveWait = std::chrono::milliseconds(200);
constexpr auto kVisibility = std::chrono::seconds(30);
constexpr std::size_t kRememberedEvents = 100'000;
constexpr std::size_t kRememberedAuctions = 100'000;
constexpr auto kFailurePause = std::chrono::milliseconds(200);
}  // namespace

TopicPump::TopicPump(ports::SubscriptionPtr subscription, Handler handle, Recovered recovered)
    : subscription_(std::move(subscription)),
      handle_(std::move(handle)),
      recovered_(std::move(recovered)) {}

TopicPump::~TopicPump() {
  stop();
}

void TopicPump::start() {
  running_ = true;
  thread_ = std::thread([this] {
    ports::name_this_thread("topic-pump");
    while (running_.load()) run_once(kReceiveWait);
  });
}

void TopicPump::stop() {
  running_ = false;
  if (thread_.joinable()) thread_.join();
}

std::size_t TopicPump::run_once(domain::Duration wait) {
  auto received = ports::call_blocking<std::vector<ports::Delivery>>(
      [&](auto done) { subscription_->receive(kBatch, wait, kVisibility, std::move(done)); });
  if (!received) {
    // The topic is out of reach (its server restarting): wait a little rather than spin.
    if (!interrupted_) {
      roles::log(roles::LogLevel::warn, "gateway", "topic feed interrupted",
                 {{"error", received.error().message}});
    }
    interrupted_ = true;
    std::this_thread::sleep_for(kFailurePause);
    return 0;
  }
  if (interrupted_) {
    // Before this batch: whatever the catch-up sends, the events from here on follow it.
    interrupted_ = false;
    roles::log(roles::LogLevel::info, "gateway", "topic feed back", {});
    if (recovered_) recovered_();
  }
  if (received.value().empty()) return 0;
  handle_(received.value());
  std::vector<std::string> receipts;
  receipts.reserve(received.value().size());
  for (const auto& delivery : received.value()) receipts.push_back(delivery.receipt);
  // A lost ack means a redelivery, which both handlers tolerate (dedupe; a waiter is
  // completed once).
  ports::call_blocking<void>(
      [&](auto done) { subscription_->ack(std::move(receipts), std::move(done)); });
  return received.value().size();
}

bool RecentIds::first_time(const std::string& id) {
  if (!seen_.insert(id).second) return false;
  order_.push_back(id);
  if (order_.size() > capacity_) {
    seen_.erase(order_.front());
    order_.pop_front();
  }
  return true;
}

bool EventNumbers::gap_before(const std::string& event_id) {
  const auto parts = domain::parse_event_id(event_id);
  if (!parts) return false;
  auto [auction, number] = *parts;
  if (const auto found = last_.find(auction); found != last_.end()) {
    const bool gap = number > found->second + 1;
    found->second = std::max(found->second, number);
    return gap;
  }
  // The first event of an auction seen here sets where it stands: a socket's snapshot, not
  // this pump, covers what came before it. Forgetting everything at the bound costs at most
  // one missed gap per auction, and keeps memory bounded over many auctions.
  if (last_.size() >= capacity_) last_.clear();
  last_.emplace(std::move(auction), number);
  return false;
}

TopicPump::Handler fan_out_events(WsHub& hub) {
  auto seen = std::make_shared<RecentIds>(kRememberedEvents);
  auto numbers = std::make_shared<EventNumbers>(kRememberedAuctions);
  return [&hub, seen, numbers](const std::vector<ports::Delivery>& deliveries) {
    for (const auto& delivery : deliveries) {
      if (!seen->first_time(delivery.message_id)) continue;
      if (numbers->gap_before(delivery.message_id)) {
        // The snapshot is read when it is written, after the events queued before it, so it is
        // at least as new as they are; this event and later ones follow it.
        if (const auto parts = domain::parse_event_id(delivery.message_id);
            parts && domain::is_valid_id(parts->first)) {
          hub.resync(domain::AuctionId{parts->first});
        }
      }
      hub.publish(delivery.body);
    }
  };
}

TopicPump::Recovered resync_sockets(WsHub& hub) {
  return [&hub] { hub.resync(); };
}

TopicPump::Handler push_notices(WsHub& hub) {
  auto seen = std::make_shared<RecentIds>(kRememberedEvents);
  return [&hub, seen](const std::vector<ports::Delivery>& deliveries) {
    for (const auto& delivery : deliveries) {
      if (!seen->first_time(delivery.message_id)) continue;
      auto pushed = roles::notifier::parse_push_envelope(delivery.body);
      if (!pushed || !domain::is_valid_id(pushed->auction_id)) continue;
      hub.push(pushed->user_id, pushed->message, domain::AuctionId{pushed->auction_id});
    }
  };
}

TopicPump::Handler complete_waiters(DecisionWaiters& waiters, ports::Cache& cache) {
  return [&waiters, &cache](const std::vector<ports::Delivery>& deliveries) {
    std::vector<roles::DecidedCommand> decided;
    std::vector<domain::AuctionId> auctions;
    for (const auto& delivery : deliveries) {
      auto record = wire::parse_audit_record(delivery.body);
      auto* parsed = std::get_if<wire::AuditRecord>(&record);
      if (parsed == nullptr || parsed->kind != wire::AuditKind::command) continue;
      auto command = wire::parse_command_record(parsed->body);
      auto* recorded = std::get_if<wire::RecordedCommand>(&command);
      if (recorded == nullptr || recorded->envelope.command_id.empty()) continue;
      if (!waiters.queued(recorded->envelope.command_id)) continue;  // another gateway's
      decided.push_back({recorded->envelope.command_id,
                         std::string(domain::op_name(recorded->envelope.command)),
                         recorded->decision, ""});
      auctions.push_back(domain::target_of(recorded->envelope.command));
    }
    if (decided.empty()) return;
    // The view after the batch, as the engine put it in the cache before publishing.
    auto views = ports::call_blocking<std::vector<std::optional<ports::CachedAuction>>>(
        [&](auto done) { cache.get(auctions, std::move(done)); });
    if (views && views.value().size() == decided.size()) {
      for (std::size_t i = 0; i < decided.size(); ++i) {
        if (views.value()[i]) decided[i].auction_view = views.value()[i]->body;
      }
    }
    waiters.complete(decided);
  };
}

}  // namespace gavel::gateway
