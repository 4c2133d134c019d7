#pragma once
// The one blocking libcurl call the channels share: a POST (HTTP) or a mail submission (SMTP)
// on the calling thread, with a timeout, its outcome mapped to the port's error kinds.
// Internal to the notify adapters.

#include <chrono>
#include <string>
#include <vector>

struct sockaddr;

#include "ports/result.hpp"

namespace gavel::adapters::notify {

struct HttpPost {
  std::string url;
  std::vector<std::string> headers;  ///< "Name: value"
  std::string body;
  std::chrono::milliseconds timeout{10'000};
  /// Refuse to connect to loopback, private, link-local and other non-public addresses, as
  /// resolved at connect time (so DNS that points a public name inward is caught too). Users
  /// choose webhook URLs: without this they could make the server probe its own network.
  bool public_only = false;
};

/// Whether `address` (an IPv4 or IPv6 socket address) is one a user-chosen URL must not reach.
bool is_non_public(const struct sockaddr* address);

/// POSTs on the calling thread. 2xx: ok; 408, 429 and 5xx: retryable; other statuses:
/// permanent; connection failures and timeouts: retryable; a malformed URL or (public_only) a
/// non-public address: permanent.
/// Redirects are not followed (a webhook that moved must be updated, not chased).
ports::Result<void> post(const HttpPost& request);

/// The error of an HTTP status (for tests and the channels): ok for 2xx.
ports::Result<void> classify_status(long status, const std::string& what);

}  // namespace gavel::adapters::notify
