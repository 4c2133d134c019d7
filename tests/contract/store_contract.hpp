#pragma once
// The contract of ports::Store (ports/store.hpp), for every adapter.
//
//   struct MyStoreFactory {
//     ports::StorePtr make();  // a new, empty store (a fresh schema or database)
//   };
//   INSTANTIATE_TYPED_TEST_SUITE_P(My, StoreContract, ::testing::Types<MyStoreFactory>);

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "contract/await.hpp"
#include "contract/support.hpp"
#include "ports/store.hpp"

namespace gavel::contract {

/// Test values: auctions, bids and events with every field set, so that a store that drops or
/// mangles one is caught.
struct StoreSamples {
  static domain::Timestamp t0() { return *domain::parse_rfc3339("2026-11-28T10:00:00Z"); }

  static domain::AuctionTerms terms(const std::string& id) {
    domain::AuctionTerms terms;
    terms.id = domain::AuctionId{id};
    terms.seller_id = domain::UserId{"seller-" + id};
    terms.title = "Lot " + id + " — \"quoted\", ünïcode";
    terms.currency = *domain::Currency::parse("EUR");
    terms.starting_price = domain::Amount{1000};
    terms.starts_at = t0();
    terms.ends_at = t0() + std::chrono::minutes(10);
    terms.reserve_price = domain::Amount{5000};
    terms.buy_now_price = domain::Amount{90000};
    terms.soft_close = std::chrono::seconds(30);
    terms.extension = std::chrono::seconds(60);
    terms.max_ends_at = t0() + std::chrono::hours(1);
    terms.increment = *domain::IncrementPolicy::fixed(domain::Amount{50});
    return terms;
  }

  /// An open auction at `seq` whose price says which write it came from.
  static domain::AuctionState state(std::uint64_t seq, std::int64_t price = 1000) {
    domain::AuctionState state;
    state.status = domain::AuctionStatus::open;
    state.price = domain::Amount{price};
    state.leader_id = domain::UserId{"leader"};
    state.leader_max = domain::Amount{price * 2};
    state.leader_max_at = t0() + std::chrono::seconds(5);
    state.ends_at = t0() + std::chrono::minutes(10);
    state.seq = seq;
    state.events = seq + 1;
    state.accepted.push_back(domain::BidRecord{domain::BidId{"b-rec"}, domain::UserId{"leader"},
                                               domain::Amount{price}, domain::Amount{price * 2},
                                               t0() + std::chrono::seconds(5)});
    return state;
  }

  /// A write of state(new_seq, price) over state(expected_seq): its expected event count is
  /// that state's (none for a creation, expected_seq 0).
  static ports::AuctionWrite write(const std::string& id, std::uint64_t expected_seq,
                                   std::uint64_t new_seq, std::int64_t price = 1000) {
    return ports::AuctionWrite{terms(id), state(new_seq, price), expected_seq,
                               expected_seq == 0 ? 0 : state(expected_seq).events};
  }

  static ports::StoredBid bid(const std::string& id, const std::string& auction_id,
                              std::uint64_t position, std::int64_t amount = 1500) {
    ports::StoredBid bid;
    bid.id = domain::BidId{id};
    bid.auction_id = domain::AuctionId{auction_id};
    bid.bidder_id = domain::UserId{"bidder-" + id};
    bid.amount = domain::Amount{amount};
    bid.max_amount = domain::Amount{amount + 500};
    bid.received_at = t0() + std::chrono::microseconds(1'234'567);
    bid.decision = domain::Decision{true, domain::Reason::none, true, domain::Amount{amount},
                                    domain::Amount{amount + 50}};
    bid.position = position;
    bid.idempotency_key = "key-" + id;
    return bid;
  }

