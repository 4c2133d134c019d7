#include "adapters/jwt/jws.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cmath>
#include <cstdint>
#include <optional>
#include <utility>

#include "adapters/jwt/base64url.hpp"
#include "domain/ids.hpp"

namespace gavel::adapters::jwt {
namespace {

namespace json = boost::json;

/// Largest NumericDate accepted: 9999-12-31T23:59:59Z (keeps every conversion in range).
constexpr std::int64_t kMaxNumericDate = 253402300799;

/// Parses `text` as a JSON object; nothing for invalid JSON or another kind of value.
std::optional<json::object> parse_object(std::string_view text) {
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 16;
  json::value value = json::parse(text, ec, {}, options);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

/// Repeats a header value in a message only when it is short and plainly alphanumeric.
std::string quote_alg(std::string_view alg) {
  const bool printable =
      !alg.empty() && alg.size() <= 16 && std::all_of(alg.begin(), alg.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
      });
  return printable ? "alg " + std::string(alg) + " is not accepted" : "alg is not accepted";
}

enum class DateStatus { absent, valid, invalid };

/// Reads a NumericDate claim (seconds since the epoch; integer or decimal).
DateStatus read_date(const json::object& claims, std::string_view name, domain::Timestamp& out) {
  const json::value* value = claims.if_contains(name);
  if (value == nullptr) return DateStatus::absent;
  std::int64_t seconds = 0;
  if (value->is_int64()) {
    seconds = value->get_int64();
  } else if (value->is_uint64()) {
    if (value->get_uint64() > static_cast<std::uint64_t>(kMaxNumericDate)) {
      return DateStatus::invalid;
    }
    seconds = static_cast<std::int64_t>(value->get_uint64());
  } else if (value->is_double()) {
    const double d = value->get_double();
    if (!std::isfinite(d) || d < 0 || d > static_cast<double>(kMaxNumericDate)) {
      return DateStatus::invalid;
    }
    seconds = static_cast<std::int64_t>(std::floor(d));
  } else {
    return DateStatus::invalid;
  }
  if (seconds < 0 || seconds > kMaxNumericDate) return DateStatus::invalid;
  out = domain::Timestamp{std::chrono::seconds(seconds)};
  return DateStatus::valid;
}

/// Whether `aud` (a string or an array of strings) names `audience`; nothing when malformed.
std::optional<bool> audience_matches(const json::value& aud, std::string_view audience) {
  if (aud.is_string()) return aud.get_string() == audience;
  if (!aud.is_array()) return std::nullopt;
  bool found = false;
  for (const json::value& entry : aud.get_array()) {
    if (!entry.is_string()) return std::nullopt;
    if (entry.get_string() == audience) found = true;
  }
  return found;
}

/// Adds the roles named in `claim` (an array of strings) to `roles`; false when malformed.
bool add_roles(const json::value& claim, ports::Roles& roles) {
  if (!claim.is_array()) return false;
  for (const json::value& entry : claim.get_array()) {
    if (!entry.is_string()) return false;
    const json::string& name = entry.get_string();
    if (name == "bidder") {
      roles.add(ports::Role::bidder);
    } else if (name == "seller") {
      roles.add(ports::Role::seller);
    } else if (name == "admin") {
      roles.add(ports::Role::admin);
    }
    // Other names (other groups of the same user pool) mean nothing to Gavel.
  }
  return true;
}

}  // namespace

ports::Error refuse(std::string message) {
  return ports::Error{ports::ErrorKind::permanent, std::move(message)};
}

ports::Result<SplitToken> split_token(std::string_view token,
                                      std::span<const std::string_view> accepted_algs) {
  if (token.empty()) return refuse("empty token");
  if (token.size() > kMaxTokenBytes) return refuse("token too large");
  const std::size_t first = token.find('.');
  const std::size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return refuse("malformed token: expected three parts");
  }
  const std::string_view header_b64 = token.substr(0, first);
  const std::string_view payload_b64 = token.substr(first + 1, second - first - 1);
  const std::string_view signature_b64 = token.substr(second + 1);
  if (header_b64.empty() || payload_b64.empty()) {
    return refuse("malformed token: empty header or payload");
  }

  const std::optional<std::string> header_json = base64url_decode(header_b64);
  if (!header_json) return refuse("malformed token: header is not base64url");
  const std::optional<json::object> header = parse_object(*header_json);
  if (!header) return refuse("malformed token: header is not a JSON object");

