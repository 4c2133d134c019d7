// The notifier's JSON helpers for the gateway: preferences validated field by field, secrets
// never echoed, inbox pages and mark-read bodies; and the money and recipient rules' words.
#include "roles/notifier/notifier_api.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "roles/notifier/notice_rules.hpp"

namespace gavel::roles::notifier {
namespace {

namespace json = boost::json;

std::string error_field(const std::variant<ports::Preferences, wire::FieldError>& result) {
  if (const auto* error = std::get_if<wire::FieldError>(&result)) return error->field;
  return "none";
}

std::variant<ports::Preferences, wire::FieldError> parse(const char* text,
                                                         const ports::Preferences& current = {}) {
  return parse_preferences(json::parse(text).as_object(), current);
}

TEST(PreferencesTest, AFullBodyIsRead) {
  const auto result = parse(R"({"channels": {"inapp": true, "webhook": true, "email": true,
      "sms": true}, "email": "bob@example.com", "phone": "+34600111222",
      "webhookUrl": "https://hooks.example.com/x?y=1", "webhookSecret": "0123456789abcdef"})");
  ASSERT_EQ(error_field(result), "none");
  const auto& preferences = std::get<ports::Preferences>(result);
  EXPECT_EQ(preferences,
            (ports::Preferences{true, true, true, "bob@example.com", "+34600111222",
                                "https://hooks.example.com/x?y=1", "0123456789abcdef"}));
}

