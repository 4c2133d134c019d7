// Events read back from their JSON (what topic subscribers such as the notifier parse): every
// type round-trips, and documents that are not events are refused.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "ports/wire/auction_json.hpp"
#include "support/auction_builders.hpp"

namespace gavel::wire {
namespace {

namespace json = boost::json;
using gavel::testing::at;
using gavel::testing::bid;
using gavel::testing::t0;

std::vector<domain::Event> a_whole_auction() {
  domain::Auction auction(gavel::testing::terms("a1"));
  std::vector<domain::Event> events;
  auction.announce_creation(t0(), events);
  auction.place_bid(bid("b1", "bob", 1000), events);
  auction.place_bid(bid("b2", "carol", 1500, std::nullopt, 20), events);
  auction.place_bid(bid("b3", "carol", 1, std::nullopt, 30), events);  // rejected
  auction.place_bid(bid("b4", "bob", 900, std::nullopt, 40), events);  // too low
  auction.close_if_due(at(600), events);
  domain::Auction cancelled(gavel::testing::terms("a2"));
  cancelled.announce_creation(t0(), events);
  cancelled.cancel(domain::Actor{domain::UserId{"seller"}, false}, "changed my mind", at(5),
                   events);
  return events;
}

TEST(EventJsonTest, EveryEventRoundTrips) {
  const auto events = a_whole_auction();
  std::set<domain::EventType> types;
  for (const auto& event : events) {
    types.insert(event.type);
    const auto text = json::serialize(event_json(event));
    const auto back = event_from_json(json::parse(text).as_object());
    ASSERT_TRUE(back.has_value()) << text;
    auto expected = event;
    if (event.type == domain::EventType::bid_rejected &&
        event.reason != domain::Reason::bid_too_low) {
      expected.min_next_bid = domain::Amount{};  // only bid_too_low puts it on the wire
    }
    EXPECT_TRUE(*back == expected) << text;
  }
  EXPECT_EQ(types.size(), 7u);  // created, opened, accepted, rejected, outbid, closed, cancelled
}

TEST(EventJsonTest, TheCreatedEventNamesTheSeller) {
  domain::Auction auction(gavel::testing::terms("a1"));
  std::vector<domain::Event> events;
  auction.announce_creation(t0(), events);
  EXPECT_EQ(event_json(events[0]).at("sellerId"), "seller");
}

TEST(EventJsonTest, WhatIsNotAnEventIsRefused) {
  const auto events = a_whole_auction();
  const json::object good = event_json(events[2]);  // bid.accepted
  ASSERT_TRUE(event_from_json(good).has_value());
  const auto without = [&](const char* field) {
    json::object copy = good;
    copy.erase(field);
    return event_from_json(copy);
  };
  const auto with = [&](const char* field, json::value value) {
    json::object copy = good;
    copy[field] = std::move(value);
    return event_from_json(copy);
  };
  EXPECT_FALSE(without("type").has_value());
  EXPECT_FALSE(without("at").has_value());
  EXPECT_FALSE(without("id").has_value());
  EXPECT_FALSE(with("type", "bid.teleported").has_value());
  EXPECT_FALSE(with("id", "a9:3").has_value());  // another auction's id
  EXPECT_FALSE(with("id", "a1:x").has_value());
  EXPECT_FALSE(with("amount", -5).has_value());
  EXPECT_FALSE(with("amount", 12.5).has_value());
  EXPECT_FALSE(with("bidderId", "has space").has_value());
  EXPECT_FALSE(with("endsAt", "yesterday").has_value());
  EXPECT_TRUE(with("previousLeaderId", nullptr).has_value());
}

}  // namespace
}  // namespace gavel::wire
