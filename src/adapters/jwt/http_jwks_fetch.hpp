#pragma once
// Fetches a JWKS document over HTTP(S) with libcurl, for JwksAuthenticator (jwks mode with
// GAVEL_JWKS_URL, e.g. Cognito's
// https://cognito-idp.<region>.amazonaws.com/<pool>/.well-known/jwks.json).

#include <chrono>
#include <string>

#include "adapters/jwt/jwks_authenticator.hpp"

namespace gavel::adapters::jwt {

/// Largest JWKS document accepted.
inline constexpr std::size_t kMaxJwksBytes = 1 << 20;

/// A fetch function for `url`: GET with `timeout`, following no redirects, answering the body
/// on HTTP 200; ErrorKind::retryable on network errors, timeouts and 5xx; permanent otherwise
/// (4xx, a body over kMaxJwksBytes, a malformed URL). Blocking: called by the authenticator
/// at most once per refresh interval.
JwksFetch http_jwks_fetch(std::string url,
                          std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace gavel::adapters::jwt