  static domain::Event event(const std::string& auction_id, std::uint64_t number,
                             std::string note = "") {
    domain::Event event;
    event.type = domain::EventType::bid_accepted;
    event.auction_id = domain::AuctionId{auction_id};
    event.number = number;
    event.seq = number;
    event.at = t0() + std::chrono::seconds(static_cast<std::int64_t>(number));
    event.bid_id = domain::BidId{"b" + std::to_string(number)};
    event.user_id = domain::UserId{"u" + std::to_string(number)};
    event.amount = domain::Amount{1000 + static_cast<std::int64_t>(number)};
    event.price = domain::Amount{1000 + static_cast<std::int64_t>(number)};
    event.leader_id = domain::UserId{"u" + std::to_string(number)};
    event.ends_at = t0() + std::chrono::minutes(10);
    event.note = std::move(note);
    return event;
  }
};

/// Every field of two sets of terms (AuctionTerms has no operator==).
inline void expect_same_terms(const domain::AuctionTerms& actual,
                              const domain::AuctionTerms& expected) {
  EXPECT_EQ(actual.id.str(), expected.id.str());
  EXPECT_EQ(actual.seller_id.str(), expected.seller_id.str());
  EXPECT_EQ(actual.title, expected.title);
  EXPECT_EQ(actual.currency.code(), expected.currency.code());
  EXPECT_EQ(actual.starting_price.minor_units(), expected.starting_price.minor_units());
  EXPECT_TIME_EQ(actual.starts_at, expected.starts_at);
  EXPECT_TIME_EQ(actual.ends_at, expected.ends_at);
  EXPECT_EQ(actual.reserve_price, expected.reserve_price);
  EXPECT_EQ(actual.buy_now_price, expected.buy_now_price);
  EXPECT_EQ(actual.soft_close.count(), expected.soft_close.count());
  EXPECT_EQ(actual.extension.count(), expected.extension.count());
  EXPECT_EQ(actual.max_ends_at, expected.max_ends_at);
  EXPECT_TRUE(actual.increment == expected.increment);
}

/// Every field of two events (Event has no operator==).
inline void expect_same_event(const domain::Event& actual, const domain::Event& expected) {
  EXPECT_EQ(domain::event_id(actual), domain::event_id(expected));
  EXPECT_EQ(actual.type, expected.type);
  EXPECT_EQ(actual.seq, expected.seq);
  EXPECT_TIME_EQ(actual.at, expected.at);
  EXPECT_EQ(actual.bid_id.str(), expected.bid_id.str());
  EXPECT_EQ(actual.user_id.str(), expected.user_id.str());
  EXPECT_EQ(actual.amount, expected.amount);
  EXPECT_EQ(actual.price, expected.price);
  EXPECT_EQ(actual.leader_id.str(), expected.leader_id.str());
  EXPECT_EQ(actual.previous_leader.str(), expected.previous_leader.str());
  EXPECT_TIME_EQ(actual.ends_at, expected.ends_at);
  EXPECT_EQ(actual.reason, expected.reason);
  EXPECT_EQ(actual.min_next_bid, expected.min_next_bid);
  EXPECT_EQ(actual.result, expected.result);
  EXPECT_EQ(actual.note, expected.note);
}

template <typename Factory>
class StoreContract : public ::testing::Test, protected StoreSamples {
 protected:
  void SetUp() override { store_ = factory_.make(); }

  ports::Result<void> commit(ports::CommitBatch batch) {
    return await<void>([&](auto done) { store_->commit(std::move(batch), done); });
  }

  std::optional<ports::StoredAuction> get_auction(const std::string& id) {
    auto result = await<std::optional<ports::StoredAuction>>(
        [&](auto done) { store_->get_auction(domain::AuctionId{id}, done); });
    if (!result.ok()) {
      ADD_FAILURE() << "get_auction failed: " << describe(result);
      return std::nullopt;
    }
    return std::move(result.value());
  }

  /// The stored auction's seq, or 0 when it is absent.
  std::uint64_t seq_of(const std::string& id) {
    const auto auction = get_auction(id);
    return auction ? auction->state.seq : 0;
  }

  /// Ids of list_auctions(after, limit).
  std::vector<std::string> list_auctions(const std::string& after, std::size_t limit) {
    auto result = await<std::vector<ports::StoredAuction>>([&](auto done) {
      store_->list_auctions(ports::AuctionListQuery{std::nullopt, domain::AuctionId{after}, limit},
                            done);
    });
    if (!result.ok()) {
      ADD_FAILURE() << "list_auctions failed: " << describe(result);
      return {};
    }
    std::vector<std::string> ids;
    for (const auto& auction : result.value()) ids.push_back(auction.terms.id.str());
    return ids;
  }

  std::optional<ports::StoredBid> get_bid(const std::string& id) {
    auto result = await<std::optional<ports::StoredBid>>(
        [&](auto done) { store_->get_bid(domain::BidId{id}, done); });
    if (!result.ok()) {
      ADD_FAILURE() << "get_bid failed: " << describe(result);
      return std::nullopt;
    }
    return std::move(result.value());
  }

  std::vector<ports::StoredBid> list_bids(const std::string& auction_id, std::uint64_t after,
                                          std::size_t limit) {
    auto result = await<std::vector<ports::StoredBid>>(
        [&](auto done) { store_->list_bids(domain::AuctionId{auction_id}, after, limit, done); });
    if (!result.ok()) {
      ADD_FAILURE() << "list_bids failed: " << describe(result);
      return {};
    }
    return std::move(result.value());
  }

  /// "<bid id>@<position>" of list_bids.
  std::vector<std::string> bid_positions(const std::string& auction_id, std::uint64_t after,
                                         std::size_t limit) {
    std::vector<std::string> out;
    for (const auto& bid : list_bids(auction_id, after, limit)) {
      out.push_back(bid.id.str() + "@" + std::to_string(bid.position));
    }
    return out;
  }

