#pragma once
// Strong identifier types: an auction id cannot be passed where a user id is expected.
// Ids live inline (at most kMaxIdLength bytes, no heap): the engine copies them into every
// event and history record, and a heap allocation per copy was most of the cost of a decision
// (docs/benchmarks.md).

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace gavel::domain {

/// Longest id accepted anywhere (auction, user and bid ids alike). Long enough for UUIDs,
/// ULIDs and the `sub` claims of the common identity providers.
inline constexpr std::size_t kMaxIdLength = 64;

/// Ids are 1–64 printable ASCII characters without spaces, quotes, '\\', '/', '?', '#' or '%',
/// so they are safe in logs, store keys and URL paths. Check this before building an Id from
/// untrusted input.
bool is_valid_id(std::string_view value);

template <typename Tag>
class Id {
 public:
  Id() = default;
  /// Precondition: value.size() <= kMaxIdLength (throws std::length_error otherwise: a
  /// programming error, since untrusted input is checked with is_valid_id first).
  explicit Id(std::string_view value) {
    if (value.size() > kMaxIdLength) throw std::length_error("id longer than 64 bytes");
    std::memcpy(data_.data(), value.data(), value.size());
    size_ = static_cast<std::uint8_t>(value.size());
  }
  explicit Id(const std::string& value) : Id(std::string_view{value}) {}
  explicit Id(const char* value) : Id(std::string_view{value}) {}

  std::string_view view() const { return {data_.data(), size_}; }
  std::string str() const { return std::string(view()); }
  bool empty() const { return size_ == 0; }

  bool operator==(const Id& other) const {
    return size_ == other.size_ && std::memcmp(data_.data(), other.data_.data(), size_) == 0;
  }
  std::strong_ordering operator<=>(const Id& other) const { return view() <=> other.view(); }

 private:
  std::array<char, kMaxIdLength> data_{};
  std::uint8_t size_ = 0;
};

struct AuctionIdTag {};
struct UserIdTag {};
struct BidIdTag {};

using AuctionId = Id<AuctionIdTag>;
using UserId = Id<UserIdTag>;
using BidId = Id<BidIdTag>;

}  // namespace gavel::domain

template <typename Tag>
struct std::hash<gavel::domain::Id<Tag>> {
  std::size_t operator()(const gavel::domain::Id<Tag>& id) const noexcept {
    return std::hash<std::string_view>{}(id.view());
  }
};
