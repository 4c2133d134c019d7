#include "app/serve.hpp"

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/json.hpp>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <thread>

#include "adapters/jwt/dev_authenticator.hpp"
#include "adapters/jwt/http_jwks_fetch.hpp"
#include "adapters/jwt/jwks_authenticator.hpp"
#include "adapters/memory/system_clock.hpp"
#include "adapters/notify/sms_channel.hpp"
#include "adapters/notify/smtp_channel.hpp"
#include "adapters/notify/webhook_channel.hpp"
#include "app/backends.hpp"
#include "app/config.hpp"
#include "app/fd_limit.hpp"
#include "ports/blocking.hpp"
#include "ports/thread_name.hpp"
#include "ports/wire/command_json.hpp"
#include "roles/auditor/auditor.hpp"
#include "roles/engine_host/engine_host.hpp"
#include "roles/gateway/gateway.hpp"
#include "roles/gateway/topic_pumps.hpp"
#include "roles/log.hpp"
#include "roles/metrics_text.hpp"
#include "roles/notifier/notifier.hpp"
#include "roles/notifier/topic_push_channel.hpp"

namespace gavel::app {

namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

constexpr auto kDevTokenTtl = std::chrono::hours(12);

std::string default_web_root() {
#ifdef GAVEL_SOURCE_WEB_ROOT
  if (fs::exists(fs::path(GAVEL_SOURCE_WEB_ROOT) / "index.html")) return GAVEL_SOURCE_WEB_ROOT;
#endif
  return "";
}

void log_line(const std::string& message) {
  roles::log(roles::LogLevel::info, "serve", message);
}

/// A gateway's housekeeping of the shared backends: every kEvery, the topic subscriptions of
/// gateways idle for longer than kGoneAfter are removed (Backends::prune_gone_gateways).
class Janitor {
 public:
  static constexpr auto kEvery = std::chrono::minutes(5);
  static constexpr auto kGoneAfter = std::chrono::hours(1);

  explicit Janitor(std::function<std::vector<std::string>(domain::Duration)> prune)
      : prune_(std::move(prune)) {
    thread_ = std::thread([this] {
      ports::name_this_thread("janitor");
      run();
    });
  }
  ~Janitor() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  Janitor(const Janitor&) = delete;
  Janitor& operator=(const Janitor&) = delete;

 private:
  void run() {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, kEvery, [this] { return stopping_; })) {
      lock.unlock();
      for (const auto& removed : prune_(kGoneAfter)) {
        roles::log(roles::LogLevel::info, "serve",
                   "removed the topic subscription of a gateway gone for an hour: " + removed);
      }
      lock.lock();
    }
  }

  std::function<std::vector<std::string>(domain::Duration)> prune_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

/// Demo auctions (some ending within minutes) and a bot that bids now and then, so a newcomer
/// sees prices move. Everything goes through the queue like any client's commands.
class Demo {
 public:
  Demo(ports::Queue& queue, ports::Clock& clock) : queue_(queue), clock_(clock) {}
  ~Demo() { stop(); }

