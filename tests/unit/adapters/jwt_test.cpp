// Tests of the JWT authenticators: HS256 dev tokens and RS256/ES256 tokens against a JWKS.
// Keys are generated at runtime; time is a fake clock that moves only when told to.

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "adapters/jwt/base64url.hpp"
#include "adapters/jwt/dev_authenticator.hpp"
#include "adapters/jwt/jwks_authenticator.hpp"
#include "adapters/jwt/jws.hpp"
#include "adapters/jwt/verified_cache.hpp"

namespace gavel::adapters::jwt {
namespace {

namespace json = boost::json;
using ports::ErrorKind;
using ports::Role;

// 2026-01-01T00:00:00Z.
constexpr std::int64_t kStart = 1767225600;

class FakeClock final : public ports::Clock {
 public:
  domain::Timestamp now() const override { return now_; }
  TimerId call_at(domain::Timestamp /*at*/, std::function<void()> /*fn*/) override { return 0; }
  bool cancel(TimerId /*id*/) override { return false; }
  void advance(domain::Duration by) { now_ += by; }

 private:
  domain::Timestamp now_{std::chrono::seconds(kStart)};
};

std::int64_t seconds_now(const FakeClock& clock) {
  return std::chrono::floor<std::chrono::seconds>(clock.now()).time_since_epoch().count();
}

std::string b64(std::string_view bytes) {
  return base64url_encode(bytes);
}

std::string bytes_of(const unsigned char* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

std::string hs256(std::string_view key, std::string_view data) {
  std::array<unsigned char, 32> mac{};
  std::size_t size = 0;
  EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
            reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(),
            mac.size(), &size);
  return bytes_of(mac.data(), size);
}

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

/// DER signature (RSA PKCS#1 v1.5 or ECDSA) with SHA-256.
std::string digest_sign(EVP_PKEY* key, std::string_view data) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::size_t size = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(data.data());
  EXPECT_EQ(EVP_DigestSignInit_ex(ctx, nullptr, "SHA256", nullptr, nullptr, key, nullptr), 1);
  EXPECT_EQ(EVP_DigestSign(ctx, nullptr, &size, in, data.size()), 1);
  std::vector<unsigned char> sig(size);
  EXPECT_EQ(EVP_DigestSign(ctx, sig.data(), &size, in, data.size()), 1);
  EVP_MD_CTX_free(ctx);
  return bytes_of(sig.data(), size);
}

/// ES256 wants r||s, 32 bytes each, not DER.
std::string es256_raw(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  std::array<unsigned char, 64> raw{};
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw.data(), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw.data() + 32, 32);
  ECDSA_SIG_free(sig);
  return bytes_of(raw.data(), raw.size());
}

std::string bn_param(EVP_PKEY* key, const char* name, int pad = 0) {
  BIGNUM* bn = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(key, name, &bn), 1);
  const int size = pad > 0 ? pad : BN_num_bytes(bn);
  std::vector<unsigned char> bytes(static_cast<std::size_t>(size));
  BN_bn2binpad(bn, bytes.data(), size);
  BN_free(bn);
  return bytes_of(bytes.data(), bytes.size());
}

Pkey rsa_key(unsigned bits = 2048) {
  return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(bits)));
}

Pkey p256_key() {
  return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
}

json::object rsa_jwk(EVP_PKEY* key, std::string_view kid) {
  return {{"kty", "RSA"},
          {"kid", kid},
          {"use", "sig"},
          {"alg", "RS256"},
          {"n", b64(bn_param(key, OSSL_PKEY_PARAM_RSA_N))},
          {"e", b64(bn_param(key, OSSL_PKEY_PARAM_RSA_E))}};
}

json::object ec_jwk(EVP_PKEY* key, std::string_view kid) {
  return {{"kty", "EC"},
          {"kid", kid},
          {"crv", "P-256"},
          {"x", b64(bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, 32))},
          {"y", b64(bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, 32))}};
}

std::string jwks(std::initializer_list<json::object> keys) {
  json::array array;
  for (const auto& key : keys) array.emplace_back(key);
  return json::serialize(json::object{{"keys", std::move(array)}});
}

std::string public_pem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  return pem;
}

/// "<header>.<payload>" of the given JSON texts.
std::string unsigned_part(std::string_view header, std::string_view payload) {
  return b64(header) + "." + b64(payload);
}

std::string hs256_token(std::string_view secret, std::string_view header,
                        const json::object& claims) {
  const std::string input = unsigned_part(header, json::serialize(claims));
  return input + "." + b64(hs256(secret, input));
}

std::string rs256_token(EVP_PKEY* key, std::string_view kid, const json::object& claims) {
  const std::string header = json::serialize(json::object{{"alg", "RS256"}, {"kid", kid}});
  const std::string input = unsigned_part(header, json::serialize(claims));
  return input + "." + b64(digest_sign(key, input));
}

