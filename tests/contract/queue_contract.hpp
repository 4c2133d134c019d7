#pragma once
// The contract of ports::Queue (ports/queue.hpp), for every adapter.
//
// To run it against an adapter, write a factory and instantiate the suite:
//
//   struct MyQueueFactory {
//     static constexpr bool kSimulatedTime = ...;  // can advance() move the queue's time?
//     ports::QueuePtr make(const QueueConfig& config);  // a new, empty queue
//     domain::Timestamp now();                    // the time the queue sees
//     void advance(domain::Duration by);          // moves that time (only if kSimulatedTime)
//     static constexpr bool kOrdersAcrossKeys = ...;  // optional, default true: does receive
//                                                     // take the oldest key first (one queue),
//                                                     // or only order within a key (partitions)?
//   };
//   INSTANTIATE_TYPED_TEST_SUITE_P(My, QueueContract, ::testing::Types<MyQueueFactory>);
//
// A factory is created per test (and destroyed after it).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "contract/await.hpp"
#include "contract/support.hpp"
#include "ports/queue.hpp"

namespace gavel::contract {

/// The settings a queue is created with. Adapters map them to theirs (SQS: redrive policy
/// maxReceiveCount = max_deliveries).
struct QueueConfig {
  int max_deliveries = 3;
  domain::Duration dedup_window = std::chrono::minutes(5);
  domain::Duration max_lateness = std::chrono::seconds(2);
};

template <typename Factory>
class QueueContract : public ::testing::Test {
 protected:
  using Receipts = std::vector<ports::SendReceipt>;
  using Deliveries = std::vector<ports::Delivery>;

  static constexpr domain::Duration kVisibility = std::chrono::seconds(10);
  static constexpr bool kOrdersAcrossKeys = [] {
    if constexpr (requires { Factory::kOrdersAcrossKeys; }) {
      return Factory::kOrdersAcrossKeys;
    } else {
      return true;
    }
  }();

  void SetUp() override { queue_ = factory_.make(config_); }

  void remake(QueueConfig config) {
    queue_.reset();
    config_ = config;
    queue_ = factory_.make(config_);
  }

  ports::Queue& queue() { return *queue_; }
  domain::Timestamp now() { return factory_.now(); }
  void advance(domain::Duration by) { factory_.advance(by); }

  /// A message; `dedup_id` defaults to the body, `event_time` to now.
  ports::OutgoingMessage msg(std::string key, std::string body,
                             std::optional<std::string> dedup_id = std::nullopt,
                             std::optional<domain::Timestamp> event_time = std::nullopt) {
    std::string dedup = dedup_id.value_or(body);
    return ports::OutgoingMessage{std::move(key), std::move(dedup), event_time.value_or(now()),
                                  std::move(body)};
  }

  ports::Result<Receipts> try_send(std::vector<ports::OutgoingMessage> messages) {
    return await<Receipts>([&](auto done) { queue().send(std::move(messages), done); });
  }

  Receipts send(std::vector<ports::OutgoingMessage> messages) {
    auto result = try_send(std::move(messages));
    if (!result.ok()) {
      ADD_FAILURE() << "send failed: " << describe(result);
      return {};
    }
    return std::move(result.value());
  }

  Deliveries receive(std::size_t max_messages = 10, domain::Duration visibility = kVisibility) {
    auto result = await<Deliveries>([&](auto done) {
      queue().receive(ports::ReceiveOptions{max_messages, domain::Duration::zero(), visibility},
                      done);
    });
    if (!result.ok()) {
      ADD_FAILURE() << "receive failed: " << describe(result);
      return {};
    }
    return std::move(result.value());
  }

  /// Starts a long poll; the caller checks ready() and get()s the answer.
  Pending<Deliveries> receive_waiting(domain::Duration wait, std::size_t max_messages = 10) {
    Pending<Deliveries> pending;
    queue().receive(ports::ReceiveOptions{max_messages, wait, kVisibility}, pending.callback());
    return pending;
  }

  void ack(std::vector<std::string> receipts) {
    auto result = await<void>([&](auto done) { queue().ack(std::move(receipts), done); });
    EXPECT_EQ(describe(result), "ok") << "ack";
  }

  void nack(std::vector<std::string> receipts, std::string reason) {
    auto result =
        await<void>([&](auto done) { queue().nack(std::move(receipts), std::move(reason), done); });
    EXPECT_EQ(describe(result), "ok") << "nack";
  }

  void dead_letter(std::vector<std::string> receipts, std::string reason) {
    auto result = await<void>(
        [&](auto done) { queue().dead_letter(std::move(receipts), std::move(reason), done); });
    EXPECT_EQ(describe(result), "ok") << "dead_letter";
  }

  std::vector<ports::DeadLetter> dead_letters(std::size_t limit = 100) {
    auto result = await<std::vector<ports::DeadLetter>>(
        [&](auto done) { queue().list_dead_letters(limit, done); });
    if (!result.ok()) {
      ADD_FAILURE() << "list_dead_letters failed: " << describe(result);
      return {};
    }
    return std::move(result.value());
  }

  std::size_t redrive(std::vector<std::string> ids) {
    auto result = await<std::size_t>([&](auto done) { queue().redrive(std::move(ids), done); });
    if (!result.ok()) {
      ADD_FAILURE() << "redrive failed: " << describe(result);
      return 0;
    }
    return result.value();
  }

  std::size_t purge() {
    auto result = await<std::size_t>([&](auto done) { queue().purge_dead_letters(done); });
    if (!result.ok()) {
      ADD_FAILURE() << "purge failed: " << describe(result);
      return 0;
    }
    return result.value();
  }

