#pragma once
// One way of reaching a user (in-app, webhook, e-mail, SMS). The notifier decides who hears
// what; a channel only delivers. A failing channel never blocks the others.

#include <memory>
#include <string>
#include <string_view>

#include "domain/ids.hpp"
#include "ports/result.hpp"

namespace gavel::ports {

/// One notice to one user. `id` is stable across redeliveries (event id + user), so a channel
/// that is asked twice delivers once where the backend allows it.
struct Notice {
  std::string id;
  domain::UserId user_id;
  domain::AuctionId auction_id;
  std::string kind;     ///< outbid, leading, ending_soon, won, lost, sold, unsold, cancelled
  std::string address;  ///< the channel's address for this user: e-mail, phone, URL; may be empty
  std::string subject;
  std::string text;
  std::string html;
  std::string secret;  ///< webhook: the user's signing key; empty elsewhere
  bool operator==(const Notice&) const = default;
};

class NotificationChannel {
 public:
  virtual ~NotificationChannel() = default;

  /// The channel's name, e.g. "email".
  virtual std::string_view name() const = 0;

  /// Delivers one notice. ErrorKind::retryable: try again later (with backoff);
  /// ErrorKind::permanent: give up and dead-letter it.
  virtual void send(Notice notice, Callback<void> done) = 0;

  /// Whether each notice's delivery is recorded and tried until it is sent or dead, across
  /// restarts (a webhook, e-mail, SMS: something outside that must happen once). An untracked
  /// channel is sent each notice once, best effort, after the notice is stored in the user's
  /// inbox: the in-app push, whose user reads the inbox anyway when a push is missed.
  virtual bool tracked() const { return true; }
};

using NotificationChannelPtr = std::unique_ptr<NotificationChannel>;

}  // namespace gavel::ports
