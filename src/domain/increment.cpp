#include "domain/increment.hpp"

#include <utility>

namespace gavel::domain {

IncrementPolicy IncrementPolicy::default_table() {
  return IncrementPolicy{{
      {Amount{0}, Amount{5}},
      {Amount{100}, Amount{25}},
      {Amount{500}, Amount{50}},
      {Amount{2'500}, Amount{100}},
      {Amount{10'000}, Amount{250}},
      {Amount{25'000}, Amount{500}},
      {Amount{50'000}, Amount{1'000}},
      {Amount{100'000}, Amount{2'500}},
      {Amount{250'000}, Amount{5'000}},
      {Amount{500'000}, Amount{10'000}},
  }};
}

std::optional<IncrementPolicy> IncrementPolicy::fixed(Amount step) {
  if (!is_valid_amount(step)) return std::nullopt;
  return IncrementPolicy{{{Amount{0}, step}}};
}

std::optional<IncrementPolicy> IncrementPolicy::table(std::vector<IncrementTier> tiers) {
  if (tiers.empty() || tiers.size() > kMaxTiers || tiers.front().from != Amount{0}) {
    return std::nullopt;
  }
  for (std::size_t i = 0; i < tiers.size(); ++i) {
    if (!is_valid_amount(tiers[i].step)) return std::nullopt;
    if (i > 0 && (tiers[i].from <= tiers[i - 1].from || tiers[i].from > kMaxAmount)) {
      return std::nullopt;
    }
  }
  return IncrementPolicy{std::move(tiers)};
}

Amount IncrementPolicy::at(Amount price) const {
  // Tables are short (ten rows by default): a linear scan beats a binary search here.
  Amount step = tiers_.front().step;
  for (const IncrementTier& tier : tiers_) {
    if (price < tier.from) break;
    step = tier.step;
  }
  return step;
}

}  // namespace gavel::domain