  domain::Timestamp watermark() {
    auto result = await<domain::Timestamp>([&](auto done) { queue().watermark(done); });
    if (!result.ok()) {
      ADD_FAILURE() << "watermark failed: " << describe(result);
      return {};
    }
    return result.value();
  }

  ports::QueueStats stats() {
    auto result = await<ports::QueueStats>([&](auto done) { queue().stats(done); });
    if (!result.ok()) {
      ADD_FAILURE() << "stats failed: " << describe(result);
      return {};
    }
    return std::move(result.value());
  }

  static std::vector<std::string> bodies(const Deliveries& deliveries) {
    std::vector<std::string> out;
    for (const auto& delivery : deliveries) out.push_back(delivery.body);
    return out;
  }

  static std::vector<std::string> receipts_of(const Deliveries& deliveries) {
    std::vector<std::string> out;
    for (const auto& delivery : deliveries) out.push_back(delivery.receipt);
    return out;
  }

  /// Receives and acknowledges until the queue answers nothing; bodies in delivery order,
  /// grouped by ordering key.
  std::map<std::string, std::vector<std::string>> drain(std::size_t max_messages) {
    std::map<std::string, std::vector<std::string>> by_key;
    for (int round = 0; round < 100; ++round) {
      const auto got = receive(max_messages);
      if (got.empty()) return by_key;
      for (const auto& delivery : got) by_key[delivery.ordering_key].push_back(delivery.body);
      ack(receipts_of(got));
    }
    ADD_FAILURE() << "the queue did not drain in 100 rounds";
    return by_key;
  }

  Factory factory_;
  QueueConfig config_;
  ports::QueuePtr queue_;
};

TYPED_TEST_SUITE_P(QueueContract);

// --- send and receive --------------------------------------------------------------------

TYPED_TEST_P(QueueContract, ReceiveDeliversTheSentMessageWithItsFields) {
  const auto event_time = this->now() - std::chrono::milliseconds(250);
  const auto sent = this->send({this->msg("a1", "bid-1", "idem-1", event_time)});
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_FALSE(sent[0].duplicate);
  EXPECT_FALSE(sent[0].message_id.empty());

  const auto got = this->receive();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].message_id, sent[0].message_id);
  EXPECT_EQ(got[0].ordering_key, "a1");
  EXPECT_TIME_EQ(got[0].event_time, event_time);
  EXPECT_EQ(got[0].body, "bid-1");
  EXPECT_EQ(got[0].delivery_count, 1);
  EXPECT_FALSE(got[0].receipt.empty());
}

TYPED_TEST_P(QueueContract, ReceiveOnAnEmptyQueueAnswersNothing) {
  EXPECT_THAT(this->receive(), ::testing::IsEmpty());
}

TYPED_TEST_P(QueueContract, EachSentMessageGetsItsOwnId) {
  const auto sent = this->send({this->msg("a1", "x"), this->msg("a2", "y"), this->msg("a1", "z")});
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_NE(sent[0].message_id, sent[1].message_id);
  EXPECT_NE(sent[0].message_id, sent[2].message_id);
  EXPECT_NE(sent[1].message_id, sent[2].message_id);
}

TYPED_TEST_P(QueueContract, ReceiveAnswersAtMostMaxMessages) {
  this->send({this->msg("a1", "1"), this->msg("a2", "2"), this->msg("a3", "3"),
              this->msg("a4", "4"), this->msg("a5", "5")});
  EXPECT_EQ(this->receive(3).size(), 3u);
  EXPECT_EQ(this->receive(10).size(), 2u);
  EXPECT_THAT(this->receive(10), ::testing::IsEmpty());
}

// --- order per ordering key --------------------------------------------------------------

TYPED_TEST_P(QueueContract, MessagesOfOneKeyAreDeliveredInSendOrder) {
  this->send({this->msg("a1", "1"), this->msg("a1", "2"), this->msg("a1", "3")});
  this->send({this->msg("a1", "4"), this->msg("a1", "5")});
  std::vector<std::string> order;
  for (int i = 0; i < 5; ++i) {
    const auto got = this->receive(1);
    ASSERT_EQ(got.size(), 1u) << "round " << i;
    order.push_back(got[0].body);
    this->ack({got[0].receipt});
  }
  EXPECT_THAT(order, ::testing::ElementsAre("1", "2", "3", "4", "5"));
}

TYPED_TEST_P(QueueContract, InterleavedKeysKeepTheirOwnOrder) {
  this->send({this->msg("a", "a1"), this->msg("b", "b1"), this->msg("a", "a2"),
              this->msg("c", "c1"), this->msg("b", "b2"), this->msg("a", "a3")});
  this->send({this->msg("b", "b3"), this->msg("a", "a4")});
  const auto by_key = this->drain(3);
  EXPECT_THAT(by_key.at("a"), ::testing::ElementsAre("a1", "a2", "a3", "a4"));
  EXPECT_THAT(by_key.at("b"), ::testing::ElementsAre("b1", "b2", "b3"));
  EXPECT_THAT(by_key.at("c"), ::testing::ElementsAre("c1"));
  EXPECT_EQ(by_key.size(), 3u);
}

TYPED_TEST_P(QueueContract, AnInFlightMessageHoldsBackLaterMessagesOfItsKey) {
  this->send({this->msg("a1", "first"), this->msg("a1", "second")});
  const auto first = this->receive(1);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].body, "first");

  EXPECT_THAT(this->receive(10), ::testing::IsEmpty());  // "second" waits for "first"

  this->ack({first[0].receipt});
  const auto second = this->receive(10);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].body, "second");
}

