#include "adapters/jwt/jwks_authenticator.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <vector>

#include "adapters/jwt/base64url.hpp"
#include "adapters/jwt/jws.hpp"
#include "adapters/jwt/openssl_util.hpp"

namespace gavel::adapters::jwt {

namespace json = boost::json;

struct JwksKeySet {
  struct Key {
    std::string alg;  // "RS256" or "ES256": the only algorithm this key verifies
    std::shared_ptr<EVP_PKEY> pkey;
  };
  std::unordered_map<std::string, Key> keys;
};

namespace {

constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 8192;  // bigger keys would make each verification a DoS lever
constexpr std::size_t kP256CoordinateBytes = 32;

constexpr std::array<std::string_view, 1> kRs256Only{"RS256"};
constexpr std::array<std::string_view, 2> kRs256AndEs256{"RS256", "ES256"};

std::shared_ptr<EVP_PKEY> share(EVP_PKEY* pkey) {
  return {pkey, [](EVP_PKEY* p) { EVP_PKEY_free(p); }};
}

OsslPtr<BIGNUM> to_bignum(const std::string& bytes) {
  return OsslPtr<BIGNUM>(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                                   static_cast<int>(bytes.size()), nullptr));
}

/// Builds a public key of `type` ("RSA" or "EC") from `params`; null on failure.
std::shared_ptr<EVP_PKEY> key_from_params(const char* type, OSSL_PARAM_BLD* builder) {
  const OsslPtr<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(builder));
  const OsslPtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return nullptr;
  EVP_PKEY* pkey = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) return nullptr;
  auto shared = share(pkey);
  const OsslPtr<EVP_PKEY_CTX> check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) return nullptr;
  return shared;
}

const json::string* string_member(const json::object& object, std::string_view name) {
  const json::value* value = object.if_contains(name);
  return value != nullptr && value->is_string() ? &value->get_string() : nullptr;
}

std::shared_ptr<EVP_PKEY> rsa_key(const json::object& jwk) {
  const json::string* n_text = string_member(jwk, "n");
  const json::string* e_text = string_member(jwk, "e");
  if (n_text == nullptr || e_text == nullptr) return nullptr;
  const auto n_bytes = base64url_decode(*n_text);
  const auto e_bytes = base64url_decode(*e_text);
  if (!n_bytes || !e_bytes || e_bytes->empty() || e_bytes->size() > 8) return nullptr;
  const auto n = to_bignum(*n_bytes);
  const auto e = to_bignum(*e_bytes);
  if (!n || !e || BN_num_bits(n.get()) < kMinRsaBits || BN_num_bits(n.get()) > kMaxRsaBits ||
      !BN_is_odd(e.get()) || BN_is_one(e.get())) {
    return nullptr;
  }
  const OsslPtr<OSSL_PARAM_BLD> builder(OSSL_PARAM_BLD_new());
  if (!builder || OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return nullptr;
  }
  return key_from_params("RSA", builder.get());
}

std::shared_ptr<EVP_PKEY> p256_key(const json::object& jwk) {
  const json::string* crv = string_member(jwk, "crv");
  const json::string* x_text = string_member(jwk, "x");
  const json::string* y_text = string_member(jwk, "y");
  if (crv == nullptr || *crv != "P-256" || x_text == nullptr || y_text == nullptr) return nullptr;
  const auto x = base64url_decode(*x_text);
  const auto y = base64url_decode(*y_text);
  if (!x || !y || x->size() != kP256CoordinateBytes || y->size() != kP256CoordinateBytes) {
    return nullptr;
  }
  std::string point = "\x04" + *x + *y;  // SEC 1 uncompressed point
  const OsslPtr<OSSL_PARAM_BLD> builder(OSSL_PARAM_BLD_new());
  if (!builder ||
      OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return nullptr;
  }
  return key_from_params("EC", builder.get());
}