TEST(PreferencesTest, AbsentFieldsKeepNullClearsAndAnEnabledChannelNeedsItsAddress) {
  ports::Preferences current{false, true, false, "bob@example.com", "+34600111222", "", ""};
  const auto kept = parse(R"({"channels": {"sms": true}})", current);
  ASSERT_EQ(error_field(kept), "none");
  EXPECT_TRUE(std::get<ports::Preferences>(kept).sms);
  EXPECT_EQ(std::get<ports::Preferences>(kept).email_address, "bob@example.com");
  EXPECT_EQ(error_field(parse(R"({"email": null})", current)), "email");  // email still on
  const auto cleared = parse(R"({"phone": null})", current);
  ASSERT_EQ(error_field(cleared), "none");
  EXPECT_EQ(std::get<ports::Preferences>(cleared).phone, "");
  EXPECT_EQ(error_field(parse(R"({"channels": {"webhook": true}})")), "webhookUrl");
  EXPECT_EQ(error_field(parse(R"({"channels": {"webhook": true}, "webhookUrl": "https://h.io"})")),
            "webhookSecret");
  EXPECT_EQ(error_field(parse(R"({"channels": {"sms": true}})")), "phone");
}

TEST(PreferencesTest, BadValuesNameTheirField) {
  EXPECT_EQ(error_field(parse(R"({"channels": {"inapp": false}})")), "channels.inapp");
  EXPECT_EQ(error_field(parse(R"({"channels": {"email": "yes"}})")), "channels.email");
  EXPECT_EQ(error_field(parse(R"({"channels": []})")), "channels");
  for (const char* email : {"bob", "@example.com", "bob@localhost", "bob@ex.com\r\nBcc: x@y.z",
                            "a b@example.com", "bob@@example.com", "<bob@example.com>"}) {
    json::object body{{"email", email}};
    EXPECT_EQ(error_field(parse_preferences(body, {})), "email") << email;
  }
  for (const char* phone : {"600111222", "+0600111222", "+34 600 111 222", "+1234567", "+34600x"}) {
    json::object body{{"phone", phone}};
    EXPECT_EQ(error_field(parse_preferences(body, {})), "phone") << phone;
  }
  for (const char* url : {"ftp://h.io", "https://", "https:///path", "https://h.io/a b", "h.io"}) {
    json::object body{{"webhookUrl", url}};
    EXPECT_EQ(error_field(parse_preferences(body, {})), "webhookUrl") << url;
  }
  EXPECT_EQ(error_field(parse(R"({"webhookSecret": "short"})")), "webhookSecret");
  EXPECT_EQ(error_field(parse(R"({"email": 5})")), "email");
}

TEST(PreferencesTest, TheSecretIsNeverEchoed) {
  const auto view = preferences_json(
      ports::Preferences{true, false, false, "", "", "https://h.io/x", "0123456789abcdef"});
  EXPECT_EQ(json::serialize(view),
            R"({"channels":{"inapp":true,"webhook":true,"email":false,"sms":false},)"
            R"("email":null,"phone":null,"webhookUrl":"https://h.io/x","webhookSecretSet":true})");
}

TEST(InboxJsonTest, APageShowsNoticesUnreadAndTheCursor) {
  ports::Notice notice;
  notice.id = "a1:3:bob:leading";
  notice.user_id = domain::UserId{"bob"};
  notice.auction_id = domain::AuctionId{"a1"};
  notice.kind = "leading";
  notice.subject = "s";
  notice.text = "t";
  notice.html = "<p>t</p>";
  notice.address = "https://must.not/leak";
  notice.secret = "must-not-leak";
  const auto at = *domain::parse_rfc3339("2026-11-28T10:00:10Z");
  ports::InboxPage page{{ports::InboxNotice{notice, at, true}}, 3, "a1:3:bob:leading"};
  EXPECT_EQ(json::serialize(inbox_json(page)),
            R"({"notifications":[{"id":"a1:3:bob:leading","kind":"leading","auctionId":"a1",)"
            R"("subject":"s","text":"t","html":"<p>t</p>","at":"2026-11-28T10:00:10Z",)"
            R"("read":true}],"unread":3,"next":"a1:3:bob:leading"})");
  EXPECT_EQ(json::serialize(inbox_json({})), R"({"notifications":[],"unread":0,"next":null})");
  EXPECT_EQ(push_json(notice, at).at("type"), "notification");
  EXPECT_EQ(push_json(notice, at).at("notification").at("read"), false);
}

TEST(InboxJsonTest, TheQueryIsChecked) {
  const domain::UserId bob{"bob"};
  const auto query = std::get<ports::InboxQuery>(parse_inbox_query(bob, "5", "a1:3:bob:leading"));
  EXPECT_EQ(query.limit, 5u);
  EXPECT_EQ(query.before, std::optional<std::string>("a1:3:bob:leading"));
  EXPECT_EQ(std::get<ports::InboxQuery>(parse_inbox_query(bob, std::nullopt, std::nullopt)).limit,
            20u);
  for (const char* limit : {"0", "101", "-1", "5x", ""}) {
    const auto result = parse_inbox_query(bob, limit, std::nullopt);
    ASSERT_TRUE(std::holds_alternative<wire::FieldError>(result)) << limit;
    EXPECT_EQ(std::get<wire::FieldError>(result).field, "limit");
  }
  EXPECT_TRUE(std::holds_alternative<wire::FieldError>(parse_inbox_query(bob, "5", "a b")));
}

TEST(InboxJsonTest, MarkReadTakesIdsOrAll) {
  const auto read = [](const char* text) { return parse_mark_read(json::parse(text).as_object()); };
  EXPECT_EQ(std::get<std::vector<std::string>>(read(R"({"ids": ["n1", "n2"]})")),
            (std::vector<std::string>{"n1", "n2"}));
  EXPECT_TRUE(std::get<std::vector<std::string>>(read(R"({"all": true})")).empty());
  for (const char* bad : {R"({})", R"({"ids": []})", R"({"ids": [1]})", R"({"all": false})",
                          R"({"all": true, "ids": ["n1"]})", R"({"ids": "n1"})"}) {
    EXPECT_TRUE(std::holds_alternative<wire::FieldError>(read(bad))) << bad;
  }
}

TEST(MoneyTest, AmountsUseTheCurrencysExponentAndThousandsSeparators) {
  EXPECT_EQ(format_money(domain::Amount{123456}, domain::Currency::parse("EUR")), "EUR 1,234.56");
  EXPECT_EQ(format_money(domain::Amount{5}, domain::Currency::parse("USD")), "USD 0.05");
  EXPECT_EQ(format_money(domain::Amount{1500000}, domain::Currency::parse("JPY")), "JPY 1,500,000");
  EXPECT_EQ(format_money(domain::Amount{1234}, domain::Currency::parse("KWD")), "KWD 1.234");
  EXPECT_EQ(format_money(domain::Amount{100}, std::nullopt), "1.00");
  EXPECT_EQ(format_money(domain::Amount{10'000'000'000'000}, domain::Currency::parse("EUR")),
            "EUR 100,000,000,000.00");
}

TEST(ComposeTest, WithoutFactsTheAuctionIsNamedByItsId) {
  domain::Event event;
  event.type = domain::EventType::auction_closed;
  event.auction_id = domain::AuctionId{"a7"};
  event.number = 9;
  event.price = domain::Amount{2500};
  event.result = domain::AuctionResult::sold;
  event.user_id = domain::UserId{"bob"};
  const auto notice = compose(event, Recipient{domain::UserId{"bob"}, kind::kWon}, {});
  EXPECT_EQ(notice.id, "a7:9:bob:won");
  EXPECT_EQ(notice.subject, "You won auction a7");
  EXPECT_EQ(notice.text, "You won auction a7 for 25.00.");
  EXPECT_EQ(notice.html, "<p>You won auction a7 for <b>25.00</b>.</p>");
}

}  // namespace
}  // namespace gavel::roles::notifier