TYPED_TEST_P(QueueContract, AnInFlightKeyDoesNotHoldBackOtherKeys) {
  if (!this->kOrdersAcrossKeys) GTEST_SKIP() << "this queue orders messages within a key only";
  this->send({this->msg("a1", "a-first"), this->msg("a1", "a-second"), this->msg("b1", "b-only")});
  const auto first = this->receive(1);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].body, "a-first");
  EXPECT_THAT(this->bodies(this->receive(10)), ::testing::ElementsAre("b-only"));
}

// --- deduplication -----------------------------------------------------------------------

TYPED_TEST_P(QueueContract, ADuplicateDedupIdAnswersTheFirstIdAndEnqueuesNothing) {
  const auto first = this->send({this->msg("a1", "original", "idem-1")});
  const auto again = this->send({this->msg("a1", "retry", "idem-1")});
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_FALSE(first[0].duplicate);
  EXPECT_TRUE(again[0].duplicate);
  EXPECT_EQ(again[0].message_id, first[0].message_id);

  const auto got = this->receive(10);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, "original");
  this->ack({got[0].receipt});
  EXPECT_THAT(this->receive(10), ::testing::IsEmpty());
}

TYPED_TEST_P(QueueContract, ADuplicateWithinOneSendIsDetected) {
  const auto sent = this->send({this->msg("a1", "one", "idem-1"), this->msg("a1", "two", "idem-1"),
                                this->msg("a1", "three", "idem-3")});
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_FALSE(sent[0].duplicate);
  EXPECT_TRUE(sent[1].duplicate);
  EXPECT_EQ(sent[1].message_id, sent[0].message_id);
  EXPECT_FALSE(sent[2].duplicate);
  EXPECT_THAT(this->drain(10).at("a1"), ::testing::ElementsAre("one", "three"));
}

TYPED_TEST_P(QueueContract, ADedupIdStaysSeenAfterItsMessageWasAcknowledged) {
  const auto first = this->send({this->msg("a1", "original", "idem-1")});
  const auto got = this->receive();
  ASSERT_EQ(got.size(), 1u);
  this->ack({got[0].receipt});

  const auto again = this->send({this->msg("a1", "retry", "idem-1")});
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_TRUE(again[0].duplicate);
  EXPECT_EQ(again[0].message_id, first[0].message_id);
  EXPECT_THAT(this->receive(), ::testing::IsEmpty());
}

TYPED_TEST_P(QueueContract, ADedupIdIsForgottenAfterTheWindow) {
  GAVEL_REQUIRE_SIMULATED_TIME();
  const auto first = this->send({this->msg("a1", "original", "idem-1")});
  this->advance(this->config_.dedup_window - std::chrono::seconds(1));
  const auto inside = this->send({this->msg("a1", "inside", "idem-1", this->now())});
  this->advance(std::chrono::seconds(2));
  const auto after = this->send({this->msg("a1", "after", "idem-1", this->now())});
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(inside.size(), 1u);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_TRUE(inside[0].duplicate);
  EXPECT_EQ(inside[0].message_id, first[0].message_id);
  EXPECT_FALSE(after[0].duplicate);
  EXPECT_NE(after[0].message_id, first[0].message_id);
  EXPECT_THAT(this->drain(10).at("a1"), ::testing::ElementsAre("original", "after"));
}

// A retried request learns what its first attempt sent (the gateway: the first bid's id).
TYPED_TEST_P(QueueContract, ADuplicateAnswersTheFirstBodyWhileTheQueueHoldsIt) {
  const auto first = this->send({this->msg("a1", "original", "idem-1")});
  ASSERT_EQ(first.size(), 1u);
  EXPECT_FALSE(first[0].first_body.has_value());  // not a duplicate: nothing to tell

  const auto waiting = this->send({this->msg("a1", "retry", "idem-1")});
  ASSERT_EQ(waiting.size(), 1u);
  EXPECT_TRUE(waiting[0].duplicate);
  EXPECT_EQ(waiting[0].first_body, std::optional<std::string>{"original"});

  const auto got = this->receive();
  ASSERT_EQ(got.size(), 1u);
  const auto in_flight = this->send({this->msg("a1", "retry", "idem-1")});
  ASSERT_EQ(in_flight.size(), 1u);
  EXPECT_EQ(in_flight[0].first_body, std::optional<std::string>{"original"});

  // Acknowledged: its effects are durable, the queue forgets the body (the id stays seen).
  this->ack({got[0].receipt});
  const auto acked = this->send({this->msg("a1", "retry", "idem-1")});
  ASSERT_EQ(acked.size(), 1u);
  EXPECT_TRUE(acked[0].duplicate);
  EXPECT_EQ(acked[0].message_id, first[0].message_id);
  EXPECT_FALSE(acked[0].first_body.has_value());
}

TYPED_TEST_P(QueueContract, ADuplicateWithinOneSendAnswersTheFirstBody) {
  const auto sent =
      this->send({this->msg("a1", "one", "idem-1"), this->msg("a1", "two", "idem-1")});
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_FALSE(sent[0].first_body.has_value());
  EXPECT_TRUE(sent[1].duplicate);
  EXPECT_EQ(sent[1].first_body, std::optional<std::string>{"one"});
}

TYPED_TEST_P(QueueContract, ADuplicateOfADeadLetterAnswersItsBody) {
  this->send({this->msg("a1", "doomed", "idem-d")});
  const auto got = this->receive();
  ASSERT_EQ(got.size(), 1u);
  this->dead_letter({got[0].receipt}, "unparseable body");
  const auto again = this->send({this->msg("a1", "retry", "idem-d")});
  ASSERT_EQ(again.size(), 1u);
  EXPECT_TRUE(again[0].duplicate);
  EXPECT_EQ(again[0].first_body, std::optional<std::string>{"doomed"});
}

// --- acknowledgement, visibility, nack ---------------------------------------------------

