#include "adapters/jwt/dev_authenticator.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <array>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "adapters/jwt/base64url.hpp"
#include "adapters/jwt/jws.hpp"

namespace gavel::adapters::jwt {
namespace {

namespace json = boost::json;

constexpr std::size_t kSha256Bytes = 32;
constexpr std::string_view kSecretFileName = "dev-jwt-secret";
constexpr std::array<std::string_view, 1> kAcceptedAlgs{"HS256"};

/// HMAC-SHA256 of `data` under `key`; nothing only if OpenSSL itself fails.
std::optional<std::array<unsigned char, kSha256Bytes>> hmac_sha256(std::string_view key,
                                                                   std::string_view data) {
  std::array<unsigned char, kSha256Bytes> mac{};
  std::size_t mac_size = 0;
  // EVP_Q_mac copies nothing into `key`/`data`; the casts only adapt the pointer types.
  const unsigned char* result =
      EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
                reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(),
                mac.size(), &mac_size);
  if (result == nullptr || mac_size != kSha256Bytes) return std::nullopt;
  return mac;
}

std::int64_t unix_seconds(domain::Timestamp at) {
  return std::chrono::floor<std::chrono::seconds>(at).time_since_epoch().count();
}

std::string errno_text(int error) {
  return std::error_code(error, std::generic_category()).message();
}

/// The secret in `path` if the file exists; throws if it exists but is unusable.
std::optional<std::string> read_secret(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (ec) throw std::runtime_error("cannot access " + path.string() + ": " + ec.message());
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read the dev JWT secret " + path.string());
  std::string secret{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r' ||
                             secret.back() == ' ' || secret.back() == '\t')) {
    secret.pop_back();
  }
  if (secret.size() < DevAuthenticator::kMinSecretBytes) {
    throw std::runtime_error("the dev JWT secret " + path.string() + " is shorter than " +
                             std::to_string(DevAuthenticator::kMinSecretBytes) +
                             " bytes; delete it to have a new one created");
  }
  return secret;
}

std::string random_hex_secret() {
  std::array<unsigned char, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed: cannot create a dev JWT secret");
  }
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (const unsigned char b : bytes) {
    hex.push_back(kHex[b >> 4]);
    hex.push_back(kHex[b & 0x0F]);
  }
  return hex;
}

/// Writes `content` to a new file `path` with mode 0600; throws naming the directory on failure.
void write_new_file(const std::filesystem::path& path, const std::string& content) {
  ::unlink(path.c_str());  // a leftover from a crashed start with the same pid
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int error = errno;
    throw std::runtime_error("cannot create the dev JWT secret in " + path.parent_path().string() +
                             ": " + errno_text(error) + " (the data directory must be writable)");
  }
  std::size_t written = 0;
  int error = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = errno;
      break;
    }
    written += static_cast<std::size_t>(n);
  }
  if (error == 0 && ::fsync(fd) != 0) error = errno;
  ::close(fd);
  if (error != 0) {
    ::unlink(path.c_str());
    throw std::runtime_error("cannot write " + path.string() + ": " + errno_text(error));
  }
}

}  // namespace

DevAuthenticator::DevAuthenticator(std::string secret, ports::ClockPtr clock, std::string issuer,
                                   std::string audience, domain::Duration leeway,
                                   std::size_t cache_capacity)
    : secret_(std::move(secret)),
      clock_(std::move(clock)),
      issuer_(std::move(issuer)),
      audience_(std::move(audience)),
      leeway_(leeway),
      cache_(cache_capacity) {
  if (secret_.size() < kMinSecretBytes) {
    throw std::invalid_argument("the dev JWT secret must be at least " +
                                std::to_string(kMinSecretBytes) + " bytes");
  }
  if (!clock_) throw std::invalid_argument("DevAuthenticator needs a clock");
}

std::string DevAuthenticator::mint(const domain::UserId& user, ports::Roles roles,
                                   domain::Duration ttl) const {
  const domain::Timestamp now = clock_->now();
  json::array role_names;
  if (roles.has(ports::Role::bidder)) role_names.emplace_back("bidder");
  if (roles.has(ports::Role::seller)) role_names.emplace_back("seller");
  if (roles.has(ports::Role::admin)) role_names.emplace_back("admin");
  json::object claims;
  claims["sub"] = user.view();
  claims["roles"] = std::move(role_names);
  claims["iss"] = issuer_;
  claims["aud"] = audience_;
  claims["iat"] = unix_seconds(now);
  claims["nbf"] = unix_seconds(now);
  claims["exp"] = unix_seconds(now + ttl);

  std::string token = base64url_encode(R"({"alg":"HS256","typ":"JWT"})");
  token += '.';
  token += base64url_encode(json::serialize(claims));
  const auto mac = hmac_sha256(secret_, token);
  if (!mac) throw std::runtime_error("HMAC-SHA256 failed in OpenSSL");
  token += '.';
  token += base64url_encode({reinterpret_cast<const char*>(mac->data()), mac->size()});
  return token;
}

ports::Result<ports::Principal> DevAuthenticator::verify(std::string_view token) const {
  const domain::Timestamp now = clock_->now();
  if (auto cached = cache_.find(token, now)) return *cached;

  auto split = split_token(token, kAcceptedAlgs);
  if (!split) return split.error();
  const SplitToken& parts = split.value();
  const auto mac = hmac_sha256(secret_, parts.signing_input);
  if (!mac) return ports::Error{ports::ErrorKind::retryable, "HMAC-SHA256 failed in OpenSSL"};
  if (parts.signature.size() != mac->size() ||
      CRYPTO_memcmp(parts.signature.data(), mac->data(), mac->size()) != 0) {
    return refuse("bad signature");
  }

  auto principal = check_claims(parts.payload, {issuer_, audience_, leeway_}, now);
  if (principal)
    cache_.insert(token, principal.value(), principal.value().expires_at + leeway_, now);
  return principal;
}

std::filesystem::path DevAuthenticator::secret_file(const std::filesystem::path& data_dir) {
  return data_dir / kSecretFileName;
}

std::string DevAuthenticator::load_or_create_secret(const std::filesystem::path& data_dir) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) {
    throw std::runtime_error("cannot create the data directory " + data_dir.string() + ": " +
                             ec.message());
  }
  const std::filesystem::path path = secret_file(data_dir);
  if (auto existing = read_secret(path)) return std::move(*existing);

  const std::filesystem::path temporary =
      data_dir / (std::string(kSecretFileName) + ".tmp." + std::to_string(::getpid()));
  write_new_file(temporary, random_hex_secret() + "\n");
  // link() fails if another process created the secret meanwhile; then both use that one.
  const int linked = ::link(temporary.c_str(), path.c_str());
  const int link_error = linked == 0 ? 0 : errno;
  ::unlink(temporary.c_str());
  if (link_error != 0 && link_error != EEXIST) {
    throw std::runtime_error("cannot create " + path.string() + ": " + errno_text(link_error));
  }
  if (auto created = read_secret(path)) return std::move(*created);
  throw std::runtime_error("the dev JWT secret " + path.string() + " vanished after creation");
}

}  // namespace gavel::adapters::jwt