std::string es256_token(EVP_PKEY* key, std::string_view kid, const json::object& claims) {
  const std::string header = json::serialize(json::object{{"alg", "ES256"}, {"kid", kid}});
  const std::string input = unsigned_part(header, json::serialize(claims));
  return input + "." + b64(es256_raw(digest_sign(key, input)));
}

template <typename T>
void expect_refused(const ports::Result<T>& result, ErrorKind kind, const std::string& message) {
  ASSERT_FALSE(result.ok()) << "expected refusal: " << message;
  EXPECT_EQ(result.error().kind, kind);
  EXPECT_EQ(result.error().message, message);
}

void expect_permanent(const ports::Result<ports::Principal>& result, const std::string& message) {
  expect_refused(result, ErrorKind::permanent, message);
}

ports::Roles roles(std::initializer_list<Role> list) {
  ports::Roles out;
  for (const Role role : list) out.add(role);
  return out;
}

// ---------------------------------------------------------------------------------------------
// base64url and the cache

TEST(JwtBase64urlTest, RoundTripsEveryLength) {
  const std::string bytes("\x00\xff\xfe\x01\x80gavel", 10);
  for (std::size_t n = 0; n <= bytes.size(); ++n) {
    const std::string part = bytes.substr(0, n);
    const std::string encoded = base64url_encode(part);
    EXPECT_EQ(encoded.find('='), std::string::npos);
    EXPECT_EQ(base64url_decode(encoded), part);
  }
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
}

TEST(JwtBase64urlTest, RefusesPaddingWrongAlphabetAndNonCanonicalText) {
  EXPECT_EQ(base64url_decode("Zg=="), std::nullopt);  // padding
  EXPECT_EQ(base64url_decode("Zm+v"), std::nullopt);  // '+' is base64, not base64url
  EXPECT_EQ(base64url_decode("Zm9v YQ"), std::nullopt);
  EXPECT_EQ(base64url_decode("Z"), std::nullopt);   // length 1 mod 4
  EXPECT_EQ(base64url_decode("Zh"), std::nullopt);  // unused bits set ("Zg" is canonical)
  EXPECT_EQ(base64url_decode("Zg"), "f");
}

TEST(JwtVerifiedCacheTest, ExpiresEntriesAndStaysBounded) {
  VerifiedCache cache(2);
  const domain::Timestamp t0{std::chrono::seconds(kStart)};
  ports::Principal alice{domain::UserId{"alice"}, {}, t0 + domain::seconds(10)};
  cache.insert("a", alice, t0 + domain::seconds(10), t0);
  EXPECT_EQ(cache.find("a", t0 + domain::seconds(9))->user_id, domain::UserId{"alice"});
  EXPECT_FALSE(cache.find("a", t0 + domain::seconds(10)).has_value());
  cache.insert("b", alice, t0 + domain::seconds(100), t0);
  cache.insert("c", alice, t0 + domain::seconds(100), t0 + domain::seconds(20));  // "a" dropped
  EXPECT_TRUE(cache.find("b", t0 + domain::seconds(20)).has_value());
  EXPECT_TRUE(cache.find("c", t0 + domain::seconds(20)).has_value());
  cache.insert("d", alice, t0 + domain::seconds(100), t0 + domain::seconds(20));  // full: cleared
  EXPECT_FALSE(cache.find("b", t0 + domain::seconds(20)).has_value());
  EXPECT_TRUE(cache.find("d", t0 + domain::seconds(20)).has_value());

  VerifiedCache disabled(0);
  disabled.insert("a", alice, t0 + domain::seconds(10), t0);
  EXPECT_FALSE(disabled.find("a", t0).has_value());
}

// ---------------------------------------------------------------------------------------------
// DevAuthenticator (HS256)

constexpr std::string_view kSecret = "0123456789abcdef0123456789abcdef-dev-secret";
constexpr std::string_view kHs256Header = R"({"alg":"HS256","typ":"JWT"})";

class DevAuthenticatorTest : public ::testing::Test {
 protected:
  json::object claims(std::string_view sub = "alice") const {
    const std::int64_t now = seconds_now(*clock);
    return {{"sub", sub}, {"iss", "gavel-dev"}, {"aud", "gavel"},
            {"iat", now}, {"nbf", now},         {"exp", now + 600}};
  }
  std::string sign(const json::object& body, std::string_view header = kHs256Header) const {
    return hs256_token(kSecret, header, body);
  }

  std::shared_ptr<FakeClock> clock = std::make_shared<FakeClock>();
  DevAuthenticator auth{std::string(kSecret), clock};
};

