#pragma once
// The contract of ports::Authenticator (ports/auth.hpp), for every adapter.
//
//   struct MyAuthFactory {
//     static constexpr bool kSimulatedTime = ...;     // can advance() move the verifier's time?
//     ports::Authenticator& authenticator();
//     std::string issue(const ports::Principal& who);  // a valid token for `who` (signed, for
//                                                      // a JWT verifier); expires_at is whole
//                                                      // seconds
//     domain::Timestamp now();
//     void advance(domain::Duration by);              // only if kSimulatedTime
//   };
//   INSTANTIATE_TYPED_TEST_SUITE_P(My, AuthContract, ::testing::Types<MyAuthFactory>);
//
// The exact wording of a refusal is the adapter's; the suite checks its kind and that it
// says something. Adapter tests pin the wording.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "contract/support.hpp"
#include "ports/auth.hpp"

namespace gavel::contract {

template <typename Factory>
class AuthContract : public ::testing::Test {
 protected:
  /// `user` with `roles`, expiring `valid_for` from now (rounded down to a whole second, as
  /// JWT `exp` is).
  ports::Principal principal(const char* user, ports::Roles roles,
                             domain::Duration valid_for = std::chrono::hours(1)) {
    const auto exp = std::chrono::floor<std::chrono::seconds>(factory_.now() + valid_for);
    return ports::Principal{domain::UserId{user}, roles, exp};
  }

  ports::Result<ports::Principal> verify(std::string_view token) {
    return factory_.authenticator().verify(token);
  }

  /// Expects a refusal of `kind` with a reason.
  static void expect_refused(const ports::Result<ports::Principal>& result, const char* kind) {
    EXPECT_EQ(error_kind(result), kind);
    if (!result.ok()) {
      EXPECT_FALSE(result.error().message.empty());
    }
  }

  Factory factory_;
};

TYPED_TEST_SUITE_P(AuthContract);

TYPED_TEST_P(AuthContract, AValidTokenMapsToItsPrincipal) {
  const auto who = this->principal("u-42", ports::Roles{}.add(ports::Role::bidder));
  const auto result = this->verify(this->factory_.issue(who));
  ASSERT_EQ(describe(result), "ok");
  EXPECT_EQ(result.value().user_id.str(), "u-42");
  EXPECT_TRUE(result.value().roles == who.roles);
  EXPECT_TRUE(result.value().roles.has(ports::Role::bidder));
  EXPECT_FALSE(result.value().roles.has(ports::Role::seller));
  EXPECT_FALSE(result.value().roles.has(ports::Role::admin));
  EXPECT_TIME_EQ(result.value().expires_at, who.expires_at);
}

TYPED_TEST_P(AuthContract, EveryRoleIsCarried) {
  const auto all =
      ports::Roles{}.add(ports::Role::bidder).add(ports::Role::seller).add(ports::Role::admin);
  const auto seller_only = ports::Roles{}.add(ports::Role::seller);
  const auto none = ports::Roles{};
  for (const auto& roles : {all, seller_only, none}) {
    const auto result = this->verify(this->factory_.issue(this->principal("u-1", roles)));
    ASSERT_EQ(describe(result), "ok");
    EXPECT_TRUE(result.value().roles == roles);
  }
}

TYPED_TEST_P(AuthContract, TokensOfDifferentUsersAreNotMixedUp) {
  const auto alice = this->factory_.issue(this->principal("alice", ports::Roles{}));
  const auto bob =
      this->factory_.issue(this->principal("bob", ports::Roles{}.add(ports::Role::admin)));
  const auto as_alice = this->verify(alice);
  const auto as_bob = this->verify(bob);
  ASSERT_EQ(describe(as_alice), "ok");
  ASSERT_EQ(describe(as_bob), "ok");
  EXPECT_EQ(as_alice.value().user_id.str(), "alice");
  EXPECT_FALSE(as_alice.value().roles.has(ports::Role::admin));
  EXPECT_EQ(as_bob.value().user_id.str(), "bob");
  EXPECT_TRUE(as_bob.value().roles.has(ports::Role::admin));
}

TYPED_TEST_P(AuthContract, AnUnknownTokenIsRefusedAsPermanent) {
  this->factory_.issue(this->principal("u-1", ports::Roles{}));
  this->expect_refused(this->verify("not-a-token-anyone-issued"), "permanent");
}

TYPED_TEST_P(AuthContract, AnEmptyTokenIsRefusedAsPermanent) {
  this->expect_refused(this->verify(""), "permanent");
}

TYPED_TEST_P(AuthContract, ATokenWithTheBearerPrefixIsRefused) {
  const auto token = this->factory_.issue(this->principal("u-1", ports::Roles{}));
  this->expect_refused(this->verify("Bearer " + token), "permanent");
}

TYPED_TEST_P(AuthContract, AnAlteredTokenIsRefused) {
  auto token = this->factory_.issue(this->principal("u-1", ports::Roles{}));
  ASSERT_FALSE(token.empty());
  token.back() = token.back() == 'A' ? 'B' : 'A';
  this->expect_refused(this->verify(token), "permanent");
}

TYPED_TEST_P(AuthContract, AnAlreadyExpiredTokenIsRefused) {
  const auto token =
      this->factory_.issue(this->principal("u-1", ports::Roles{}, -std::chrono::seconds(10)));
  this->expect_refused(this->verify(token), "permanent");
}

TYPED_TEST_P(AuthContract, ATokenExpiresAtItsExpiryTime) {
  GAVEL_REQUIRE_SIMULATED_TIME();
  const auto who = this->principal("u-1", ports::Roles{}, std::chrono::seconds(60));
  const auto token = this->factory_.issue(who);
  this->factory_.advance(who.expires_at - this->factory_.now() - std::chrono::seconds(1));
  EXPECT_EQ(describe(this->verify(token)), "ok");
  this->factory_.advance(std::chrono::seconds(1));
  this->expect_refused(this->verify(token), "permanent");
}

TYPED_TEST_P(AuthContract, VerifyIsThreadSafe) {
  const auto token = this->factory_.issue(this->principal("u-1", ports::Roles{}));
  std::atomic<int> accepted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        const auto result = this->factory_.authenticator().verify(token);
        if (result.ok() && result.value().user_id.str() == "u-1") ++accepted;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(accepted.load(), 800);
}

REGISTER_TYPED_TEST_SUITE_P(AuthContract, AValidTokenMapsToItsPrincipal, EveryRoleIsCarried,
                            TokensOfDifferentUsersAreNotMixedUp, AnUnknownTokenIsRefusedAsPermanent,
                            AnEmptyTokenIsRefusedAsPermanent, ATokenWithTheBearerPrefixIsRefused,
                            AnAlteredTokenIsRefused, AnAlreadyExpiredTokenIsRefused,
                            ATokenExpiresAtItsExpiryTime, VerifyIsThreadSafe);

}  // namespace gavel::contract