  void seed() {
    const auto now = clock_.now();
    const std::string suffix = std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count() %
        1'000'000);
    struct Lot {
      const char* id;
      const char* title;
      const char* currency;
      std::int64_t start;
      std::int64_t seconds;
      std::int64_t starts_in;
      std::optional<std::int64_t> reserve;
      std::optional<std::int64_t> buy_now;
    };
    const Lot lots[] = {
        {"demo-watch", "Vintage mechanical watch", "EUR", 5000, 180, 0, 20000, std::nullopt},
        {"demo-novel", "First-edition novel", "EUR", 2000, 420, 0, std::nullopt, 15000},
        {"demo-poster", "Signed concert poster", "USD", 1000, 900, 0, std::nullopt, std::nullopt},
        {"demo-print", "Limited art print (opens in a minute)", "EUR", 3000, 600, 60, std::nullopt,
         std::nullopt},
    };
    for (const auto& lot : lots) {
      domain::AuctionTerms terms;
      // A fresh set each start: a data dir kept from an earlier demo has its lots closed by now.
      const std::string id = std::string(lot.id) + "-" + suffix;
      terms.id = domain::AuctionId{id};
      terms.seller_id = domain::UserId{"demo-seller"};
      terms.title = lot.title;
      terms.currency = *domain::Currency::parse(lot.currency);
      terms.starting_price = domain::Amount{lot.start};
      terms.starts_at = now + domain::seconds(lot.starts_in);
      terms.ends_at = terms.starts_at + domain::seconds(lot.seconds);
      if (lot.reserve) terms.reserve_price = domain::Amount{*lot.reserve};
      if (lot.buy_now) terms.buy_now_price = domain::Amount{*lot.buy_now};
      terms.soft_close = domain::seconds(30);
      terms.extension = domain::seconds(30);
      terms.max_ends_at = terms.ends_at + domain::seconds(300);
      send(wire::CommandEnvelope{domain::CreateAuction{terms, now}, id, "", "demo", "demo"}, id);
      ids_.push_back(id);
    }
  }

  /// Bids every few seconds as demo-ann or demo-ben on a random demo auction, raising by a
  /// step over the price it last saw (rejections are fine: they are part of the show).
  void start_bot(ports::Cache& cache) {
    running_ = true;
    thread_ = std::thread([this, &cache] {
      ports::name_this_thread("demo-bot");
      std::mt19937 random{std::random_device{}()};
      std::uint64_t n = 0;
      while (running_.load()) {
        for (int i = 0; i < 40 && running_.load(); ++i)
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (!running_.load()) break;
        const std::string& id = ids_[random() % ids_.size()];
        auto cached = ports::call_blocking<std::vector<std::optional<ports::CachedAuction>>>(
            [&](auto done) { cache.get({domain::AuctionId{id}}, std::move(done)); });
        if (!cached || cached.value().empty() || !cached.value()[0]) continue;
        const json::value view = json::parse(cached.value()[0]->body);
        if (view.at("status") != "open") continue;
        const std::int64_t min_next = view.at("minNextBid").as_int64();
        const char* bidder = (random() % 2 == 0) ? "demo-ann" : "demo-ben";
        if (view.at("leaderId").is_string() && view.at("leaderId").get_string() == bidder) continue;
        const auto now = clock_.now();
        const std::string bid_id = "demo-bid-" + std::to_string(now.time_since_epoch().count()) +
                                   "-" + std::to_string(++n);
        const domain::Amount amount{min_next};
        const domain::Amount max{min_next +
                                 static_cast<std::int64_t>(random() % 4) * min_next / 20};
        send(
            wire::CommandEnvelope{
                domain::PlaceBid{domain::AuctionId{id},
                                 domain::BidRequest{domain::BidId{bid_id}, domain::UserId{bidder},
                                                    amount, max, std::nullopt, now}},
                bid_id, "", "demo", "demo"},
            bid_id);
      }
    });
  }

  void stop() {
    running_ = false;
    if (thread_.joinable()) thread_.join();
  }

  /// The demo auctions' ids, comma-separated.
  std::string names() const {
    std::string out;
    for (const auto& id : ids_) out += (out.empty() ? "" : ", ") + id;
    return out;
  }

 private:
  void send(const wire::CommandEnvelope& envelope, const std::string& dedup) {
    std::vector<ports::OutgoingMessage> messages{{domain::target_of(envelope.command).str(), dedup,
                                                  domain::time_of(envelope.command),
                                                  json::serialize(wire::command_json(envelope))}};
    ports::call_blocking<std::vector<ports::SendReceipt>>(
        [&](auto done) { queue_.send(std::move(messages), std::move(done)); });
  }

  ports::Queue& queue_;
  ports::Clock& clock_;
  std::vector<std::string> ids_;
  std::atomic<bool> running_{false};
  std::thread thread_;
};