TEST_F(DevAuthenticatorTest, MintThenVerifyGivesUserRolesAndExpiry) {
  const std::string token =
      auth.mint(domain::UserId{"alice"}, roles({Role::bidder, Role::seller}), domain::seconds(600));
  const auto result = auth.verify(token);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result.value().user_id, domain::UserId{"alice"});
  EXPECT_EQ(result.value().roles, roles({Role::bidder, Role::seller}));
  EXPECT_FALSE(result.value().roles.has(Role::admin));
  EXPECT_EQ(result.value().expires_at, clock->now() + domain::seconds(600));

  // The claims are the documented ones.
  const std::string payload =
      token.substr(token.find('.') + 1, token.rfind('.') - token.find('.') - 1);
  const json::object body = json::parse(*base64url_decode(payload)).as_object();
  EXPECT_EQ(body.at("sub"), "alice");
  EXPECT_EQ(body.at("roles"), (json::array{"bidder", "seller"}));
  EXPECT_EQ(body.at("iss"), "gavel-dev");
  EXPECT_EQ(body.at("aud"), "gavel");
  EXPECT_EQ(body.at("iat").as_int64(), kStart);
  EXPECT_EQ(body.at("nbf").as_int64(), kStart);
  EXPECT_EQ(body.at("exp").as_int64(), kStart + 600);
  EXPECT_EQ(token.substr(0, token.find('.')), b64(R"({"alg":"HS256","typ":"JWT"})"));
}

TEST_F(DevAuthenticatorTest, MintWithoutRolesGivesNoRoles) {
  const auto result = auth.verify(auth.mint(domain::UserId{"bob"}, {}, domain::seconds(60)));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.value().roles, ports::Roles{});
}

TEST_F(DevAuthenticatorTest, ExpiryAllowsTheLeewayAndNoMore) {
  const std::string token = auth.mint(domain::UserId{"alice"}, {}, domain::seconds(60));
  DevAuthenticator uncached{std::string(kSecret), clock, "gavel-dev", "gavel",
                            domain::seconds(30),  0};
  clock->advance(domain::seconds(89));  // 29 s past exp: within the 30 s leeway
  EXPECT_TRUE(auth.verify(token).ok());
  EXPECT_TRUE(uncached.verify(token).ok());
  clock->advance(domain::seconds(1));  // exp + leeway: refused, also from the cache
  expect_permanent(auth.verify(token), "token expired");
  expect_permanent(uncached.verify(token), "token expired");
}

TEST_F(DevAuthenticatorTest, NotBeforeInTheFutureIsRefusedBeyondTheLeeway) {
  json::object body = claims();
  body["nbf"] = seconds_now(*clock) + 31;
  expect_permanent(auth.verify(sign(body)), "token not yet valid");
  body["nbf"] = seconds_now(*clock) + 30;
  EXPECT_TRUE(auth.verify(sign(body)).ok());
}

TEST_F(DevAuthenticatorTest, IssuedInTheFutureIsRefused) {
  json::object body = claims();
  body["iat"] = seconds_now(*clock) + 3600;
  expect_permanent(auth.verify(sign(body)), "token issued in the future");
}

TEST_F(DevAuthenticatorTest, WrongIssuerAndAudienceAreRefused) {
  const DevAuthenticator other_issuer{std::string(kSecret), clock, "someone-else", "gavel"};
  const DevAuthenticator other_audience{std::string(kSecret), clock, "gavel-dev", "another-app"};
  const std::string token = auth.mint(domain::UserId{"alice"}, {}, domain::seconds(60));
  expect_permanent(other_issuer.verify(token), "wrong issuer");
  expect_permanent(other_audience.verify(token), "wrong audience");

  json::object body = claims();
  body.erase("iss");
  expect_permanent(auth.verify(sign(body)), "missing iss");
  body = claims();
  body.erase("aud");
  expect_permanent(auth.verify(sign(body)), "missing aud");
  body = claims();
  body["aud"] = json::array{"x", "gavel"};
  EXPECT_TRUE(auth.verify(sign(body)).ok());
  body["aud"] = json::array{"x", "y"};
  expect_permanent(auth.verify(sign(body)), "wrong audience");
  body["aud"] = 7;
  expect_permanent(auth.verify(sign(body)), "malformed aud");
}

TEST_F(DevAuthenticatorTest, TamperedPayloadIsRefused) {
  const std::string token = auth.mint(domain::UserId{"alice"}, {}, domain::seconds(60));
  const std::size_t first = token.find('.');
  const std::size_t second = token.rfind('.');
  json::object forged = claims("mallory");
  forged["roles"] = json::array{"admin"};
  const std::string tampered =
      token.substr(0, first + 1) + b64(json::serialize(forged)) + token.substr(second);
  expect_permanent(auth.verify(tampered), "bad signature");
}

