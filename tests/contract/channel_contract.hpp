#pragma once
// The contract of ports::NotificationChannel (ports/notification_channel.hpp), for every
// channel.
//
//   struct MyChannelFactory {
//     static constexpr bool kDeduplicates = ...;       // does the backend let the channel
//                                                      // deliver a repeated notice id once?
//     static constexpr bool kCanInjectFailures = ...;  // can fail_next() make sends fail?
//     std::string expected_name();
//     ports::NotificationChannel& channel();
//     std::vector<ports::Notice> delivered();           // what reached the backend (a test
//                                                       // SMTP server, an HTTP sink, ...)
//     void fail_next(std::size_t count, ports::ErrorKind kind);
//   };
//   INSTANTIATE_TYPED_TEST_SUITE_P(My, ChannelContract, ::testing::Types<MyChannelFactory>);

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "contract/await.hpp"
#include "contract/support.hpp"
#include "ports/notification_channel.hpp"

namespace gavel::contract {

template <typename Factory>
class ChannelContract : public ::testing::Test {
 protected:
  static ports::Notice notice(std::string id, std::string user = "u1") {
    return ports::Notice{id,
                         domain::UserId{user},
                         domain::AuctionId{"a1"},
                         "outbid",
                         user + "@example.com",
                         "You were outbid on Lot a1",
                         "Someone bid 12.50 EUR. (" + id + ")",
                         "<p>Someone bid <b>12.50 EUR</b>.</p>",
                         "s3cret"};
  }

  ports::Result<void> send(ports::Notice notice) {
    return await<void>([&](auto done) { factory_.channel().send(std::move(notice), done); });
  }

  std::vector<std::string> delivered_ids() {
    std::vector<std::string> ids;
    for (const auto& notice : factory_.delivered()) ids.push_back(notice.id);
    return ids;
  }

  Factory factory_;
};

TYPED_TEST_SUITE_P(ChannelContract);

TYPED_TEST_P(ChannelContract, ItIsNamed) {
  EXPECT_EQ(std::string(this->factory_.channel().name()), this->factory_.expected_name());
  EXPECT_FALSE(this->factory_.channel().name().empty());
}

TYPED_TEST_P(ChannelContract, ASentNoticeIsDeliveredWhole) {
  const auto notice = this->notice("e1:u1");
  EXPECT_EQ(describe(this->send(notice)), "ok");
  const auto delivered = this->factory_.delivered();
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(delivered[0], notice);
}

TYPED_TEST_P(ChannelContract, NoticesAreDeliveredInSendOrder) {
  for (const char* id : {"e1:u1", "e2:u2", "e3:u1"}) {
    EXPECT_EQ(describe(this->send(this->notice(id))), "ok") << id;
  }
  EXPECT_THAT(this->delivered_ids(), ::testing::ElementsAre("e1:u1", "e2:u2", "e3:u1"));
}

TYPED_TEST_P(ChannelContract, ANoticeSentTwiceIsDeliveredOnce) {
  if (!TypeParam::kDeduplicates) GTEST_SKIP() << "this channel's backend cannot deduplicate";
  EXPECT_EQ(describe(this->send(this->notice("e1:u1"))), "ok");
  EXPECT_EQ(describe(this->send(this->notice("e1:u1"))), "ok");
  EXPECT_THAT(this->delivered_ids(), ::testing::ElementsAre("e1:u1"));
}

TYPED_TEST_P(ChannelContract, ARetryableFailureDeliversNothingAndALaterTrySucceeds) {
  if (!TypeParam::kCanInjectFailures) GTEST_SKIP() << "cannot inject failures";
  this->factory_.fail_next(1, ports::ErrorKind::retryable);
  const auto notice = this->notice("e1:u1");
  EXPECT_EQ(error_kind(this->send(notice)), "retryable");
  EXPECT_THAT(this->factory_.delivered(), ::testing::IsEmpty());
  EXPECT_EQ(describe(this->send(notice)), "ok");
  EXPECT_THAT(this->delivered_ids(), ::testing::ElementsAre("e1:u1"));
}

TYPED_TEST_P(ChannelContract, APermanentFailureSaysSo) {
  if (!TypeParam::kCanInjectFailures) GTEST_SKIP() << "cannot inject failures";
  this->factory_.fail_next(1, ports::ErrorKind::permanent);
  const auto result = this->send(this->notice("e1:u1"));
  EXPECT_EQ(error_kind(result), "permanent");
  if (!result.ok()) {
    EXPECT_FALSE(result.error().message.empty());
  }
  EXPECT_THAT(this->factory_.delivered(), ::testing::IsEmpty());
}

REGISTER_TYPED_TEST_SUITE_P(ChannelContract, ItIsNamed, ASentNoticeIsDeliveredWhole,
                            NoticesAreDeliveredInSendOrder, ANoticeSentTwiceIsDeliveredOnce,
                            ARetryableFailureDeliversNothingAndALaterTrySucceeds,
                            APermanentFailureSaysSo);

}  // namespace gavel::contract