  std::vector<domain::Event> pending_events(std::size_t limit = 100) {
    auto result =
        await<std::vector<domain::Event>>([&](auto done) { store_->pending_events(limit, done); });
    if (!result.ok()) {
      ADD_FAILURE() << "pending_events failed: " << describe(result);
      return {};
    }
    return std::move(result.value());
  }

  /// Event ids of pending_events(limit).
  std::vector<std::string> pending_ids(std::size_t limit = 100) {
    std::vector<std::string> ids;
    for (const auto& event : pending_events(limit)) ids.push_back(domain::event_id(event));
    return ids;
  }

  void mark_published(std::vector<std::string> ids) {
    auto result = await<void>([&](auto done) { store_->mark_published(std::move(ids), done); });
    EXPECT_EQ(describe(result), "ok") << "mark_published";
  }

  /// A record of the audit outbox: key, auction, body.
  static ports::OutgoingMessage audit_record(const std::string& key, const std::string& auction,
                                             const std::string& body) {
    return {auction, key, domain::Timestamp{domain::Duration{1'764'324'000'123'456}}, body};
  }

  /// Keys of pending_audit(limit).
  std::vector<std::string> pending_audit_keys(std::size_t limit = 100) {
    auto result = await<std::vector<ports::OutgoingMessage>>(
        [&](auto done) { store_->pending_audit(limit, done); });
    if (!result.ok()) {
      ADD_FAILURE() << "pending_audit failed: " << describe(result);
      return {};
    }
    std::vector<std::string> keys;
    for (const auto& record : result.value()) keys.push_back(record.dedup_id);
    return keys;
  }

  void mark_audit_published(std::vector<std::string> keys) {
    auto result =
        await<void>([&](auto done) { store_->mark_audit_published(std::move(keys), done); });
    EXPECT_EQ(describe(result), "ok") << "mark_audit_published";
  }

  Factory factory_;
  ports::StorePtr store_;
};

TYPED_TEST_SUITE_P(StoreContract);

// --- auctions ----------------------------------------------------------------------------

TYPED_TEST_P(StoreContract, ANewAuctionIsCommittedWithExpectedSeqZero) {
  const auto write = this->write("a1", 0, 1, 1200);
  EXPECT_EQ(describe(this->commit({{write}, {}, {}})), "ok");
  const auto stored = this->get_auction("a1");
  ASSERT_TRUE(stored.has_value());
  expect_same_terms(stored->terms, write.terms);
  EXPECT_EQ(stored->state, write.state);
}

TYPED_TEST_P(StoreContract, GetAuctionAnswersNulloptForAnUnknownId) {
  EXPECT_FALSE(this->get_auction("nope").has_value());
}

TYPED_TEST_P(StoreContract, AWriteAtTheStoredSeqReplacesTheState) {
  ASSERT_EQ(describe(this->commit({{this->write("a1", 0, 1, 1000)}, {}, {}})), "ok");
  ASSERT_EQ(describe(this->commit({{this->write("a1", 1, 4, 1700)}, {}, {}})), "ok");
  const auto stored = this->get_auction("a1");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->state, this->state(4, 1700));
}

TYPED_TEST_P(StoreContract, CreatingAnExistingAuctionConflictsAndWritesNothing) {
  ASSERT_EQ(describe(this->commit({{this->write("a1", 0, 1, 1000)}, {}, {}})), "ok");
  const auto result = this->commit(
      {{this->write("a1", 0, 1, 9999)}, {this->bid("b1", "a1", 1)}, {this->event("a1", 1)}});
  EXPECT_EQ(error_kind(result), "conflict");
  const auto stored = this->get_auction("a1");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->state.price, domain::Amount{1000});
  EXPECT_FALSE(this->get_bid("b1").has_value());
  EXPECT_THAT(this->pending_ids(), ::testing::IsEmpty());
}

TYPED_TEST_P(StoreContract, AStaleSeqConflictsAndWritesNothingOfTheBatch) {
  ASSERT_EQ(describe(this->commit({{this->write("a1", 0, 1), this->write("a2", 0, 1)}, {}, {}})),
            "ok");
  ASSERT_EQ(describe(this->commit({{this->write("a2", 1, 2)}, {}, {}})), "ok");

  // a1 and a3 would pass; a2 is at seq 2, not 1: none of the batch may land.
  const auto result = this->commit(
      {{this->write("a1", 1, 2, 2000), this->write("a3", 0, 1), this->write("a2", 1, 2, 2000)},
       {this->bid("b1", "a1", 1), this->bid("b2", "a2", 1)},
       {this->event("a1", 2), this->event("a2", 3)}});
  EXPECT_EQ(error_kind(result), "conflict");
  EXPECT_EQ(this->seq_of("a1"), 1u);
  EXPECT_EQ(this->seq_of("a2"), 2u);
  EXPECT_FALSE(this->get_auction("a3").has_value());
  EXPECT_FALSE(this->get_bid("b1").has_value());
  EXPECT_FALSE(this->get_bid("b2").has_value());
  EXPECT_THAT(this->list_bids("a1", 0, 10), ::testing::IsEmpty());
  EXPECT_THAT(this->pending_ids(), ::testing::IsEmpty());
  EXPECT_THAT(this->list_auctions("", 10), ::testing::ElementsAre("a1", "a2"));
}

TYPED_TEST_P(StoreContract, AWriteToAMissingAuctionWithANonZeroSeqConflicts) {
  const auto result = this->commit({{this->write("a1", 3, 4)}, {}, {}});
  EXPECT_EQ(error_kind(result), "conflict");
  EXPECT_FALSE(this->get_auction("a1").has_value());
}

// A rejection numbers an event without moving the seq: two engines at one seq must not both
// commit an event numbered N (the second would be lost to the outbox's dedupe on event ids).
TYPED_TEST_P(StoreContract, AWriteAtTheRightSeqButAStaleEventCountConflictsAndWritesNothing) {
  ASSERT_EQ(describe(this->commit({{this->write("a1", 0, 3, 1000)}, {}, {}})), "ok");
  const std::uint64_t events = this->state(3).events;
  // One engine rejects a bid: the seq stays at 3, the event count moves on.
  auto rejected = this->write("a1", 3, 3, 1000);
  rejected.state.events = events + 1;
  ASSERT_EQ(describe(this->commit({{rejected}, {}, {this->event("a1", events + 1, "first")}})),
            "ok");

  // Another engine, whose copy is still at the old event count, rejects another bid and numbers
  // its event alike: the seq matches, the event count does not.
  auto stale = this->write("a1", 3, 3, 2222);
  stale.state.events = events + 1;
  EXPECT_EQ(stale.expected_events, events);
  const auto result = this->commit(
      {{stale}, {this->bid("b-stale", "a1", 1)}, {this->event("a1", events + 1, "second")}});
  EXPECT_EQ(error_kind(result), "conflict");
  EXPECT_EQ(result.ok() ? "" : result.error().message,
            "auction a1 is at seq 3 with " + std::to_string(events + 1) + " events, expected " +
                std::to_string(events) + " events");
  const auto stored = this->get_auction("a1");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->state, rejected.state);
  EXPECT_FALSE(this->get_bid("b-stale").has_value());
  const auto pending = this->pending_events();
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].note, "first");

  // Reloaded, the same engine numbers its event next and commits.
  auto judged_again = this->write("a1", 3, 3, 1000);
  judged_again.expected_events = events + 1;
  judged_again.state.events = events + 2;
  EXPECT_EQ(describe(this->commit({{judged_again},
                                   {this->bid("b-stale", "a1", 1)},
                                   {this->event("a1", events + 2, "second")}})),
            "ok");
  EXPECT_EQ(this->get_auction("a1")->state.events, events + 2);
  EXPECT_THAT(this->pending_ids(), ::testing::ElementsAre("a1:" + std::to_string(events + 1),
                                                          "a1:" + std::to_string(events + 2)));
}

