#include "app/replay.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace gavel::app {
namespace {

struct ReplayRun {
  int status;
  std::string out;
  std::string err;
};

ReplayRun replay(const std::string& input) {
  std::istringstream in{input};
  std::ostringstream out;
  std::ostringstream err;
  const int status = run_replay(in, out, err);
  return {status, out.str(), err.str()};
}

std::string read_file(const std::string& path) {
  std::ifstream file{path};
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

const std::string kCreate =
    R"({"op":"create","auction":{"id":"a1","sellerId":"s","currency":"EUR","startingPrice":1000,)"
    R"("startsAt":"2026-11-28T10:00:00Z","endsAt":"2026-11-28T10:10:00Z"}})"
    "\n";

TEST(Replay, BundledExampleGivesItsExpectedOutput) {
  const std::string dir = std::string(GAVEL_SOURCE_DIR) + "/examples/";
  const ReplayRun run = replay(read_file(dir + "lively-auction.jsonl"));
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.err, "");
  EXPECT_EQ(run.out, read_file(dir + "lively-auction.expected.jsonl"));
}

TEST(Replay, SameInputSameOutput) {
  const std::string dir = std::string(GAVEL_SOURCE_DIR) + "/examples/";
  const std::string input = read_file(dir + "lively-auction.jsonl");
  EXPECT_EQ(replay(input).out, replay(input).out);
}

TEST(Replay, BidLineHasTheFieldsOfApiMd) {
  const ReplayRun run = replay(
      kCreate +
      R"({"op":"bid","bidId":"b1","auctionId":"a1","bidderId":"u","amount":900,"receivedAt":"2026-11-28T10:01:00Z"})");
  ASSERT_EQ(run.status, 0) << run.err;
  std::istringstream lines{run.out};
  std::string first;
  std::getline(lines, first);
  EXPECT_EQ(
      first,
      R"({"bidId":"b1","status":"rejected","reason":"bid_too_low","leading":false,"price":1000,"minNextBid":1000})");
}

TEST(Replay, UnknownAuctionIsADecisionNotAMalformedLine) {
  const ReplayRun run = replay(
      R"({"op":"bid","bidId":"b1","auctionId":"nope","bidderId":"u","amount":900,"receivedAt":"2026-11-28T10:01:00Z"})");
  EXPECT_EQ(run.status, 0);
  EXPECT_EQ(run.out,
            "{\"bidId\":\"b1\",\"status\":\"rejected\",\"reason\":\"auction_not_found\","
            "\"leading\":false,\"price\":null}\n");
}

TEST(Replay, MalformedLinesAreReportedWithLineNumbersAndNothingIsPrinted) {
  const ReplayRun run = replay(
      kCreate + "\n" +  // a blank line is skipped but counted
      R"({"op":"bid","bidId":"b1","auctionId":"a1","bidderId":"u","amount":12.5,"receivedAt":"2026-11-28T10:01:00Z"})"
      "\n"
      "not json\n"
      R"({"op":"fly"})"
      "\n"
      R"({"op":"bid","bidId":"b2","auctionId":"a1","bidderId":"u","amount":1000,"receivedAt":"yesterday"})"
      "\n");
  EXPECT_EQ(run.status, 1);
  EXPECT_EQ(run.out, "");
  EXPECT_NE(run.err.find("line 3: amount: amount must be an integer"), std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find("line 4: not valid JSON"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("line 5: op: unknown op \"fly\""), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("line 6: receivedAt: receivedAt must be an RFC 3339 time"),
            std::string::npos)
      << run.err;
}

TEST(Replay, TimeGoingBackwardsAndDuplicateBidIdsAreMalformed) {
  const ReplayRun run = replay(
      kCreate +
      R"({"op":"bid","bidId":"b1","auctionId":"a1","bidderId":"u","amount":1000,"receivedAt":"2026-11-28T10:02:00Z"})"
      "\n"
      R"({"op":"bid","bidId":"b2","auctionId":"a1","bidderId":"v","amount":1100,"receivedAt":"2026-11-28T10:01:00Z"})"
      "\n"
      R"({"op":"bid","bidId":"b1","auctionId":"a1","bidderId":"w","amount":1200,"receivedAt":"2026-11-28T10:03:00Z"})"
      "\n");
  EXPECT_EQ(run.status, 1);
  EXPECT_EQ(run.out, "");
  EXPECT_NE(run.err.find("line 3: time goes backwards"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("line 4: bidId: duplicate bidId \"b1\""), std::string::npos) << run.err;
}

TEST(Replay, InvalidAuctionTermsAreMalformed) {
  const ReplayRun run = replay(
      R"({"op":"create","auction":{"id":"a1","sellerId":"s","currency":"euro","startingPrice":1000,"startsAt":"2026-11-28T10:00:00Z","endsAt":"2026-11-28T10:10:00Z"}})");
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(run.err.find("line 1: auction.currency"), std::string::npos) << run.err;
}

TEST(Replay, VoidAndAdminCancel) {
  const ReplayRun run = replay(
      kCreate +
      R"({"op":"bid","bidId":"b1","auctionId":"a1","bidderId":"u","amount":1000,"maxAmount":3000,"receivedAt":"2026-11-28T10:01:00Z"})"
      "\n"
      R"({"op":"bid","bidId":"b2","auctionId":"a1","bidderId":"v","amount":1500,"receivedAt":"2026-11-28T10:02:00Z"})"
      "\n"
      R"({"op":"void","auctionId":"a1","bidId":"b1","by":"root","at":"2026-11-28T10:03:00Z"})"
      "\n"
      R"({"op":"cancel","auctionId":"a1","by":"root","admin":true,"reason":"fraud","at":"2026-11-28T10:04:00Z"})"
      "\n");
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_NE(run.out.find(R"({"op":"void","auctionId":"a1","status":"accepted","price":1500})"),
            std::string::npos)
      << run.out;
  EXPECT_NE(
      run.out.find(
          R"("status":"cancelled","startingPrice":1000,"currentPrice":1500,"leaderId":"v","bidCount":1)"),
      std::string::npos)
      << run.out;
}

}  // namespace
}  // namespace gavel::app
