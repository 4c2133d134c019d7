// The notifier on memory adapters and simulated time: who hears what, once per user and event
// (redelivery, restart), ending-soon timing, preferences, and per-channel retries with
// dead-lettering while a healthy channel keeps delivering. Events come from the real domain
// Auction, published on the memory topic as the engine host publishes them.
#include "roles/notifier/notifier.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <sstream>

#include "adapters/memory/memory_notice_store.hpp"
#include "adapters/memory/memory_topic.hpp"
#include "adapters/memory/recording_channel.hpp"
#include "adapters/memory/simulated_clock.hpp"
#include "adapters/memory/system_clock.hpp"
#include "ports/blocking.hpp"
#include "ports/wire/auction_json.hpp"
#include "support/auction_builders.hpp"

namespace gavel::roles::notifier {
namespace {

namespace json = boost::json;
namespace memory = adapters::memory;
using gavel::testing::at;
using gavel::testing::bid;
using gavel::testing::t0;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// "user:kind" of each notice, in the order given.
std::vector<std::string> who_what(const std::vector<ports::Notice>& notices) {
  std::vector<std::string> out;
  for (const auto& notice : notices) out.push_back(notice.user_id.str() + ":" + notice.kind);
  return out;
}

/// A notice store that passes every call to another and remembers the bidders each record()
/// sent for the auctions' watches.
class ParticipantsSeen final : public ports::NoticeStore {
 public:
  explicit ParticipantsSeen(ports::NoticeStore& inner) : inner_(inner) {}
  void record(ports::NoticeBatch batch,
              ports::Callback<std::vector<ports::DeliveryRecord>> done) override {
    for (const auto& watch : batch.watches) {
      for (const auto& user : watch.participants) sent.push_back(user.str());
    }
    inner_.record(std::move(batch), std::move(done));
  }
  void get_watch(const domain::AuctionId& auction_id,
                 ports::Callback<std::optional<ports::AuctionWatch>> done) override {
    inner_.get_watch(auction_id, std::move(done));
  }
  void list_open_watches(const domain::AuctionId& after, std::size_t limit,
                         ports::Callback<std::vector<ports::AuctionWatch>> done) override {
    inner_.list_open_watches(after, limit, std::move(done));
  }
  void pending_deliveries(std::size_t limit,
                          ports::Callback<std::vector<ports::DeliveryRecord>> done) override {
    inner_.pending_deliveries(limit, std::move(done));
  }
  void settle(ports::DeliveryOutcome outcome, ports::Callback<void> done) override {
    inner_.settle(std::move(outcome), std::move(done));
  }
  void dead_letters(std::size_t limit,
                    ports::Callback<std::vector<ports::DeliveryRecord>> done) override {
    inner_.dead_letters(limit, std::move(done));
  }
  void list_inbox(const ports::InboxQuery& query, ports::Callback<ports::InboxPage> done) override {
    inner_.list_inbox(query, std::move(done));
  }
  void mark_read(const domain::UserId& user_id, std::vector<std::string> ids,
                 ports::Callback<std::size_t> done) override {
    inner_.mark_read(user_id, std::move(ids), std::move(done));
  }
  void get_preferences(std::vector<domain::UserId> user_ids,
                       ports::Callback<std::vector<ports::Preferences>> done) override {
    inner_.get_preferences(std::move(user_ids), std::move(done));
  }
  void put_preferences(const domain::UserId& user_id, ports::Preferences preferences,
                       ports::Callback<void> done) override {
    inner_.put_preferences(user_id, std::move(preferences), std::move(done));
  }

  std::vector<std::string> sent;

 private:
  ports::NoticeStore& inner_;
};

class NotifierTest : public ::testing::Test {
 protected:
  NotifierTest() : auction_(gavel::testing::terms("a1")) {
    options_.receive_wait = domain::Duration::zero();
    options_.seed = 42;
    options_.retry.base = std::chrono::seconds(2);
    options_.retry.cap = std::chrono::seconds(60);
    options_.facts = [](const domain::AuctionId&) {
      return AuctionFacts{"Vintage <clock>", domain::Currency::parse("EUR")};
    };
  }

