// The audit trail's pure parts and the auditor role, on memory adapters and simulated time:
// the hash chain catches altered, removed and reordered entries; the auditor appends the feed
// in order, dedupes redeliveries and acknowledges only what the log holds.
#include "roles/auditor/auditor.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "adapters/memory/memory_audit_log.hpp"
#include "adapters/memory/memory_topic.hpp"
#include "adapters/memory/simulated_clock.hpp"
#include "ports/blocking.hpp"
#include "ports/wire/audit_chain.hpp"
#include "support/audit_feed.hpp"

namespace gavel::roles {
namespace {

namespace memory = adapters::memory;
using ports::AuditEntry;

std::vector<ports::OutgoingMessage> flat_feed() {
  std::vector<ports::OutgoingMessage> all;
  for (auto& batch : testing::sample_audit_feed()) {
    for (auto& message : batch) all.push_back(std::move(message));
  }
  return all;
}

std::vector<AuditEntry> read_log(ports::AuditLog& log) {
  auto entries = ports::call_blocking<std::vector<AuditEntry>>(
      [&](auto done) { log.entries(0, 1000, std::move(done)); });
  EXPECT_TRUE(entries.ok());
  return entries.ok() ? entries.value() : std::vector<AuditEntry>{};
}

/// The sample feed appended straight to a memory log: a genuine chain.
std::vector<AuditEntry> genuine_chain() {
  memory::MemoryAuditLog log;
  std::vector<ports::AuditAppend> appends;
  for (const auto& message : flat_feed()) {
    const auto record = std::get<wire::AuditRecord>(wire::parse_audit_record(message.body));
    appends.push_back({record.key, record.auction_id, std::string(wire::to_string(record.kind)),
                       record.occurred_at, message.body});
  }
  EXPECT_TRUE(ports::call_blocking<std::vector<ports::AuditAppendOutcome>>([&](auto done) {
                log.append(appends, std::move(done));
              }).ok());
  return read_log(log);
}

std::string problem_of(const std::vector<AuditEntry>& entries) {
  const auto problem = wire::verify_chain(entries);
  if (!problem) return "ok";
  return std::to_string(problem->seq) + " " + std::string(wire::to_string(problem->fault));
}

// --- the feed ----------------------------------------------------------------------------

TEST(AuditFeed, RecordsEveryCommandWithItsDecisionAndEveryEvent) {
  const auto feed = testing::sample_audit_feed();
  ASSERT_EQ(feed.size(), 4u);
  // Batch 2: two bids, then their events (opened, b1 accepted, b2 accepted, u1 outbid).
  ASSERT_EQ(feed[1].size(), 6u);
  EXPECT_EQ(feed[1][0].dedup_id, "command:b1");
  EXPECT_EQ(feed[1][0].ordering_key, "a1");
  EXPECT_EQ(domain::format_rfc3339(feed[1][0].event_time), "2026-11-28T10:00:10Z");
  const auto body = boost::json::parse(feed[1][1].body).as_object();
  EXPECT_EQ(body.at("type"), "command");
  EXPECT_EQ(body.at("command").at("bidderId"), "u2");
  EXPECT_EQ(body.at("command").at("gatewayId"), "gw-1");
  EXPECT_EQ(body.at("decision").at("accepted"), true);
  EXPECT_EQ(body.at("decision").at("price"), 1500);
  const auto recorded = std::get<wire::RecordedCommand>(wire::parse_command_record(body));
  EXPECT_EQ(recorded.envelope.gateway_id, "gw-1");
  EXPECT_EQ(recorded.envelope.command_id, "b2");
  EXPECT_EQ(recorded.decision.price.minor_units(), 1500);
  EXPECT_TRUE(recorded.decision.leading);
  EXPECT_EQ(feed[1][2].dedup_id, "event:a1:2");
  EXPECT_EQ(boost::json::parse(feed[1][2].body).at("event").at("type"), "auction.opened");
}

TEST(AuditFeed, ParsesBackToTheKeyTheMessageWasPublishedUnder) {
  for (const auto& message : flat_feed()) {
    auto record = wire::parse_audit_record(message.body);
    ASSERT_TRUE(std::holds_alternative<wire::AuditRecord>(record)) << message.body;
    EXPECT_EQ(std::get<wire::AuditRecord>(record).key, message.dedup_id);
    EXPECT_EQ(std::get<wire::AuditRecord>(record).occurred_at, message.event_time);
  }
}

TEST(AuditFeed, ACommandWithoutIdGetsADeterministicKey) {
  wire::CommandEnvelope envelope;
  envelope.command = domain::CancelAuction{
      domain::AuctionId{"a9"}, {domain::UserId{"s"}, false}, "", testing::at(5)};
  domain::Decision decision;
  decision.event_number = 3;
  const auto messages = wire::audit_messages({envelope}, {decision}, {});
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].dedup_id, "command:a9:cancel:2026-11-28T10:00:05Z:3");
  EXPECT_EQ(std::get<wire::AuditRecord>(wire::parse_audit_record(messages[0].body)).key,
            messages[0].dedup_id);
}

