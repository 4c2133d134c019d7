#pragma once
// The dev profile's authenticator: HS256 tokens that Gavel mints itself (POST /v1/auth/dev-token)
// with a secret kept in the data directory. Not for production: anyone holding the secret can
// be anyone. Immutable after construction except for its verified-token cache; every method is
// thread-safe.

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "adapters/jwt/verified_cache.hpp"
#include "domain/ids.hpp"
#include "domain/time.hpp"
#include "ports/auth.hpp"
#include "ports/clock.hpp"

namespace gavel::adapters::jwt {

class DevAuthenticator final : public ports::Authenticator {
 public:
  /// Shortest secret accepted (RFC 7518 §3.2: at least the size of the hash).
  static constexpr std::size_t kMinSecretBytes = 32;

  /// `secret` signs and verifies (its bytes as given; at least kMinSecretBytes, otherwise
  /// std::invalid_argument). `leeway` tolerates clock skew on exp/nbf/iat. `cache_capacity`
  /// bounds the verified-token cache (0 disables it).
  DevAuthenticator(std::string secret, ports::ClockPtr clock, std::string issuer = "gavel-dev",
                   std::string audience = "gavel", domain::Duration leeway = domain::seconds(30),
                   std::size_t cache_capacity = 4096);

  /// A token for `user` with `roles`, issued now and valid for `ttl` (whole seconds: the
  /// claims are NumericDates). Claims: sub, roles, iss, aud, iat, nbf, exp.
  std::string mint(const domain::UserId& user, ports::Roles roles, domain::Duration ttl) const;

  /// Refusals are ErrorKind::permanent with the reason ("token expired", "bad signature",
  /// "alg none is not accepted", "wrong audience", ...). Never retryable.
  ports::Result<ports::Principal> verify(std::string_view token) const override;

  /// The secret stored in `<data_dir>/dev-jwt-secret` (trailing whitespace removed), created
  /// first if missing: 32 bytes from RAND_bytes, hex-encoded (64 characters), mode 0600,
  /// written to a temporary file and linked into place so concurrent starts agree on one.
  /// Creates `data_dir` if needed. Throws std::runtime_error naming the path when the directory
  /// cannot be created or written, or the file cannot be read or is too short.
  /// Where load_or_create_secret keeps the secret in `data_dir`.
  static std::filesystem::path secret_file(const std::filesystem::path& data_dir);
  static std::string load_or_create_secret(const std::filesystem::path& data_dir);

 private:
  std::string secret_;
  ports::ClockPtr clock_;
  std::string issuer_;
  std::string audience_;
  domain::Duration leeway_;
  mutable VerifiedCache cache_;  // internally synchronized
};

}  // namespace gavel::adapters::jwt