  std::unique_ptr<Notifier> make_notifier(ports::NoticeStore& store) {
    return std::make_unique<Notifier>(*subscription_, store,
                                      std::vector<ports::NotificationChannel*>{&webhook_, &email_},
                                      *clock_, options_);
  }
  Notifier& notifier() {
    if (!notifier_) notifier_ = make_notifier(store_);
    return *notifier_;
  }

  // Publishes events as the engine host does; `dedup_suffix` lets a test publish one again, as
  // a redelivery would bring it.
  void publish(const std::vector<domain::Event>& events, const std::string& dedup_suffix = "") {
    std::vector<ports::OutgoingMessage> messages;
    for (const auto& event : events) {
      messages.push_back({event.auction_id.str(), domain::event_id(event) + dedup_suffix, event.at,
                          json::serialize(wire::event_json(event))});
    }
    ASSERT_TRUE(ports::call_blocking<void>(
        [&](auto done) { topic_.publish(std::move(messages), std::move(done)); }));
  }
  // Runs the auction's next step and publishes what it emitted.
  template <typename Step>
  std::vector<domain::Event> step(Step&& run) {
    std::vector<domain::Event> events;
    run(auction_, events);
    publish(events);
    return events;
  }
  void create() {
    step([](auto& a, auto& out) { a.announce_creation(t0(), out); });
  }
  void place(const char* id, const char* bidder, std::int64_t amount, std::int64_t second = 10,
             std::optional<std::int64_t> max = std::nullopt) {
    step([&](auto& a, auto& out) { a.place_bid(bid(id, bidder, amount, max, second), out); });
  }
  void drain() {
    for (int i = 0; i < 10 && notifier().run_once() > 0;) ++i;
  }

  std::vector<ports::InboxNotice> inbox(const char* user) {
    auto page = ports::call_blocking<ports::InboxPage>([&](auto done) {
      store_.list_inbox(ports::InboxQuery{domain::UserId{user}, std::nullopt, 100}, done);
    });
    EXPECT_TRUE(page.ok());
    return page.ok() ? page.value().notices : std::vector<ports::InboxNotice>{};
  }
  std::vector<std::string> kinds(const char* user) {
    std::vector<std::string> out;
    for (const auto& entry : inbox(user)) out.push_back(entry.notice.kind);
    return out;
  }
  void prefer(const char* user, ports::Preferences preferences) {
    ASSERT_TRUE(ports::call_blocking<void>([&](auto done) {
      store_.put_preferences(domain::UserId{user}, std::move(preferences), done);
    }));
  }
  static ports::Preferences all_channels(const std::string& user) {
    return ports::Preferences{true,
                              true,
                              false,
                              user + "@example.com",
                              "",
                              "https://hooks.example.com/" + user,
                              "0123456789abcdef"};
  }
  std::vector<ports::DeliveryRecord> dead_letters() {
    auto dead = ports::call_blocking<std::vector<ports::DeliveryRecord>>(
        [&](auto done) { store_.dead_letters(100, done); });
    return dead.ok() ? dead.value() : std::vector<ports::DeliveryRecord>{};
  }

