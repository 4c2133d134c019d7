#include "adapters/notify/curl_call.hpp"

#include <curl/curl.h>

#include <memory>

namespace gavel::adapters::notify {

namespace {
// Answers beyond this are cut: only the status matters.
constexpr std::size_t kMaxAnswer = 64 * 1024;

std::size_t discard(char*, std::size_t size, std::size_t count, void* seen) {
  auto* total = static_cast<std::size_t*>(seen);
  *total += size * count;
  return *total > kMaxAnswer ? 0 : size * count;
}
}  // namespace

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
  const CURLcode code = curl_easy_perform(handle);
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
