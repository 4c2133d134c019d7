#include "adapters/notify/sms_channel.hpp"

#include <boost/json.hpp>
#include <stdexcept>

#include "adapters/notify/curl_call.hpp"

namespace gavel::adapters::notify {

namespace {
// Cuts at a character boundary: never in the middle of a UTF-8 sequence.
std::string cut_utf8(const std::string& text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}
}  // namespace

SmsChannel::SmsChannel(SmsOptions options) : options_(std::move(options)) {
  if (!options_.provider_url.starts_with("https://") &&
      !options_.provider_url.starts_with("http://")) {
    throw std::invalid_argument("the SMS provider URL must be http:// or https://, not '" +
                                options_.provider_url + "'");
  }
}

void SmsChannel::send(ports::Notice notice, ports::Callback<void> done) {
  if (notice.address.empty()) {
    done(ports::Error{ports::ErrorKind::permanent, "no phone number"});
    return;
  }
  HttpPost request;
  request.url = options_.provider_url;
  request.body = boost::json::serialize(boost::json::object{
      {"to", notice.address}, {"text", cut_utf8(notice.text, options_.max_length)}});
  request.headers = {"Content-Type: application/json", "Authorization: Bearer " + options_.api_key,
                     "Idempotency-Key: " + notice.id};
  request.timeout = options_.timeout;
  done(post(request));
}

}  // namespace gavel::adapters::notify
