#pragma once
// An authenticator with a fixed table of tokens, for tests and local tools: no signatures, the
// token itself is the secret. Thread-safe.

#include <mutex>
#include <string>
#include <unordered_map>

#include "ports/auth.hpp"
#include "ports/clock.hpp"

namespace gavel::adapters::memory {

class StaticAuthenticator final : public ports::Authenticator {
 public:
  /// `clock` decides expiry: a principal whose expires_at <= clock->now() is refused.
  explicit StaticAuthenticator(ports::ClockPtr clock);

  /// Accepts `token` as `principal` from now on (replacing an earlier entry for it).
  void add(std::string token, ports::Principal principal);
  /// Stops accepting `token`; returns whether it was known.
  bool remove(const std::string& token);

  /// Unknown token: ErrorKind::permanent "unknown token"; expired: ErrorKind::permanent
  /// "token expired".
  ports::Result<ports::Principal> verify(std::string_view token) const override;

 private:
  ports::ClockPtr clock_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, ports::Principal> principals_;
};

}  // namespace gavel::adapters::memory