std::string engine_metrics(const roles::EngineHost& host) {
  using roles::append_metric;
  const auto& s = host.stats();
  std::ostringstream out;
  append_metric(out, "counter", "gavel_engine_batches_total", "Batches committed by the engine.",
                s.batches.load());
  append_metric(out, "counter", "gavel_engine_decisions_total", "Commands decided, by outcome.",
                s.accepted.load(), "{outcome=\"accepted\"}");
  roles::append_sample(out, "gavel_engine_decisions_total", "{outcome=\"rejected\"}",
                       s.rejected.load());
  out << "# HELP gavel_engine_rejections_total Commands rejected by the engine, by reason.\n"
         "# TYPE gavel_engine_rejections_total counter\n";
  for (std::size_t i = 1; i < s.rejected_by_reason.size(); ++i) {
    roles::append_sample(
        out, "gavel_engine_rejections_total",
        "{reason=\"" + std::string(domain::to_string(static_cast<domain::Reason>(i))) + "\"}",
        s.rejected_by_reason[i].load());
  }
  s.commit_seconds.append(out, "gavel_store_commit_seconds", "Store commit time per batch.");
  s.batch_commands.append(out, "gavel_engine_batch_commands", "Commands decided per batch.");
  append_metric(out, "counter", "gavel_engine_conflicts_total",
                "Commits refused because another engine had moved an auction on.",
                s.conflicts.load());
  append_metric(out, "counter", "gavel_engine_failed_batches_total",
                "Batches that failed and were retried.", s.failed_batches.load());
  append_metric(out, "counter", "gavel_engine_dead_lettered_total",
                "Messages moved to the dead-letter queue.", s.dead_lettered.load());
  append_metric(out, "counter", "gavel_events_published_total", "Events published to the topic.",
                s.events_published.load());
  append_metric(out, "counter", "gavel_store_commit_seconds_total", "Time spent in store commits.",
                static_cast<double>(s.commit_micros_total.load()) / 1e6);
  append_metric(out, "gauge", "gavel_engine_auctions", "Auctions the engine holds.",
                host.auctions());
  return out.str();
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& part : parts) out += (out.empty() ? "" : ",") + part;
  return out;
}

std::string auditor_metrics(const roles::Auditor& auditor) {
  using roles::append_metric;
  const auto& s = auditor.stats();
  std::ostringstream out;
  append_metric(out, "counter", "gavel_audit_entries_total", "Entries appended to the audit log.",
                s.appended.load());
  append_metric(out, "counter", "gavel_audit_duplicates_total",
                "Audit records already in the log (redeliveries).", s.duplicates.load());
  append_metric(out, "counter", "gavel_audit_failures_total",
                "Failed audit receives, appends and acks.", s.failures.load());
  append_metric(out, "counter", "gavel_audit_unparseable_total",
                "Audit feed messages that were not records.", s.unparseable.load());
  return out.str();
}

/// The bid queue's gauges for /metrics, from Queue::stats(). A scrape runs on a gateway I/O
/// thread and must stay fast whatever the queue's backend does: it asks for fresh stats and
/// waits at most `kWait` for them; without an answer it exports the last one it has (if recent)
/// or leaves the gauges out. While a request is unanswered no other is sent, so a backend that
/// hangs costs one short wait, not one per scrape and not a pile of calls.
class QueueGauges {
 public:
  QueueGauges(ports::Queue& queue, ports::Clock& clock) : queue_(queue), clock_(clock) {}