TYPED_TEST_P(QueueContract, AnAcknowledgedMessageNeverComesBack) {
  GAVEL_REQUIRE_SIMULATED_TIME();
  this->send({this->msg("a1", "x")});
  const auto got = this->receive();
  ASSERT_EQ(got.size(), 1u);
  this->ack({got[0].receipt});
  this->advance(this->kVisibility * 3);
  EXPECT_THAT(this->receive(), ::testing::IsEmpty());
}

TYPED_TEST_P(QueueContract, AnUnacknowledgedMessageComesBackAfterItsVisibility) {
  GAVEL_REQUIRE_SIMULATED_TIME();
  const auto sent = this->send({this->msg("a1", "x")});
  const auto first = this->receive(10, this->kVisibility);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(sent.size(), 1u);

  this->advance(this->kVisibility - std::chrono::microseconds(1));
  EXPECT_THAT(this->receive(), ::testing::IsEmpty());

  this->advance(std::chrono::microseconds(1));
  const auto second = this->receive();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].message_id, sent[0].message_id);
  EXPECT_EQ(second[0].body, "x");
  EXPECT_EQ(second[0].delivery_count, 2);
  EXPECT_NE(second[0].receipt, first[0].receipt);
}

TYPED_TEST_P(QueueContract, AnExpiredReceiptIsIgnored) {
  GAVEL_REQUIRE_SIMULATED_TIME();
  this->send({this->msg("a1", "x")});
  const auto first = this->receive();
  ASSERT_EQ(first.size(), 1u);
  this->advance(this->kVisibility);
  const auto second = this->receive();
  ASSERT_EQ(second.size(), 1u);

  this->ack({first[0].receipt});  // stale: the message stays in flight under `second`
  this->advance(this->kVisibility);
  const auto third = this->receive();
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(third[0].delivery_count, 3);
}

TYPED_TEST_P(QueueContract, AnUnknownReceiptIsIgnored) {
  this->send({this->msg("a1", "x")});
  this->ack({"no-such-receipt"});
  this->nack({"no-such-receipt"}, "whatever");
  this->dead_letter({"no-such-receipt"}, "whatever");
  const auto got = this->receive();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].delivery_count, 1);
  EXPECT_THAT(this->dead_letters(), ::testing::IsEmpty());
}

TYPED_TEST_P(QueueContract, NackReturnsTheMessageAtOnceAheadOfLaterOnes) {
  const auto sent = this->send({this->msg("a1", "first"), this->msg("a1", "second")});
  const auto got = this->receive(1);
  ASSERT_EQ(got.size(), 1u);
  this->nack({got[0].receipt}, "store timeout");

  const auto again = this->receive(1);
  ASSERT_EQ(again.size(), 1u);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(again[0].message_id, sent[0].message_id);
  EXPECT_EQ(again[0].body, "first");
  EXPECT_EQ(again[0].delivery_count, 2);
  EXPECT_NE(again[0].receipt, got[0].receipt);
}

// --- dead letters ------------------------------------------------------------------------

TYPED_TEST_P(QueueContract, NackOnTheLastAllowedDeliveryDeadLettersWithTheReason) {
  const auto event_time = this->now() - std::chrono::milliseconds(100);
  const auto sent = this->send({this->msg("a1", "poison", "idem-p", event_time)});
  for (int delivery = 1; delivery <= this->config_.max_deliveries; ++delivery) {
    const auto got = this->receive();
    ASSERT_EQ(got.size(), 1u) << "delivery " << delivery;
    EXPECT_EQ(got[0].delivery_count, delivery);
    this->nack({got[0].receipt}, "engine failed " + std::to_string(delivery));
  }
  EXPECT_THAT(this->receive(), ::testing::IsEmpty());

  const auto dead = this->dead_letters();
  ASSERT_EQ(dead.size(), 1u);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(dead[0].message_id, sent[0].message_id);
  EXPECT_EQ(dead[0].ordering_key, "a1");
  EXPECT_EQ(dead[0].dedup_id, "idem-p");
  EXPECT_TIME_EQ(dead[0].event_time, event_time);
  EXPECT_EQ(dead[0].body, "poison");
  EXPECT_EQ(dead[0].delivery_count, this->config_.max_deliveries);
  EXPECT_EQ(dead[0].reason, "engine failed " + std::to_string(this->config_.max_deliveries));
  EXPECT_LE(dead[0].first_failure, dead[0].last_failure);
}

TYPED_TEST_P(QueueContract, DeadLetterTimesAreTheFirstAndLastFailures) {
  GAVEL_REQUIRE_SIMULATED_TIME();
  this->send({this->msg("a1", "poison")});
  const auto start = this->now();
  for (int delivery = 1; delivery <= this->config_.max_deliveries; ++delivery) {
    const auto got = this->receive();
    ASSERT_EQ(got.size(), 1u) << "delivery " << delivery;
    this->advance(std::chrono::seconds(1));
    this->nack({got[0].receipt}, "failed");
  }
  const auto dead = this->dead_letters();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_TIME_EQ(dead[0].first_failure, start + std::chrono::seconds(1));
  EXPECT_TIME_EQ(dead[0].last_failure, start + std::chrono::seconds(this->config_.max_deliveries));
}

