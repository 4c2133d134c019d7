#pragma once
// Base64url without padding (RFC 7515 §2, RFC 4648 §5), as used by JWS and JWK.

#include <optional>
#include <string>
#include <string_view>

namespace gavel::adapters::jwt {

/// Encodes `bytes` as base64url without '=' padding.
std::string base64url_encode(std::string_view bytes);

/// Decodes strict base64url: only [A-Za-z0-9_-], no padding, no whitespace, a length that is
/// not 1 modulo 4, and zero unused bits in the last character (so every value has exactly one
/// encoding). Returns nothing for anything else.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace gavel::adapters::jwt