  std::string render() {
    using Steady = std::chrono::steady_clock;
    constexpr auto kWait = std::chrono::milliseconds(200);
    // A request unanswered for this long is taken as lost (the port answers every call, but a
    // scrape must not depend on it forever).
    constexpr auto kGiveUpAfter = std::chrono::seconds(10);
    // An older sample is not exported: a stale depth would look like a healthy queue.
    constexpr auto kMaxSampleAge = std::chrono::seconds(60);

    auto state = state_;
    std::unique_lock lock(state->mutex);
    const auto asked = Steady::now();
    if (!state->pending || asked - state->asked_at > kGiveUpAfter) {
      state->pending = true;
      state->asked_at = asked;
      const std::uint64_t request = ++state->requests;
      lock.unlock();  // the memory queue answers inside stats(), on this thread
      queue_.stats([state, request](const ports::Result<ports::QueueStats>& answer) {
        std::lock_guard answered(state->mutex);
        if (request == state->requests) state->pending = false;
        if (answer.ok() && request > state->sample_request) {
          state->sample = answer.value();
          state->sample_request = request;
          state->sampled_at = Steady::now();
        }
        state->answered.notify_all();
      });
      lock.lock();
    }
    // Concurrent scrapes share one request and its deadline.
    state->answered.wait_until(lock, state->asked_at + kWait, [&] { return !state->pending; });
    if (!state->sample || Steady::now() - state->sampled_at > kMaxSampleAge) return {};
    const ports::QueueStats stats = *state->sample;
    lock.unlock();

    using roles::append_metric;
    std::ostringstream out;
    append_metric(out, "gauge", "gavel_queue_depth",
                  "Commands in the queue (waiting or in flight).", stats.depth());
    append_metric(out, "gauge", "gavel_queue_in_flight",
                  "Commands received by an engine and not yet acknowledged.", stats.in_flight);
    append_metric(out, "gauge", "gavel_dlq_depth", "Messages in the dead-letter queue.",
                  stats.dead_letters);
    // From the clock now, not at sampling: an old sample of a stuck queue still shows its age
    // growing.
    const double age =
        stats.oldest_event_time
            ? std::max(
                  0.0,
                  std::chrono::duration<double>(clock_.now() - *stats.oldest_event_time).count())
            : 0.0;
    append_metric(out, "gauge", "gavel_queue_oldest_age_seconds",
                  "Age of the oldest command in the queue (0 when empty).", age);
    return out.str();
  }

 private:
  // Shared with the stats callbacks, which may answer after a scrape gave up waiting.
  struct State {
    std::mutex mutex;
    std::condition_variable answered;
    bool pending = false;
    std::chrono::steady_clock::time_point asked_at{};
    std::uint64_t requests = 0;
    std::optional<ports::QueueStats> sample;
    std::uint64_t sample_request = 0;
    std::chrono::steady_clock::time_point sampled_at{};
  };

