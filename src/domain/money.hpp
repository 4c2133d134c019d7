#pragma once
// Money on the path of a bid: integer counts of a currency's minor unit, never floating point.

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gavel::domain {

/// An amount in minor units (cents). Arithmetic is exact; callers keep values within
/// [0, kMaxAmount] so that sums of two amounts cannot overflow.
class Amount {
 public:
  constexpr Amount() = default;
  constexpr explicit Amount(std::int64_t minor_units) : minor_(minor_units) {}

  constexpr std::int64_t minor_units() const { return minor_; }

  constexpr auto operator<=>(const Amount&) const = default;  // NOLINT(modernize-use-nullptr)
  constexpr Amount operator+(Amount other) const { return Amount{minor_ + other.minor_}; }

 private:
  std::int64_t minor_ = 0;
};

/// The largest amount accepted anywhere: 10^13 minor units (RULES.md §Money).
inline constexpr Amount kMaxAmount{10'000'000'000'000};

/// A bid or price amount is valid when it is positive and at most kMaxAmount.
constexpr bool is_valid_amount(Amount amount) {
  return amount > Amount{0} && amount <= kMaxAmount;
}

/// An ISO 4217 alphabetic code: three upper-case ASCII letters.
class Currency {
 public:
  /// Returns nothing unless `code` is exactly three letters A–Z.
  static std::optional<Currency> parse(std::string_view code) {
    if (code.size() != 3) return std::nullopt;
    Currency currency;
    for (std::size_t i = 0; i < 3; ++i) {
      if (code[i] < 'A' || code[i] > 'Z') return std::nullopt;
      currency.code_[i] = code[i];
    }
    return currency;
  }

  std::string_view code() const { return {code_.data(), code_.size()}; }
  bool operator==(const Currency&) const = default;

 private:
  std::array<char, 3> code_{};
};

/// An amount together with its currency, as it crosses the system's boundary.
struct Money {
  Amount amount;
  Currency currency;
  bool operator==(const Money&) const = default;
};

}  // namespace gavel::domain