  std::shared_ptr<memory::SimulatedClock> clock_ = std::make_shared<memory::SimulatedClock>(t0());
  memory::MemoryTopic topic_{clock_};
  ports::SubscriptionPtr subscription_ = topic_.subscribe("notifier");
  memory::MemoryNoticeStore store_;
  memory::RecordingChannel webhook_{"webhook"};
  memory::RecordingChannel email_{"email"};
  NotifierOptions options_;
  std::unique_ptr<Notifier> notifier_;
  domain::Auction auction_;
};

TEST_F(NotifierTest, TheFirstLeaderHearsLeadingAndALostLeadHearsOutbid) {
  create();
  place("b1", "bob", 1000);
  place("b2", "carol", 1500, 20);
  drain();
  EXPECT_THAT(kinds("bob"), ElementsAre("outbid", "leading"));  // newest first
  EXPECT_THAT(kinds("carol"), ElementsAre("leading"));
  EXPECT_THAT(kinds("seller"), IsEmpty());
  const auto outbid = inbox("bob")[0].notice;
  EXPECT_EQ(outbid.subject, "You were outbid on Vintage <clock>");
  EXPECT_EQ(outbid.text,
            "Someone outbid you on \"Vintage <clock>\". The price is now EUR 15.00; bidding "
            "closes at 2026-11-28 10:10 UTC.");
  EXPECT_THAT(outbid.html, HasSubstr("&quot;Vintage &lt;clock&gt;&quot;"));
  EXPECT_THAT(outbid.html, HasSubstr("<b>EUR 15.00</b>"));
  EXPECT_EQ(outbid.id, "a1:5:bob:outbid");
  // created, opened, accepted, accepted, outbid
  EXPECT_EQ(notifier().stats().events.load(), 5u);
}

TEST_F(NotifierTest, ABidderToppedAtOnceByTheLeadersMaximumHearsOutbidOnly) {
  create();
  place("b1", "bob", 1000, 10, 5000);
  place("b2", "carol", 1500, 20);  // below bob's maximum: bob stays ahead
  drain();
  EXPECT_THAT(kinds("carol"), ElementsAre("outbid"));
  EXPECT_THAT(kinds("bob"), ElementsAre("leading"));
}

TEST_F(NotifierTest, ALeaderRaisingTheirOwnMaximumHearsNothing) {
  create();
  place("b1", "bob", 1000);
  place("b2", "bob", 1000, 20, 9000);
  drain();
  EXPECT_THAT(kinds("bob"), ElementsAre("leading"));
}

TEST_F(NotifierTest, ASoldCloseTellsTheWinnerTheOtherBiddersAndTheSeller) {
  create();
  place("b1", "bob", 1000);
  place("b2", "carol", 1500, 20);
  place("b3", "dave", 2000, 30);
  step([](auto& a, auto& out) { a.close_if_due(at(600), out); });
  drain();
  EXPECT_EQ(kinds("dave")[0], "won");
  EXPECT_EQ(kinds("bob")[0], "lost");
  EXPECT_EQ(kinds("carol")[0], "lost");
  EXPECT_THAT(kinds("seller"), ElementsAre("sold"));
  EXPECT_EQ(inbox("seller")[0].notice.text, "Your auction \"Vintage <clock>\" sold for EUR 20.00.");
  EXPECT_EQ(inbox("bob")[0].notice.text,
            "\"Vintage <clock>\" was sold to another bidder for EUR 20.00.");
}

TEST_F(NotifierTest, AnUnsoldCloseTellsTheBiddersTheyLostAndTheSellerUnsold) {
  auto terms = gavel::testing::terms("a1");
  terms.reserve_price = domain::Amount{100'000};
  auction_ = domain::Auction(terms);
  create();
  place("b1", "bob", 1000);
  step([](auto& a, auto& out) { a.close_if_due(at(600), out); });
  drain();
  EXPECT_EQ(kinds("bob")[0], "lost");
  EXPECT_THAT(inbox("bob")[0].notice.text, HasSubstr("reserve price was not met"));
  EXPECT_THAT(kinds("seller"), ElementsAre("unsold"));
}

TEST_F(NotifierTest, ACancellationReachesTheBiddersAndTheSeller) {
  create();
  place("b1", "bob", 1000);
  step([](auto& a, auto& out) {
    a.cancel(domain::Actor{domain::UserId{"admin"}, true}, "counterfeit <b>", at(100), out);
  });
  drain();
  EXPECT_EQ(kinds("bob")[0], "cancelled");
  EXPECT_THAT(kinds("seller"), ElementsAre("cancelled"));
  EXPECT_THAT(inbox("bob")[0].notice.text, HasSubstr("Reason: counterfeit <b>"));
  EXPECT_THAT(inbox("bob")[0].notice.html, HasSubstr("Reason: counterfeit &lt;b&gt;"));
  EXPECT_THAT(kinds("admin"), IsEmpty());
}

TEST_F(NotifierTest, EndingSoonGoesOutOnceWhenTheClockPassesEndsAtMinusTheLead) {
  create();
  place("b1", "bob", 1000);
  place("b2", "carol", 1500, 20);
  drain();
  clock_->advance_to(at(600) - std::chrono::minutes(5) - std::chrono::seconds(1));
  notifier().run_once();
  EXPECT_EQ(kinds("bob")[0], "outbid");  // not yet
  clock_->advance_by(std::chrono::seconds(1));
  notifier().run_once();
  EXPECT_EQ(kinds("bob")[0], "ending_soon");
  EXPECT_EQ(kinds("carol")[0], "ending_soon");
  EXPECT_THAT(kinds("seller"), IsEmpty());
  EXPECT_EQ(inbox("carol")[0].notice.text,
            "\"Vintage <clock>\" closes at 2026-11-28 10:10 UTC. The price is EUR 15.00.");
  EXPECT_EQ(inbox("carol")[0].notice.id, "a1:carol:ending_soon");
  const auto before = inbox("bob").size();
  clock_->advance_by(std::chrono::seconds(30));
  notifier().run_once();
  EXPECT_EQ(inbox("bob").size(), before);
}

TEST_F(NotifierTest, ARedeliveredEventMakesNoSecondNoticeNorDelivery) {
  prefer("bob", all_channels("bob"));
  create();
  place("b1", "bob", 1000);
  drain();
  ASSERT_THAT(kinds("bob"), ElementsAre("leading"));
  ASSERT_EQ(webhook_.attempts(), 1u);

  // The same events again, as a redelivery brings them (a new message, the same event ids).
  domain::Auction replay(gavel::testing::terms("a1"));
  std::vector<domain::Event> events;
  replay.announce_creation(t0(), events);
  replay.place_bid(bid("b1", "bob", 1000, std::nullopt, 10), events);
  publish(events, "-redelivered");
  EXPECT_EQ(notifier().run_once(), events.size());
  drain();
  EXPECT_THAT(kinds("bob"), ElementsAre("leading"));
  EXPECT_EQ(webhook_.attempts(), 1u);
  EXPECT_EQ(email_.attempts(), 1u);
}

TEST_F(NotifierTest, ARestartedNotifierOnTheSameStoreSendsNothingTwiceAndKnowsTheBidders) {
  prefer("bob", all_channels("bob"));
  create();
  place("b1", "bob", 1000);
  place("b2", "carol", 1500, 20);
  drain();
  ASSERT_EQ(webhook_.attempts(), 2u);  // bob's leading and outbid

  // A new notifier process: same store, a fresh in-memory state; the old events come again.
  notifier_.reset();
  notifier_ = make_notifier(store_);
  notifier_->recover();
  domain::Auction replay(gavel::testing::terms("a1"));
  std::vector<domain::Event> events;
  replay.announce_creation(t0(), events);
  replay.place_bid(bid("b1", "bob", 1000, std::nullopt, 10), events);
  replay.place_bid(bid("b2", "carol", 1500, std::nullopt, 20), events);
  publish(events, "-again");
  drain();
  EXPECT_THAT(kinds("bob"), ElementsAre("outbid", "leading"));
  EXPECT_EQ(webhook_.attempts(), 2u);

  // The close reaches both bidders and the seller, learnt before the restart.
  step([](auto& a, auto& out) { a.close_if_due(at(600), out); });
  drain();
  EXPECT_EQ(kinds("carol")[0], "won");
  EXPECT_EQ(kinds("bob")[0], "lost");
  EXPECT_THAT(kinds("seller"), ElementsAre("sold"));
}

TEST_F(NotifierTest, EachBidderIsRecordedOnceNotWithEveryBatchOfTheAuction) {
  // A hot auction's every batch touches its watch; writing all its bidders each time would
  // cost the store more with every new bidder.
  ParticipantsSeen store(store_);
  notifier_ = make_notifier(store);
  create();
  place("b1", "bob", 1000);
  drain();
  place("b2", "carol", 1500, 20);
  drain();
  place("b3", "bob", 2000, 30);
  place("b4", "carol", 2500, 40);
  drain();
  EXPECT_THAT(store.sent, ElementsAre("bob", "carol"));

  // After a restart the notifier knows whom the store holds, and the close still reaches all.
  notifier_ = make_notifier(store);
  notifier_->recover();
  place("b5", "dave", 3000, 50);
  drain();
  EXPECT_THAT(store.sent, ElementsAre("bob", "carol", "dave"));
  step([](auto& a, auto& out) { a.close_if_due(at(600), out); });
  drain();
  EXPECT_EQ(kinds("dave")[0], "won");
  EXPECT_EQ(kinds("bob")[0], "lost");
  EXPECT_EQ(kinds("carol")[0], "lost");
}

TEST_F(NotifierTest, AnUntrackedChannelIsSentEachNoticeOnceWithoutADeliveryRecord) {
  memory::RecordingChannel push{"push", /*tracked=*/false};
  notifier_ = std::make_unique<Notifier>(*subscription_, store_,
                                         std::vector<ports::NotificationChannel*>{&push, &webhook_},
                                         *clock_, options_);
  prefer("bob", all_channels("bob"));
  webhook_.fail_next(2, ports::ErrorKind::retryable);  // bob's webhooks stay pending
  create();
  place("b1", "bob", 1000);
  place("b2", "carol", 1500, 20);
  drain();
  // Everyone's notices go out as they are recorded, whatever their preferences; only the
  // tracked webhook has delivery records.
  EXPECT_THAT(who_what(push.delivered()),
              ::testing::UnorderedElementsAre("bob:leading", "bob:outbid", "carol:leading"));
  auto pending = ports::call_blocking<std::vector<ports::DeliveryRecord>>(
      [&](auto done) { store_.pending_deliveries(100, done); });
  ASSERT_TRUE(pending.ok());
  std::vector<std::string> channels;
  for (const auto& record : pending.value()) channels.push_back(record.channel);
  EXPECT_THAT(channels, ElementsAre("webhook", "webhook"));
  EXPECT_EQ(notifier_->channel_counts("push")->sent.load(), 3u);

  // A failed push is counted and not tried again: the notice is in the inbox.
  push.fail_next(1, ports::ErrorKind::retryable);
  place("b3", "dave", 2000, 30);
  drain();
  clock_->advance_by(std::chrono::seconds(61));  // past the webhook's backoff, not yet ending soon
  drain();
  EXPECT_EQ(notifier_->channel_counts("push")->failed.load(), 1u);
  EXPECT_EQ(push.attempts(), 5u);  // dave's leading failed once, carol's outbid went
  EXPECT_THAT(kinds("dave"), ElementsAre("leading"));
  EXPECT_EQ(webhook_.delivered().size(), 2u);  // bob's, on their retry
}

TEST_F(NotifierTest, ARestartResumesPendingDeliveries) {
  prefer("bob", all_channels("bob"));
  webhook_.fail_next(1, ports::ErrorKind::retryable);
  create();
  place("b1", "bob", 1000);
  drain();
  ASSERT_THAT(webhook_.delivered(), IsEmpty());

  notifier_.reset();  // the process dies with the retry pending
  notifier_ = make_notifier(store_);
  notifier_->recover();
  clock_->advance_by(std::chrono::seconds(1));
  notifier_->run_once();
  EXPECT_THAT(who_what(webhook_.delivered()), ElementsAre("bob:leading"));
  EXPECT_THAT(who_what(email_.delivered()), ElementsAre("bob:leading"));  // sent once, before
  EXPECT_EQ(email_.attempts(), 1u);
}

TEST_F(NotifierTest, ChannelsFollowEachUsersPreferencesAndAddresses) {
  prefer("bob", all_channels("bob"));
  ports::Preferences carol;
  carol.email = true;
  carol.email_address = "carol@example.com";
  prefer("carol", carol);
  create();
  place("b1", "bob", 1000);
  place("b2", "carol", 1500, 20);
  place("b3", "dave", 2000, 30);  // no preferences: inbox only
  drain();
  EXPECT_THAT(who_what(webhook_.delivered()), ElementsAre("bob:leading", "bob:outbid"));
  // In event order: b2 makes carol lead and bob outbid; b3 makes dave lead and carol outbid.
  EXPECT_THAT(who_what(email_.delivered()),
              ElementsAre("bob:leading", "carol:leading", "bob:outbid", "carol:outbid"));
  ASSERT_FALSE(webhook_.delivered().empty());
  EXPECT_EQ(webhook_.delivered()[0].address, "https://hooks.example.com/bob");
  EXPECT_EQ(webhook_.delivered()[0].secret, "0123456789abcdef");
  ASSERT_EQ(email_.delivered().size(), 4u);
  EXPECT_EQ(email_.delivered()[1].address, "carol@example.com");
  EXPECT_EQ(email_.delivered()[1].secret, "");
  EXPECT_THAT(kinds("dave"), ElementsAre("leading"));
}

TEST_F(NotifierTest, AFailingChannelBacksOffAndIsDeadLetteredWhileAHealthyOneDelivers) {
  options_.retry.max_attempts = 4;
  options_.ending_soon_lead = std::chrono::minutes(1);  // not within the eight minutes below
  prefer("bob", all_channels("bob"));
  webhook_.fail_next(100, ports::ErrorKind::retryable);
  create();
  place("b1", "bob", 1000);
  drain();
  EXPECT_THAT(who_what(email_.delivered()), ElementsAre("bob:leading"));
  EXPECT_EQ(webhook_.attempts(), 1u);
  // Not retried before its backoff: time has not moved, and run_once attempts only due ones.
  notifier().run_once();
  EXPECT_EQ(webhook_.attempts(), 1u);

  // Eight minutes: past every backoff (2 + 4 + 8 s at most), short of the ending-soon time.
  for (int i = 0; i < 8; ++i) {
    clock_->advance_by(options_.retry.cap);
    notifier().run_once();
  }
  EXPECT_EQ(webhook_.attempts(), 4u);  // max_attempts, then no more
  const auto dead = dead_letters();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].notice.id, "a1:3:bob:leading");
  EXPECT_EQ(dead[0].channel, "webhook");
  EXPECT_EQ(dead[0].attempts, 4);
  EXPECT_EQ(dead[0].last_error, "injected failure");
  ASSERT_TRUE(dead[0].first_failure.has_value());
  EXPECT_EQ(*dead[0].first_failure, t0());
  const auto* counts = notifier().channel_counts("webhook");
  ASSERT_NE(counts, nullptr);
  EXPECT_EQ(counts->failed.load(), 4u);
  EXPECT_EQ(counts->dead.load(), 1u);
  EXPECT_EQ(counts->sent.load(), 0u);
  EXPECT_EQ(notifier().channel_counts("email")->sent.load(), 1u);