  ports::Queue& queue_;
  ports::Clock& clock_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

/// The notifier's delivery channels besides the inbox: the WebSocket push (through the notice
/// topic, to whichever gateway holds the user's sockets) always, the others when configured.
struct Channels {
  std::vector<std::unique_ptr<ports::NotificationChannel>> owned;
  std::vector<ports::NotificationChannel*> list() const {
    std::vector<ports::NotificationChannel*> out;
    for (const auto& channel : owned) out.push_back(channel.get());
    return out;
  }
};

Channels make_channels(const Config& config, ports::Topic& notice_topic, ports::Clock& clock) {
  Channels channels;
  channels.owned.push_back(
      std::make_unique<roles::notifier::TopicPushChannel>(notice_topic, clock));
  if (config.webhooks) {
    adapters::notify::WebhookOptions webhook;
    webhook.allow_private_addresses = config.webhook_allow_private;
    channels.owned.push_back(std::make_unique<adapters::notify::WebhookChannel>(clock, webhook));
  }
  if (!config.smtp_url.empty()) {
    adapters::notify::SmtpOptions smtp;
    smtp.server_url = config.smtp_url;
    smtp.from = config.smtp_from;
    smtp.username = config.smtp_user;
    smtp.password = config.smtp_password;
    smtp.require_tls = config.smtp_require_tls;
    channels.owned.push_back(std::make_unique<adapters::notify::SmtpChannel>(clock, smtp));
  }
  if (!config.sms_url.empty()) {
    adapters::notify::SmsOptions sms;
    sms.provider_url = config.sms_url;
    sms.api_key = config.sms_api_key;
    channels.owned.push_back(std::make_unique<adapters::notify::SmsChannel>(sms));
  }
  return channels;
}

/// Titles and currencies for the notices' words, from the store.
roles::notifier::FactsLookup facts_from(ports::Store& store) {
  return [&store](const domain::AuctionId& id) -> std::optional<roles::notifier::AuctionFacts> {
    auto stored = ports::call_blocking<std::optional<ports::StoredAuction>>(
        [&](auto done) { store.get_auction(id, std::move(done)); });
    if (!stored || !stored.value()) return std::nullopt;
    return roles::notifier::AuctionFacts{stored.value()->terms.title,
                                         stored.value()->terms.currency};
  };
}

/// A readiness probe from any port call: ok when the call answers ok.
template <typename T, typename Call>
gateway::ReadinessCheck probe(std::string name, Call call) {
  return {std::move(name), [call](ports::Callback<void> done) {
            call([done = std::move(done)](const ports::Result<T>& answer) {
              done(answer ? ports::Result<void>{} : ports::Result<void>{answer.error()});
            });
          }};
}

/// What /readyz asks: each dependency answers a cheap read.
std::vector<gateway::ReadinessCheck> readiness_checks(ports::Store& store, ports::Queue& queue,
                                                      ports::Cache& cache,
                                                      ports::AuditLog& audit_log,
                                                      ports::NoticeStore& notices) {
  using AuctionAnswer = std::optional<ports::StoredAuction>;
  using CacheAnswer = std::vector<std::optional<ports::CachedAuction>>;
  return {
      probe<AuctionAnswer>("store",
                           [&store](auto done) {
                             store.get_auction(domain::AuctionId{"readiness-probe"},
                                               std::move(done));
                           }),
      probe<domain::Timestamp>("queue", [&queue](auto done) { queue.watermark(std::move(done)); }),
      probe<CacheAnswer>("cache", [&cache](auto done) { cache.get({}, std::move(done)); }),
      probe<ports::AuditHead>("auditLog",
                              [&audit_log](auto done) { audit_log.head(std::move(done)); }),
      probe<std::vector<ports::Preferences>>(
          "notices", [&notices](auto done) { notices.get_preferences({}, std::move(done)); }),
  };
}

/// The authenticator of the configured mode; `dev` is set in dev mode (it also mints tokens).
std::unique_ptr<ports::Authenticator> make_authenticator(const Config& config,
                                                         const ports::ClockPtr& clock,
                                                         adapters::jwt::DevAuthenticator*& dev) {
  if (config.auth_mode == "dev") {
    const std::string secret =
        config.dev_secret.empty()
            ? adapters::jwt::DevAuthenticator::load_or_create_secret(config.data_dir)
            : config.dev_secret;
    auto authenticator = std::make_unique<adapters::jwt::DevAuthenticator>(secret, clock);
    dev = authenticator.get();
    return authenticator;
  }
  adapters::jwt::JwksOptions options;
  options.issuer = config.jwt_issuer;
  options.audience = config.jwt_audience;
  options.accept_es256 = true;
  if (!config.jwks_file.empty()) {
    std::ifstream file{config.jwks_file};
    if (!file) throw std::runtime_error("cannot read jwks-file " + config.jwks_file);
    std::stringstream document;
    document << file.rdbuf();
    try {
      return std::make_unique<adapters::jwt::JwksAuthenticator>(options, clock, document.str());
    } catch (const std::invalid_argument& error) {
      throw std::runtime_error("jwks-file " + config.jwks_file + ": " + error.what());
    }
  }
  auto authenticator = std::make_unique<adapters::jwt::JwksAuthenticator>(
      options, clock, adapters::jwt::http_jwks_fetch(config.jwks_url));
  // Unreachable keys at start are a dependency failure: say so now, not at the first request.
  if (auto loaded = authenticator->refresh(); !loaded) {
    throw std::runtime_error("cannot load the JWKS from " + config.jwks_url + ": " +
                             loaded.error().message);
  }
  return authenticator;
}

void check_supported(const Config& config) {
  const auto has = [&config](const char* role) {
    return std::find(config.roles.begin(), config.roles.end(), role) != config.roles.end();
  };
  if (config.profile == "embedded" && (config.roles.size() != 4 || !has("gateway") ||
                                       !has("engine") || !has("notifier") || !has("auditor"))) {
    throw ConfigError(
        "roles: the embedded profile keeps its queue and topic in memory, so every role "
        "(gateway, engine, notifier, auditor) runs in one process; separate role processes "
        "need the selfhosted profile");
  }
  if (config.auth_mode == "jwks") {
    if (config.jwks_url.empty() == config.jwks_file.empty()) {
      throw ConfigError("auth-mode jwks needs exactly one of jwks-url and jwks-file");
    }
    if (config.jwt_issuer.empty()) throw ConfigError("auth-mode jwks needs jwt-issuer");
    if (config.jwt_audience.empty()) throw ConfigError("auth-mode jwks needs jwt-audience");
  }
}

}  // namespace

