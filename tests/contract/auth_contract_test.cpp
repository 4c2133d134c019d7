// The authenticator contract, run against the static authenticator.

#include "contract/auth_contract.hpp"

#include <memory>
#include <string>

#include "adapters/memory/simulated_clock.hpp"
#include "adapters/memory/static_authenticator.hpp"

namespace gavel::contract {
namespace {

namespace memory = adapters::memory;

struct StaticAuthFactory {
  static constexpr bool kSimulatedTime = true;
  std::shared_ptr<memory::SimulatedClock> clock = std::make_shared<memory::SimulatedClock>();
  memory::StaticAuthenticator auth{clock};
  int issued = 0;

  ports::Authenticator& authenticator() { return auth; }
  std::string issue(const ports::Principal& who) {
    std::string token = "token-" + std::to_string(++issued) + "-" + who.user_id.str();
    auth.add(token, who);
    return token;
  }
  domain::Timestamp now() { return clock->now(); }
  void advance(domain::Duration by) { clock->advance_by(by); }
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Static, AuthContract, ::testing::Types<StaticAuthFactory>);

// --- the static authenticator's own wording and extras -----------------------------------

namespace {

class StaticAuthenticatorTest : public ::testing::Test {
 protected:
  std::shared_ptr<memory::SimulatedClock> clock_ = std::make_shared<memory::SimulatedClock>();
  memory::StaticAuthenticator auth_{clock_};
  ports::Principal bidder_{domain::UserId{"u1"}, ports::Roles{}.add(ports::Role::bidder),
                           clock_->now() + std::chrono::seconds(30)};
};

TEST_F(StaticAuthenticatorTest, AnUnknownTokenSaysSo) {
  EXPECT_EQ(describe(auth_.verify("nope")), "permanent: unknown token");
}

TEST_F(StaticAuthenticatorTest, AnExpiredTokenSaysSo) {
  auth_.add("t", bidder_);
  clock_->advance_by(std::chrono::seconds(30));
  EXPECT_EQ(describe(auth_.verify("t")), "permanent: token expired");
}

TEST_F(StaticAuthenticatorTest, AddReplacesAndRemoveForgets) {
  auth_.add("t", bidder_);
  auto admin = bidder_;
  admin.user_id = domain::UserId{"root"};
  auth_.add("t", admin);
  const auto result = auth_.verify("t");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.value().user_id.str(), "root");
  EXPECT_TRUE(auth_.remove("t"));
  EXPECT_FALSE(auth_.remove("t"));
  EXPECT_EQ(describe(auth_.verify("t")), "permanent: unknown token");
}

}  // namespace
}  // namespace gavel::contract