/// The usable keys of `document`; keys of other types, other uses or without a kid are skipped.
ports::Result<std::shared_ptr<const JwksKeySet>> parse_jwks(std::string_view document,
                                                            bool accept_es256) {
  boost::system::error_code ec;
  const json::value root = json::parse(document, ec);
  if (ec || !root.is_object()) return refuse("JWKS is not a JSON object");
  const json::value* keys = root.get_object().if_contains("keys");
  if (keys == nullptr || !keys->is_array()) return refuse("JWKS has no keys array");

  auto set = std::make_shared<JwksKeySet>();
  for (const json::value& entry : keys->get_array()) {
    if (!entry.is_object()) continue;
    const json::object& jwk = entry.get_object();
    const json::string* kid = string_member(jwk, "kid");
    const json::string* kty = string_member(jwk, "kty");
    const json::string* use = string_member(jwk, "use");
    const json::string* alg = string_member(jwk, "alg");
    if (kid == nullptr || kid->empty() || kty == nullptr) continue;
    if (jwk.contains("use") && (use == nullptr || *use != "sig")) continue;
    if (set->keys.contains(std::string(*kid))) continue;  // the first of duplicates wins

    JwksKeySet::Key key;
    if (*kty == "RSA") {
      key.alg = "RS256";
      if (jwk.contains("alg") && (alg == nullptr || *alg != "RS256")) continue;
      key.pkey = rsa_key(jwk);
    } else if (*kty == "EC" && accept_es256) {
      key.alg = "ES256";
      if (jwk.contains("alg") && (alg == nullptr || *alg != "ES256")) continue;
      key.pkey = p256_key(jwk);
    }
    if (key.pkey) set->keys.emplace(std::string(*kid), std::move(key));
  }
  if (set->keys.empty()) return refuse("JWKS has no usable key");
  return std::shared_ptr<const JwksKeySet>(std::move(set));
}

/// JWS ES256 signatures are r||s (32 bytes each); OpenSSL verifies DER. Empty on failure.
std::vector<unsigned char> es256_to_der(const std::string& raw) {
  if (raw.size() != 2 * kP256CoordinateBytes) return {};
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(bytes, kP256CoordinateBytes, nullptr);
  BIGNUM* s = BN_bin2bn(bytes + kP256CoordinateBytes, kP256CoordinateBytes, nullptr);
  if (sig == nullptr || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return {};
  }
  std::vector<unsigned char> der;
  const int size = i2d_ECDSA_SIG(sig, nullptr);
  if (size > 0) {
    der.resize(static_cast<std::size_t>(size));
    unsigned char* out = der.data();
    if (i2d_ECDSA_SIG(sig, &out) != size) der.clear();
  }
  ECDSA_SIG_free(sig);  // owns r and s now
  return der;
}

/// Whether `signature` over `data` verifies under `key` with SHA-256.
bool signature_valid(const JwksKeySet::Key& key, std::string_view data,
                     const std::string& signature) {
  std::vector<unsigned char> der;
  const auto* sig = reinterpret_cast<const unsigned char*>(signature.data());
  std::size_t sig_size = signature.size();
  if (key.alg == "ES256") {
    der = es256_to_der(signature);
    if (der.empty()) return false;
    sig = der.data();
    sig_size = der.size();
  }
  const OsslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr,
                                      key.pkey.get(), nullptr) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), sig, sig_size,
                          reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
}

}  // namespace

JwksAuthenticator::JwksAuthenticator(JwksOptions options, ports::ClockPtr clock,
                                     std::string_view jwks_document)
    : options_(std::move(options)),
      clock_(std::move(clock)),
      cache_(options_.cache_capacity),
      keys_(std::make_shared<const JwksKeySet>()) {
  if (!clock_) throw std::invalid_argument("JwksAuthenticator needs a clock");
  auto parsed = parse_jwks(jwks_document, options_.accept_es256);
  if (!parsed) throw std::invalid_argument("cannot use the JWKS: " + parsed.error().message);
  keys_ = std::move(parsed.value());
}