TEST_F(DevAuthenticatorTest, TamperedSignatureIsRefused) {
  std::string token = auth.mint(domain::UserId{"alice"}, {}, domain::seconds(60));
  const std::size_t sig = token.rfind('.') + 1;
  token[sig] = token[sig] == 'A' ? 'B' : 'A';
  expect_permanent(auth.verify(token), "bad signature");

  const std::string good = auth.mint(domain::UserId{"alice"}, {}, domain::seconds(60));
  expect_permanent(auth.verify(good.substr(0, good.size() - 4)), "bad signature");  // truncated
  expect_permanent(auth.verify(good + "="), "malformed token: signature is not base64url");
  const DevAuthenticator other_secret{std::string(kSecret) + "!", clock};
  expect_permanent(other_secret.verify(good), "bad signature");
}

TEST_F(DevAuthenticatorTest, AlgNoneIsRefusedWithOrWithoutSignature) {
  const std::string input =
      unsigned_part(R"({"alg":"none","typ":"JWT"})", json::serialize(claims()));
  expect_permanent(auth.verify(input + "."), "alg none is not accepted");
  expect_permanent(auth.verify(input + "." + b64(hs256(kSecret, input))),
                   "alg none is not accepted");
  expect_permanent(auth.verify(input), "malformed token: expected three parts");
  const std::string shouted = unsigned_part(R"({"alg":"NoNe"})", json::serialize(claims()));
  expect_permanent(auth.verify(shouted + "."), "alg none is not accepted");
}

TEST_F(DevAuthenticatorTest, OtherAlgorithmsAndHeadersAreRefused) {
  expect_permanent(auth.verify(sign(claims(), R"({"alg":"HS512"})")), "alg HS512 is not accepted");
  expect_permanent(auth.verify(sign(claims(), R"({"alg":"RS256"})")), "alg RS256 is not accepted");
  expect_permanent(auth.verify(sign(claims(), R"({"alg":"HS256 "})")), "alg is not accepted");
  expect_permanent(auth.verify(sign(claims(), R"({"typ":"JWT"})")), "malformed token: missing alg");
  expect_permanent(auth.verify(sign(claims(), R"({"alg":["HS256"]})")),
                   "malformed token: missing alg");
  expect_permanent(auth.verify(sign(claims(), R"({"alg":"HS256","crit":["exp"]})")),
                   "unsupported crit header");
  const std::string input = unsigned_part(kHs256Header, json::serialize(claims()));
  expect_permanent(auth.verify(input + "."), "missing signature");
}

TEST_F(DevAuthenticatorTest, SubjectMustBeAValidIdOfAtMost64Characters) {
  EXPECT_TRUE(auth.verify(sign(claims(std::string(64, 'u')))).ok());
  expect_permanent(auth.verify(sign(claims(std::string(65, 'u')))),
                   "sub longer than 64 characters");
  expect_permanent(auth.verify(sign(claims("a/b"))), "sub is not a valid user id");
  expect_permanent(auth.verify(sign(claims(""))), "sub is not a valid user id");
  json::object body = claims();
  body["sub"] = 42;
  expect_permanent(auth.verify(sign(body)), "sub is not a string");
  body.erase("sub");
  expect_permanent(auth.verify(sign(body)), "missing sub");
}

TEST_F(DevAuthenticatorTest, TimeClaimsMustBeNumericDates) {
  json::object body = claims();
  body.erase("exp");
  expect_permanent(auth.verify(sign(body)), "missing exp");
  body["exp"] = "tomorrow";
  expect_permanent(auth.verify(sign(body)), "malformed exp");
  body["exp"] = 1e300;
  expect_permanent(auth.verify(sign(body)), "malformed exp");
  body["exp"] = static_cast<double>(seconds_now(*clock)) + 60.5;
  EXPECT_TRUE(auth.verify(sign(body)).ok());
  body["nbf"] = true;
  expect_permanent(auth.verify(sign(body)), "malformed nbf");
  body["nbf"] = seconds_now(*clock);
  body["iat"] = -5;
  expect_permanent(auth.verify(sign(body)), "malformed iat");
}

TEST_F(DevAuthenticatorTest, RolesComeFromRolesOrCognitoGroups) {
  json::object body = claims();
  body["roles"] = json::array{"seller", "superuser"};
  body["cognito:groups"] = json::array{"admin", "Administrators"};
  const auto result = auth.verify(sign(body));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.value().roles, roles({Role::seller, Role::admin}));

  body["roles"] = "seller";
  expect_permanent(auth.verify(sign(body)), "malformed roles");
  body["roles"] = json::array{"seller", 3};
  expect_permanent(auth.verify(sign(body)), "malformed roles");
  body.erase("roles");
  body["cognito:groups"] = json::object{};
  expect_permanent(auth.verify(sign(body)), "malformed cognito:groups");
}

TEST_F(DevAuthenticatorTest, OversizedTokenIsRefused) {
  json::object body = claims();
  body["padding"] = std::string(kMaxTokenBytes, 'x');
  expect_permanent(auth.verify(sign(body)), "token too large");
  expect_permanent(auth.verify(std::string(kMaxTokenBytes + 1, 'a')), "token too large");
}

