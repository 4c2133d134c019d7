#include "adapters/jwt/http_jwks_fetch.hpp"

#include <curl/curl.h>

#include <memory>

namespace gavel::adapters::jwt {
namespace {

struct Body {
  std::string text;
  bool too_large = false;
};

std::size_t append(char* data, std::size_t size, std::size_t count, void* user) {
  auto* body = static_cast<Body*>(user);
  const std::size_t bytes = size * count;
  if (body->text.size() + bytes > kMaxJwksBytes) {
    body->too_large = true;
    return 0;  // makes curl stop with CURLE_WRITE_ERROR
  }
  body->text.append(data, bytes);
  return bytes;
}

}  // namespace

JwksFetch http_jwks_fetch(std::string url, std::chrono::milliseconds timeout) {
  curl_global_init(CURL_GLOBAL_DEFAULT);  // idempotent and cheap after the first call
  return [url = std::move(url), timeout]() -> ports::Result<std::string> {
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl{curl_easy_init(), &curl_easy_cleanup};
    if (!curl) return ports::Error{ports::ErrorKind::retryable, "curl_easy_init failed"};
    Body body;
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
    curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &append);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &body);
    const CURLcode code = curl_easy_perform(curl.get());
    if (body.too_large) {
      return ports::Error{ports::ErrorKind::permanent,
                          "the JWKS at " + url + " is larger than 1 MiB"};
    }
    if (code == CURLE_URL_MALFORMAT || code == CURLE_UNSUPPORTED_PROTOCOL) {
      return ports::Error{ports::ErrorKind::permanent,
                          "bad JWKS URL " + url + ": " + curl_easy_strerror(code)};
    }
    if (code != CURLE_OK) {
      return ports::Error{ports::ErrorKind::retryable,
                          "fetching " + url + ": " + curl_easy_strerror(code)};
    }
    long status = 0;
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
      return ports::Error{status >= 500 ? ports::ErrorKind::retryable : ports::ErrorKind::permanent,
                          "fetching " + url + ": HTTP " + std::to_string(status)};
    }
    return std::move(body.text);
  };
}

}  // namespace gavel::adapters::jwt