TYPED_TEST_P(QueueContract, VisibilityExpiryAfterTheLastDeliveryDeadLetters) {
  GAVEL_REQUIRE_SIMULATED_TIME();
  const auto sent = this->send({this->msg("a1", "slow"), this->msg("a1", "next")});
  const auto start = this->now();
  for (int delivery = 1; delivery <= this->config_.max_deliveries; ++delivery) {
    const auto got = this->receive(1);
    ASSERT_EQ(got.size(), 1u) << "delivery " << delivery;
    EXPECT_EQ(got[0].body, "slow");
    EXPECT_EQ(got[0].delivery_count, delivery);
    this->advance(this->kVisibility);
  }
  const auto dead = this->dead_letters();
  ASSERT_EQ(dead.size(), 1u);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(dead[0].message_id, sent[0].message_id);
  EXPECT_EQ(dead[0].reason, "max deliveries exceeded");
  EXPECT_EQ(dead[0].delivery_count, this->config_.max_deliveries);
  EXPECT_TIME_EQ(dead[0].first_failure, start + this->kVisibility);
  EXPECT_TIME_EQ(dead[0].last_failure, start + this->kVisibility * this->config_.max_deliveries);

  // The dead letter no longer holds back its key.
  const auto next = this->receive(10);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].body, "next");
  EXPECT_EQ(next[0].delivery_count, 1);
}

TYPED_TEST_P(QueueContract, DeadLetterMovesAtOnceAndReleasesTheKey) {
  const auto sent = this->send({this->msg("a1", "garbage"), this->msg("a1", "fine")});
  const auto got = this->receive(1);
  ASSERT_EQ(got.size(), 1u);
  this->dead_letter({got[0].receipt}, "unparseable body");

  const auto dead = this->dead_letters();
  ASSERT_EQ(dead.size(), 1u);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(dead[0].message_id, sent[0].message_id);
  EXPECT_EQ(dead[0].body, "garbage");
  EXPECT_EQ(dead[0].reason, "unparseable body");
  EXPECT_EQ(dead[0].delivery_count, 1);
  EXPECT_THAT(this->bodies(this->receive(10)), ::testing::ElementsAre("fine"));
}

TYPED_TEST_P(QueueContract, DeadLettersAreListedOldestFirstUpToTheLimit) {
  if (!this->kOrdersAcrossKeys) GTEST_SKIP() << "this queue orders messages within a key only";
  this->send({this->msg("a1", "1"), this->msg("a2", "2"), this->msg("a3", "3")});
  const auto got = this->receive(10);
  ASSERT_EQ(got.size(), 3u);
  std::map<std::string, std::string> receipt_of;
  for (const auto& delivery : got) receipt_of[delivery.body] = delivery.receipt;
  this->dead_letter({receipt_of.at("2")}, "r2");
  this->dead_letter({receipt_of.at("3")}, "r3");
  this->dead_letter({receipt_of.at("1")}, "r1");

  std::vector<std::string> listed;
  for (const auto& letter : this->dead_letters(10)) listed.push_back(letter.body);
  EXPECT_THAT(listed, ::testing::ElementsAre("2", "3", "1"));
  std::vector<std::string> limited;
  for (const auto& letter : this->dead_letters(2)) limited.push_back(letter.body);
  EXPECT_THAT(limited, ::testing::ElementsAre("2", "3"));
}

TYPED_TEST_P(QueueContract, RedriveRequeuesWithAFreshCountAndIsIdempotent) {
  const auto sent = this->send({this->msg("a1", "x")});
  const auto got = this->receive();
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(sent.size(), 1u);
  this->nack({got[0].receipt}, "failed once");
  const auto again = this->receive();
  ASSERT_EQ(again.size(), 1u);
  this->dead_letter({again[0].receipt}, "gave up");

  EXPECT_EQ(this->redrive({sent[0].message_id, "no-such-id"}), 1u);
  EXPECT_EQ(this->redrive({sent[0].message_id}), 0u);
  EXPECT_THAT(this->dead_letters(), ::testing::IsEmpty());

  const auto redriven = this->receive();
  ASSERT_EQ(redriven.size(), 1u);
  EXPECT_EQ(redriven[0].message_id, sent[0].message_id);
  EXPECT_EQ(redriven[0].body, "x");
  EXPECT_EQ(redriven[0].delivery_count, 1);
  this->ack({redriven[0].receipt});
  EXPECT_THAT(this->receive(), ::testing::IsEmpty());
}

TYPED_TEST_P(QueueContract, RedriveAppendsBehindMessagesSentSince) {
  const auto sent = this->send({this->msg("a1", "old")});
  const auto got = this->receive();
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(sent.size(), 1u);
  this->dead_letter({got[0].receipt}, "bad");
  this->send({this->msg("a1", "new")});
  EXPECT_EQ(this->redrive({sent[0].message_id}), 1u);
  EXPECT_THAT(this->drain(1).at("a1"), ::testing::ElementsAre("new", "old"));
}

TYPED_TEST_P(QueueContract, PurgeDeletesEveryDeadLetter) {
  this->send({this->msg("a1", "1"), this->msg("a2", "2")});
  const auto got = this->receive();
  ASSERT_EQ(got.size(), 2u);
  this->dead_letter(this->receipts_of(got), "bad");
  EXPECT_EQ(this->dead_letters().size(), 2u);
  EXPECT_EQ(this->purge(), 2u);
  EXPECT_THAT(this->dead_letters(), ::testing::IsEmpty());
  EXPECT_EQ(this->purge(), 0u);
  EXPECT_THAT(this->receive(), ::testing::IsEmpty());
}

// --- lateness and the watermark ----------------------------------------------------------

TYPED_TEST_P(QueueContract, ALateMessageIsRefusedAsPermanent) {
  const auto too_old = this->now() - this->config_.max_lateness - std::chrono::seconds(1);
  const auto result = this->try_send({this->msg("a1", "late", "idem-late", too_old)});
  EXPECT_EQ(error_kind(result), "permanent");
  EXPECT_THAT(this->receive(), ::testing::IsEmpty());
  // Refused means not seen: the dedup id is still free.
  const auto resent = this->send({this->msg("a1", "on time", "idem-late")});
  ASSERT_EQ(resent.size(), 1u);
  EXPECT_FALSE(resent[0].duplicate);
}