TYPED_TEST_P(StoreContract, ABatchWritingAnAuctionTwiceChecksTheSecondAgainstTheFirstsEvents) {
  ASSERT_EQ(describe(this->commit({{this->write("a1", 0, 2)}, {}, {}})), "ok");
  auto first = this->write("a1", 2, 2);
  first.state.events = this->state(2).events + 1;
  // The second write expects the event count of the stored row, not that of the first write.
  const auto second = this->write("a1", 2, 2, 3000);
  EXPECT_EQ(error_kind(this->commit({{first, second}, {}, {}})), "conflict");
  EXPECT_EQ(this->get_auction("a1")->state, this->state(2));
  auto chained = this->write("a1", 2, 2, 3000);
  chained.expected_events = first.state.events;
  EXPECT_EQ(describe(this->commit({{first, chained}, {}, {}})), "ok");
  EXPECT_EQ(this->get_auction("a1")->state, chained.state);
}

TYPED_TEST_P(StoreContract, AuctionsAreListedInIdOrderPageByPage) {
  for (const char* id : {"c", "a", "e", "b", "d"}) {
    ASSERT_EQ(describe(this->commit({{this->write(id, 0, 1)}, {}, {}})), "ok") << id;
  }
  EXPECT_THAT(this->list_auctions("", 2), ::testing::ElementsAre("a", "b"));
  EXPECT_THAT(this->list_auctions("b", 2), ::testing::ElementsAre("c", "d"));
  EXPECT_THAT(this->list_auctions("d", 2), ::testing::ElementsAre("e"));
  EXPECT_THAT(this->list_auctions("e", 2), ::testing::IsEmpty());
  EXPECT_THAT(this->list_auctions("bb", 10), ::testing::ElementsAre("c", "d", "e"));
  EXPECT_THAT(this->list_auctions("", 10), ::testing::ElementsAre("a", "b", "c", "d", "e"));
}

