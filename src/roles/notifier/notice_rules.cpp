#include "roles/notifier/notice_rules.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>

namespace gavel::roles::notifier {

using domain::EventType;

namespace {

bool contains(const std::vector<domain::UserId>& users, const domain::UserId& user) {
  return std::find(users.begin(), users.end(), user) != users.end();
}

void add_bidders(std::vector<Recipient>& out, const ports::AuctionWatch& watch,
                 const domain::UserId& except, std::string_view what) {
  for (const auto& user : watch.participants) {
    if (user != except) out.push_back({user, what});
  }
}

// ISO 4217 minor-unit exponents that are not 2.
int exponent(const std::optional<domain::Currency>& currency) {
  if (!currency) return 2;
  static constexpr std::array<std::string_view, 16> kNone = {
      "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW",
      "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF"};
  static constexpr std::array<std::string_view, 6> kThree = {"BHD", "IQD", "JOD",
                                                             "KWD", "LYD", "OMR"};
  const auto code = currency->code();
  if (std::find(kNone.begin(), kNone.end(), code) != kNone.end()) return 0;
  if (std::find(kThree.begin(), kThree.end(), code) != kThree.end()) return 3;
  if (code == "TND") return 3;
  return 2;
}

std::string escape_html(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// "2026-01-01 12:00 UTC": a time people read (RFC 3339 is for machines).
std::string readable_time(domain::Timestamp at) {
  std::string text = domain::format_rfc3339(std::chrono::floor<std::chrono::minutes>(at));
  // "2026-01-01T12:00:00Z" → "2026-01-01 12:00 UTC"
  return text.substr(0, 10) + " " + text.substr(11, 5) + " UTC";
}

// The words of one notice: the subject, and the body as sentences; each sentence is given as
// plain text and as HTML (user-given text escaped, amounts in bold).
struct Words {
  std::string subject;
  std::string text;
  std::string html;

  void say(const std::string& plain, const std::string& marked_up) {
    if (!text.empty()) text += ' ';
    text += plain;
    html += "<p>" + marked_up + "</p>";
  }
};

}  // namespace

std::vector<Recipient> recipients(const domain::Event& event, const ports::AuctionWatch& before) {
  std::vector<Recipient> out;
  switch (event.type) {
    case EventType::outbid:
      if (!event.user_id.empty()) out.push_back({event.user_id, kind::kOutbid});
      break;
    case EventType::bid_accepted: {
      const bool leads = !event.user_id.empty() && event.leader_id == event.user_id;
      // previous_leader is set only when the lead changed hands; a bidder not seen before who
      // leads with no previous leader placed the auction's first winning bid. A leader raising
      // their own maximum matches neither.
      const bool took_lead =
          !event.previous_leader.empty() || !contains(before.participants, event.user_id);
      if (leads && took_lead) out.push_back({event.user_id, kind::kLeading});
      break;
    }
    case EventType::auction_closed: {
      const bool sold = event.result == domain::AuctionResult::sold;
      const domain::UserId winner = sold ? event.user_id : domain::UserId{};
      if (!winner.empty()) out.push_back({winner, kind::kWon});
      add_bidders(out, before, winner, kind::kLost);
      if (!before.seller_id.empty()) {
        out.push_back({before.seller_id, sold ? kind::kSold : kind::kUnsold});
      }
      break;
    }
    case EventType::auction_cancelled:
      add_bidders(out, before, before.seller_id, kind::kCancelled);
      if (!before.seller_id.empty()) out.push_back({before.seller_id, kind::kCancelled});
      break;
    case EventType::auction_created:
    case EventType::auction_opened:
    case EventType::bid_rejected:
    case EventType::auction_extended:
    case EventType::bid_voided:
      break;
  }
  return out;
}

std::string format_money(domain::Amount amount, const std::optional<domain::Currency>& currency) {
  const int digits = exponent(currency);
  std::int64_t scale = 1;
  for (int i = 0; i < digits; ++i) scale *= 10;
  const std::int64_t minor = amount.minor_units();
  const std::int64_t magnitude = minor < 0 ? -minor : minor;
  std::string whole = std::to_string(magnitude / scale);
  for (auto i = static_cast<std::ptrdiff_t>(whole.size()) - 3; i > 0; i -= 3) {
    whole.insert(static_cast<std::size_t>(i), ",");
  }
  std::string text = minor < 0 ? "-" + whole : whole;
  if (digits > 0) {
    std::string fraction = std::to_string(magnitude % scale);
    text += "." + std::string(static_cast<std::size_t>(digits) - fraction.size(), '0') + fraction;
  }
  return currency ? std::string(currency->code()) + " " + text : text;
}

std::string notice_id(const domain::Event& event, const Recipient& recipient) {
  const std::string user = recipient.user_id.str();
  if (recipient.kind == kind::kEndingSoon) {
    return event.auction_id.str() + ":" + user + ":" + std::string(kind::kEndingSoon);
  }
  return domain::event_id(event) + ":" + user + ":" + std::string(recipient.kind);
}

ports::Notice compose(const domain::Event& event, const Recipient& recipient,
                      const AuctionFacts& facts) {
  const std::string title = facts.title.empty() ? "auction " + event.auction_id.str() : facts.title;
  const std::string quoted = facts.title.empty() ? title : "\"" + title + "\"";
  const std::string quoted_html = escape_html(quoted);
  const std::string price = format_money(event.price, facts.currency);
  const std::string price_html = "<b>" + price + "</b>";
  const std::string ends = readable_time(event.ends_at);

  Words words;
  const std::string_view what = recipient.kind;
  if (what == kind::kOutbid) {
    words.subject = "You were outbid on " + title;
    words.say("Someone outbid you on " + quoted + ".",
              "Someone outbid you on " + quoted_html + ".");
    words.say("The price is now " + price + "; bidding closes at " + ends + ".",
              "The price is now " + price_html + "; bidding closes at " + ends + ".");
  } else if (what == kind::kLeading) {
    words.subject = "You are the highest bidder on " + title;
    words.say("Your bid leads on " + quoted + " at " + price + ".",
              "Your bid leads on " + quoted_html + " at " + price_html + ".");
    words.say("Bidding closes at " + ends + ".", "Bidding closes at " + ends + ".");
  } else if (what == kind::kEndingSoon) {
    words.subject = title + " ends soon";
    words.say(quoted + " closes at " + ends + ".", quoted_html + " closes at " + ends + ".");
    if (event.price > domain::Amount{0}) {
      words.say("The price is " + price + ".", "The price is " + price_html + ".");
    }
  } else if (what == kind::kWon) {
    words.subject = "You won " + title;
    words.say("You won " + quoted + " for " + price + ".",
              "You won " + quoted_html + " for " + price_html + ".");
  } else if (what == kind::kLost) {
    words.subject = title + " has closed";
    if (event.result == domain::AuctionResult::sold) {
      words.say(quoted + " was sold to another bidder for " + price + ".",
                quoted_html + " was sold to another bidder for " + price_html + ".");
    } else {
      words.say(quoted + " closed without a sale: the reserve price was not met.",
                quoted_html + " closed without a sale: the reserve price was not met.");
    }
  } else if (what == kind::kSold) {
    words.subject = title + " sold for " + price;
    words.say("Your auction " + quoted + " sold for " + price + ".",
              "Your auction " + quoted_html + " sold for " + price_html + ".");
  } else if (what == kind::kUnsold) {
    words.subject = title + " closed unsold";
    words.say("Your auction " + quoted + " closed without a sale.",
              "Your auction " + quoted_html + " closed without a sale.");
  } else if (what == kind::kCancelled) {
    words.subject = title + " was cancelled";
    words.say(quoted + " was cancelled.", quoted_html + " was cancelled.");
    if (!event.note.empty()) {
      words.say("Reason: " + event.note, "Reason: " + escape_html(event.note));
    }
  }

  ports::Notice notice;
  notice.id = notice_id(event, recipient);
  notice.user_id = recipient.user_id;
  notice.auction_id = event.auction_id;
  notice.kind = std::string(recipient.kind);
  notice.subject = std::move(words.subject);
  notice.text = std::move(words.text);
  notice.html = std::move(words.html);
  return notice;
}

}  // namespace gavel::roles::notifier
