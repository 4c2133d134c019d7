#pragma once
// The minimum raise as a function of the current price (RULES.md §Increments).

#include <optional>
#include <string>
#include <vector>

#include "domain/money.hpp"

namespace gavel::domain {

/// One row of an increment table: from price `from` upwards (until the next row) the raise is
/// `step`.
struct IncrementTier {
  Amount from;
  Amount step;
  bool operator==(const IncrementTier&) const = default;
};

/// A table of increments. A fixed increment is a table of one row starting at zero.
class IncrementPolicy {
 public:
  /// The default table (eBay's, in minor units).
  static IncrementPolicy default_table();
  /// The same raise at every price. Returns nothing unless the step is a valid amount.
  static std::optional<IncrementPolicy> fixed(Amount step);
  /// A custom table. Rows must start at 0, ascend strictly by `from`, and have valid steps;
  /// at most kMaxTiers rows. Returns nothing otherwise.
  static std::optional<IncrementPolicy> table(std::vector<IncrementTier> tiers);

  static constexpr std::size_t kMaxTiers = 64;

  /// The increment that applies at `price`.
  Amount at(Amount price) const;

  const std::vector<IncrementTier>& tiers() const { return tiers_; }
  bool is_fixed() const { return tiers_.size() == 1; }
  bool operator==(const IncrementPolicy&) const = default;

 private:
  explicit IncrementPolicy(std::vector<IncrementTier> tiers) : tiers_(std::move(tiers)) {}
  std::vector<IncrementTier> tiers_;
};

}  // namespace gavel::domain