TYPED_TEST_P(StoreContract, ListedAuctionsCarryTheirTermsAndState) {
  ASSERT_EQ(describe(this->commit({{this->write("a1", 0, 3, 4200)}, {}, {}})), "ok");
  auto result = await<std::vector<ports::StoredAuction>>(
      [&](auto done) { this->store_->list_auctions(ports::AuctionListQuery{}, done); });
  ASSERT_EQ(describe(result), "ok");
  ASSERT_EQ(result.value().size(), 1u);
  expect_same_terms(result.value()[0].terms, this->terms("a1"));
  EXPECT_EQ(result.value()[0].state, this->state(3, 4200));
}

TYPED_TEST_P(StoreContract, AuctionsAreFilteredByStatus) {
  auto closed = this->write("b", 0, 2);
  closed.state.status = domain::AuctionStatus::closed;
  closed.state.result = domain::AuctionResult::unsold;
  ASSERT_EQ(
      describe(this->commit({{this->write("a", 0, 1), closed, this->write("c", 0, 1)}, {}, {}})),
      "ok");
  const auto ids = [&](domain::AuctionStatus status, const char* after, std::size_t limit) {
    auto result = await<std::vector<ports::StoredAuction>>([&](auto done) {
      this->store_->list_auctions(ports::AuctionListQuery{status, domain::AuctionId{after}, limit},
                                  done);
    });
    std::vector<std::string> out;
    if (result.ok()) {
      for (const auto& auction : result.value()) out.push_back(auction.terms.id.str());
    }
    return out;
  };
  EXPECT_THAT(ids(domain::AuctionStatus::open, "", 10), ::testing::ElementsAre("a", "c"));
  EXPECT_THAT(ids(domain::AuctionStatus::open, "a", 1), ::testing::ElementsAre("c"));
  EXPECT_THAT(ids(domain::AuctionStatus::closed, "", 10), ::testing::ElementsAre("b"));
  EXPECT_THAT(ids(domain::AuctionStatus::cancelled, "", 10), ::testing::IsEmpty());
}

// --- bids --------------------------------------------------------------------------------

TYPED_TEST_P(StoreContract, ABidIsFoundByItsBidderAndIdempotencyKey) {
  auto first = this->bid("b1", "a1", 1);
  auto other_user = this->bid("b2", "a1", 2);
  other_user.idempotency_key = "key-b1";  // the same key from someone else is another bid
  auto retry = this->bid("b3", "a1", 3);
  retry.bidder_id = first.bidder_id;
  retry.idempotency_key = first.idempotency_key;  // a second bid with the key: the first wins
  ASSERT_EQ(describe(this->commit({{this->write("a1", 0, 1)}, {first, other_user}, {}})), "ok");
  ASSERT_EQ(describe(this->commit({{}, {retry}, {}})), "ok");
  const auto find = [&](const ports::StoredBid& bid) {
    auto result = await<std::optional<ports::StoredBid>>([&](auto done) {
      this->store_->find_bid_by_key(bid.bidder_id, bid.idempotency_key, done);
    });
    return result.ok() && result.value() ? result.value()->id.str() : std::string("(none)");
  };
  EXPECT_EQ(find(first), "b1");
  EXPECT_EQ(find(other_user), "b2");
  EXPECT_EQ(find(retry), "b1");
  auto unknown = first;
  unknown.idempotency_key = "never-used";
  EXPECT_EQ(find(unknown), "(none)");
}

TYPED_TEST_P(StoreContract, ACommittedBidIsReadBackWithEveryField) {
  const auto bid = this->bid("b1", "a1", 1, 2500);
  ASSERT_EQ(describe(this->commit({{this->write("a1", 0, 1)}, {bid}, {}})), "ok");
  const auto stored = this->get_bid("b1");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(*stored, bid);
  EXPECT_FALSE(this->get_bid("b2").has_value());
}

TYPED_TEST_P(StoreContract, ARejectedBidWithoutMaxIsStoredAsIs) {
  auto bid = this->bid("b1", "a1", 1, 900);
  bid.max_amount.reset();
  bid.decision = domain::Decision{false, domain::Reason::bid_too_low, false, domain::Amount{1000},
                                  domain::Amount{1000}};
  ASSERT_EQ(describe(this->commit({{this->write("a1", 0, 1)}, {bid}, {}})), "ok");
  const auto stored = this->get_bid("b1");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(*stored, bid);
}