  std::ostringstream metrics;
  notifier().append_metrics(metrics);
  EXPECT_THAT(metrics.str(),
              HasSubstr("gavel_notifier_deliveries_total{channel=\"webhook\",result=\"dead\"} 1"));
  EXPECT_THAT(metrics.str(),
              HasSubstr("gavel_notifier_deliveries_total{channel=\"email\",result=\"sent\"} 1"));
}

TEST_F(NotifierTest, APermanentFailureIsDeadLetteredAtOnce) {
  prefer("bob", all_channels("bob"));
  webhook_.fail_next(1, ports::ErrorKind::permanent);
  create();
  place("b1", "bob", 1000);
  drain();
  EXPECT_EQ(webhook_.attempts(), 1u);
  ASSERT_EQ(dead_letters().size(), 1u);
  EXPECT_EQ(dead_letters()[0].attempts, 1);
}

TEST(BackoffTest, DelaysAreFullyJitteredUnderACappedExponentialCeiling) {
  RetryPolicy policy;
  policy.base = std::chrono::seconds(2);
  policy.cap = std::chrono::seconds(30);
  std::mt19937_64 random(7);
  for (int failures = 1; failures <= 8; ++failures) {
    const auto ceiling = std::min<domain::Duration>(std::chrono::seconds(2) * (1 << (failures - 1)),
                                                    std::chrono::seconds(30));
    domain::Duration low = ceiling;
    domain::Duration high{0};
    for (int i = 0; i < 200; ++i) {
      const auto delay = backoff_delay(failures, policy, random);
      ASSERT_GE(delay.count(), 0);
      ASSERT_LE(delay, ceiling) << failures;
      low = std::min(low, delay);
      high = std::max(high, delay);
    }
    // Spread over the whole range, not bunched at the ceiling.
    EXPECT_LT(low, ceiling / 4) << failures;
    EXPECT_GT(high, ceiling * 3 / 4) << failures;
  }
}

// A channel whose sends wait until released: a stuck SMTP server or webhook endpoint.
class StuckChannel final : public ports::NotificationChannel {
 public:
  std::string_view name() const override { return "webhook"; }
  void send(ports::Notice, ports::Callback<void> done) override {
    std::unique_lock lock(mutex_);
    ++calls_;
    called_.notify_all();
    released_.wait(lock, [this] { return release_; });
    done({});
  }
  void release() {
    std::lock_guard lock(mutex_);
    release_ = true;
    released_.notify_all();
  }
  bool wait_for_call() {
    std::unique_lock lock(mutex_);
    return called_.wait_for(lock, std::chrono::seconds(5), [this] { return calls_ > 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable called_;
  std::condition_variable released_;
  int calls_ = 0;
  bool release_ = false;
};

TEST(NotifierThreadsTest, AStuckChannelBlocksNeitherAnotherChannelNorTheEvents) {
  auto clock = std::make_shared<memory::SystemClock>();
  memory::MemoryTopic topic(clock);
  auto subscription = topic.subscribe("notifier");
  memory::MemoryNoticeStore store;
  StuckChannel stuck;
  memory::RecordingChannel email("email");
  ports::Preferences bob{
      true, true, false, "bob@example.com", "", "https://h.example.com/bob", "0123456789abcdef"};
  ports::call_blocking<void>(
      [&](auto done) { store.put_preferences(domain::UserId{"bob"}, bob, done); });
  NotifierOptions options;
  options.receive_wait = std::chrono::milliseconds(20);
  Notifier notifier(*subscription, store, {&stuck, &email}, *clock, options);
  notifier.start();

  // An auction open now on the system clock, ending well after the test.
  auto terms = gavel::testing::terms("a1");
  const auto now = std::chrono::floor<std::chrono::seconds>(clock->now());
  terms.starts_at = now;
  terms.ends_at = now + std::chrono::hours(1);
  domain::Auction auction(terms);
  const auto bid_now = [&](const char* id, const char* bidder, std::int64_t amount) {
    return domain::BidRequest{domain::BidId{id},      domain::UserId{bidder},
                              domain::Amount{amount}, std::nullopt,
                              std::nullopt,           now + std::chrono::seconds(1)};
  };
  const auto publish = [&](const std::vector<domain::Event>& events) {
    std::vector<ports::OutgoingMessage> messages;
    for (const auto& event : events) {
      messages.push_back({event.auction_id.str(), domain::event_id(event), event.at,
                          json::serialize(wire::event_json(event))});
    }
    ports::call_blocking<void>([&](auto done) { topic.publish(std::move(messages), done); });
  };
  std::vector<domain::Event> events;
  auction.announce_creation(now, events);
  auction.place_bid(bid_now("b1", "bob", 1000), events);
  publish(events);
  ASSERT_TRUE(stuck.wait_for_call());  // the webhook is stuck in its send

  // Later events are still consumed and e-mailed while the webhook hangs.
  std::vector<domain::Event> later;
  auction.place_bid(bid_now("b2", "carol", 1500), later);
  publish(later);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (email.delivered().size() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_THAT(who_what(email.delivered()), ElementsAre("bob:leading", "bob:outbid"));
  stuck.release();
  notifier.stop();
}

}  // namespace
}  // namespace gavel::roles::notifier

namespace gavel::roles::notifier {
namespace {

TEST_F(NotifierTest, EndingSoonWaitsForAFirstBidderWhenTheAuctionStartsInsideTheWindow) {
  options_.ending_soon_lead = std::chrono::hours(1);  // longer than the whole auction
  create();
  drain();
  notifier().run_once();  // inside the window, nobody to warn: not spent
  place("b1", "bob", 1000);
  drain();
  notifier().run_once();
  EXPECT_THAT(kinds("bob"), ::testing::Contains("ending_soon"));
}

}  // namespace
}  // namespace gavel::roles::notifier
