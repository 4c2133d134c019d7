#pragma once
// The webhook channel: POSTs each notice as JSON to the user's URL (Notice::address), signed so
// the receiver can check it came from Gavel and is fresh:
//   X-Gavel-Timestamp: <unix seconds>
//   X-Gavel-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
//   X-Gavel-Notice-Id: <notice id>   (receivers deduplicate on it: a retry may repeat a POST)
// Body: {"id", "kind", "userId", "auctionId", "subject", "text", "html"}.
// 2xx: delivered; 408, 429, 5xx, timeouts and connection errors: retryable; other statuses and
// a missing URL or secret: permanent.
//
// send() blocks the calling thread for up to the timeout (a libcurl easy handle): call it from
// a delivery worker's thread. Thread-safe (no shared state).

#include <chrono>
#include <string>

#include "ports/clock.hpp"
#include "ports/notification_channel.hpp"

namespace gavel::adapters::notify {

struct WebhookOptions {
  std::chrono::milliseconds timeout{10'000};
  /// Deliver to loopback and private addresses too (a test rig, or hooks inside a trusted
  /// network); off by default: users choose the URLs.
  bool allow_private_addresses = false;
};

/// The signature header's value for `body` sent at `timestamp` (unix seconds, as text).
std::string webhook_signature(const std::string& secret, const std::string& timestamp,
                              const std::string& body);

/// The JSON body a webhook receives for `notice`.
std::string webhook_body(const ports::Notice& notice);

class WebhookChannel final : public ports::NotificationChannel {
 public:
  explicit WebhookChannel(ports::Clock& clock, WebhookOptions options = {});
  std::string_view name() const override { return "webhook"; }
  void send(ports::Notice notice, ports::Callback<void> done) override;

 private:
  ports::Clock& clock_;
  WebhookOptions options_;
};

}  // namespace gavel::adapters::notify