TYPED_TEST_P(StoreContract, BidsAreListedByPositionAfterTheGivenOne) {
  ASSERT_EQ(describe(this->commit({{this->write("a1", 0, 1), this->write("a2", 0, 1)},
                                   {this->bid("b3", "a1", 3), this->bid("b1", "a1", 1),
                                    this->bid("x1", "a2", 1), this->bid("b2", "a1", 2)},
                                   {}})),
            "ok");
  ASSERT_EQ(
      describe(this->commit(
          {{this->write("a1", 1, 2)}, {this->bid("b5", "a1", 5), this->bid("b4", "a1", 4)}, {}})),
      "ok");
  EXPECT_THAT(this->bid_positions("a1", 0, 10),
              ::testing::ElementsAre("b1@1", "b2@2", "b3@3", "b4@4", "b5@5"));
  EXPECT_THAT(this->bid_positions("a1", 2, 2), ::testing::ElementsAre("b3@3", "b4@4"));
  EXPECT_THAT(this->bid_positions("a1", 4, 10), ::testing::ElementsAre("b5@5"));
  EXPECT_THAT(this->bid_positions("a1", 5, 10), ::testing::IsEmpty());
  EXPECT_THAT(this->bid_positions("a2", 0, 10), ::testing::ElementsAre("x1@1"));
  EXPECT_THAT(this->bid_positions("none", 0, 10), ::testing::IsEmpty());
}

TYPED_TEST_P(StoreContract, ABidStoredAlreadyIsLeftAsItIs) {
  ASSERT_EQ(
      describe(this->commit({{this->write("a1", 0, 1)}, {this->bid("b1", "a1", 1, 1500)}, {}})),
      "ok");
  // A retry carries the same bid id (here with other values): the first one stays.
  ASSERT_EQ(describe(this->commit({{this->write("a1", 1, 2)},
                                   {this->bid("b1", "a1", 1, 9999), this->bid("b2", "a1", 2)},
                                   {}})),
            "ok");
  const auto stored = this->get_bid("b1");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(*stored, this->bid("b1", "a1", 1, 1500));
  EXPECT_THAT(this->bid_positions("a1", 0, 10), ::testing::ElementsAre("b1@1", "b2@2"));
}

// --- the outbox --------------------------------------------------------------------------

TYPED_TEST_P(StoreContract, PendingEventsAreTheOutboxInCommitOrder) {
  ASSERT_EQ(describe(this->commit(
                {{this->write("a1", 0, 1)}, {}, {this->event("a1", 1), this->event("a1", 2)}})),
            "ok");
  ASSERT_EQ(describe(this->commit({{this->write("b", 0, 1)}, {}, {this->event("b", 1)}})), "ok");
  ASSERT_EQ(describe(this->commit({{this->write("a1", 1, 2)}, {}, {this->event("a1", 3)}})), "ok");
  EXPECT_THAT(this->pending_ids(), ::testing::ElementsAre("a1:1", "a1:2", "b:1", "a1:3"));
  EXPECT_THAT(this->pending_ids(2), ::testing::ElementsAre("a1:1", "a1:2"));
}

TYPED_TEST_P(StoreContract, PendingEventsCarryEveryField) {
  auto event = this->event("a1", 7, "note with \"quotes\"");
  event.type = domain::EventType::auction_cancelled;
  event.previous_leader = domain::UserId{"before"};
  event.reason = domain::Reason::bid_too_low;
  event.min_next_bid = domain::Amount{1234};
  event.result = domain::AuctionResult::unsold;
  ASSERT_EQ(describe(this->commit({{this->write("a1", 0, 1)}, {}, {event}})), "ok");
  const auto pending = this->pending_events();
  ASSERT_EQ(pending.size(), 1u);
  expect_same_event(pending[0], event);
}

TYPED_TEST_P(StoreContract, PublishedEventsLeaveThePendingList) {
  ASSERT_EQ(
      describe(this->commit({{this->write("a1", 0, 1)},
                             {},
                             {this->event("a1", 1), this->event("a1", 2), this->event("a1", 3)}})),
      "ok");
  this->mark_published({"a1:2", "unknown:9"});
  EXPECT_THAT(this->pending_ids(), ::testing::ElementsAre("a1:1", "a1:3"));
  this->mark_published({"a1:1", "a1:3", "a1:2"});
  EXPECT_THAT(this->pending_ids(), ::testing::IsEmpty());
}