// Many gateways' connections send at once, and an adapter may send them together: a late one
// is refused alone, the others are all enqueued.
TYPED_TEST_P(QueueContract, ALateSendAmongConcurrentOnesRefusesOnlyItself) {
  constexpr int kSenders = 16;
  const auto too_old = this->now() - this->config_.max_lateness - std::chrono::seconds(1);
  std::vector<std::string> outcome(kSenders);
  std::vector<std::thread> senders;
  for (int i = 0; i < kSenders; ++i) {
    senders.emplace_back([&, i] {
      const std::string body = "bid-" + std::to_string(i);
      auto sent = this->try_send(
          {i == 0 ? this->msg("a1", body, body, too_old) : this->msg(i % 2 ? "a1" : "a2", body)});
      outcome[i] = error_kind(sent);
    });
  }
  for (auto& sender : senders) sender.join();
  EXPECT_EQ(outcome[0], "permanent");
  for (int i = 1; i < kSenders; ++i) EXPECT_EQ(outcome[i], "none (ok)") << "sender " << i;
  std::size_t enqueued = 0;
  for (const auto& [key, bodies] : this->drain(100)) enqueued += bodies.size();
  EXPECT_EQ(enqueued, static_cast<std::size_t>(kSenders - 1));
}

TYPED_TEST_P(QueueContract, ALateMessageRefusesItsWholeSend) {
  const auto too_old = this->now() - this->config_.max_lateness - std::chrono::seconds(1);
  const auto result =
      this->try_send({this->msg("a1", "on time"), this->msg("a2", "late", "late", too_old)});
  EXPECT_EQ(error_kind(result), "permanent");
  EXPECT_THAT(this->receive(), ::testing::IsEmpty());
}

TYPED_TEST_P(QueueContract, AMessageExactlyAtTheLatenessBoundIsAccepted) {
  GAVEL_REQUIRE_SIMULATED_TIME();
  const auto bound = this->now() - this->config_.max_lateness;
  const auto accepted = this->try_send({this->msg("a1", "just in time", "ok", bound)});
  EXPECT_EQ(describe(accepted), "ok");
  const auto refused =
      this->try_send({this->msg("a1", "just late", "late", bound - std::chrono::microseconds(1))});
  EXPECT_EQ(error_kind(refused), "permanent");
}

TYPED_TEST_P(QueueContract, TheWatermarkOfAnIdleQueueIsNowMinusTheLatenessBound) {
  GAVEL_REQUIRE_SIMULATED_TIME();
  EXPECT_TIME_EQ(this->watermark(), this->now() - this->config_.max_lateness);
  this->advance(std::chrono::seconds(7));
  EXPECT_TIME_EQ(this->watermark(), this->now() - this->config_.max_lateness);
}

TYPED_TEST_P(QueueContract, TheWatermarkWaitsForTheOldestUnsettledMessage) {
  if (!this->kOrdersAcrossKeys) GTEST_SKIP() << "receive(1) takes the oldest key here";
  GAVEL_REQUIRE_SIMULATED_TIME();
  const auto t = this->now();
  this->send({this->msg("a1", "first", "1", t - std::chrono::seconds(1)),
              this->msg("a1", "second", "2", t - std::chrono::milliseconds(500)),
              this->msg("a2", "other", "3", t)});
  this->advance(std::chrono::seconds(10));
  EXPECT_TIME_EQ(this->watermark(), t - std::chrono::seconds(1));

  // Delivered is not settled: another consumer may still be judging "first".
  const auto got = this->receive(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, "first");
  EXPECT_TIME_EQ(this->watermark(), t - std::chrono::seconds(1));

  // Back in the queue it still holds the watermark; acknowledged, it lets it go.
  this->nack({got[0].receipt}, "retry");
  EXPECT_TIME_EQ(this->watermark(), t - std::chrono::seconds(1));
  const auto again = this->receive(1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].body, "first");
  this->ack({again[0].receipt});
  EXPECT_TIME_EQ(this->watermark(), t - std::chrono::milliseconds(500));
  this->drain(10);
  EXPECT_TIME_EQ(this->watermark(), this->now() - this->config_.max_lateness);
}

TYPED_TEST_P(QueueContract, ADeadLetterNoLongerHoldsTheWatermarkNorDoesItsRedrive) {
  if (!this->kOrdersAcrossKeys) GTEST_SKIP() << "receive(1) takes the oldest key here";
  GAVEL_REQUIRE_SIMULATED_TIME();
  const auto t = this->now();
  this->send({this->msg("a1", "poison", "1", t - std::chrono::seconds(1)),
              this->msg("a2", "later", "2", t)});
  this->advance(std::chrono::seconds(10));
  const auto got = this->receive(1);
  ASSERT_EQ(got.size(), 1u);
  this->dead_letter({got[0].receipt}, "bad");
  EXPECT_TIME_EQ(this->watermark(), t);
  EXPECT_EQ(this->redrive({got[0].message_id}), 1u);
  EXPECT_TIME_EQ(this->watermark(), t);
}

TYPED_TEST_P(QueueContract, TheWatermarkIsNeverAheadOfTheLatenessBound) {
  GAVEL_REQUIRE_SIMULATED_TIME();
  this->send({this->msg("a1", "recent", "1", this->now())});
  EXPECT_TIME_EQ(this->watermark(), this->now() - this->config_.max_lateness);
}

