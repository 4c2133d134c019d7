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

void WsHub::subscribe(const std::shared_ptr<WsClient>& client,
                      const domain::AuctionId& auction_id) {
  std::lock_guard lock{mutex_};
  watchers_[auction_id].push_back(client);
}

void WsHub::unsubscribe(const WsClient* client, const domain::AuctionId& auction_id) {
  std::lock_guard lock{mutex_};
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

void WsHub::remove(const WsClient* client, const std::string& user_id,
                   std::span<const domain::AuctionId> watched) {
  --connections_;
  {
    std::lock_guard lock{mutex_};
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

std::size_t WsHub::resync() {
  // Pairs gathered under the lock, snapshots queued after it (a client's resync posts to its
  // strand, but no client is called with the hub's lock held).
  std::vector<std::pair<std::shared_ptr<WsClient>, domain::AuctionId>> targets;
  {
    std::lock_guard lock{mutex_};
    for (auto& [auction_id, clients] : watchers_) {
      for (auto& client : lock_all(clients)) targets.emplace_back(std::move(client), auction_id);
    }
  }
  for (const auto& [client, auction_id] : targets) client->resync(auction_id);
  return targets.size();
}

std::size_t WsHub::resync(const domain::AuctionId& auction_id) {
  std::vector<std::shared_ptr<WsClient>> watchers;
  {
    std::lock_guard lock{mutex_};
    if (auto it = watchers_.find(auction_id); it != watchers_.end()) {
      watchers = lock_all(it->second);
    }
  }
  for (const auto& client : watchers) client->resync(auction_id);
  return watchers.size();
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
  // Rejections are answered to the bidder; watchers only see what changed the auction.
  if (string_field(event, "type") == "bid.rejected") return;

  std::vector<std::shared_ptr<WsClient>> watchers;
  {
    std::lock_guard lock{mutex_};
    if (auto it = watchers_.find(auction_id); it != watchers_.end()) {
      watchers = lock_all(it->second);
    }
  }
  if (watchers.empty()) return;
  {
    // The request id that caused the event is for the operators' logs, not for other users.
    auto message = std::make_shared<const std::string>(
        event.contains("requestId") ? without_request_id(parsed) : event_json_text);
    for (const auto& client : watchers) client->deliver(message, auction_id);
    messages_ += watchers.size();
  }
}

}  // namespace gavel::gateway