TEST_F(DevAuthenticatorTest, GarbageIsRefusedWithoutCrashing) {
  expect_permanent(auth.verify(""), "empty token");
  expect_permanent(auth.verify("a.b"), "malformed token: expected three parts");
  expect_permanent(auth.verify("..."), "malformed token: expected three parts");
  expect_permanent(auth.verify("a.b.c.d"), "malformed token: expected three parts");
  expect_permanent(auth.verify(".."), "malformed token: empty header or payload");
  expect_permanent(auth.verify(".b.c"), "malformed token: empty header or payload");
  expect_permanent(auth.verify("!!!.abc.def"), "malformed token: header is not base64url");
  expect_permanent(auth.verify(b64(kHs256Header) + "=.abc.def"),
                   "malformed token: header is not base64url");
  expect_permanent(auth.verify("abcd.abcd.abcd"), "malformed token: header is not a JSON object");
  expect_permanent(auth.verify(b64("[1,2]") + ".abcd.abcd"),
                   "malformed token: header is not a JSON object");
  expect_permanent(auth.verify(b64(std::string(100, '[')) + ".abcd.abcd"),
                   "malformed token: header is not a JSON object");
  expect_permanent(auth.verify(std::string("\0.\0.\0", 5)),
                   "malformed token: header is not base64url");

  // A well-signed token whose payload is not a JSON object.
  const std::string not_base64 = b64(kHs256Header) + ".*";
  expect_permanent(auth.verify(not_base64 + "." + b64(hs256(kSecret, not_base64))),
                   "malformed token: payload is not base64url");
  const std::string not_json = unsigned_part(kHs256Header, "not json");
  expect_permanent(auth.verify(not_json + "." + b64(hs256(kSecret, not_json))),
                   "malformed token: claims are not a JSON object");
}

TEST_F(DevAuthenticatorTest, ShortSecretIsAConfigurationError) {
  EXPECT_THROW(DevAuthenticator(std::string(31, 's'), clock), std::invalid_argument);
}

class DevAuthenticatorSecretTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = std::filesystem::temp_directory_path() /
          ("gavel-jwt-test-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::filesystem::path dir;
};

TEST_F(DevAuthenticatorSecretTest, CreatesAPrivateSecretOnceAndReadsItAfterwards) {
  const std::string secret = DevAuthenticator::load_or_create_secret(dir / "data");
  EXPECT_EQ(secret.size(), 64U);
  EXPECT_EQ(secret.find_first_not_of("0123456789abcdef"), std::string::npos);
  const auto perms = std::filesystem::status(dir / "data" / "dev-jwt-secret").permissions();
  EXPECT_EQ(perms, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_EQ(DevAuthenticator::load_or_create_secret(dir / "data"), secret);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir / "data"),
                          std::filesystem::directory_iterator()),
            1);  // no temporary file left behind
  EXPECT_NE(DevAuthenticator::load_or_create_secret(dir / "other"), secret);
}

TEST_F(DevAuthenticatorSecretTest, UnwritableDirectoryThrowsAClearMessage) {
  // The tests may run as root, which ignores permission bits: a path through a regular file
  // cannot be created by anyone.
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "file") << "x";
  try {
    DevAuthenticator::load_or_create_secret(dir / "file" / "data");
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(
                  "cannot create the data directory " + (dir / "file" / "data").string() + ": ", 0),
              0U)
        << e.what();
  }
}

TEST_F(DevAuthenticatorSecretTest, ShortSecretFileThrows) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "dev-jwt-secret") << "short\n";
  EXPECT_THROW(DevAuthenticator::load_or_create_secret(dir), std::runtime_error);
}

// ---------------------------------------------------------------------------------------------
// JwksAuthenticator (RS256, ES256)

constexpr std::string_view kIssuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_TEST";
constexpr std::string_view kClientId = "4h5client";

class JwksAuthenticatorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    key1 = rsa_key().release();
    key2 = rsa_key().release();
  }
  static void TearDownTestSuite() {
    EVP_PKEY_free(key1);
    EVP_PKEY_free(key2);
  }

  JwksOptions options(bool es256 = false) const {
    JwksOptions out;
    out.issuer = kIssuer;
    out.audience = kClientId;
    out.accept_es256 = es256;
    return out;
  }
  /// An ID token: aud is the client id.
  json::object id_claims(std::string_view sub = "2f1c8a7e-1d2b-4c3a-9e8f-000000000001") const {
    const std::int64_t now = seconds_now(*clock);
    return {{"sub", sub},
            {"aud", kClientId},
            {"iss", kIssuer},
            {"token_use", "id"},
            {"iat", now},
            {"exp", now + 3600},
            {"cognito:groups", json::array{"bidder"}}};
  }
  /// A Cognito access token: no aud, client_id instead.
  json::object access_claims() const {
    const std::int64_t now = seconds_now(*clock);
    return {{"sub", "2f1c8a7e-1d2b-4c3a-9e8f-000000000002"},
            {"cognito:groups", json::array{"admin", "Other-Group"}},
            {"iss", kIssuer},
            {"version", 2},
            {"client_id", kClientId},
            {"origin_jti", "d0c3"},
            {"token_use", "access"},
            {"scope", "aws.cognito.signin.user.admin"},
            {"auth_time", now},
            {"exp", now + 3600},
            {"iat", now},
            {"jti", "5e9b"},
            {"username", "carol"}};
  }

  inline static EVP_PKEY* key1 = nullptr;
  inline static EVP_PKEY* key2 = nullptr;
  std::shared_ptr<FakeClock> clock = std::make_shared<FakeClock>();
};

