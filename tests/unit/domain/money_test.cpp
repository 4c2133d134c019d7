#include "domain/money.hpp"

#include <gtest/gtest.h>

#include "domain/increment.hpp"
#include "domain/time.hpp"

namespace gavel::domain {
namespace {

TEST(Money, ValidAmountsArePositiveAndAtMostTenToTheThirteen) {
  EXPECT_FALSE(is_valid_amount(Amount{0}));
  EXPECT_FALSE(is_valid_amount(Amount{-1}));
  EXPECT_TRUE(is_valid_amount(Amount{1}));
  EXPECT_TRUE(is_valid_amount(Amount{10'000'000'000'000}));
  EXPECT_FALSE(is_valid_amount(Amount{10'000'000'000'001}));
}

TEST(Money, CurrencyIsThreeUpperCaseLetters) {
  EXPECT_EQ(Currency::parse("EUR")->code(), "EUR");
  EXPECT_FALSE(Currency::parse("eur"));
  EXPECT_FALSE(Currency::parse("EURO"));
  EXPECT_FALSE(Currency::parse("E1R"));
  EXPECT_FALSE(Currency::parse(""));
  EXPECT_NE(*Currency::parse("EUR"), *Currency::parse("USD"));
}

struct TierCase {
  std::int64_t price;
  std::int64_t increment;
};

class DefaultIncrementTable : public ::testing::TestWithParam<TierCase> {};

TEST_P(DefaultIncrementTable, MatchesRulesTable) {
  const auto policy = IncrementPolicy::default_table();
  EXPECT_EQ(policy.at(Amount{GetParam().price}), Amount{GetParam().increment})
      << "price " << GetParam().price;
}

// Both edges of every row of RULES.md §Increments.
INSTANTIATE_TEST_SUITE_P(
    EveryRowEdge, DefaultIncrementTable,
    ::testing::Values(TierCase{1, 5}, TierCase{99, 5}, TierCase{100, 25}, TierCase{499, 25},
                      TierCase{500, 50}, TierCase{2'499, 50}, TierCase{2'500, 100},
                      TierCase{9'999, 100}, TierCase{10'000, 250}, TierCase{24'999, 250},
                      TierCase{25'000, 500}, TierCase{49'999, 500}, TierCase{50'000, 1'000},
                      TierCase{99'999, 1'000}, TierCase{100'000, 2'500}, TierCase{249'999, 2'500},
                      TierCase{250'000, 5'000}, TierCase{499'999, 5'000}, TierCase{500'000, 10'000},
                      TierCase{10'000'000'000'000, 10'000}));

TEST(Increment, FixedStepAppliesAtEveryPrice) {
  const auto policy = IncrementPolicy::fixed(Amount{75});
  ASSERT_TRUE(policy);
  EXPECT_EQ(policy->at(Amount{1}), Amount{75});
  EXPECT_EQ(policy->at(Amount{1'000'000}), Amount{75});
  EXPECT_FALSE(IncrementPolicy::fixed(Amount{0}));
}

TEST(Increment, CustomTableUsesTheRowAtOrBelowThePrice) {
  const auto policy = IncrementPolicy::table(
      {{Amount{0}, Amount{10}}, {Amount{1000}, Amount{100}}, {Amount{5000}, Amount{500}}});
  ASSERT_TRUE(policy);
  EXPECT_EQ(policy->at(Amount{999}), Amount{10});
  EXPECT_EQ(policy->at(Amount{1000}), Amount{100});
  EXPECT_EQ(policy->at(Amount{4999}), Amount{100});
  EXPECT_EQ(policy->at(Amount{5000}), Amount{500});
}

TEST(Increment, CustomTableMustStartAtZeroAndAscend) {
  EXPECT_FALSE(IncrementPolicy::table({}));
  EXPECT_FALSE(IncrementPolicy::table({{Amount{1}, Amount{10}}}));
  EXPECT_FALSE(IncrementPolicy::table({{Amount{0}, Amount{10}}, {Amount{0}, Amount{20}}}));
  EXPECT_FALSE(IncrementPolicy::table({{Amount{0}, Amount{10}}, {Amount{50}, Amount{0}}}));
}

TEST(Time, ParsesAndFormatsRfc3339) {
  const auto t = parse_rfc3339("2026-11-28T12:34:56Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(format_rfc3339(*t), "2026-11-28T12:34:56Z");
  EXPECT_EQ(format_rfc3339(*parse_rfc3339("2026-11-28T12:34:56.250Z")), "2026-11-28T12:34:56.250Z");
  EXPECT_EQ(format_rfc3339(*parse_rfc3339("2026-11-28T12:34:56.000001Z")),
            "2026-11-28T12:34:56.000001Z");
  EXPECT_EQ(*parse_rfc3339("2026-11-28T13:34:56+01:00"), *t);
  EXPECT_EQ(*parse_rfc3339("2026-11-28T11:04:56-01:30"), *t);
}

TEST(Time, RefusesWhatIsNotRfc3339) {
  for (const char* bad :
       {"", "2026-11-28", "2026-11-28 12:00:00Z", "2026-11-28T12:00:00", "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z", "2026-11-28T24:00:00Z", "2026-11-28T12:00:60Z",
        "2026-11-28T12:00:00.Z", "2026-11-28T12:00:00.1234567Z", "2026-11-28T12:00:00Zjunk",
        "2026-11-28T12:00:00+0100"}) {
    EXPECT_FALSE(parse_rfc3339(bad)) << bad;
  }
}

}  // namespace
}  // namespace gavel::domain
