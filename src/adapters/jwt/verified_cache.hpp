#pragma once
// Remembers tokens whose signature and claims were already checked, so a gateway that sees the
// same bearer token on every request checks its signature once. Keyed by the whole token: a
// token not seen before is always verified in full. Thread-safe.

#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "domain/time.hpp"
#include "ports/auth.hpp"

namespace gavel::adapters::jwt {

class VerifiedCache {
 public:
  /// Holds at most `capacity` tokens (0 disables the cache). An entry is usable until
  /// `valid_until` (exp plus the leeway).
  explicit VerifiedCache(std::size_t capacity);

  /// The principal of `token` if it was verified and is still valid at `now`.
  std::optional<ports::Principal> find(std::string_view token, domain::Timestamp now) const;

  /// Remembers `token` as verified. When full, drops the expired entries, and then everything
  /// if that was not enough (cheap, and a miss only costs one more verification).
  void insert(std::string_view token, const ports::Principal& principal,
              domain::Timestamp valid_until, domain::Timestamp now);

 private:
  struct Entry {
    ports::Principal principal;
    domain::Timestamp valid_until;
  };

  /// Lets find() look up a string_view without copying the token.
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept {
      return std::hash<std::string_view>{}(text);
    }
  };

  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry, Hash, std::equal_to<>> entries_;
};

}  // namespace gavel::adapters::jwt