JwksAuthenticator::JwksAuthenticator(JwksOptions options, ports::ClockPtr clock, JwksFetch fetch)
    : options_(std::move(options)),
      clock_(std::move(clock)),
      fetch_(std::move(fetch)),
      cache_(options_.cache_capacity),
      keys_(std::make_shared<const JwksKeySet>()) {
  if (!clock_) throw std::invalid_argument("JwksAuthenticator needs a clock");
  if (!fetch_) throw std::invalid_argument("JwksAuthenticator needs a fetch function");
}

JwksAuthenticator::~JwksAuthenticator() = default;

std::shared_ptr<const JwksKeySet> JwksAuthenticator::snapshot() const {
  const std::lock_guard lock(keys_mutex_);
  return keys_;
}

std::size_t JwksAuthenticator::key_count() const {
  return snapshot()->keys.size();
}

ports::Result<void> JwksAuthenticator::fetch_and_install(domain::Timestamp now) const {
  last_fetch_ = now;
  ports::Result<std::string> document = [this]() -> ports::Result<std::string> {
    try {
      return fetch_();
    } catch (const std::exception& e) {
      return ports::Error{ports::ErrorKind::retryable,
                          std::string("JWKS fetch threw: ") + e.what()};
    }
  }();
  if (!document) return document.error();
  auto parsed = parse_jwks(document.value(), options_.accept_es256);
  if (!parsed) return parsed.error();
  const std::lock_guard lock(keys_mutex_);
  keys_ = std::move(parsed.value());
  return {};
}

ports::Result<void> JwksAuthenticator::refresh() {
  if (!fetch_) return refuse("no JWKS fetch function: the keys are fixed");
  const std::lock_guard lock(refresh_mutex_);
  return fetch_and_install(clock_->now());
}

ports::Result<std::shared_ptr<const JwksKeySet>> JwksAuthenticator::keys_for(
    const std::string& kid, domain::Timestamp now) const {
  auto keys = snapshot();
  if (keys->keys.contains(kid)) return keys;
  if (!fetch_) return refuse("unknown key");

  const std::lock_guard lock(refresh_mutex_);
  keys = snapshot();  // another thread may have fetched while this one waited
  if (keys->keys.contains(kid)) return keys;
  const bool rate_limited = last_fetch_ && now < *last_fetch_ + options_.min_refresh_interval;
  if (rate_limited) {
    if (keys->keys.empty()) {
      return ports::Error{ports::ErrorKind::retryable, "signing keys not loaded yet"};
    }
    return refuse("unknown key");
  }
  const ports::Result<void> fetched = fetch_and_install(now);
  keys = snapshot();
  if (!fetched) {
    if (keys->keys.empty()) {
      return ports::Error{ports::ErrorKind::retryable,
                          "signing keys not loaded: " + fetched.error().message};
    }
    return ports::Error{ports::ErrorKind::retryable,
                        "unknown key; refreshing the JWKS failed: " + fetched.error().message};
  }
  if (keys->keys.contains(kid)) return keys;
  return refuse("unknown key");
}

ports::Result<ports::Principal> JwksAuthenticator::verify(std::string_view token) const {
  const domain::Timestamp now = clock_->now();
  if (auto cached = cache_.find(token, now)) return *cached;

  const std::span<const std::string_view> algs =
      options_.accept_es256 ? std::span<const std::string_view>(kRs256AndEs256)
                            : std::span<const std::string_view>(kRs256Only);
  auto split = split_token(token, algs);
  if (!split) return split.error();
  const SplitToken& parts = split.value();
  if (parts.kid.empty()) return refuse("missing kid");

  auto keys = keys_for(parts.kid, now);
  if (!keys) return keys.error();
  const JwksKeySet::Key& key = keys.value()->keys.at(parts.kid);
  if (key.alg != parts.alg) return refuse("alg does not match the key");
  if (!signature_valid(key, parts.signing_input, parts.signature)) return refuse("bad signature");

  auto principal =
      check_claims(parts.payload, {options_.issuer, options_.audience, options_.leeway}, now);
  if (principal) {
    cache_.insert(token, principal.value(), principal.value().expires_at + options_.leeway, now);
  }
  return principal;
}

}  // namespace gavel::adapters::jwt
