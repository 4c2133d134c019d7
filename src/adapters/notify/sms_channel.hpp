#pragma once
// The SMS channel: POSTs {"to": <phone>, "text": <text>} as JSON to a provider's HTTP API with
// "Authorization: Bearer <api key>" (the shape of most SMS gateways, or of a small adapter in
// front of one). The notice's plain text, cut to `max_length` bytes at a character boundary.
// Errors as the webhook's (curl_call.hpp). send() blocks the calling thread up to the timeout.

#include <chrono>
#include <string>

#include "ports/notification_channel.hpp"

namespace gavel::adapters::notify {

struct SmsOptions {
  std::string provider_url;  ///< e.g. "https://sms.example.com/v1/messages"
  std::string api_key;
  std::size_t max_length = 480;  ///< bytes; about three concatenated segments
  std::chrono::milliseconds timeout{10'000};
};

class SmsChannel final : public ports::NotificationChannel {
 public:
  /// Throws std::invalid_argument when the provider URL is not http(s).
  explicit SmsChannel(SmsOptions options);
  std::string_view name() const override { return "sms"; }
  void send(ports::Notice notice, ports::Callback<void> done) override;

 private:
  SmsOptions options_;
};

}  // namespace gavel::adapters::notify