TEST_F(JwksAuthenticatorTest, Rs256IdTokenIsAccepted) {
  const JwksAuthenticator auth(options(), clock, jwks({rsa_jwk(key1, "k1"), rsa_jwk(key2, "k2")}));
  EXPECT_EQ(auth.key_count(), 2U);
  const auto result = auth.verify(rs256_token(key2, "k2", id_claims()));
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result.value().user_id, domain::UserId{"2f1c8a7e-1d2b-4c3a-9e8f-000000000001"});
  EXPECT_EQ(result.value().roles, roles({Role::bidder}));
  EXPECT_EQ(result.value().expires_at, clock->now() + domain::seconds(3600));
}

TEST_F(JwksAuthenticatorTest, CognitoAccessTokenIsAcceptedByClientId) {
  const JwksAuthenticator auth(options(), clock, jwks({rsa_jwk(key1, "k1")}));
  const auto result = auth.verify(rs256_token(key1, "k1", access_claims()));
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result.value().user_id, domain::UserId{"2f1c8a7e-1d2b-4c3a-9e8f-000000000002"});
  EXPECT_EQ(result.value().roles, roles({Role::admin}));

  json::object other_client = access_claims();
  other_client["client_id"] = "another-client";
  expect_permanent(auth.verify(rs256_token(key1, "k1", other_client)), "wrong audience");
  json::object refresh_use = access_claims();
  refresh_use["token_use"] = "refresh";
  expect_permanent(auth.verify(rs256_token(key1, "k1", refresh_use)), "unexpected token_use");
  json::object other_pool = access_claims();
  other_pool["iss"] = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_OTHER";
  expect_permanent(auth.verify(rs256_token(key1, "k1", other_pool)), "wrong issuer");
}

TEST_F(JwksAuthenticatorTest, SignatureByAnotherKeyIsRefused) {
  const JwksAuthenticator auth(options(), clock, jwks({rsa_jwk(key1, "k1")}));
  expect_permanent(auth.verify(rs256_token(key2, "k1", id_claims())), "bad signature");
  std::string token = rs256_token(key1, "k1", id_claims());
  const std::size_t sig = token.rfind('.') + 1;
  token[sig + 10] = token[sig + 10] == 'A' ? 'B' : 'A';
  expect_permanent(auth.verify(token), "bad signature");
}

TEST_F(JwksAuthenticatorTest, ExpiredTokenIsRefused) {
  const JwksAuthenticator auth(options(), clock, jwks({rsa_jwk(key1, "k1")}));
  const std::string token = rs256_token(key1, "k1", id_claims());
  EXPECT_TRUE(auth.verify(token).ok());
  clock->advance(domain::seconds(3600 + 29));
  EXPECT_TRUE(auth.verify(token).ok());
  clock->advance(domain::seconds(1));
  expect_permanent(auth.verify(token), "token expired");
}

TEST_F(JwksAuthenticatorTest, Hs256SignedWithThePublicKeyIsRefused) {
  // Algorithm confusion: an attacker signs HS256 with the (public) RSA key as the HMAC secret.
  const JwksAuthenticator auth(options(), clock, jwks({rsa_jwk(key1, "k1")}));
  const std::string header = R"({"alg":"HS256","kid":"k1"})";
  for (const std::string& secret : {public_pem(key1), bn_param(key1, OSSL_PKEY_PARAM_RSA_N)}) {
    expect_permanent(auth.verify(hs256_token(secret, header, id_claims())),
                     "alg HS256 is not accepted");
  }
}

TEST_F(JwksAuthenticatorTest, AlgNoneAndMissingKidAreRefused) {
  const JwksAuthenticator auth(options(), clock, jwks({rsa_jwk(key1, "k1")}));
  const std::string input =
      unsigned_part(R"({"alg":"none","kid":"k1"})", json::serialize(id_claims()));
  expect_permanent(auth.verify(input + "."), "alg none is not accepted");
  expect_permanent(auth.verify(input + ".c2ln"), "alg none is not accepted");
  const std::string no_kid = unsigned_part(R"({"alg":"RS256"})", json::serialize(id_claims()));
  expect_permanent(auth.verify(no_kid + "." + b64(digest_sign(key1, no_kid))), "missing kid");
  const std::string rs_input = unsigned_part(R"({"alg":"RS256","kid":"k1"})", "{}");
  expect_permanent(auth.verify(rs_input + "."), "missing signature");
}

