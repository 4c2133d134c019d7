#pragma once
// The in-app push channel: the notifier's notices sent to the user's open WebSockets on this
// gateway ({"type": "notification", "notification": {...}}). A user with no socket open has
// the notice in their inbox anyway, so "nobody listening" is a successful delivery.

#include <boost/json.hpp>
#include <string_view>

#include "ports/clock.hpp"
#include "ports/notification_channel.hpp"
#include "roles/gateway/ws_hub.hpp"
#include "roles/notifier/notifier_api.hpp"

namespace gavel::gateway {

class WsPushChannel final : public ports::NotificationChannel {
 public:
  WsPushChannel(WsHub& hub, ports::Clock& clock) : hub_(hub), clock_(clock) {}

  std::string_view name() const override { return "push"; }

  void send(ports::Notice notice, ports::Callback<void> done) override {
    const std::string message =
        boost::json::serialize(roles::notifier::push_json(notice, clock_.now()));
    hub_.push(notice.user_id.str(), message, notice.auction_id);
    done(ports::Result<void>{});
  }

 private:
  WsHub& hub_;
  ports::Clock& clock_;
};

}  // namespace gavel::gateway
