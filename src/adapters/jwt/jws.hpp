#pragma once
// The parts of JWS/JWT checking that do not depend on the key: splitting a compact token,
// checking its header, and checking its claims once the signature is known to be good.
// Internal to the jwt adapter. Every function here takes untrusted input and never throws for it.

#include <boost/json/object.hpp>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "domain/time.hpp"
#include "ports/auth.hpp"
#include "ports/result.hpp"

namespace gavel::adapters::jwt {

/// Tokens longer than this are refused before any parsing (Cognito tokens are 1–2 KiB).
inline constexpr std::size_t kMaxTokenBytes = std::size_t{8} * 1024;

/// A compact JWS whose header passed the checks, signature not yet verified.
struct SplitToken {
  std::string alg;
  std::string kid;                 ///< empty when the header has none
  std::string_view signing_input;  ///< "<header>.<payload>", a view into the token
  std::string_view payload;        ///< the payload part, still base64url
  std::string signature;           ///< decoded
};

/// Splits `token` and checks its header: size, exactly three base64url parts, a JSON object
/// header whose `alg` is one of `accepted_algs` ("none" is never accepted), no `crit`, and a
/// non-empty signature. Refusals are ErrorKind::permanent.
ports::Result<SplitToken> split_token(std::string_view token,
                                      std::span<const std::string_view> accepted_algs);

/// What the claims must say.
struct ClaimRules {
  std::string issuer;
  std::string audience;
  domain::Duration leeway{};
};

/// Decodes the (already authenticated) payload and checks exp/nbf/iat against `now` with the
/// leeway, iss, aud (or client_id when aud is absent), token_use, and sub; maps
/// `cognito:groups`/`roles` to roles. Refusals are ErrorKind::permanent.
ports::Result<ports::Principal> check_claims(std::string_view payload_b64, const ClaimRules& rules,
                                             domain::Timestamp now);

/// A permanent refusal with `message`.
ports::Error refuse(std::string message);

}  // namespace gavel::adapters::jwt
