#pragma once
// Who is calling (the seed's Cognito): verifies a bearer token and maps its claims to a user
// and roles. Verification is CPU work, so it is synchronous; adapters that need keys from the
// network (JWKS) fetch them in the background and answer retryable until they have them.

#include <memory>
#include <string_view>

#include "domain/ids.hpp"
#include "domain/time.hpp"
#include "ports/result.hpp"

namespace gavel::ports {

enum class Role : unsigned { bidder = 1, seller = 2, admin = 4 };

/// A set of roles.
class Roles {
 public:
  Roles() = default;
  Roles& add(Role role) {
    bits_ |= static_cast<unsigned>(role);
    return *this;
  }
  bool has(Role role) const { return (bits_ & static_cast<unsigned>(role)) != 0; }
  bool operator==(const Roles&) const = default;

 private:
  unsigned bits_ = 0;
};

/// A verified caller.
struct Principal {
  domain::UserId user_id;
  Roles roles;
  domain::Timestamp expires_at{};
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;

  /// Verifies `token` (without "Bearer "). A bad, expired or unsigned token answers
  /// ErrorKind::permanent with the reason; a verifier that cannot check yet (keys not loaded)
  /// answers ErrorKind::retryable. Thread-safe.
  virtual Result<Principal> verify(std::string_view token) const = 0;
};

using AuthenticatorPtr = std::unique_ptr<Authenticator>;

}  // namespace gavel::ports