TYPED_TEST_P(StoreContract, AnEventStoredAlreadyIsLeftAsItIs) {
  ASSERT_EQ(
      describe(this->commit(
          {{this->write("a1", 0, 1)}, {}, {this->event("a1", 1, "first"), this->event("a1", 2)}})),
      "ok");
  this->mark_published({"a1:2"});
  // A retried batch repeats both events: a1:1 keeps its first content and stays pending once;
  // a1:2 stays published.
  ASSERT_EQ(
      describe(this->commit(
          {{}, {}, {this->event("a1", 1, "retried"), this->event("a1", 2), this->event("a1", 3)}})),
      "ok");
  const auto pending = this->pending_events();
  ASSERT_EQ(pending.size(), 2u);
  expect_same_event(pending[0], this->event("a1", 1, "first"));
  expect_same_event(pending[1], this->event("a1", 3));
}

TYPED_TEST_P(StoreContract, ABatchWithoutAuctionWritesCommitsBidsAndEvents) {
  ASSERT_EQ(describe(this->commit({{}, {this->bid("b1", "a1", 1)}, {this->event("a1", 1)}})), "ok");
  EXPECT_TRUE(this->get_bid("b1").has_value());
  EXPECT_THAT(this->pending_ids(), ::testing::ElementsAre("a1:1"));
}

// --- the audit outbox --------------------------------------------------------------------

TYPED_TEST_P(StoreContract, AuditRecordsArePendingInCommitOrderWithEveryField) {
  ports::CommitBatch first{{this->write("a1", 0, 1)}, {}, {}};
  first.audit = {this->audit_record("c:b1", "a1", R"({"kind":"command"})"),
                 this->audit_record("e:a1:1", "a1", "{\"kind\":\"event\",\"note\":\"é\"}")};
  ASSERT_EQ(describe(this->commit(first)), "ok");
  ports::CommitBatch second{{this->write("b", 0, 1)}, {}, {}};
  second.audit = {this->audit_record("c:b2", "b", "{}")};
  ASSERT_EQ(describe(this->commit(second)), "ok");
  EXPECT_THAT(this->pending_audit_keys(), ::testing::ElementsAre("c:b1", "e:a1:1", "c:b2"));
  EXPECT_THAT(this->pending_audit_keys(2), ::testing::ElementsAre("c:b1", "e:a1:1"));
  auto pending = await<std::vector<ports::OutgoingMessage>>(
      [&](auto done) { this->store_->pending_audit(100, done); });
  ASSERT_TRUE(pending.ok());
  const auto& record = pending.value().at(1);
  EXPECT_EQ(record.ordering_key, "a1");
  EXPECT_EQ(record.body, "{\"kind\":\"event\",\"note\":\"é\"}");
  EXPECT_TIME_EQ(record.event_time, first.audit[1].event_time);
}

TYPED_TEST_P(StoreContract, AConflictingBatchLeavesNoAuditRecord) {
  ASSERT_EQ(describe(this->commit({{this->write("a1", 0, 1)}, {}, {}})), "ok");
  ports::CommitBatch stale{{this->write("a1", 0, 1)}, {}, {}};
  stale.audit = {this->audit_record("c:b1", "a1", "{}")};
  EXPECT_EQ(this->commit(stale).error().kind, ports::ErrorKind::conflict);
  EXPECT_THAT(this->pending_audit_keys(), ::testing::IsEmpty());
}

TYPED_TEST_P(StoreContract, PublishedAuditRecordsLeaveAndARetriedOneIsKeptOnce) {
  ports::CommitBatch batch{{this->write("a1", 0, 1)}, {}, {}};
  batch.audit = {this->audit_record("k1", "a1", "first"), this->audit_record("k2", "a1", "{}"),
                 this->audit_record("k3", "a1", "{}")};
  ASSERT_EQ(describe(this->commit(batch)), "ok");
  this->mark_audit_published({"k2", "unknown"});
  EXPECT_THAT(this->pending_audit_keys(), ::testing::ElementsAre("k1", "k3"));
  // A retried batch repeats k1 (still pending: kept once, first content) and k4.
  ports::CommitBatch retried{{}, {}, {}};
  retried.audit = {this->audit_record("k1", "a1", "retried"), this->audit_record("k4", "a1", "{}")};
  ASSERT_EQ(describe(this->commit(retried)), "ok");
  EXPECT_THAT(this->pending_audit_keys(), ::testing::ElementsAre("k1", "k3", "k4"));
  this->mark_audit_published({"k1", "k3", "k4"});
  EXPECT_THAT(this->pending_audit_keys(), ::testing::IsEmpty());
}

// --- the bid history ---------------------------------------------------------------------