  const json::value* alg = header->if_contains("alg");
  if (alg == nullptr || !alg->is_string()) return refuse("malformed token: missing alg");
  const std::string_view alg_name = alg->get_string();
  // "none" in any spelling: RFC 7518 names it in lower case, but refuse every variant plainly.
  if (alg_name.size() == 4 && std::equal(alg_name.begin(), alg_name.end(), "none",
                                         [](char a, char b) { return (a | 0x20) == b; })) {
    return refuse("alg none is not accepted");
  }
  if (std::find(accepted_algs.begin(), accepted_algs.end(), alg_name) == accepted_algs.end()) {
    return refuse(quote_alg(alg_name));
  }
  // No extension is understood, so any `crit` must be refused (RFC 7515 §4.1.11).
  if (header->contains("crit")) return refuse("unsupported crit header");

  SplitToken split;
  split.alg = std::string(alg_name);
  if (const json::value* kid = header->if_contains("kid")) {
    if (!kid->is_string() || kid->get_string().empty()) {
      return refuse("malformed token: kid is not a string");
    }
    split.kid = std::string(kid->get_string());
  }

  if (signature_b64.empty()) return refuse("missing signature");
  std::optional<std::string> signature = base64url_decode(signature_b64);
  if (!signature) return refuse("malformed token: signature is not base64url");
  split.signature = std::move(*signature);
  split.signing_input = token.substr(0, second);
  split.payload = payload_b64;
  return split;
}

ports::Result<ports::Principal> check_claims(std::string_view payload_b64, const ClaimRules& rules,
                                             domain::Timestamp now) {
  const std::optional<std::string> payload_json = base64url_decode(payload_b64);
  if (!payload_json) return refuse("malformed token: payload is not base64url");
  const std::optional<json::object> claims = parse_object(*payload_json);
  if (!claims) return refuse("malformed token: claims are not a JSON object");

  domain::Timestamp exp{};
  switch (read_date(*claims, "exp", exp)) {
    case DateStatus::absent:
      return refuse("missing exp");
    case DateStatus::invalid:
      return refuse("malformed exp");
    case DateStatus::valid:
      break;
  }
  if (now >= exp + rules.leeway) return refuse("token expired");

  domain::Timestamp nbf{};
  switch (read_date(*claims, "nbf", nbf)) {
    case DateStatus::invalid:
      return refuse("malformed nbf");
    case DateStatus::valid:
      if (now + rules.leeway < nbf) return refuse("token not yet valid");
      break;
    case DateStatus::absent:
      break;
  }

  domain::Timestamp iat{};
  switch (read_date(*claims, "iat", iat)) {
    case DateStatus::invalid:
      return refuse("malformed iat");
    case DateStatus::valid:
      if (now + rules.leeway < iat) return refuse("token issued in the future");
      break;
    case DateStatus::absent:
      break;
  }

  const json::value* iss = claims->if_contains("iss");
  if (iss == nullptr) return refuse("missing iss");
  if (!iss->is_string() || iss->get_string() != rules.issuer) return refuse("wrong issuer");

  if (const json::value* aud = claims->if_contains("aud")) {
    const std::optional<bool> matches = audience_matches(*aud, rules.audience);
    if (!matches) return refuse("malformed aud");
    if (!*matches) return refuse("wrong audience");
  } else if (const json::value* client_id = claims->if_contains("client_id")) {
    // Cognito access tokens carry the app client in client_id instead of aud.
    if (!client_id->is_string() || client_id->get_string() != rules.audience) {
      return refuse("wrong audience");
    }
  } else {
    return refuse("missing aud");
  }

  // Cognito says "id" or "access"; a token meant for something else is not a bearer token.
  if (const json::value* use = claims->if_contains("token_use")) {
    if (!use->is_string() || (use->get_string() != "access" && use->get_string() != "id")) {
      return refuse("unexpected token_use");
    }
  }

  const json::value* sub = claims->if_contains("sub");
  if (sub == nullptr) return refuse("missing sub");
  if (!sub->is_string()) return refuse("sub is not a string");
  const std::string_view sub_text = sub->get_string();
  if (sub_text.size() > domain::kMaxIdLength) return refuse("sub longer than 64 characters");
  if (!domain::is_valid_id(sub_text)) return refuse("sub is not a valid user id");

  ports::Principal principal;
  principal.user_id = domain::UserId{sub_text};
  principal.expires_at = exp;
  for (const std::string_view name :
       {std::string_view{"cognito:groups"}, std::string_view{"roles"}}) {
    if (const json::value* claim = claims->if_contains(name)) {
      if (!add_roles(*claim, principal.roles)) return refuse("malformed " + std::string(name));
    }
  }
  return principal;
}

}  // namespace gavel::adapters::jwt