TYPED_TEST_P(QueueContract, TheWatermarkIsBelowEveryUndeliveredMessage) {
  // Without simulated time: the promise itself, not its exact value.
  const auto oldest = this->now() - std::chrono::milliseconds(1500);
  this->send({this->msg("a1", "x", "1", this->now()), this->msg("a2", "y", "2", oldest)});
  EXPECT_LE(this->watermark(), oldest);
}

// --- long polls --------------------------------------------------------------------------

TYPED_TEST_P(QueueContract, ALongPollIsAnsweredByALaterSend) {
  auto pending = this->receive_waiting(std::chrono::seconds(20));
  EXPECT_FALSE(pending.ready());
  this->send({this->msg("a1", "arrived")});
  auto result = pending.get();
  ASSERT_EQ(describe(result), "ok");
  ASSERT_EQ(result.value().size(), 1u);
  EXPECT_EQ(result.value()[0].body, "arrived");
  EXPECT_EQ(result.value()[0].delivery_count, 1);
  // The message went to the long poll, not to anyone else.
  EXPECT_THAT(this->receive(), ::testing::IsEmpty());
}

TYPED_TEST_P(QueueContract, ALongPollAnswersNothingWhenTheWaitExpires) {
  GAVEL_REQUIRE_SIMULATED_TIME();
  auto pending = this->receive_waiting(std::chrono::seconds(20));
  this->advance(std::chrono::seconds(20) - std::chrono::microseconds(1));
  EXPECT_FALSE(pending.ready());
  this->advance(std::chrono::microseconds(1));
  ASSERT_TRUE(pending.ready());
  auto result = pending.get();
  ASSERT_EQ(describe(result), "ok");
  EXPECT_THAT(result.value(), ::testing::IsEmpty());
  // A message sent afterwards is not swallowed by the finished poll.
  this->send({this->msg("a1", "later")});
  EXPECT_THAT(this->bodies(this->receive()), ::testing::ElementsAre("later"));
  EXPECT_EQ(pending.calls(), 1);
}

TYPED_TEST_P(QueueContract, ALongPollIsAnsweredOnceOnly) {
  GAVEL_REQUIRE_SIMULATED_TIME();
  auto pending = this->receive_waiting(std::chrono::seconds(5));
  this->send({this->msg("a1", "x")});
  ASSERT_TRUE(pending.ready());
  this->advance(std::chrono::seconds(30));
  EXPECT_EQ(pending.calls(), 1);
}

TYPED_TEST_P(QueueContract, ALongPollIsAnsweredByAMessageWhoseVisibilityExpired) {
  GAVEL_REQUIRE_SIMULATED_TIME();
  this->send({this->msg("a1", "x")});
  ASSERT_EQ(this->receive().size(), 1u);
  auto pending = this->receive_waiting(std::chrono::seconds(20));
  this->advance(this->kVisibility - std::chrono::microseconds(1));
  EXPECT_FALSE(pending.ready());
  this->advance(std::chrono::microseconds(1));
  ASSERT_TRUE(pending.ready());
  auto result = pending.get();
  ASSERT_EQ(describe(result), "ok");
  ASSERT_EQ(result.value().size(), 1u);
  EXPECT_EQ(result.value()[0].body, "x");
  EXPECT_EQ(result.value()[0].delivery_count, 2);
}

TYPED_TEST_P(QueueContract, ALongPollIsAnsweredWhenAnAckReleasesItsKey) {
  this->send({this->msg("a1", "first"), this->msg("a1", "second")});
  const auto got = this->receive(1);
  ASSERT_EQ(got.size(), 1u);
  auto pending = this->receive_waiting(std::chrono::seconds(20));
  EXPECT_FALSE(pending.ready());
  this->ack({got[0].receipt});
  auto result = pending.get();
  ASSERT_EQ(describe(result), "ok");
  EXPECT_THAT(this->bodies(result.value()), ::testing::ElementsAre("second"));
}

// --- statistics ---------------------------------------------------------------------------

TYPED_TEST_P(QueueContract, TheStatsOfAnEmptyQueueAreZero) {
  const auto stats = this->stats();
  EXPECT_EQ(stats.waiting, 0u);
  EXPECT_EQ(stats.in_flight, 0u);
  EXPECT_EQ(stats.depth(), 0u);
  EXPECT_FALSE(stats.oldest_event_time.has_value());
  EXPECT_EQ(stats.dead_letters, 0u);
}

TYPED_TEST_P(QueueContract, TheStatsCountWaitingAndInFlightMessagesAndTheOldest) {
  if (!this->kOrdersAcrossKeys) GTEST_SKIP() << "receive(1) takes the oldest key here";
  const auto older = this->now() - std::chrono::milliseconds(900);
  const auto newer = this->now() - std::chrono::milliseconds(400);
  const auto newest = this->now();
  this->send({this->msg("a1", "1", "1", older), this->msg("a1", "2", "2", newer),
              this->msg("a2", "3", "3", newest)});
  auto stats = this->stats();
  EXPECT_EQ(stats.waiting, 3u);
  EXPECT_EQ(stats.in_flight, 0u);
  ASSERT_TRUE(stats.oldest_event_time.has_value());
  EXPECT_TIME_EQ(*stats.oldest_event_time, older);

  const auto got = this->receive(1);  // the oldest: "1"; "2" is held back behind it
  ASSERT_EQ(got.size(), 1u);
  stats = this->stats();
  EXPECT_EQ(stats.waiting, 2u);
  EXPECT_EQ(stats.in_flight, 1u);
  EXPECT_EQ(stats.depth(), 3u);
  ASSERT_TRUE(stats.oldest_event_time.has_value());
  EXPECT_TIME_EQ(*stats.oldest_event_time, older);  // in flight still counts

  this->ack(this->receipts_of(got));
  stats = this->stats();
  EXPECT_EQ(stats.depth(), 2u);
  ASSERT_TRUE(stats.oldest_event_time.has_value());
  EXPECT_TIME_EQ(*stats.oldest_event_time, newer);

  this->drain(10);
  stats = this->stats();
  EXPECT_EQ(stats.depth(), 0u);
  EXPECT_FALSE(stats.oldest_event_time.has_value());
}