TEST_F(JwksAuthenticatorTest, UnknownKidRefreshesOnceThenRateLimits) {
  int fetches = 0;
  std::string document = jwks({rsa_jwk(key1, "k1")});
  JwksAuthenticator auth(options(), clock, [&]() -> ports::Result<std::string> {
    ++fetches;
    return document;
  });
  EXPECT_EQ(fetches, 0);  // lazy
  EXPECT_TRUE(auth.verify(rs256_token(key1, "k1", id_claims())).ok());
  EXPECT_EQ(fetches, 1);
  // The first load counts for the rate limit too.
  expect_permanent(auth.verify(rs256_token(key2, "k2", id_claims())), "unknown key");
  EXPECT_EQ(fetches, 1);
  clock->advance(domain::seconds(60));

  const std::string rotated = rs256_token(key2, "k2", id_claims());
  expect_permanent(auth.verify(rotated), "unknown key");
  EXPECT_EQ(fetches, 2);  // one refresh for the unknown kid
  document = jwks({rsa_jwk(key1, "k1"), rsa_jwk(key2, "k2")});
  clock->advance(domain::seconds(59));
  expect_permanent(auth.verify(rotated), "unknown key");
  expect_permanent(auth.verify(rs256_token(key2, "k3", id_claims())), "unknown key");
  EXPECT_EQ(fetches, 2);  // rate-limited
  EXPECT_TRUE(auth.verify(rs256_token(key1, "k1", id_claims())).ok());

  clock->advance(domain::seconds(1));
  const auto result = auth.verify(rs256_token(key2, "k2", id_claims()));
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(fetches, 3);
  EXPECT_EQ(auth.key_count(), 2U);

  // A key dropped from the JWKS stops verifying new tokens after the next refresh.
  document = jwks({rsa_jwk(key2, "k2")});
  ASSERT_TRUE(auth.refresh().ok());
  EXPECT_EQ(fetches, 4);
  clock->advance(domain::seconds(60));
  expect_permanent(auth.verify(rs256_token(key1, "k1", id_claims())), "unknown key");
  EXPECT_EQ(fetches, 5);
}

TEST_F(JwksAuthenticatorTest, NoKeysYetIsRetryable) {
  int fetches = 0;
  ports::Result<std::string> answer = ports::Error{ErrorKind::retryable, "connection refused"};
  JwksAuthenticator auth(options(), clock, [&]() {
    ++fetches;
    return answer;
  });
  const std::string token = rs256_token(key1, "k1", id_claims());
  expect_refused(auth.verify(token), ErrorKind::retryable,
                 "signing keys not loaded: connection refused");
  expect_refused(auth.verify(token), ErrorKind::retryable, "signing keys not loaded yet");
  EXPECT_EQ(fetches, 1);

  clock->advance(domain::seconds(60));
  answer = std::string("<html>502 Bad Gateway</html>");
  expect_refused(auth.verify(token), ErrorKind::retryable,
                 "signing keys not loaded: JWKS is not a JSON object");
  EXPECT_EQ(fetches, 2);
  EXPECT_EQ(auth.key_count(), 0U);

  answer = jwks({rsa_jwk(key1, "k1")});
  ASSERT_TRUE(auth.refresh().ok());  // explicit refreshes ignore the rate limit
  EXPECT_EQ(fetches, 3);
  EXPECT_TRUE(auth.verify(token).ok());

  // A failing refresh keeps the keys it had.
  answer = ports::Error{ErrorKind::retryable, "timeout"};
  expect_refused(auth.refresh(), ErrorKind::retryable, "timeout");
  EXPECT_EQ(auth.key_count(), 1U);
  clock->advance(domain::seconds(60));
  expect_refused(auth.verify(rs256_token(key2, "k2", id_claims())), ErrorKind::retryable,
                 "unknown key; refreshing the JWKS failed: timeout");
}

TEST_F(JwksAuthenticatorTest, FetchThatThrowsIsRetryable) {
  JwksAuthenticator auth(options(), clock,
                         []() -> ports::Result<std::string> { throw std::runtime_error("boom"); });
  expect_refused(auth.verify(rs256_token(key1, "k1", id_claims())), ErrorKind::retryable,
                 "signing keys not loaded: JWKS fetch threw: boom");
}

