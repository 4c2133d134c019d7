#pragma once
// Verifies tokens of an OpenID provider (Cognito in production) against the public keys of its
// JWKS: RS256, and ES256 when enabled. The keys come either from a fixed document (a file) or
// from a fetch function (the wiring fetches the provider's jwks_uri over HTTP).
//
// Lifecycle: built at startup, shared by every request thread; verify() and refresh() are
// thread-safe. The key set is swapped atomically under a mutex; signature checks run
// concurrently outside it. With a fetch function, the fetch runs on the thread that needs it
// (the first verify(), a token with an unknown kid, or refresh()) and other threads needing a
// fetch wait for it, so the fetch function must have its own timeout.

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "adapters/jwt/verified_cache.hpp"
#include "domain/time.hpp"
#include "ports/auth.hpp"
#include "ports/clock.hpp"
#include "ports/result.hpp"

namespace gavel::adapters::jwt {

struct JwksOptions {
  /// Must equal the `iss` claim, e.g. "https://cognito-idp.<region>.amazonaws.com/<poolId>".
  std::string issuer;
  /// Must be in `aud` (ID tokens), or equal `client_id` when there is no `aud` (Cognito access
  /// tokens): the app client id.
  std::string audience;
  /// Tolerated clock skew for exp, nbf and iat.
  domain::Duration leeway = domain::seconds(30);
  /// A token with an unknown kid refreshes the keys at most this often (by the clock).
  domain::Duration min_refresh_interval = domain::seconds(60);
  /// Also accept ES256 (EC P-256 keys). RS256 is always accepted.
  bool accept_es256 = false;
  /// Bound of the verified-token cache (0 disables it).
  std::size_t cache_capacity = 4096;
};

/// The parsed keys (defined in the .cpp, which keeps OpenSSL out of this header).
struct JwksKeySet;

/// Returns the JWKS document (JSON), or an error (retryable if it may work later).
using JwksFetch = std::function<ports::Result<std::string>()>;

class JwksAuthenticator final : public ports::Authenticator {
 public:
  /// Keys from a fixed JWKS document. Throws std::invalid_argument if it is not a JWKS or has
  /// no usable key (RSA of 2048–8192 bits; EC P-256 if accept_es256), or if `clock` is null.
  JwksAuthenticator(JwksOptions options, ports::ClockPtr clock, std::string_view jwks_document);

  /// Keys from `fetch`, called lazily (see the class comment); nothing is fetched here.
  /// Throws std::invalid_argument if `fetch` or `clock` is null.
  JwksAuthenticator(JwksOptions options, ports::ClockPtr clock, JwksFetch fetch);

  ~JwksAuthenticator() override;
  JwksAuthenticator(const JwksAuthenticator&) = delete;
  JwksAuthenticator& operator=(const JwksAuthenticator&) = delete;

  /// Refusals are ErrorKind::permanent with the reason ("token expired", "bad signature",
  /// "unknown key", "alg HS256 is not accepted", ...). ErrorKind::retryable while no key could
  /// be loaded yet ("signing keys not loaded: ..."), or when a token names an unknown kid and
  /// the refresh it caused failed.
  ports::Result<ports::Principal> verify(std::string_view token) const override;

  /// Fetches the JWKS now, whatever the rate limit, and replaces the key set if the document
  /// has a usable key (otherwise the old set stays). For startup and a periodic background
  /// refresh. Without a fetch function: ErrorKind::permanent.
  ports::Result<void> refresh();

  /// How many keys are loaded (for readiness checks and tests).
  std::size_t key_count() const;

 private:
  /// A snapshot of the key set holding `kid`'s key, fetching first if allowed.
  ports::Result<std::shared_ptr<const JwksKeySet>> keys_for(const std::string& kid,
                                                            domain::Timestamp now) const;
  /// Calls fetch_ and installs the result. Caller holds refresh_mutex_.
  ports::Result<void> fetch_and_install(domain::Timestamp now) const;
  std::shared_ptr<const JwksKeySet> snapshot() const;

  JwksOptions options_;
  ports::ClockPtr clock_;
  JwksFetch fetch_;
  mutable VerifiedCache cache_;  // internally synchronized

  mutable std::mutex keys_mutex_;
  mutable std::shared_ptr<const JwksKeySet> keys_;  // guarded by keys_mutex_; never null

  mutable std::mutex refresh_mutex_;                     // one fetch at a time
  mutable std::optional<domain::Timestamp> last_fetch_;  // guarded by refresh_mutex_
};

}  // namespace gavel::adapters::jwt
