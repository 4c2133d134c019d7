#include "adapters/notify/curl_call.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstring>
#include <memory>

namespace gavel::adapters::notify {

namespace {
// Answers beyond this are cut: only the status matters.
constexpr std::size_t kMaxAnswer = std::size_t{64} * 1024;

std::size_t discard(char*, std::size_t size, std::size_t count, void* seen) {
  auto* total = static_cast<std::size_t*>(seen);
  *total += size * count;
  return *total > kMaxAnswer ? 0 : size * count;
}
/// What the open-socket callback saw: the address it refused, if any.
struct AddressGuard {
  std::string refused;
};

curl_socket_t open_public_socket(void* guard_pointer, curlsocktype, struct curl_sockaddr* address) {
  if (is_non_public(&address->addr)) {
    std::array<char, INET6_ADDRSTRLEN> text{};
    const void* raw = address->family == AF_INET6
                          ? static_cast<const void*>(
                                &reinterpret_cast<const sockaddr_in6*>(&address->addr)->sin6_addr)
                          : static_cast<const void*>(
                                &reinterpret_cast<const sockaddr_in*>(&address->addr)->sin_addr);
    inet_ntop(address->family, raw, text.data(), text.size());
    static_cast<AddressGuard*>(guard_pointer)->refused = text.data();
    return CURL_SOCKET_BAD;
  }
  return socket(address->family, address->socktype, address->protocol);
}

bool non_public_v4(std::uint32_t host) {
  const auto in = [host](std::uint32_t net, int bits) {
    return (host >> (32 - bits)) == (net >> (32 - bits));
  };
  return in(0x00000000, 8) ||   // "this" network
         in(0x0A000000, 8) ||   // 10/8
         in(0x64400000, 10) ||  // 100.64/10 carrier-grade NAT
         in(0x7F000000, 8) ||   // loopback
         in(0xA9FE0000, 16) ||  // link-local (cloud metadata lives here)
         in(0xAC100000, 12) ||  // 172.16/12
         in(0xC0A80000, 16) ||  // 192.168/16
         in(0xE0000000, 3);     // multicast and reserved
}

}  // namespace

bool is_non_public(const struct sockaddr* address) {
  if (address->sa_family == AF_INET) {
    return non_public_v4(ntohl(reinterpret_cast<const sockaddr_in*>(address)->sin_addr.s_addr));
  }
  if (address->sa_family != AF_INET6) return true;
  const auto& bytes = reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr.s6_addr;
  static constexpr std::array<std::uint8_t, 12> kMappedV4{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(bytes, kMappedV4.data(), kMappedV4.size()) == 0) {
    return non_public_v4((std::uint32_t{bytes[12]} << 24) | (std::uint32_t{bytes[13]} << 16) |
                         (std::uint32_t{bytes[14]} << 8) | bytes[15]);
  }
  static constexpr std::array<std::uint8_t, 16> kZero{};
  const bool unspecified_or_loopback =
      std::memcmp(bytes, kZero.data(), 15) == 0 && (bytes[15] == 0 || bytes[15] == 1);
  const bool unique_local = (bytes[0] & 0xfe) == 0xfc;                    // fc00::/7
  const bool link_local = bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80;  // fe80::/10
  const bool multicast = bytes[0] == 0xff;
  return unspecified_or_loopback || unique_local || link_local || multicast;
}

ports::Result<void> classify_status(long status, const std::string& what) {
  if (status >= 200 && status < 300) return {};
  const bool retry = status == 408 || status == 429 || status >= 500;
  return ports::Error{retry ? ports::ErrorKind::retryable : ports::ErrorKind::permanent,
                      what + ": HTTP " + std::to_string(status)};
}

ports::Result<void> post(const HttpPost& request) {
  curl_global_init(CURL_GLOBAL_DEFAULT);  // idempotent and cheap after the first call
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl{curl_easy_init(), &curl_easy_cleanup};
  if (!curl) return ports::Error{ports::ErrorKind::retryable, "curl_easy_init failed"};
  curl_slist* list = nullptr;
  for (const auto& header : request.headers) list = curl_slist_append(list, header.c_str());
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers{list, &curl_slist_free_all};
  std::size_t seen = 0;
  CURL* handle = curl.get();
  curl_easy_setopt(handle, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_POST, 1L);
  curl_easy_setopt(handle, CURLOPT_POSTFIELDS, request.body.data());
  curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE,
                   static_cast<curl_off_t>(request.body.size()));
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, &discard);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &seen);
  AddressGuard guard;
  if (request.public_only) {
    curl_easy_setopt(handle, CURLOPT_OPENSOCKETFUNCTION, &open_public_socket);
    curl_easy_setopt(handle, CURLOPT_OPENSOCKETDATA, &guard);
  }
  const CURLcode code = curl_easy_perform(handle);
  if (!guard.refused.empty()) {
    return ports::Error{
        ports::ErrorKind::permanent,
        "POST " + request.url + ": refused to connect to the non-public address " + guard.refused};
  }
  long status = 0;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
  if (code == CURLE_URL_MALFORMAT || code == CURLE_UNSUPPORTED_PROTOCOL) {
    return ports::Error{ports::ErrorKind::permanent,
                        "bad URL " + request.url + ": " + curl_easy_strerror(code)};
  }
  // A cut answer still has its status.
  if (code != CURLE_OK && !(code == CURLE_WRITE_ERROR && status != 0)) {
    return ports::Error{ports::ErrorKind::retryable,
                        "POST " + request.url + ": " + curl_easy_strerror(code)};
  }
  return classify_status(status, "POST " + request.url);
}

}  // namespace gavel::adapters::notify
