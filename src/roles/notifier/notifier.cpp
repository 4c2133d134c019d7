#include "roles/notifier/notifier.hpp"

#include <boost/json.hpp>
#include <ostream>
#include <set>
#include <stdexcept>

#include "ports/blocking.hpp"
#include "ports/thread_name.hpp"
#include "ports/wire/auction_json.hpp"
#include "roles/log.hpp"
#include "roles/metrics_text.hpp"

namespace gavel::roles::notifier {

namespace json = boost::json;
using domain::EventType;

namespace {
constexpr std::size_t kRecoveryPage = 1000;
// Pending deliveries resumed at start; more stay in the store until the next start.
constexpr std::size_t kMaxResumed = 100'000;
constexpr auto kStoreTimeout = std::chrono::seconds(30);

std::optional<domain::Event> parse_event(const std::string& body) {
  boost::system::error_code error;
  const json::value value = json::parse(body, error);
  if (error || !value.is_object()) return std::nullopt;
  return wire::event_from_json(value.get_object());
}

// Where `channel` reaches `preferences`' user: their address, or nothing when they did not
// choose it. Channels other than the three with addresses reach everyone (an in-app push).
std::optional<ports::Notice> addressed(ports::Notice notice, std::string_view channel,
                                       const ports::Preferences& preferences) {
  if (channel == "webhook") {
    if (!preferences.webhook || preferences.webhook_url.empty()) return std::nullopt;
    notice.address = preferences.webhook_url;
    notice.secret = preferences.webhook_secret;
  } else if (channel == "email") {
    if (!preferences.email || preferences.email_address.empty()) return std::nullopt;
    notice.address = preferences.email_address;
  } else if (channel == "sms") {
    if (!preferences.sms || preferences.phone.empty()) return std::nullopt;
    notice.address = preferences.phone;
  }
  return notice;
}
}  // namespace

// What one round decided, recorded together.
struct Notifier::Pending {
  std::vector<ports::InboxNotice> notices;
  std::set<domain::AuctionId> touched;
  std::vector<std::string> receipts;
  bool empty() const { return notices.empty() && touched.empty() && receipts.empty(); }
};

Notifier::Notifier(ports::Subscription& subscription, ports::NoticeStore& store,
                   const std::vector<ports::NotificationChannel*>& channels, ports::Clock& clock,
                   NotifierOptions options)
    : subscription_(subscription), store_(store), clock_(clock), options_(std::move(options)) {
  std::uint64_t seed = options_.seed;
  for (auto* channel : channels) {
    if (!channel->tracked()) {
      direct_.push_back(std::make_unique<DirectChannel>(*channel));
      continue;
    }
    workers_.push_back(
        std::make_unique<DeliveryWorker>(*channel, store_, clock_, options_.retry, seed++));
  }
}

Notifier::~Notifier() {
  stop();
}

void Notifier::recover() {
  watches_.clear();
  domain::AuctionId after;
  for (;;) {
    auto page = ports::call_blocking<std::vector<ports::AuctionWatch>>(
        [&](auto done) { store_.list_open_watches(after, kRecoveryPage, std::move(done)); },
        kStoreTimeout);
    if (!page) {
      throw std::runtime_error("cannot load the notifier's auctions: " + page.error().message);
    }
    for (auto& watch : page.value()) {
      after = watch.auction_id;
      Watch& cached = watches_[watch.auction_id];
      cached.recorded_participants = watch.participants.size();
      cached.stored = std::move(watch);
    }
    if (page.value().size() < kRecoveryPage) break;
  }
  auto pending = ports::call_blocking<std::vector<ports::DeliveryRecord>>(
      [&](auto done) { store_.pending_deliveries(kMaxResumed, std::move(done)); }, kStoreTimeout);
  if (!pending) {
    throw std::runtime_error("cannot load the pending notifications: " + pending.error().message);
  }
  for (auto& record : pending.value()) {
    for (auto& worker : workers_) {
      if (worker->channel() == record.channel) worker->enqueue(record);
    }
  }
}

void Notifier::start() {
  if (started_) return;
  recover();
  started_ = true;
  running_ = true;
  for (auto& worker : workers_) worker->start();
  thread_ = std::thread([this] {
    ports::name_this_thread("notifier");
    while (running_.load()) {
      const auto failures = stats_.failed_batches.load();
      run_once();
      if (stats_.failed_batches.load() != failures)
        std::this_thread::sleep_for(options_.failure_pause);
    }
  });
}

void Notifier::stop() {
  running_ = false;
  if (thread_.joinable()) thread_.join();
  for (auto& worker : workers_) worker->stop();
}

std::size_t Notifier::run_once() {
  Pending pending;
  const std::size_t events = consume(pending);
  add_ending_soon(pending);
  if (!pending.empty()) commit(pending);
  if (!started_) {
    for (auto& worker : workers_) worker->run_due();
  }
  return events;
}

void Notifier::log_notices(const std::string& event_body, const Pending& pending,
                           std::size_t from) const {
  // The request that caused the event, when the engine knew it: one id follows a bid from the
  // gateway through the engine to each notice.
  boost::system::error_code error;
  const json::value value = json::parse(event_body, error);
  const json::value* request_id =
      value.is_object() ? value.get_object().if_contains("requestId") : nullptr;
  for (std::size_t i = from; i < pending.notices.size(); ++i) {
    const ports::Notice& notice = pending.notices[i].notice;
    log(LogLevel::debug, "notifier", "notice",
        {{"requestId", request_id != nullptr ? *request_id : json::value(nullptr)},
         {"noticeId", notice.id},
         {"userId", notice.user_id.view()},
         {"kind", notice.kind}});
  }
}

std::size_t Notifier::consume(Pending& pending) {
  const auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(options_.receive_wait);
  auto received = ports::call_blocking<std::vector<ports::Delivery>>(
      [&](auto done) {
        subscription_.receive(options_.batch_size, options_.receive_wait, options_.visibility,
                              std::move(done));
      },
      wait_ms + std::chrono::seconds(10));
  if (!received) {
    stats_.failed_batches.fetch_add(1);
    return 0;
  }
  for (const auto& delivery : received.value()) {
    pending.receipts.push_back(delivery.receipt);
    const auto event = parse_event(delivery.body);
    if (!event) {
      stats_.skipped.fetch_add(1);  // acknowledged with the batch: it never will parse
      continue;
    }
    stats_.events.fetch_add(1);
    const std::size_t before = pending.notices.size();
    apply(*event, pending);
    if (log_enabled(LogLevel::debug)) log_notices(delivery.body, pending, before);
  }
  return received.value().size();
}

Notifier::Watch& Notifier::watch_for(const domain::AuctionId& auction_id) {
  auto it = watches_.find(auction_id);
  if (it != watches_.end()) return it->second;
  Watch watch;
  watch.stored.auction_id = auction_id;
  // Not cached: a finished auction (dropped from the cache) or one not seen yet. A store that
  // does not answer leaves it empty; the batch's record() then fails too and is redelivered.
  auto stored = ports::call_blocking<std::optional<ports::AuctionWatch>>(
      [&](auto done) { store_.get_watch(auction_id, std::move(done)); }, kStoreTimeout);
  if (!stored) lookup_failed_ = true;
  if (stored && stored.value()) watch.stored = std::move(*stored.value());
  watch.recorded_participants = watch.stored.participants.size();
  return watches_.emplace(auction_id, std::move(watch)).first->second;
}

const AuctionFacts& Notifier::facts_for(const domain::AuctionId& auction_id, Watch& watch) {
  static const AuctionFacts unknown;
  if (!watch.facts && options_.facts) watch.facts = options_.facts(auction_id);
  return watch.facts ? *watch.facts : unknown;
}

void Notifier::apply(const domain::Event& event, Pending& pending) {
  Watch& watch = watch_for(event.auction_id);
  const auto who = recipients(event, watch.stored);
  auto& stored = watch.stored;
  if (event.ends_at != domain::Timestamp{}) stored.ends_at = event.ends_at;
  watch.price = event.price;
  switch (event.type) {
    case EventType::auction_created:
      stored.seller_id = event.user_id;
      break;
    case EventType::bid_accepted:
      ports::merge_watch(
          stored, ports::AuctionWatch{event.auction_id, {}, {}, false, false, {event.user_id}});
      break;
    case EventType::auction_closed:
    case EventType::auction_cancelled:
      stored.finished = true;
      break;
    default:
      break;
  }
  pending.touched.insert(event.auction_id);
  add_notices(event, who, event.at, watch, pending);
}

void Notifier::add_ending_soon(Pending& pending) {
  const auto now = clock_.now();
  for (auto& [auction_id, watch] : watches_) {
    auto& stored = watch.stored;
    if (stored.finished || stored.ending_soon_sent || stored.ends_at == domain::Timestamp{}) {
      continue;
    }
    if (now < stored.ends_at - options_.ending_soon_lead) continue;
    // Nobody to warn yet (an auction created inside the window): wait for a first bidder
    // rather than spend the warning on no one.
    if (stored.participants.empty() && now < stored.ends_at) continue;
    stored.ending_soon_sent = true;
    pending.touched.insert(auction_id);
    // Too late to warn anyone: the close is on its way.
    if (now >= stored.ends_at) continue;
    domain::Event soon;
    soon.auction_id = auction_id;
    soon.price = watch.price;
    soon.ends_at = stored.ends_at;
    std::vector<Recipient> who;
    for (const auto& user : stored.participants) who.push_back({user, kind::kEndingSoon});
    add_notices(soon, who, now, watch, pending);
  }
}

void Notifier::add_notices(const domain::Event& event, const std::vector<Recipient>& who,
                           domain::Timestamp at, Watch& watch, Pending& pending) {
  if (who.empty()) return;
  const AuctionFacts& facts = facts_for(event.auction_id, watch);
  for (const auto& recipient : who) {
    pending.notices.push_back({compose(event, recipient, facts), at, false});
  }
}

bool Notifier::commit(Pending& pending) {
  const auto fail = [this] {
    // The cache may hold what was not recorded: forget it, the store is the truth.
    watches_.clear();
    lookup_failed_ = false;
    stats_.failed_batches.fetch_add(1);
    return false;
  };
  // An auction the store could not tell about was judged without its bidders: do not record
  // that; the events come again.
  if (lookup_failed_) return fail();
  std::vector<domain::UserId> users;
  for (const auto& entry : pending.notices) users.push_back(entry.notice.user_id);
  std::vector<ports::Preferences> preferences;
  if (!users.empty() && !workers_.empty()) {
    auto answer = ports::call_blocking<std::vector<ports::Preferences>>(
        [&](auto done) { store_.get_preferences(users, std::move(done)); }, kStoreTimeout);
    if (!answer || answer.value().size() != users.size()) return fail();
    preferences = std::move(answer.value());
  }

  ports::NoticeBatch batch;
  for (const auto& auction_id : pending.touched) {
    const ports::AuctionWatch& stored = watches_.at(auction_id).stored;
    const std::size_t recorded =
        std::min(watches_.at(auction_id).recorded_participants, stored.participants.size());
    batch.watches.push_back(
        ports::AuctionWatch{stored.auction_id,
                            stored.seller_id,
                            stored.ends_at,
                            stored.ending_soon_sent,
                            stored.finished,
                            {stored.participants.begin() + static_cast<std::ptrdiff_t>(recorded),
                             stored.participants.end()}});
  }
  for (std::size_t i = 0; i < preferences.size(); ++i) {
    for (const auto& worker : workers_) {
      auto notice = addressed(pending.notices[i].notice, worker->channel(), preferences[i]);
      if (!notice) continue;
      ports::DeliveryRecord record;
      record.notice = std::move(*notice);
      record.channel = worker->channel();
      batch.deliveries.push_back(std::move(record));
    }
  }
  std::vector<ports::InboxNotice> direct;
  if (!direct_.empty()) direct = pending.notices;
  batch.inbox = std::move(pending.notices);
  const std::size_t notices = batch.inbox.size();
  auto recorded = ports::call_blocking<std::vector<ports::DeliveryRecord>>(
      [&](auto done) { store_.record(std::move(batch), std::move(done)); }, kStoreTimeout);
  if (!recorded) return fail();
  stats_.notices.fetch_add(notices);

  if (!pending.receipts.empty()) {
    // A failed ack only means a redelivery, which the notice ids make harmless.
    (void)ports::call_blocking<void>(
        [&](auto done) { subscription_.ack(std::move(pending.receipts), std::move(done)); },
        kStoreTimeout);
  }
  for (auto& record : recorded.value()) {
    for (auto& worker : workers_) {
      if (worker->channel() == record.channel) worker->enqueue(record);
    }
  }
  send_direct(direct);
  for (const auto& auction_id : pending.touched) {
    Watch& watch = watches_.at(auction_id);
    watch.recorded_participants = watch.stored.participants.size();
    if (watch.stored.finished) watches_.erase(auction_id);
  }
  return true;
}

void Notifier::send_direct(const std::vector<ports::InboxNotice>& notices) {
  // A redelivered event brings its notices again; the push topic drops an id it has seen (a
  // notice's id is its message's dedup id), so a user is pushed a notice once.
  for (auto& direct : direct_) {
    for (const auto& entry : notices) {
      direct->channel.send(entry.notice,
                           [counts = &direct->counts](const ports::Result<void>& sent) {
                             ++(sent ? counts->sent : counts->failed);
                           });
    }
  }
}

const ChannelCounts* Notifier::channel_counts(std::string_view channel) const {
  for (const auto& worker : workers_) {
    if (worker->channel() == channel) return &worker->counts();
  }
  for (const auto& direct : direct_) {
    if (direct->channel.name() == channel) return &direct->counts;
  }
  return nullptr;
}

void Notifier::append_metrics(std::ostream& out) const {
  append_metric(out, "counter", "gavel_notifier_events_total",
                "Auction events the notifier consumed (redeliveries included).",
                stats_.events.load());
  append_metric(out, "counter", "gavel_notifier_notices_total",
                "Notices written to inboxes (redeliveries included; the inbox keeps one).",
                stats_.notices.load());
  append_metric(out, "counter", "gavel_notifier_failed_batches_total",
                "Rounds whose events could not be recorded (they are redelivered).",
                stats_.failed_batches.load());
  std::vector<std::pair<std::string_view, const ChannelCounts*>> channels;
  for (const auto& worker : workers_) channels.emplace_back(worker->channel(), &worker->counts());
  for (const auto& direct : direct_) channels.emplace_back(direct->channel.name(), &direct->counts);
  const auto labels = [](std::string_view channel, std::string_view result) {
    return "{channel=\"" + std::string(channel) + "\",result=\"" + std::string(result) + "\"}";
  };
  bool first = true;
  for (const auto& [channel, counts] : channels) {
    if (first) {
      append_metric(out, "counter", "gavel_notifier_deliveries_total",
                    "Channel delivery attempts by result (failed ones are retried until dead, "
                    "except on the untracked push channel).",
                    counts->sent.load(), labels(channel, "sent"));
      first = false;
    } else {
      append_sample(out, "gavel_notifier_deliveries_total", labels(channel, "sent"),
                    counts->sent.load());
    }
    append_sample(out, "gavel_notifier_deliveries_total", labels(channel, "failed"),
                  counts->failed.load());
    append_sample(out, "gavel_notifier_deliveries_total", labels(channel, "dead"),
                  counts->dead.load());
  }
}

}  // namespace gavel::roles::notifier