TEST(AuditFeed, ABodyThatIsNotARecordNamesItsProblem) {
  const auto error = [](std::string_view text) {
    auto parsed = wire::parse_audit_record(text);
    const auto* field_error = std::get_if<wire::FieldError>(&parsed);
    return field_error == nullptr ? std::string("parsed")
                                  : field_error->field + ": " + field_error->message;
  };
  EXPECT_EQ(error(R"({"type":"gossip"})"),
            "type: unknown record type \"gossip\" (expected command or event)");
  EXPECT_EQ(error(R"({"type":"event","event":{"id":"a1:1","auctionId":"a1"}})"),
            "event.at: at is required");
  EXPECT_EQ(error(R"({"type":"command","command":{"op":"cancel"},"decision":{}})"),
            "command.auctionId: auctionId is required");
}

// --- the chain ---------------------------------------------------------------------------

TEST(AuditChain, CanonicalJsonSortsKeysRecursivelyWithoutWhitespace) {
  EXPECT_EQ(wire::canonicalize(R"( {"b": [ {"d":1, "c":"x"} ], "a": null} )"),
            R"({"a":null,"b":[{"c":"x","d":1}]})");
  EXPECT_EQ(wire::canonicalize("{nope"), std::nullopt);
}

TEST(AuditChain, HashIsSha256OfLinkSeqKeyAndBody) {
  // sha256("prev\n7\nk\n{}"), computed independently with sha256sum.
  EXPECT_EQ(wire::entry_hash("prev", 7, "k", "{}"),
            "828ed3b5e5118092646ccd344fa971a22c876e3f653a7e348ac63678d99f434c");
}

TEST(AuditChain, AGenuineChainVerifies) {
  const auto entries = genuine_chain();
  ASSERT_GE(entries.size(), 10u);
  EXPECT_EQ(problem_of(entries), "ok");
}

TEST(AuditChain, AnAlteredBodyIsFoundAtItsEntry) {
  auto entries = genuine_chain();
  auto& body = entries[3].body;  // the command record of bid b2
  body.replace(body.find("1500"), 4, "1600");
  EXPECT_EQ(problem_of(entries), "4 altered");
}

TEST(AuditChain, AnAlteredColumnOutsideTheHashIsFound) {
  auto entries = genuine_chain();
  entries[3].auction_id = domain::AuctionId{"a2"};
  EXPECT_EQ(problem_of(entries), "4 altered");
}

TEST(AuditChain, ARemovedEntryIsFoundWhereItWas) {
  auto entries = genuine_chain();
  entries.erase(entries.begin() + 5);
  EXPECT_EQ(problem_of(entries), "6 removed");
  entries.erase(entries.begin());
  EXPECT_EQ(problem_of(entries), "1 removed");
}

TEST(AuditChain, TwoSwappedEntriesAreFoundAsReordered) {
  auto entries = genuine_chain();
  std::swap(entries[6], entries[7]);
  EXPECT_EQ(problem_of(entries), "7 reordered");
}

TEST(AuditChain, SwappedContentUnderKeptNumbersIsFoundAsReordered) {
  auto entries = genuine_chain();
  std::swap(entries[6], entries[7]);
  std::swap(entries[6].seq, entries[7].seq);
  EXPECT_EQ(problem_of(entries), "7 reordered");
}