TEST_F(JwksAuthenticatorTest, FixedDocumentWithoutUsableKeysIsAConfigurationError) {
  const auto small = rsa_key(1024);
  json::object encryption_key = rsa_jwk(key1, "enc");
  encryption_key["use"] = "enc";
  json::object no_kid = rsa_jwk(key1, "x");
  no_kid.erase("kid");
  json::object wrong_alg = rsa_jwk(key1, "ps");
  wrong_alg["alg"] = "PS256";
  json::object bad_n = rsa_jwk(key1, "n");
  bad_n["n"] = "not base64!";
  try {
    JwksAuthenticator auth(options(), clock,
                           jwks({rsa_jwk(small.get(), "small"), encryption_key, no_kid, wrong_alg,
                                 bad_n, ec_jwk(p256_key().get(), "ec")}));
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "cannot use the JWKS: JWKS has no usable key");
  }
  EXPECT_THROW(JwksAuthenticator(options(), clock, std::string_view("{}")), std::invalid_argument);
  EXPECT_THROW(JwksAuthenticator(options(), clock, std::string_view("[")), std::invalid_argument);
  EXPECT_THROW(JwksAuthenticator(options(), clock, JwksFetch{}), std::invalid_argument);

  // Unusable keys next to a good one are skipped.
  const JwksAuthenticator auth(options(), clock, jwks({encryption_key, rsa_jwk(key1, "k1")}));
  EXPECT_EQ(auth.key_count(), 1U);
  expect_refused(const_cast<JwksAuthenticator&>(auth).refresh(), ErrorKind::permanent,
                 "no JWKS fetch function: the keys are fixed");
}

TEST_F(JwksAuthenticatorTest, Es256WhenEnabled) {
  const auto ec = p256_key();
  const std::string document = jwks({rsa_jwk(key1, "k1"), ec_jwk(ec.get(), "e1")});
  const JwksAuthenticator auth(options(true), clock, document);
  const auto result = auth.verify(es256_token(ec.get(), "e1", access_claims()));
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result.value().roles, roles({Role::admin}));
  EXPECT_TRUE(auth.verify(rs256_token(key1, "k1", id_claims())).ok());
  // Each key verifies only its own algorithm.
  expect_permanent(auth.verify(es256_token(ec.get(), "k1", id_claims())),
                   "alg does not match the key");
  expect_permanent(auth.verify(rs256_token(key1, "e1", id_claims())), "alg does not match the key");
  std::string tampered = es256_token(ec.get(), "e1", id_claims());
  const std::size_t sig = tampered.rfind('.') + 1;
  tampered[sig + 10] = tampered[sig + 10] == 'A' ? 'B' : 'A';
  expect_permanent(auth.verify(tampered), "bad signature");

  const JwksAuthenticator rs_only(options(false), clock, document);
  EXPECT_EQ(rs_only.key_count(), 1U);
  expect_permanent(rs_only.verify(es256_token(ec.get(), "e1", id_claims())),
                   "alg ES256 is not accepted");
}

TEST_F(JwksAuthenticatorTest, GarbageIsRefusedWithoutCrashing) {
  const JwksAuthenticator auth(options(), clock, jwks({rsa_jwk(key1, "k1")}));
  expect_permanent(auth.verify(""), "empty token");
  expect_permanent(auth.verify("a.b"), "malformed token: expected three parts");
  expect_permanent(auth.verify("..."), "malformed token: expected three parts");
  expect_permanent(auth.verify("%%%.%%%.%%%"), "malformed token: header is not base64url");
  expect_permanent(auth.verify(std::string(9000, '.')), "token too large");
  const std::string input =
      unsigned_part(R"({"alg":"RS256","kid":"k1"})", json::serialize(id_claims()));
  expect_permanent(auth.verify(input + ".AAAA"), "bad signature");
  expect_permanent(auth.verify(input + "." + std::string(6000, 'A')), "bad signature");
}

TEST_F(JwksAuthenticatorTest, ConcurrentVerificationsAgree) {
  const JwksAuthenticator auth(options(), clock, jwks({rsa_jwk(key1, "k1")}));
  std::vector<std::string> tokens;
  tokens.reserve(8);
  for (int i = 0; i < 8; ++i) {
    tokens.push_back(rs256_token(key1, "k1", id_claims("user-" + std::to_string(i))));
  }
  std::atomic<int> accepted{0};
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < 25; ++round) {
        for (const auto& token : tokens) {
          if (auth.verify(token).ok()) ++accepted;
        }
        if (!auth.verify(tokens[0] + "x").ok()) ++accepted;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(accepted.load(), 4 * 25 * 9);
}

TEST_F(JwksAuthenticatorTest, ConcurrentFirstVerificationsFetchOnce) {
  std::atomic<int> fetches{0};
  const std::string document = jwks({rsa_jwk(key1, "k1")});
  const JwksAuthenticator auth(options(), clock, [&]() -> ports::Result<std::string> {
    ++fetches;
    return document;
  });
  const std::string token = rs256_token(key1, "k1", id_claims());
  std::atomic<int> accepted{0};
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      if (auth.verify(token).ok()) ++accepted;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(accepted.load(), 4);
  EXPECT_EQ(fetches.load(), 1);
}

}  // namespace
}  // namespace gavel::adapters::jwt