TYPED_TEST_P(QueueContract, TheStatsCountANackedMessageAsWaiting) {
  const auto event_time = this->now() - std::chrono::milliseconds(300);
  this->send({this->msg("a1", "x", "x", event_time), this->msg("a1", "y")});
  const auto got = this->receive(1);
  ASSERT_EQ(got.size(), 1u);
  this->nack(this->receipts_of(got), "try again");
  const auto stats = this->stats();
  EXPECT_EQ(stats.waiting, 2u);
  EXPECT_EQ(stats.in_flight, 0u);
  ASSERT_TRUE(stats.oldest_event_time.has_value());
  EXPECT_TIME_EQ(*stats.oldest_event_time, event_time);
}

TYPED_TEST_P(QueueContract, TheStatsCountDeadLettersApartFromTheDepth) {
  const auto sent = this->send({this->msg("a1", "bad"), this->msg("a2", "good")});
  ASSERT_EQ(sent.size(), 2u);
  const auto got = this->receive(10);
  ASSERT_EQ(got.size(), 2u);
  this->dead_letter({got[0].receipt}, "unparseable");
  auto stats = this->stats();
  EXPECT_EQ(stats.waiting, 0u);
  EXPECT_EQ(stats.in_flight, 1u);
  EXPECT_EQ(stats.dead_letters, 1u);

  EXPECT_EQ(this->redrive({got[0].message_id}), 1u);
  stats = this->stats();
  EXPECT_EQ(stats.waiting, 1u);
  EXPECT_EQ(stats.in_flight, 1u);
  EXPECT_EQ(stats.dead_letters, 0u);
}

TYPED_TEST_P(QueueContract, TheStatsCountAnExpiredDeliveryAsWaitingAgain) {
  GAVEL_REQUIRE_SIMULATED_TIME();
  this->send({this->msg("a1", "x")});
  ASSERT_EQ(this->receive(10, this->kVisibility).size(), 1u);
  EXPECT_EQ(this->stats().in_flight, 1u);
  this->advance(this->kVisibility);
  const auto stats = this->stats();
  EXPECT_EQ(stats.waiting, 1u);
  EXPECT_EQ(stats.in_flight, 0u);
  EXPECT_EQ(stats.dead_letters, 0u);
}

REGISTER_TYPED_TEST_SUITE_P(
    QueueContract, ReceiveDeliversTheSentMessageWithItsFields, ReceiveOnAnEmptyQueueAnswersNothing,
    EachSentMessageGetsItsOwnId, ReceiveAnswersAtMostMaxMessages,
    MessagesOfOneKeyAreDeliveredInSendOrder, InterleavedKeysKeepTheirOwnOrder,
    AnInFlightMessageHoldsBackLaterMessagesOfItsKey, AnInFlightKeyDoesNotHoldBackOtherKeys,
    ADuplicateDedupIdAnswersTheFirstIdAndEnqueuesNothing, ADuplicateWithinOneSendIsDetected,
    ADedupIdStaysSeenAfterItsMessageWasAcknowledged, ADedupIdIsForgottenAfterTheWindow,
    ADuplicateAnswersTheFirstBodyWhileTheQueueHoldsIt, ADuplicateWithinOneSendAnswersTheFirstBody,
    ADuplicateOfADeadLetterAnswersItsBody, AnAcknowledgedMessageNeverComesBack,
    AnUnacknowledgedMessageComesBackAfterItsVisibility, AnExpiredReceiptIsIgnored,
    AnUnknownReceiptIsIgnored, NackReturnsTheMessageAtOnceAheadOfLaterOnes,
    NackOnTheLastAllowedDeliveryDeadLettersWithTheReason, DeadLetterTimesAreTheFirstAndLastFailures,
    VisibilityExpiryAfterTheLastDeliveryDeadLetters, DeadLetterMovesAtOnceAndReleasesTheKey,
    DeadLettersAreListedOldestFirstUpToTheLimit, RedriveRequeuesWithAFreshCountAndIsIdempotent,
    RedriveAppendsBehindMessagesSentSince, PurgeDeletesEveryDeadLetter,
    ALateMessageIsRefusedAsPermanent, ALateSendAmongConcurrentOnesRefusesOnlyItself,
    ALateMessageRefusesItsWholeSend, AMessageExactlyAtTheLatenessBoundIsAccepted,
    TheWatermarkOfAnIdleQueueIsNowMinusTheLatenessBound,
    TheWatermarkWaitsForTheOldestUnsettledMessage,
    ADeadLetterNoLongerHoldsTheWatermarkNorDoesItsRedrive,
    TheWatermarkIsNeverAheadOfTheLatenessBound, TheWatermarkIsBelowEveryUndeliveredMessage,
    ALongPollIsAnsweredByALaterSend, ALongPollAnswersNothingWhenTheWaitExpires,
    ALongPollIsAnsweredOnceOnly, ALongPollIsAnsweredByAMessageWhoseVisibilityExpired,
    ALongPollIsAnsweredWhenAnAckReleasesItsKey, TheStatsOfAnEmptyQueueAreZero,
    TheStatsCountWaitingAndInFlightMessagesAndTheOldest, TheStatsCountANackedMessageAsWaiting,
    TheStatsCountDeadLettersApartFromTheDepth, TheStatsCountAnExpiredDeliveryAsWaitingAgain);

}  // namespace gavel::contract
