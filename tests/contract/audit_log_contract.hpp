#pragma once
// The contract of ports::AuditLog (ports/audit_log.hpp), for every adapter.
//
//   struct MyAuditLogFactory {
//     ports::AuditLogPtr make();  // a new, empty log
//   };
//   INSTANTIATE_TYPED_TEST_SUITE_P(My, AuditLogContract, ::testing::Types<MyAuditLogFactory>);

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "contract/await.hpp"
#include "contract/support.hpp"
#include "ports/audit_log.hpp"
#include "ports/wire/audit_chain.hpp"

namespace gavel::contract {

template <typename Factory>
class AuditLogContract : public ::testing::Test {
 protected:
  using Entries = std::vector<ports::AuditEntry>;
  using Outcomes = std::vector<ports::AuditAppendOutcome>;

  void SetUp() override { log_ = factory_.make(); }

  static ports::AuditAppend record(std::string key, std::string auction = "a1",
                                   std::string body = R"({"type": "event", "n": 1})") {
    return {std::move(key), domain::AuctionId{auction}, "event",
            *domain::parse_rfc3339("2026-11-28T10:00:00Z"), std::move(body)};
  }

  ports::Result<Outcomes> append(std::vector<ports::AuditAppend> entries) {
    return await<Outcomes>([&](auto done) { log_->append(std::move(entries), done); });
  }

  Entries all(std::uint64_t after = 0, std::size_t limit = 100) {
    auto result = await<Entries>([&](auto done) { log_->entries(after, limit, done); });
    EXPECT_EQ(describe(result), "ok");
    return result.ok() ? result.value() : Entries{};
  }

  Entries of_auction(const std::string& auction, std::uint64_t after = 0, std::size_t limit = 100) {
    auto result = await<Entries>([&](auto done) {
      log_->entries_for_auction(domain::AuctionId{auction}, after, limit, done);
    });
    EXPECT_EQ(describe(result), "ok");
    return result.ok() ? result.value() : Entries{};
  }

  ports::AuditHead head() {
    auto result = await<ports::AuditHead>([&](auto done) { log_->head(done); });
    EXPECT_EQ(describe(result), "ok");
    return result.ok() ? result.value() : ports::AuditHead{};
  }

  static std::vector<std::uint64_t> seqs(const Entries& entries) {
    std::vector<std::uint64_t> out;
    for (const auto& entry : entries) out.push_back(entry.seq);
    return out;
  }

  Factory factory_;
  ports::AuditLogPtr log_;
};

TYPED_TEST_SUITE_P(AuditLogContract);

TYPED_TEST_P(AuditLogContract, AnEmptyLogHasTheGenesisHead) {
  EXPECT_EQ(this->head(), (ports::AuditHead{0, std::string(wire::kGenesisHash)}));
  EXPECT_TRUE(this->all().empty());
}

TYPED_TEST_P(AuditLogContract, AppendedEntriesAreNumberedAndChained) {
  auto appended = this->append({this->record("k1"), this->record("k2"), this->record("k3")});
  ASSERT_EQ(describe(appended), "ok");
  EXPECT_EQ(appended.value(),
            (std::vector<ports::AuditAppendOutcome>{{1, false}, {2, false}, {3, false}}));
  const auto entries = this->all();
  ASSERT_EQ(entries.size(), 3u);
  std::string prev(wire::kGenesisHash);
  for (const auto& entry : entries) {
    EXPECT_EQ(entry.prev_hash, prev) << "entry " << entry.seq;
    EXPECT_EQ(entry.hash, wire::entry_hash(entry.prev_hash, entry.seq, entry.key, entry.body));
    prev = entry.hash;
  }
  EXPECT_EQ(this->head(), (ports::AuditHead{3, entries.back().hash}));
}

TYPED_TEST_P(AuditLogContract, KeepsEveryFieldAndStoresTheBodyCanonically) {
  auto appended =
      this->append({this->record("k1", "a7", R"({ "z": [1, {"b": 2, "a": "x y"}], "a": true })")});
  ASSERT_EQ(describe(appended), "ok");
  const auto entries = this->all();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].seq, 1u);
  EXPECT_EQ(entries[0].key, "k1");
  EXPECT_EQ(entries[0].auction_id.str(), "a7");
  EXPECT_EQ(entries[0].kind, "event");
  EXPECT_TIME_EQ(entries[0].occurred_at, *domain::parse_rfc3339("2026-11-28T10:00:00Z"));
  EXPECT_EQ(entries[0].body, R"({"a":true,"z":[1,{"a":"x y","b":2}]})");
}

