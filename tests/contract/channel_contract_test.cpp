// The notification channel contract, run against the recording channel.

#include "contract/channel_contract.hpp"

#include "adapters/memory/recording_channel.hpp"

namespace gavel::contract {
namespace {

namespace memory = adapters::memory;

struct RecordingChannelFactory {
  static constexpr bool kDeduplicates = true;
  static constexpr bool kCanInjectFailures = true;
  memory::RecordingChannel recording{"in_app"};

  std::string expected_name() { return "in_app"; }
  ports::NotificationChannel& channel() { return recording; }
  std::vector<ports::Notice> delivered() { return recording.delivered(); }
  void fail_next(std::size_t count, ports::ErrorKind kind) { recording.fail_next(count, kind); }
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Recording, ChannelContract,
                               ::testing::Types<RecordingChannelFactory>);

// --- the recording channel's extras ------------------------------------------------------

namespace {

ports::Notice notice(const char* id) {
  ports::Notice notice;
  notice.id = id;
  notice.user_id = domain::UserId{"u1"};
  notice.kind = "won";
  return notice;
}

TEST(RecordingChannelTest, FailNextFailsExactlyThatManySendsAndCountsAttempts) {
  memory::RecordingChannel channel;
  EXPECT_EQ(channel.name(), "recording");
  channel.fail_next(2, ports::ErrorKind::retryable);
  EXPECT_EQ(describe(await<void>([&](auto done) { channel.send(notice("n1"), done); })),
            "retryable: injected failure");
  EXPECT_EQ(describe(await<void>([&](auto done) { channel.send(notice("n1"), done); })),
            "retryable: injected failure");
  EXPECT_EQ(describe(await<void>([&](auto done) { channel.send(notice("n1"), done); })), "ok");
  EXPECT_EQ(describe(await<void>([&](auto done) { channel.send(notice("n1"), done); })), "ok");
  EXPECT_EQ(channel.attempts(), 4u);
  ASSERT_EQ(channel.delivered().size(), 1u);
  EXPECT_EQ(channel.delivered()[0].id, "n1");
}

}  // namespace
}  // namespace gavel::contract