TYPED_TEST_P(StoreContract, AHistoryWrittenInPartsIsReadBackWholeAndAVoidRewritesIt) {
  // history_kept lets a store write only a hot auction's new history entries; whatever it does,
  // the whole history is read back, by get and by list.
  auto state = this->state(1);
  ASSERT_EQ(describe(this->commit({{{this->terms("a1"), state, 0, 0, 0}}, {}, {}})), "ok");
  int next_bid = 0;
  const auto add_bids = [&](int count) {
    for (int i = 0; i < count; ++i, ++next_bid) {
      state.accepted.push_back(domain::BidRecord{
          domain::BidId{"h" + std::to_string(next_bid)},
          domain::UserId{"u" + std::to_string(next_bid)}, domain::Amount{2000 + next_bid},
          domain::Amount{3000 + next_bid}, this->t0() + std::chrono::milliseconds(next_bid)});
    }
  };
  // Writes the current state over the stored one, keeping `kept` entries; answers the result.
  const auto write_over_stored = [&](std::size_t kept) {
    const auto stored = this->get_auction("a1");
    if (!stored) return std::string("the auction is gone");
    state.seq = stored->state.seq + 1;
    state.events = stored->state.events + 1;
    return describe(this->commit(
        {{{this->terms("a1"), state, stored->state.seq, stored->state.events, kept}}, {}, {}}));
  };
  const auto expect_read_back = [&](const char* step) {
    const auto stored = this->get_auction("a1");
    ASSERT_TRUE(stored.has_value()) << step;
    EXPECT_EQ(stored->state, state) << step;
    auto listed = await<std::vector<ports::StoredAuction>>(
        [&](auto done) { this->store_->list_auctions(ports::AuctionListQuery{}, done); });
    ASSERT_EQ(describe(listed), "ok") << step;
    ASSERT_EQ(listed.value().size(), 1u) << step;
    EXPECT_EQ(listed.value()[0].state, state) << step;
  };

  add_bids(2);
  ASSERT_EQ(write_over_stored(1), "ok");
  expect_read_back("after adding 2 to the creation's 1");
  add_bids(3);
  ASSERT_EQ(write_over_stored(3), "ok");
  expect_read_back("after adding 3 more");
  ASSERT_EQ(write_over_stored(6), "ok");  // a rejection: no new entry
  expect_read_back("after a write without new entries");

  // A stale write adds nothing, not even its entries.
  auto stale = state;
  stale.accepted.push_back(domain::BidRecord{domain::BidId{"stale"}, domain::UserId{"x"},
                                             domain::Amount{1}, domain::Amount{1}, this->t0()});
  EXPECT_EQ(error_kind(this->commit({{{this->terms("a1"), stale, 1, 2, 6}}, {}, {}})), "conflict");
  expect_read_back("after a stale write");

  // A void removes entries from the middle: the whole history is written again (kept 0).
  state.accepted.erase(state.accepted.begin() + 2, state.accepted.begin() + 4);
  ASSERT_EQ(write_over_stored(0), "ok");
  expect_read_back("after a void");
  add_bids(2);
  ASSERT_EQ(write_over_stored(4), "ok");
  expect_read_back("after adding 2 after the void");
  EXPECT_EQ(state.accepted.size(), 6u);
}

REGISTER_TYPED_TEST_SUITE_P(
    StoreContract, ANewAuctionIsCommittedWithExpectedSeqZero,
    GetAuctionAnswersNulloptForAnUnknownId, AWriteAtTheStoredSeqReplacesTheState,
    CreatingAnExistingAuctionConflictsAndWritesNothing,
    AStaleSeqConflictsAndWritesNothingOfTheBatch, AWriteToAMissingAuctionWithANonZeroSeqConflicts,
    AWriteAtTheRightSeqButAStaleEventCountConflictsAndWritesNothing,
    ABatchWritingAnAuctionTwiceChecksTheSecondAgainstTheFirstsEvents,
    AuctionsAreListedInIdOrderPageByPage, ListedAuctionsCarryTheirTermsAndState,
    AuctionsAreFilteredByStatus, ABidIsFoundByItsBidderAndIdempotencyKey,
    ACommittedBidIsReadBackWithEveryField, ARejectedBidWithoutMaxIsStoredAsIs,
    BidsAreListedByPositionAfterTheGivenOne, ABidStoredAlreadyIsLeftAsItIs,
    PendingEventsAreTheOutboxInCommitOrder, PendingEventsCarryEveryField,
    PublishedEventsLeaveThePendingList, AnEventStoredAlreadyIsLeftAsItIs,
    ABatchWithoutAuctionWritesCommitsBidsAndEvents,
    AuditRecordsArePendingInCommitOrderWithEveryField, AConflictingBatchLeavesNoAuditRecord,
    PublishedAuditRecordsLeaveAndARetriedOneIsKeptOnce,
    AHistoryWrittenInPartsIsReadBackWholeAndAVoidRewritesIt);

}  // namespace gavel::contract
