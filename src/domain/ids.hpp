#pragma once
// Strong identifier types: an auction id cannot be passed where a user id is expected.

#include <compare>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

namespace gavel::domain {

template <typename Tag>
class Id {
 public:
  Id() = default;
  explicit Id(std::string value) : value_(std::move(value)) {}
  explicit Id(std::string_view value) : value_(value) {}
  explicit Id(const char* value) : value_(value) {}

  const std::string& str() const { return value_; }
  bool empty() const { return value_.empty(); }

  auto operator<=>(const Id&) const = default;
  bool operator==(const Id&) const = default;

 private:
  std::string value_;
};

struct AuctionIdTag {};
struct UserIdTag {};
struct BidIdTag {};

using AuctionId = Id<AuctionIdTag>;
using UserId = Id<UserIdTag>;
using BidId = Id<BidIdTag>;

/// Longest id accepted from outside (auction, user and bid ids alike).
inline constexpr std::size_t kMaxIdLength = 128;

/// Ids are 1–128 printable ASCII characters without spaces or quotes, so they are safe in
/// logs, keys of every store, and URLs.
bool is_valid_id(std::string_view value);

}  // namespace gavel::domain

template <typename Tag>
struct std::hash<gavel::domain::Id<Tag>> {
  std::size_t operator()(const gavel::domain::Id<Tag>& id) const noexcept {
    return std::hash<std::string>{}(id.str());
  }
};