TEST(AuditChain, ARewrittenEntryWithARecomputedHashBreaksTheNextLink) {
  auto entries = genuine_chain();
  auto& entry = entries[3];
  entry.body.replace(entry.body.find("1500"), 4, "1600");
  entry.hash = wire::entry_hash(entry.prev_hash, entry.seq, entry.key, entry.body);
  EXPECT_EQ(problem_of(entries), "5 broken link");
}

// --- the role ----------------------------------------------------------------------------

/// A subscription that counts acks and can lose them (the ack answers an error, as a network
/// failure would), wrapping the real one.
class CountingSubscription final : public ports::Subscription {
 public:
  explicit CountingSubscription(ports::SubscriptionPtr inner) : inner_(std::move(inner)) {}
  void receive(std::size_t max, domain::Duration wait, domain::Duration visibility,
               ports::Callback<std::vector<ports::Delivery>> done) override {
    inner_->receive(max, wait, visibility, std::move(done));
  }
  void ack(std::vector<std::string> receipts, ports::Callback<void> done) override {
    if (lose_acks) {
      done(ports::Error{ports::ErrorKind::retryable, "ack lost"});
      return;
    }
    acked += receipts.size();
    inner_->ack(std::move(receipts), std::move(done));
  }
  bool lose_acks = false;
  std::size_t acked = 0;

 private:
  ports::SubscriptionPtr inner_;
};

/// A log whose next appends fail (fault injection by wrapping the real adapter).
class FailingAuditLog final : public ports::AuditLog {
 public:
  explicit FailingAuditLog(ports::AuditLog& inner) : inner_(inner) {}
  int failures = 0;
  void append(std::vector<ports::AuditAppend> entries,
              ports::Callback<std::vector<ports::AuditAppendOutcome>> done) override {
    if (failures > 0) {
      --failures;
      done(ports::Error{ports::ErrorKind::retryable, "injected failure"});
      return;
    }
    inner_.append(std::move(entries), std::move(done));
  }
  void entries_for_auction(const domain::AuctionId& id, std::uint64_t after, std::size_t limit,
                           ports::Callback<std::vector<AuditEntry>> done) override {
    inner_.entries_for_auction(id, after, limit, std::move(done));
  }
  void entries(std::uint64_t after, std::size_t limit,
               ports::Callback<std::vector<AuditEntry>> done) override {
    inner_.entries(after, limit, std::move(done));
  }
  void head(ports::Callback<ports::AuditHead> done) override { inner_.head(std::move(done)); }

 private:
  ports::AuditLog& inner_;
};

class AuditorTest : public ::testing::Test {
 protected:
  static constexpr auto kVisibility = std::chrono::seconds(30);

  AuditorTest()
      : topic_(clock_),
        subscription_(topic_.subscribe("auditor")),
        failing_log_(log_),
        auditor_(
            subscription_, failing_log_,
            AuditorOptions{100, domain::Duration::zero(), kVisibility, domain::Duration::zero()}) {}

  void publish(std::vector<ports::OutgoingMessage> messages) {
    ASSERT_TRUE(ports::call_blocking<void>([&](auto done) {
                  topic_.publish(std::move(messages), std::move(done));
                }).ok());
  }

  std::shared_ptr<memory::SimulatedClock> clock_ = std::make_shared<memory::SimulatedClock>();
  memory::MemoryTopic topic_;
  CountingSubscription subscription_;
  memory::MemoryAuditLog log_;
  FailingAuditLog failing_log_;
  Auditor auditor_;
};

TEST_F(AuditorTest, AppendsThePublishedFeedInOrderAsAValidChain) {
  const auto feed = testing::sample_audit_feed();
  for (const auto& batch : feed) publish(batch);
  std::size_t appended = 0;
  for (int i = 0; i < 10 && appended < flat_feed().size(); ++i) {
    appended += auditor_.run_once().appended;
  }
  const auto entries = read_log(log_);
  const auto published = flat_feed();
  ASSERT_EQ(entries.size(), published.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i].key, published[i].dedup_id) << "entry " << i + 1;
  }
  EXPECT_EQ(problem_of(entries), "ok");
  EXPECT_EQ(auditor_.stats().appended.load(), published.size());
  EXPECT_EQ(subscription_.acked, published.size());
}

