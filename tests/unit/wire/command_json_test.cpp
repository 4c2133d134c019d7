#include "ports/wire/command_json.hpp"

#include <gtest/gtest.h>

#include "ports/wire/auction_json.hpp"
#include "support/auction_builders.hpp"

namespace gavel::wire {
namespace {

using testing::amt;
using testing::at;

CommandEnvelope round_trip(const CommandEnvelope& envelope) {
  const std::string line = boost::json::serialize(command_json(envelope));
  auto parsed = parse_command(boost::json::parse(line).as_object(), at(-1000));
  EXPECT_TRUE(std::holds_alternative<CommandEnvelope>(parsed)) << line;
  return std::get<CommandEnvelope>(parsed);
}

TEST(CommandJson, EveryCommandSurvivesTheWire) {
  domain::AuctionTerms terms = testing::terms();
  terms.reserve_price = amt(5000);
  terms.buy_now_price = amt(9000);
  terms.soft_close = domain::seconds(60);
  terms.extension = domain::seconds(30);
  terms.max_ends_at = at(900);
  terms.increment = *domain::IncrementPolicy::table({{amt(0), amt(10)}, {amt(1000), amt(100)}});
  const std::vector<CommandEnvelope> envelopes{
      {domain::CreateAuction{terms, at(-5)}, "a1", "", "req-1", "gw-1"},
      {domain::PlaceBid{domain::AuctionId{"a1"},
                        domain::BidRequest{domain::BidId{"b1"}, domain::UserId{"alice"}, amt(1500),
                                           amt(3000), domain::Currency::parse("EUR"),
                                           at(1) + std::chrono::microseconds(250)}},
       "b1", "key-7", "req-2", "gw-1"},
      {domain::PlaceBid{domain::AuctionId{"a1"}, testing::bid("b2", "bob", 1600)}, "b2", "", "",
       ""},
      {domain::BuyNow{domain::AuctionId{"a1"}, domain::UserId{"carol"}, at(2)}, "c1", "", "", ""},
      {domain::CancelAuction{domain::AuctionId{"a1"}, domain::Actor{domain::UserId{"root"}, true},
                             "fraud", at(3)},
       "c2", "", "", ""},
      {domain::VoidBid{domain::AuctionId{"a1"}, domain::Actor{domain::UserId{"root"}, true},
                       domain::BidId{"b1"}, at(4)},
       "c3", "", "", ""},
  };
  for (const auto& envelope : envelopes) {
    EXPECT_EQ(round_trip(envelope), envelope) << domain::op_name(envelope.command);
  }
}

TEST(CommandJson, FloatAmountsAndBadIdsAreRefused) {
  const auto parse = [](const char* text) {
    return parse_command(boost::json::parse(text).as_object(), at(0));
  };
  auto floating = parse(
      R"({"op":"bid","bidId":"b1","auctionId":"a1","bidderId":"u","amount":10.0,"receivedAt":"2026-11-28T10:00:00Z"})");
  ASSERT_TRUE(std::holds_alternative<FieldError>(floating));
  EXPECT_EQ(std::get<FieldError>(floating).field, "amount");
  auto spaced = parse(
      R"({"op":"bid","bidId":"b 1","auctionId":"a1","bidderId":"u","amount":10,"receivedAt":"2026-11-28T10:00:00Z"})");
  ASSERT_TRUE(std::holds_alternative<FieldError>(spaced));
  EXPECT_EQ(std::get<FieldError>(spaced).field, "bidId");
  auto long_id = parse((R"({"op":"buyNow","auctionId":")" + std::string(65, 'x') +
                        R"(","bidderId":"u","receivedAt":"2026-11-28T10:00:00Z"})")
                           .c_str());
  ASSERT_TRUE(std::holds_alternative<FieldError>(long_id));
  EXPECT_EQ(std::get<FieldError>(long_id).field, "auctionId");
}

TEST(AuctionJson, TermsDefaultsAndErrors) {
  const auto parse = [](const char* text) {
    TermsContext context;
    context.id = domain::AuctionId{"a9"};
    context.seller_id = domain::UserId{"sam"};
    context.now = at(0);
    return parse_terms(boost::json::parse(text).as_object(), context);
  };
  auto ok = parse(
      R"({"title":"x","currency":"EUR","startingPrice":100,"durationSeconds":60,"softCloseSeconds":30})");
  ASSERT_TRUE(std::holds_alternative<domain::AuctionTerms>(ok));
  const auto& terms = std::get<domain::AuctionTerms>(ok);
  EXPECT_EQ(terms.starts_at, at(0));
  EXPECT_EQ(terms.ends_at, at(60));
  EXPECT_EQ(terms.extension, domain::seconds(30));  // defaults to softCloseSeconds
  EXPECT_EQ(terms.increment, domain::IncrementPolicy::default_table());

  const auto field_of = [&](const char* text) {
    auto result = parse(text);
    return std::holds_alternative<FieldError>(result) ? std::get<FieldError>(result).field
                                                      : std::string("(accepted)");
  };
  EXPECT_EQ(field_of(R"({"currency":"EUR","startingPrice":100.5,"durationSeconds":60})"),
            "startingPrice");
  EXPECT_EQ(field_of(R"({"currency":"EUR","startingPrice":"100","durationSeconds":60})"),
            "startingPrice");
  EXPECT_EQ(field_of(R"({"currency":"EUR","startingPrice":100})"), "endsAt");
  EXPECT_EQ(field_of(R"({"startingPrice":100,"durationSeconds":60})"), "currency");
  EXPECT_EQ(
      field_of(R"({"currency":"EUR","startingPrice":100,"durationSeconds":60,"increment":0})"),
      "increment");
  EXPECT_EQ(
      field_of(
          R"({"currency":"EUR","startingPrice":100,"durationSeconds":60,"increment":[{"from":5,"step":1}]})"),
      "increment");
  EXPECT_EQ(
      field_of(R"({"currency":"EUR","startingPrice":100,"durationSeconds":60,"reservePrice":-1})"),
      "reservePrice");
  EXPECT_EQ(
      field_of(R"({"currency":"EUR","startingPrice":100,"durationSeconds":60,"increment":25})"),
      "(accepted)");
}

TEST(AuctionJson, PublicViewNeverShowsTheReserveOrMaxima) {
  domain::AuctionTerms terms = testing::terms();
  terms.reserve_price = amt(777'777);
  domain::Auction auction{terms};
  std::vector<domain::Event> events;
  auction.place_bid(testing::bid("b1", "alice", 1000, 555'555, 0), events);
  const std::string text = boost::json::serialize(public_view(auction));
  EXPECT_EQ(text.find("777777"), std::string::npos) << text;
  EXPECT_EQ(text.find("555555"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("reserveMet":false)"), std::string::npos) << text;
}

}  // namespace
}  // namespace gavel::wire
