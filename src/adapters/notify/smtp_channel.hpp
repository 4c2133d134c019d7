#pragma once
// The e-mail channel: submits each notice over SMTP (libcurl) to the user's address
// (Notice::address) as multipart/alternative, plain text and HTML, both UTF-8 in base64 lines,
// the subject RFC 2047-encoded when it is not ASCII. The Message-ID is derived from the notice
// id, so a receiving system can tell a retry from a new mail.
//
// Errors: connection failures, timeouts and 4xx replies are retryable; 5xx replies (a rejected
// recipient), refused logins and a malformed server URL are permanent. send() blocks the
// calling thread for up to the timeout: call it from a delivery worker's thread.
// Thread-safe (no shared state).

#include <chrono>
#include <string>

#include "ports/clock.hpp"
#include "ports/notification_channel.hpp"

namespace gavel::adapters::notify {

struct SmtpOptions {
  std::string server_url = "smtp://127.0.0.1:1025";  ///< smtp:// (STARTTLS if offered) or smtps://
  std::string from = "Gavel <notifications@gavel.invalid>";
  std::string username;  ///< empty: no AUTH
  std::string password;
  bool require_tls = false;  ///< fail rather than send in clear when STARTTLS is not offered
  std::chrono::milliseconds timeout{15'000};
};

/// The whole message (headers and body, CRLF line ends) sent for `notice` at `at`.
std::string mime_message(const ports::Notice& notice, const std::string& from,
                         domain::Timestamp at);

class SmtpChannel final : public ports::NotificationChannel {
 public:
  /// Throws std::invalid_argument when the server URL is not smtp:// or smtps:// or the From
  /// address holds a line break.
  SmtpChannel(ports::Clock& clock, SmtpOptions options);
  std::string_view name() const override { return "email"; }
  void send(ports::Notice notice, ports::Callback<void> done) override;

 private:
  ports::Clock& clock_;
  SmtpOptions options_;
};

}  // namespace gavel::adapters::notify
