#include "adapters/notify/webhook_channel.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json.hpp>

#include "adapters/notify/curl_call.hpp"

namespace gavel::adapters::notify {

std::string webhook_signature(const std::string& secret, const std::string& timestamp,
                              const std::string& body) {
  const std::string message = timestamp + "." + body;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex = "sha256=";
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0x0f];
  }
  return hex;
}

std::string webhook_body(const ports::Notice& notice) {
  return boost::json::serialize(boost::json::object{
      {"id", notice.id},
      {"kind", notice.kind},
      {"userId", notice.user_id.view()},
      {"auctionId", notice.auction_id.view()},
      {"subject", notice.subject},
      {"text", notice.text},
      {"html", notice.html},
  });
}

WebhookChannel::WebhookChannel(ports::Clock& clock, WebhookOptions options)
    : clock_(clock), options_(options) {}

void WebhookChannel::send(ports::Notice notice, ports::Callback<void> done) {
  if (notice.address.empty() || notice.secret.empty()) {
    done(ports::Error{ports::ErrorKind::permanent, "the webhook has no URL or no secret"});
    return;
  }
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
  const std::string timestamp = std::to_string(seconds);
  HttpPost request;
  request.url = notice.address;
  request.body = webhook_body(notice);
  request.headers = {
      "Content-Type: application/json", "User-Agent: gavel-notifier",
      "X-Gavel-Timestamp: " + timestamp,
      "X-Gavel-Signature: " + webhook_signature(notice.secret, timestamp, request.body),
      "X-Gavel-Notice-Id: " + notice.id};
  request.timeout = options_.timeout;
  request.public_only = !options_.allow_private_addresses;
  done(post(request));
}

}  // namespace gavel::adapters::notify