namespace {

/// "<host>-<pid>": unique among the processes sharing the topics (each gateway needs its own
/// subscription to see every event).
std::string default_node_id() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "gavel");
  return std::string(host) + "-" + std::to_string(getpid());
}

bool runs(const Config& config, std::string_view role) {
  return std::find(config.roles.begin(), config.roles.end(), role) != config.roles.end();
}

gateway::GatewayOptions gateway_options(const Config& config, const Backends& backends,
                                        const Channels& channels,
                                        adapters::jwt::DevAuthenticator* dev_tokens) {
  gateway::GatewayOptions options;
  options.limits.max_body_bytes = config.max_body_bytes;
  options.limits.max_header_bytes = config.max_header_bytes;
  options.limits.max_connections = config.max_connections;
  options.limits.idle_timeout = std::chrono::seconds(config.idle_timeout_seconds);
  options.limits.ws_max_message_bytes = config.ws_max_message_bytes;
  options.limits.ws_write_queue = config.ws_write_queue;
  options.rate_per_second = config.rate_per_second;
  options.rate_burst = config.rate_burst;
  // A command in a memory queue dies with this process: 202 waits for the durable commit.
  options.ack_after_commit = !backends.durable_queue;
  options.notice_channels.clear();
  for (const auto* channel : channels.list()) {
    if (channel->name() != "push") options.notice_channels.emplace_back(channel->name());
  }
  options.web_root = config.web_root.empty() ? default_web_root() : config.web_root;
  options.node_id = config.node_id.empty() ? default_node_id() : config.node_id;
  options.serve_api = runs(config, "gateway");
  if (dev_tokens != nullptr) {  // POST /v1/auth/dev-token exists in dev mode only
    options.mint_dev_token = [dev_tokens](const domain::UserId& user, ports::Roles roles) {
      return dev_tokens->mint(user, roles, kDevTokenTtl);
    };
  }
  return options;
}

}  // namespace

