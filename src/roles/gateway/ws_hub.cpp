#include "roles/gateway/ws_hub.hpp"

#include <algorithm>
#include <boost/json.hpp>

namespace gavel::gateway {

namespace json = boost::json;

namespace {

std::string string_field(const json::object& object, std::string_view name) {
  const json::value* value = object.if_contains(name);
  return (value != nullptr && value->is_string()) ? std::string(value->get_string())
                                                  : std::string{};
}

std::vector<std::shared_ptr<WsClient>> lock_all(std::vector<std::weak_ptr<WsClient>>& clients) {
  std::vector<std::shared_ptr<WsClient>> live;
  live.reserve(clients.size());
  std::erase_if(clients, [&](const std::weak_ptr<WsClient>& weak) {
    auto client = weak.lock();
    if (!client) return true;
    live.push_back(std::move(client));
    return false;
  });
  return live;
}

}  // namespace

bool WsHub::subscribe(const std::shared_ptr<WsClient>& client,
                      const domain::AuctionId& auction_id) {
  std::lock_guard lock{mutex_};
  auto& mine = subscriptions_[client.get()];
  if (mine.contains(auction_id)) return true;
  if (mine.size() >= kMaxSubscriptions) return false;
  mine.insert(auction_id);
  watchers_[auction_id].push_back(client);
  return true;
}

void WsHub::unsubscribe(const WsClient* client, const domain::AuctionId& auction_id) {
  std::lock_guard lock{mutex_};
  if (auto mine = subscriptions_.find(client); mine != subscriptions_.end()) {
    mine->second.erase(auction_id);
  }
  if (auto it = watchers_.find(auction_id); it != watchers_.end()) {
    std::erase_if(it->second, [&](const std::weak_ptr<WsClient>& weak) {
      auto locked = weak.lock();
      return !locked || locked.get() == client;
    });
    if (it->second.empty()) watchers_.erase(it);
  }
}

void WsHub::add_user(const std::shared_ptr<WsClient>& client, const std::string& user_id) {
  ++connections_;
  if (user_id.empty()) return;
  std::lock_guard lock{mutex_};
  users_[user_id].push_back(client);
}

void WsHub::remove(const WsClient* client, const std::string& user_id) {
  --connections_;
  std::unordered_set<domain::AuctionId> watched;
  {
    std::lock_guard lock{mutex_};
    if (auto mine = subscriptions_.find(client); mine != subscriptions_.end()) {
      watched = std::move(mine->second);
      subscriptions_.erase(mine);
    }
    if (auto it = users_.find(user_id); it != users_.end()) {
      std::erase_if(it->second, [&](const std::weak_ptr<WsClient>& weak) {
        auto locked = weak.lock();
        return !locked || locked.get() == client;
      });
      if (it->second.empty()) users_.erase(it);
    }
  }
  for (const auto& auction_id : watched) unsubscribe(client, auction_id);
}

void WsHub::notify(const std::string& user_id, const std::string& kind, const std::string& event_id,
                   const domain::AuctionId& auction_id, std::uint64_t seq, std::int64_t price) {
  json::object notice{
      {"type", "notification"}, {"kind", kind},  {"auctionId", auction_id.view()}, {"seq", seq},
      {"eventId", event_id},    {"price", price}};
  push(user_id, json::serialize(notice), auction_id);
}

std::size_t WsHub::push(const std::string& user_id, const std::string& message,
                        const domain::AuctionId& auction_id) {
  std::vector<std::shared_ptr<WsClient>> targets;
  {
    std::lock_guard lock{mutex_};
    auto it = users_.find(user_id);
    if (it == users_.end()) return 0;
    targets = lock_all(it->second);
  }
  if (targets.empty()) return 0;
  auto shared = std::make_shared<const std::string>(message);
  for (const auto& client : targets) client->deliver(shared, auction_id);
  messages_ += targets.size();
  return targets.size();
}

namespace {
std::string without_request_id(json::value event) {
  event.get_object().erase("requestId");
  return json::serialize(event);
}
}  // namespace

void WsHub::publish(const std::string& event_json_text) {
  boost::system::error_code ec;
  json::value parsed = json::parse(event_json_text, ec);
  if (ec || !parsed.is_object()) return;
  const json::object& event = parsed.get_object();
  const std::string auction_text = string_field(event, "auctionId");
  if (!domain::is_valid_id(auction_text)) return;
  const domain::AuctionId auction_id{auction_text};
  const std::string type = string_field(event, "type");
  const std::string event_id = string_field(event, "id");
  const json::value* seq_value = event.if_contains("seq");
  const std::uint64_t seq =
      (seq_value != nullptr && seq_value->is_number()) ? seq_value->to_number<std::uint64_t>() : 0;
  const json::value* price_value = event.if_contains("price");
  const std::int64_t price =
      (price_value != nullptr && price_value->is_int64()) ? price_value->get_int64() : 0;

  std::vector<std::shared_ptr<WsClient>> watchers;
  std::vector<std::string> participants;
  {
    std::lock_guard lock{mutex_};
    if (auto it = watchers_.find(auction_id); it != watchers_.end()) {
      watchers = lock_all(it->second);
    }
    if (type == "bid.accepted") bidders_[auction_id].insert(string_field(event, "bidderId"));
    if (type == "auction.closed" || type == "auction.cancelled") {
      if (auto it = bidders_.find(auction_id); it != bidders_.end()) {
        participants.assign(it->second.begin(), it->second.end());
        bidders_.erase(it);
      }
    }
  }
  // Rejections are answered to the bidder; watchers only see what changed the auction.
  if (type != "bid.rejected" && !watchers.empty()) {
    // The request id that caused the event is for the operators' logs, not for other users.
    auto message = std::make_shared<const std::string>(
        event.contains("requestId") ? without_request_id(parsed) : event_json_text);
    for (const auto& client : watchers) client->deliver(message, auction_id);
    messages_ += watchers.size();
  }

  if (type == "outbid") {
    notify(string_field(event, "userId"), "outbid", event_id, auction_id, seq, price);
  } else if (type == "bid.accepted") {
    const std::string bidder = string_field(event, "bidderId");
    if (bidder == string_field(event, "leaderId")) {
      notify(bidder, "leading", event_id, auction_id, seq, price);
    }
  } else if (type == "auction.closed") {
    const std::string winner = string_field(event, "winnerId");
    if (!winner.empty()) notify(winner, "won", event_id, auction_id, seq, price);
    for (const auto& user : participants) {
      if (user != winner) notify(user, "lost", event_id, auction_id, seq, price);
    }
  } else if (type == "auction.cancelled") {
    for (const auto& user : participants) {
      notify(user, "cancelled", event_id, auction_id, seq, price);
    }
  }
}

}  // namespace gavel::gateway
