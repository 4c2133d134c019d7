#pragma once
// The in-app push channel: each notice goes out on the notice topic, and every gateway sends
// it to the user's open WebSockets there ({"type": "notification", "notification": {...}}).
// The notifier may run in another process than the gateway holding the user's socket, hence
// the topic. A user with no socket open has the notice in their inbox anyway, so "published"
// is a successful delivery.

#include <boost/json.hpp>
#include <string_view>
#include <utility>

#include "ports/clock.hpp"
#include "ports/notification_channel.hpp"
#include "ports/topic.hpp"
#include "roles/notifier/notifier_api.hpp"

namespace gavel::roles::notifier {

class TopicPushChannel final : public ports::NotificationChannel {
 public:
  TopicPushChannel(ports::Topic& notices, ports::Clock& clock) : notices_(notices), clock_(clock) {}

  std::string_view name() const override { return "push"; }
  /// The inbox holds every notice; a push that fails is not retried.
  bool tracked() const override { return false; }

  void send(ports::Notice notice, ports::Callback<void> done) override {
    ports::OutgoingMessage message;
    message.ordering_key = notice.user_id.str();
    message.dedup_id = notice.id;  // a redelivered notice is pushed once
    message.event_time = clock_.now();
    message.body = boost::json::serialize(push_envelope(notice, message.event_time));
    notices_.publish({std::move(message)}, std::move(done));
  }

 private:
  ports::Topic& notices_;
  ports::Clock& clock_;
};

}  // namespace gavel::roles::notifier