int run_serve(const std::vector<std::string>& args, char** environment) {
  Config config;
  try {
    config = load_config(args, environment);
    check_supported(config);
  } catch (const ConfigError& error) {
    std::cerr << "gavel serve: " << error.what() << "\n";
    return 2;
  }

  try {
    roles::set_log_level(*roles::log_level_from_string(config.log_level));
    // Every connection is a descriptor: raise the open-file limit to fit max-connections, or
    // hold fewer connections (refused cleanly) than the kernel would let accept() fail on.
    const FdLimit files = raise_fd_limit(config.max_connections + kSpareDescriptors);
    if (files.now < config.max_connections + kSpareDescriptors) {
      const std::size_t fits = files.now > kSpareDescriptors ? files.now - kSpareDescriptors : 1;
      roles::log(roles::LogLevel::warn, "serve",
                 "the open-file limit (" + std::to_string(files.now) + ") holds " +
                     std::to_string(fits) + " connections, fewer than max-connections " +
                     std::to_string(config.max_connections) +
                     ": serving at most that many (raise the hard limit: ulimit -Hn, or "
                     "LimitNOFILE= in systemd)");
      config.max_connections = fits;
    }
    auto clock = std::make_shared<adapters::memory::SystemClock>();
    Backends backends = open_backends(config, clock);
    adapters::jwt::DevAuthenticator* dev_tokens = nullptr;
    const auto authenticator = make_authenticator(config, clock, dev_tokens);
    ports::Queue& queue = *backends.queue;
    ports::Topic& topic = *backends.topic;
    ports::Topic& audit_topic = *backends.audit_topic;
    ports::Cache& cache = *backends.cache;
    ports::Store& store = *backends.store;
    ports::AuditLog& audit_log = *backends.audit_log;
    ports::NoticeStore& notices = *backends.notices;
    gateway::WsHub hub;
    gateway::DecisionWaiters waiters;
    const Channels channels = make_channels(config, *backends.notice_topic, *clock);

    // Each role this process runs. Subscriptions open before the engine starts: its recovery
    // republishes the outbox.
    std::optional<roles::Auditor> auditor;
    ports::SubscriptionPtr audit_feed;
    if (runs(config, "auditor")) {
      audit_feed = audit_topic.subscribe("auditor");
      auditor.emplace(*audit_feed, audit_log);
      if (!backends.durable_topics) {
        auditor->on_appended([&store](std::vector<std::string> keys) {
          store.mark_audit_published(std::move(keys), [](const ports::Result<void>&) {
            // A failed mark leaves them in the outbox: republished at the next start, and the
            // audit log drops keys it has.
          });
        });
      }
    }
    std::optional<roles::notifier::Notifier> notifier;
    ports::SubscriptionPtr notifier_feed;
    if (runs(config, "notifier")) {
      notifier_feed = topic.subscribe("notifier");
      roles::notifier::NotifierOptions notifier_options;
      notifier_options.ending_soon_lead = std::chrono::seconds(config.ending_soon_seconds);
      notifier_options.retry.max_attempts = static_cast<int>(config.notify_max_attempts);
      notifier_options.facts = facts_from(store);
      notifier.emplace(*notifier_feed, notices, channels.list(), *clock, notifier_options);
    }
    std::optional<roles::EngineHost> host;
    if (runs(config, "engine")) {
      roles::EngineHostOptions engine_options;
      engine_options.visibility = std::chrono::seconds(config.engine_visibility_seconds);
      engine_options.commit_retry_for = engine_options.visibility / 2;
      // Other engines share the store: rescan for auctions only a dead one knew.
      if (backends.durable_queue) engine_options.rescan_every = std::chrono::seconds(5);
      host.emplace(queue, store, cache, topic, *clock, engine_options);
      // A memory audit topic dies with the process: the audit outbox keeps each record until the
      // auditor (in this same process) has appended it.
      host->set_audit_topic(&audit_topic, backends.durable_topics);
      // In one process the engine tells this gateway's waiters directly.
      host->set_listener([&waiters](const std::vector<roles::DecidedCommand>& decided) {
        waiters.complete(decided);
      });
    }
    if (auditor) auditor->start();
    if (notifier) notifier->start();
    if (host) host->start();

    // The bid queue's gauges come from the roles that use it: gateways (a backlog shows even
    // with every engine down) and engines. Every such process of a selfhosted cluster reports
    // the same shared queue, so dashboards take their max, not their sum.
    std::optional<QueueGauges> queue_gauges;
    if (runs(config, "gateway") || runs(config, "engine")) queue_gauges.emplace(queue, *clock);

    asio::io_context io;
    std::atomic<bool> ready{true};
    gateway::GatewayDeps deps{*authenticator,
                              queue,
                              cache,
                              store,
                              *clock,
                              waiters,
                              hub,
                              [&ready] { return ready.load(); },
                              [&] {
                                std::ostringstream extra;
                                if (host) extra << engine_metrics(*host);
                                if (auditor) extra << auditor_metrics(*auditor);
                                if (queue_gauges) extra << queue_gauges->render();
                                if (notifier) notifier->append_metrics(extra);
                                return extra.str();
                              },
                              &notices,
                              &audit_log,
                              readiness_checks(store, queue, cache, audit_log, notices)};
    gateway::Gateway gateway{io, deps, gateway_options(config, backends, channels, dev_tokens)};
    gateway.listen(config.http_host, config.http_port);
    // A gateway fans events out to its WebSockets; decisions made by an engine in another
    // process reach its ?wait= requests through the audit feed.
    std::optional<gateway::TopicPump> events;
    std::optional<gateway::TopicPump> pushed_notices;
    std::optional<gateway::TopicPump> decisions;
    if (runs(config, "gateway")) {
      // After a broken feed (Redis away), its sockets start again from snapshots.
      events.emplace(topic.subscribe("gateway-" + gateway.node_id()), gateway::fan_out_events(hub),
                     gateway::resync_sockets(hub));
      events->start();
      pushed_notices.emplace(backends.notice_topic->subscribe("gateway-" + gateway.node_id()),
                             gateway::push_notices(hub));
      pushed_notices->start();
      // With a networked queue another process's engine may decide this gateway's commands
      // even when one runs here; completing a waiter twice is harmless.
      if (!host || backends.durable_queue) {
        decisions.emplace(audit_topic.subscribe("gateway-" + gateway.node_id()),
                          gateway::complete_waiters(waiters, cache));
        decisions->start();
      }
    }

    std::optional<Janitor> janitor;
    if (runs(config, "gateway") && backends.prune_gone_gateways) {
      janitor.emplace(backends.prune_gone_gateways);
    }

    Demo demo{queue, *clock};
    if (config.demo && runs(config, "gateway")) {
      demo.seed();
      demo.start_bot(cache);
    }

    log_line("serving http://" + config.http_host + ":" + std::to_string(gateway.port()) +
             " (profile " + config.profile + ", roles " + join(config.roles) + ", data " +
             config.data_dir +
             (host ? ", " + std::to_string(host->auctions()) + " auctions recovered)" : ")"));
    if (config.demo) {
      log_line("demo: auctions " + demo.names() + " and a bidding bot; open http://" +
               config.http_host + ":" + std::to_string(gateway.port()) + "/ in a browser");
    }
    std::cout << "listening " << config.http_host << ":" << gateway.port() << std::endl;

    asio::signal_set signals{io, SIGINT, SIGTERM};
    asio::steady_timer drain_timer{io};
    std::function<void()> poll_drain;
    signals.async_wait([&](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      log_line(std::string("received ") + (signal == SIGTERM ? "SIGTERM" : "SIGINT") +
               ": draining (at most " + std::to_string(config.drain_seconds) + " s)");
      ready = false;
      demo.stop();
      gateway.drain();
      // Requests in flight finish (their commands are decided by the engine, still running);
      // then everything stops.
      const auto deadline =
          std::chrono::steady_clock::now() + std::chrono::seconds(config.drain_seconds);
      // `poll` lives in run_serve's frame, which outlives io.run(): no self-owning closure.
      poll_drain = [&, deadline] {
        // Wait for HTTP requests in flight and for WebSockets to finish their close handshake.
        const bool idle = gateway.metrics().connections.load() == 0 && hub.connections() == 0;
        if (idle || std::chrono::steady_clock::now() >= deadline) {
          io.stop();
          return;
        }
        drain_timer.expires_after(std::chrono::milliseconds(20));
        drain_timer.async_wait([&](const boost::system::error_code&) { poll_drain(); });
      };
      poll_drain();
    });

    const unsigned threads = config.http_threads != 0
                                 ? config.http_threads
                                 : std::max(1U, std::thread::hardware_concurrency());
    std::vector<std::thread> workers;
    for (unsigned i = 1; i < threads; ++i) {
      workers.emplace_back([&io] {
        ports::name_this_thread("http-io");
        io.run();
      });
    }
    io.run();
    for (auto& worker : workers) worker.join();
    if (decisions) decisions->stop();
    if (events) events->stop();
    if (pushed_notices) pushed_notices->stop();
    if (host) host->stop();
    if (notifier) notifier->stop();
    if (auditor) auditor->stop();
    log_line("stopped");
    return 0;
  } catch (const ConfigError& error) {
    std::cerr << "gavel serve: " << error.what() << "\n";
    return 2;
  } catch (const std::exception& error) {
    std::cerr << "gavel serve: " << error.what() << "\n";
    return 1;
  }
}

std::string serve_help() {
  std::ostringstream out;
  out << "Usage: gavel serve [--<setting> <value> | --<setting>=<value>]... [--config FILE]\n\n"
         "Runs Gavel's roles: the embedded profile runs the gateway, engine, notifier and auditor "
         "in\n"
         "one process; the selfhosted profile runs the roles named by --roles (README.md).\n"
         "Every setting is also an environment variable; flags win over variables, variables over\n"
         "the config file. Stops gracefully on SIGINT/SIGTERM.\n\nSettings:\n";
  for (const auto& setting : config_help()) {
    out << "  " << setting.flag;
    out << std::string(setting.flag.size() < 24 ? 24 - setting.flag.size() : 1, ' ') << setting.help
        << "\n"
        << std::string(26, ' ') << setting.env;
    if (!setting.default_value.empty()) out << "  (default: " << setting.default_value << ")";
    out << "\n";
  }
  return out.str();
}

}  // namespace gavel::app
