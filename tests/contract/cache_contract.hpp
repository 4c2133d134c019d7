#pragma once
// The contract of ports::Cache (ports/cache.hpp), for every adapter.
//
//   struct MyCacheFactory {
//     ports::CachePtr make();  // a new, empty cache (or a wiped one)
//   };
//   INSTANTIATE_TYPED_TEST_SUITE_P(My, CacheContract, ::testing::Types<MyCacheFactory>);

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "contract/await.hpp"
#include "contract/support.hpp"
#include "ports/cache.hpp"

namespace gavel::contract {

template <typename Factory>
class CacheContract : public ::testing::Test {
 protected:
  using Answers = std::vector<std::optional<ports::CachedAuction>>;

  void SetUp() override { cache_ = factory_.make(); }

  static ports::CachedAuction entry(const char* id, std::uint64_t seq, std::string body) {
    return ports::CachedAuction{domain::AuctionId{id}, seq, std::move(body)};
  }

  void put(std::vector<ports::CachedAuction> entries) {
    auto result = await<void>([&](auto done) { cache_->put(std::move(entries), done); });
    EXPECT_EQ(describe(result), "ok") << "put";
  }

  Answers get(std::vector<const char*> ids) {
    std::vector<domain::AuctionId> keys;
    for (const char* id : ids) keys.emplace_back(id);
    auto result = await<Answers>([&](auto done) { cache_->get(std::move(keys), done); });
    if (!result.ok()) {
      ADD_FAILURE() << "get failed: " << describe(result);
      return {};
    }
    return std::move(result.value());
  }

  /// The one answer for `id`, as "seq:body" or "none" (readable in failures).
  std::string get_one(const char* id) {
    const auto answers = get({id});
    if (answers.size() != 1) return "answers: " + std::to_string(answers.size());
    if (!answers[0]) return "none";
    if (answers[0]->id != domain::AuctionId{id}) return "wrong id " + answers[0]->id.str();
    return std::to_string(answers[0]->seq) + ":" + answers[0]->body;
  }

  void clear() {
    auto result = await<void>([&](auto done) { cache_->clear(done); });
    EXPECT_EQ(describe(result), "ok") << "clear";
  }