TEST_F(AuditorTest, ARedeliveredRecordIsADuplicateNotASecondEntry) {
  publish(testing::sample_audit_feed()[1]);
  subscription_.lose_acks = true;
  const AuditorStep first = auditor_.run_once();
  EXPECT_EQ(first.appended, 6u);
  EXPECT_TRUE(first.failed);
  subscription_.lose_acks = false;
  clock_->advance_by(kVisibility + std::chrono::seconds(1));
  const AuditorStep again = auditor_.run_once();
  EXPECT_EQ(again.received, 6u);
  EXPECT_EQ(again.appended, 0u);
  EXPECT_EQ(again.duplicates, 6u);
  EXPECT_EQ(read_log(log_).size(), 6u);
  EXPECT_EQ(auditor_.stats().duplicates.load(), 6u);
  EXPECT_EQ(subscription_.acked, 6u);
}

TEST_F(AuditorTest, TellsTheKeysOfEachBatchOnceInTheLogAndNotBefore) {
  std::vector<std::string> told;
  auditor_.on_appended([&told](std::vector<std::string> keys) {
    told.insert(told.end(), keys.begin(), keys.end());
  });
  publish(testing::sample_audit_feed()[1]);
  failing_log_.failures = 1;  // held: not in the log yet, so not told
  EXPECT_TRUE(auditor_.run_once().failed);
  EXPECT_TRUE(told.empty());
  EXPECT_EQ(auditor_.run_once().appended, 6u);
  const auto feed = testing::sample_audit_feed();
  std::vector<std::string> published;
  for (const auto& message : feed[1]) published.push_back(message.dedup_id);
  EXPECT_EQ(told, published);
}

TEST_F(AuditorTest, AcknowledgesOnlyAfterTheAppendSucceeded) {
  const auto feed = testing::sample_audit_feed();
  publish(feed[0]);
  failing_log_.failures = 1;
  const AuditorStep failed = auditor_.run_once();
  EXPECT_TRUE(failed.failed);
  EXPECT_EQ(subscription_.acked, 0u);
  EXPECT_TRUE(read_log(log_).empty());
  EXPECT_EQ(auditor_.stats().failures.load(), 1u);

  // Newer records wait until the held batch is in the log, so the log keeps the feed's order.
  publish(feed[1]);
  const AuditorStep retried = auditor_.run_once();
  EXPECT_FALSE(retried.failed);
  EXPECT_EQ(retried.received, 0u);
  EXPECT_EQ(retried.appended, feed[0].size());
  EXPECT_EQ(subscription_.acked, feed[0].size());
  auditor_.run_once();
  const auto entries = read_log(log_);
  ASSERT_EQ(entries.size(), feed[0].size() + feed[1].size());
  EXPECT_EQ(entries.front().key, "command:a1");
  EXPECT_EQ(entries.back().key, feed[1].back().dedup_id);
}

TEST_F(AuditorTest, AnUnparseableMessageIsCountedAcknowledgedAndSkipped) {
  auto batch = testing::sample_audit_feed()[0];
  batch.insert(batch.begin(), ports::OutgoingMessage{"a1", "junk-1", clock_->now(), "not json"});
  publish(batch);
  const AuditorStep step = auditor_.run_once();
  EXPECT_FALSE(step.failed);
  EXPECT_EQ(step.appended, batch.size() - 1);
  EXPECT_EQ(auditor_.stats().unparseable.load(), 1u);
  EXPECT_EQ(subscription_.acked, batch.size());
  clock_->advance_by(kVisibility + std::chrono::seconds(1));
  EXPECT_EQ(auditor_.run_once().received, 0u);
}

TEST_F(AuditorTest, StartAndStopRunTheLoopOnItsOwnThread) {
  publish(testing::sample_audit_feed()[0]);
  auditor_.start();
  for (int i = 0; i < 2000 && auditor_.stats().appended.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  auditor_.stop();
  EXPECT_EQ(read_log(log_).size(), testing::sample_audit_feed()[0].size());
}

}  // namespace
}  // namespace gavel::roles