TYPED_TEST_P(AuditLogContract, AKnownKeyIsADuplicateAndChangesNothing) {
  ASSERT_EQ(describe(this->append({this->record("k1"), this->record("k2")})), "ok");
  const auto before = this->head();
  auto again = this->append({this->record("k2", "a1", R"({"other": "body"})"), this->record("k1")});
  ASSERT_EQ(describe(again), "ok");
  EXPECT_EQ(again.value(), (std::vector<ports::AuditAppendOutcome>{{2, true}, {1, true}}));
  EXPECT_EQ(this->head(), before);
  EXPECT_EQ(this->all().size(), 2u);
}

TYPED_TEST_P(AuditLogContract, ARepeatedKeyWithinOneAppendIsStoredOnce) {
  auto appended = this->append({this->record("k1"), this->record("k2"), this->record("k1")});
  ASSERT_EQ(describe(appended), "ok");
  EXPECT_EQ(appended.value(),
            (std::vector<ports::AuditAppendOutcome>{{1, false}, {2, false}, {1, true}}));
  EXPECT_EQ(this->seqs(this->all()), (std::vector<std::uint64_t>{1, 2}));
}

TYPED_TEST_P(AuditLogContract, ABadEntryRefusesTheWholeAppend) {
  ASSERT_EQ(describe(this->append({this->record("k1")})), "ok");
  const auto before = this->head();
  for (auto bad : {this->record("k3", "a1", "{not json"), this->record(""),
                   ports::AuditAppend{"k4", domain::AuctionId{"a1"}, "gossip", {}, "{}"}}) {
    auto refused = this->append({this->record("k2"), bad});
    EXPECT_EQ(error_kind(refused), "permanent") << bad.key << " " << bad.kind << " " << bad.body;
  }
  EXPECT_EQ(this->head(), before);
  EXPECT_EQ(this->seqs(this->all()), (std::vector<std::uint64_t>{1}));
  // The good entry of a refused append can still be appended afterwards, as the next entry.
  auto appended = this->append({this->record("k2")});
  ASSERT_EQ(describe(appended), "ok");
  EXPECT_EQ(appended.value(), (std::vector<ports::AuditAppendOutcome>{{2, false}}));
}

TYPED_TEST_P(AuditLogContract, ReadsPageThroughTheWholeLogInOrder) {
  ASSERT_EQ(describe(this->append({this->record("k1"), this->record("k2"), this->record("k3"),
                                   this->record("k4"), this->record("k5")})),
            "ok");
  EXPECT_EQ(this->seqs(this->all(0, 2)), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(this->seqs(this->all(2, 2)), (std::vector<std::uint64_t>{3, 4}));
  EXPECT_EQ(this->seqs(this->all(4, 2)), (std::vector<std::uint64_t>{5}));
  EXPECT_TRUE(this->all(5, 2).empty());
  EXPECT_TRUE(this->all(0, 0).empty());
}

TYPED_TEST_P(AuditLogContract, ReadsOneAuctionsEntriesInLogOrder) {
  ASSERT_EQ(describe(this->append({this->record("k1", "a1"), this->record("k2", "a2"),
                                   this->record("k3", "a1"), this->record("k4", "a2"),
                                   this->record("k5", "a1")})),
            "ok");
  EXPECT_EQ(this->seqs(this->of_auction("a1")), (std::vector<std::uint64_t>{1, 3, 5}));
  EXPECT_EQ(this->seqs(this->of_auction("a1", 0, 2)), (std::vector<std::uint64_t>{1, 3}));
  EXPECT_EQ(this->seqs(this->of_auction("a1", 3, 2)), (std::vector<std::uint64_t>{5}));
  EXPECT_EQ(this->seqs(this->of_auction("a2")), (std::vector<std::uint64_t>{2, 4}));
  EXPECT_TRUE(this->of_auction("nobody").empty());
}

REGISTER_TYPED_TEST_SUITE_P(AuditLogContract, AnEmptyLogHasTheGenesisHead,
                            AppendedEntriesAreNumberedAndChained,
                            KeepsEveryFieldAndStoresTheBodyCanonically,
                            AKnownKeyIsADuplicateAndChangesNothing,
                            ARepeatedKeyWithinOneAppendIsStoredOnce, ABadEntryRefusesTheWholeAppend,
                            ReadsPageThroughTheWholeLogInOrder, ReadsOneAuctionsEntriesInLogOrder);

}  // namespace gavel::contract