  Factory factory_;
  ports::CachePtr cache_;
};

TYPED_TEST_SUITE_P(CacheContract);

TYPED_TEST_P(CacheContract, GetAnswersNulloptForWhatItDoesNotHold) {
  const auto answers = this->get({"a1", "a2"});
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_FALSE(answers[0].has_value());
  EXPECT_FALSE(answers[1].has_value());
}

TYPED_TEST_P(CacheContract, GetAnswersOnePerIdInTheOrderAsked) {
  this->put({this->entry("a1", 3, R"({"id":"a1"})"), this->entry("a2", 7, R"({"id":"a2"})")});
  const auto answers = this->get({"a2", "missing", "a1", "a2"});
  ASSERT_EQ(answers.size(), 4u);
  ASSERT_TRUE(answers[0].has_value());
  EXPECT_EQ(*answers[0], this->entry("a2", 7, R"({"id":"a2"})"));
  EXPECT_FALSE(answers[1].has_value());
  ASSERT_TRUE(answers[2].has_value());
  EXPECT_EQ(*answers[2], this->entry("a1", 3, R"({"id":"a1"})"));
  ASSERT_TRUE(answers[3].has_value());
  EXPECT_EQ(*answers[3], this->entry("a2", 7, R"({"id":"a2"})"));
}

TYPED_TEST_P(CacheContract, GetOfNoIdsAnswersNothing) {
  EXPECT_THAT(this->get({}), ::testing::IsEmpty());
}

TYPED_TEST_P(CacheContract, AHigherSeqReplacesTheEntry) {
  this->put({this->entry("a1", 1, "v1")});
  this->put({this->entry("a1", 2, "v2")});
  EXPECT_EQ(this->get_one("a1"), "2:v2");
}

TYPED_TEST_P(CacheContract, AnEqualSeqDoesNotReplaceTheEntry) {
  this->put({this->entry("a1", 4, "first")});
  this->put({this->entry("a1", 4, "second")});
  EXPECT_EQ(this->get_one("a1"), "4:first");
}

TYPED_TEST_P(CacheContract, ALowerSeqNeverRollsTheEntryBack) {
  this->put({this->entry("a1", 5, "new")});
  this->put({this->entry("a1", 4, "stale")});
  EXPECT_EQ(this->get_one("a1"), "5:new");
}

TYPED_TEST_P(CacheContract, EachEntryOfAPutIsJudgedOnItsOwn) {
  this->put({this->entry("a1", 5, "a1-v5"), this->entry("a2", 1, "a2-v1")});
  this->put({this->entry("a1", 3, "a1-v3"), this->entry("a2", 2, "a2-v2"),
             this->entry("a3", 1, "a3-v1")});
  EXPECT_EQ(this->get_one("a1"), "5:a1-v5");
  EXPECT_EQ(this->get_one("a2"), "2:a2-v2");
  EXPECT_EQ(this->get_one("a3"), "1:a3-v1");
}

TYPED_TEST_P(CacheContract, WithinOnePutTheHighestSeqWins) {
  this->put({this->entry("a1", 3, "three"), this->entry("a1", 2, "two")});
  EXPECT_EQ(this->get_one("a1"), "3:three");
  this->put({this->entry("a1", 4, "four"), this->entry("a1", 6, "six")});
  EXPECT_EQ(this->get_one("a1"), "6:six");
}

TYPED_TEST_P(CacheContract, ClearForgetsEverything) {
  this->put({this->entry("a1", 5, "x"), this->entry("a2", 9, "y")});
  this->clear();
  const auto answers = this->get({"a1", "a2"});
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_FALSE(answers[0].has_value());
  EXPECT_FALSE(answers[1].has_value());
  // Forgotten means forgotten: a rebuild from the store may start at any seq.
  this->put({this->entry("a1", 1, "rebuilt")});
  EXPECT_EQ(this->get_one("a1"), "1:rebuilt");
}

// Many callers at once (the gateway's bids): each gets the answers to its own ids, in its order,
// whatever an adapter does to serve them together.
TYPED_TEST_P(CacheContract, ConcurrentGetsAreEachAnsweredWithTheirOwnIds) {
  this->put({this->entry("a1", 1, "one"), this->entry("a2", 2, "two")});
  constexpr int kCallers = 64;
  std::vector<std::thread> callers;
  std::atomic<int> right{0};
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back([&, i] {
      std::vector<domain::AuctionId> ids;
      if (i % 3 == 0) ids = {domain::AuctionId{"a2"}, domain::AuctionId{"a1"}};
      if (i % 3 == 1) ids = {domain::AuctionId{"missing"}, domain::AuctionId{"a2"}};
      if (i % 3 == 2) ids = {domain::AuctionId{"a1"}};
      auto got =
          await<typename TestFixture::Answers>([&](auto done) { this->cache_->get(ids, done); });
      if (!got.ok() || got.value().size() != ids.size()) return;
      for (std::size_t k = 0; k < ids.size(); ++k) {
        const auto& answer = got.value()[k];
        const bool held = ids[k].str() != "missing";
        if (answer.has_value() != held || (held && answer->id != ids[k])) return;
      }
      ++right;
    });
  }
  for (auto& caller : callers) caller.join();
  EXPECT_EQ(right.load(), kCallers);
}

REGISTER_TYPED_TEST_SUITE_P(CacheContract, GetAnswersNulloptForWhatItDoesNotHold,
                            GetAnswersOnePerIdInTheOrderAsked, GetOfNoIdsAnswersNothing,
                            AHigherSeqReplacesTheEntry, AnEqualSeqDoesNotReplaceTheEntry,
                            ALowerSeqNeverRollsTheEntryBack, EachEntryOfAPutIsJudgedOnItsOwn,
                            WithinOnePutTheHighestSeqWins, ClearForgetsEverything,
                            ConcurrentGetsAreEachAnsweredWithTheirOwnIds);

}  // namespace gavel::contract
