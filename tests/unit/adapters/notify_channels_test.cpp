// The channels that leave the process, against real servers on 127.0.0.1: the webhook and SMS
// channels against a small HTTP listener inside the test, the e-mail channel against maildev
// (npm, started here on free ports; skipped when node_modules lacks it). The webhook signature
// is checked against vectors computed independently with `openssl dgst -sha256 -hmac`.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <filesystem>
#include <mutex>
#include <thread>

#include "adapters/memory/simulated_clock.hpp"
#include "adapters/notify/curl_call.hpp"
#include "adapters/notify/sms_channel.hpp"
#include "adapters/notify/smtp_channel.hpp"
#include "adapters/notify/webhook_channel.hpp"
#include "ports/blocking.hpp"

namespace gavel::adapters::notify {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

// --- a one-request-at-a-time HTTP listener -------------------------------------------------

struct Request {
  std::string head;  // request line and headers
  std::string body;
  std::string header(const std::string& name) const {
    const auto at = head.find("\r\n" + name + ": ");
    if (at == std::string::npos) return "";
    const auto start = at + name.size() + 4;
    return head.substr(start, head.find("\r\n", start) - start);
  }
};

class HttpSink {
 public:
  explicit HttpSink(int status = 200) : status_(status) {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    if (bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        listen(listener_, 8) != 0) {
      throw std::runtime_error("cannot listen on 127.0.0.1");
    }
    socklen_t length = sizeof address;
    getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~HttpSink() {
    stopping_ = true;
    shutdown(listener_, SHUT_RDWR);
    close(listener_);
    thread_.join();
  }
  std::string url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  void answer(int status) { status_ = status; }
  /// Accept connections but never answer them (a hung endpoint).
  void hang() { hang_ = true; }
  std::vector<Request> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void serve() {
    while (!stopping_) {
      const int connection = accept(listener_, nullptr, nullptr);
      if (connection < 0) return;
      Request request;
      std::string data;
      char buffer[4096];
      std::size_t need = std::string::npos;
      while (need == std::string::npos || data.size() < need) {
        const ssize_t n = recv(connection, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        data.append(buffer, static_cast<std::size_t>(n));
        const auto end = data.find("\r\n\r\n");
        if (need == std::string::npos && end != std::string::npos) {
          request.head = data.substr(0, end + 2);
          const auto length = request.header("Content-Length");
          need = end + 4 + (length.empty() ? 0 : std::stoul(length));
        }
      }
      if (need != std::string::npos) request.body = data.substr(data.find("\r\n\r\n") + 4);
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(request);
      }
      if (hang_) {
        while (!stopping_ && recv(connection, buffer, sizeof buffer, 0) > 0) {
        }
      } else {
        const std::string reply = "HTTP/1.1 " + std::to_string(status_.load()) +
                                  " X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
        ::send(connection, reply.data(), reply.size(), MSG_NOSIGNAL);
      }
      close(connection);
    }
  }

  int listener_ = -1;
  int port_ = 0;
  std::atomic<int> status_;
  std::atomic<bool> hang_{false};
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::vector<Request> requests_;
  std::thread thread_;
};

ports::Notice a_notice(std::string address, std::string secret = "0123456789abcdef") {
  ports::Notice notice;
  notice.id = "a1:9:bob:won";
  notice.user_id = domain::UserId{"bob"};
  notice.auction_id = domain::AuctionId{"a1"};
  notice.kind = "won";
  notice.address = std::move(address);
  notice.secret = std::move(secret);
  notice.subject = "You won \"Réveil\"";
  notice.text = "You won \"Réveil\" for EUR 20.00.";
  notice.html = "<p>You won &quot;Réveil&quot; for <b>EUR 20.00</b>.</p>";
  return notice;
}

std::string describe(const ports::Result<void>& result) {
  if (result.ok()) return "ok";
  return (result.error().kind == ports::ErrorKind::retryable   ? "retryable: "
          : result.error().kind == ports::ErrorKind::permanent ? "permanent: "
                                                               : "other: ") +
         result.error().message;
}

ports::Result<void> send(ports::NotificationChannel& channel, ports::Notice notice) {
  return ports::call_blocking<void>(
      [&](auto done) { channel.send(std::move(notice), std::move(done)); });
}

// --- webhook --------------------------------------------------------------------------------

TEST(WebhookSignatureTest, MatchesHmacSha256ComputedByOpenssl) {
  // printf '%s' '1796032800.{"id":"n1","kind":"won"}' | openssl dgst -sha256 -hmac 0123456789abcdef
  EXPECT_EQ(webhook_signature("0123456789abcdef", "1796032800", R"({"id":"n1","kind":"won"})"),
            "sha256=cc7aafee2e1d56497bfee68e479a46030fae7d2db8540c3f1a7d4dc9c36619e5");
  // printf '%s' 'The quick.brown fox' | openssl dgst -sha256 -hmac key: the signed text is
  // timestamp + "." + body.
  EXPECT_EQ(webhook_signature("key", "The quick", "brown fox"),
            "sha256=4874e1b1fdff3049fb34cf44cd6861f61b43b012633c0e37501daadd065921cf");
}

TEST(WebhookChannelTest, PostsTheSignedJsonToTheUsersUrl) {
  HttpSink sink;
  memory::SimulatedClock clock(*domain::parse_rfc3339("2026-11-28T10:00:00Z"));
  WebhookChannel channel(clock, WebhookOptions{std::chrono::milliseconds(10'000), true});
  EXPECT_EQ(channel.name(), "webhook");
  const auto notice = a_notice(sink.url("/hooks/bob"));
  ASSERT_EQ(describe(send(channel, notice)), "ok");

  const auto requests = sink.requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto& request = requests[0];
  EXPECT_THAT(request.head, ::testing::StartsWith("POST /hooks/bob HTTP/1.1\r\n"));
  EXPECT_EQ(request.header("Content-Type"), "application/json");
  EXPECT_EQ(request.header("X-Gavel-Timestamp"), "1795860000");  // date -d ... +%s
  EXPECT_EQ(request.header("X-Gavel-Notice-Id"), "a1:9:bob:won");
  EXPECT_EQ(request.header("X-Gavel-Signature"),
            webhook_signature("0123456789abcdef", "1795860000", request.body));
  EXPECT_EQ(json::parse(request.body),
            json::parse(R"({"id":"a1:9:bob:won","kind":"won","userId":"bob","auctionId":"a1",
              "subject":"You won \"Réveil\"","text":"You won \"Réveil\" for EUR 20.00.",
              "html":"<p>You won &quot;Réveil&quot; for <b>EUR 20.00</b>.</p>"})"));
  EXPECT_THAT(request.body, ::testing::Not(HasSubstr("0123456789abcdef")));  // no secret
}

TEST(WebhookChannelTest, RefusesNonPublicAddressesUnlessAllowed) {
  HttpSink sink;
  memory::SimulatedClock clock;
  WebhookChannel guarded(clock);  // the default: users choose the URLs
  const std::string result = describe(send(guarded, a_notice(sink.url())));
  EXPECT_THAT(result, HasSubstr("permanent"));
  EXPECT_THAT(result, HasSubstr("non-public address 127.0.0.1"));
  EXPECT_EQ(sink.requests().size(), 0u);  // nothing reached the listener
}

TEST(WebhookChannelTest, TellsPublicFromNonPublicAddresses) {
  const auto v4 = [](const char* text) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    inet_pton(AF_INET, text, &address.sin_addr);
    return is_non_public(reinterpret_cast<const sockaddr*>(&address));
  };
  const auto v6 = [](const char* text) {
    sockaddr_in6 address{};
    address.sin6_family = AF_INET6;
    inet_pton(AF_INET6, text, &address.sin6_addr);
    return is_non_public(reinterpret_cast<const sockaddr*>(&address));
  };
  for (const char* inside : {"127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
                             "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1"}) {
    EXPECT_TRUE(v4(inside)) << inside;
  }
  for (const char* outside : {"8.8.8.8", "172.32.0.1", "93.184.216.34", "100.128.0.1"}) {
    EXPECT_FALSE(v4(outside)) << outside;
  }
  for (const char* inside : {"::1", "::", "fe80::1", "fd00::1", "::ffff:127.0.0.1", "ff02::1"}) {
    EXPECT_TRUE(v6(inside)) << inside;
  }
  EXPECT_FALSE(v6("2001:4860:4860::8888"));
  EXPECT_FALSE(v6("::ffff:8.8.8.8"));
}

TEST(WebhookChannelTest, StatusesMapToRetryableOrPermanent) {
  HttpSink sink;
  memory::SimulatedClock clock;
  WebhookChannel channel(clock, WebhookOptions{std::chrono::milliseconds(2000), true});
  for (const auto& [status, expected] :
       std::vector<std::pair<int, std::string>>{{204, "ok"},
                                                {500, "retryable"},
                                                {503, "retryable"},
                                                {429, "retryable"},
                                                {408, "retryable"},
                                                {400, "permanent"},
                                                {404, "permanent"},
                                                {410, "permanent"}}) {
    sink.answer(status);
    const auto result = describe(send(channel, a_notice(sink.url())));
    EXPECT_EQ(result.substr(0, expected.size()), expected) << status << " → " << result;
  }
  EXPECT_THAT(describe(send(channel, a_notice(sink.url(), ""))), HasSubstr("permanent"));
  EXPECT_THAT(describe(send(channel, a_notice("ftp://127.0.0.1/x"))), HasSubstr("permanent"));
}

TEST(WebhookChannelTest, AnEndpointThatIsDownOrHangsIsRetryableWithinTheTimeout) {
  memory::SimulatedClock clock;
  WebhookChannel channel(clock, WebhookOptions{std::chrono::milliseconds(300), true});
  std::string closed_url;
  {
    HttpSink gone;
    closed_url = gone.url();
  }
  EXPECT_THAT(describe(send(channel, a_notice(closed_url))), HasSubstr("retryable"));

  HttpSink hung;
  hung.hang();
  const auto started = std::chrono::steady_clock::now();
  EXPECT_THAT(describe(send(channel, a_notice(hung.url()))), HasSubstr("retryable"));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
}

// --- SMS ------------------------------------------------------------------------------------

TEST(SmsChannelTest, PostsToAndTextWithTheBearerKey) {
  HttpSink sink(201);
  SmsChannel channel(SmsOptions{sink.url("/v1/messages"), "key-123", 11});
  EXPECT_EQ(channel.name(), "sms");
  ASSERT_EQ(describe(send(channel, a_notice("+34600111222"))), "ok");
  const auto requests = sink.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].header("Authorization"), "Bearer key-123");
  EXPECT_EQ(requests[0].header("Idempotency-Key"), "a1:9:bob:won");
  // Cut to 11 bytes would split "é" (bytes 10-11): the cut falls before it.
  EXPECT_EQ(json::parse(requests[0].body),
            json::parse(R"({"to":"+34600111222","text":"You won \"R"})"));
  sink.answer(400);
  EXPECT_THAT(describe(send(channel, a_notice("+34600111222"))), HasSubstr("permanent"));
  EXPECT_THAT(describe(send(channel, a_notice(""))), HasSubstr("permanent"));
  EXPECT_THROW(SmsChannel(SmsOptions{"sms.example.com", "k"}), std::invalid_argument);
}

// --- e-mail -----------------------------------------------------------------------------------

TEST(MimeMessageTest, HeadersCannotBeInjectedAndNonAsciiSubjectsAreEncoded) {
  auto notice = a_notice("bob@example.com");
  notice.subject = "Hi\r\nBcc: eve@example.com";
  const auto at = *domain::parse_rfc3339("2026-11-28T10:00:00Z");
  const auto message = mime_message(notice, "Gavel <n@gavel.test>", at);
  EXPECT_THAT(message, HasSubstr("Subject: Hi  Bcc: eve@example.com\r\n"));
  EXPECT_THAT(message, ::testing::Not(HasSubstr("\r\nBcc:")));
  EXPECT_THAT(message, HasSubstr("Date: Sat, 28 Nov 2026 10:00:00 +0000\r\n"));
  EXPECT_THAT(message, HasSubstr("Message-ID: <a1.9.bob.won@gavel.notifications>\r\n"));
  EXPECT_THAT(mime_message(a_notice("bob@example.com"), "n@gavel.test", at),
              HasSubstr("Subject: =?UTF-8?B?WW91IHdvbiAiUsOpdmVpbCI=?=\r\n"));
}

int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

bool port_open(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool open = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  close(fd);
  return open;
}

// maildev (npm) on free loopback ports, stopped with the object.
class Maildev {
 public:
  static std::filesystem::path script() {
    return std::filesystem::path(GAVEL_SOURCE_DIR) / "node_modules/maildev/dist/bin/maildev.js";
  }
  Maildev() : smtp_(free_port()), web_(free_port()) {
    pid_ = fork();
    if (pid_ == 0) {
      const std::string smtp = std::to_string(smtp_);
      const std::string web = std::to_string(web_);
      const std::string path = script().string();
      execlp("node", "node", path.c_str(), "--smtp", smtp.c_str(), "--web", web.c_str(), "--ip",
             "127.0.0.1", "--web-ip", "127.0.0.1", "--silent", static_cast<char*>(nullptr));
      _exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (!(port_open(smtp_) && port_open(web_)) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~Maildev() {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  int smtp() const { return smtp_; }
  int web() const { return web_; }
  bool up() const { return port_open(smtp_) && port_open(web_); }

 private:
  int smtp_;
  int web_;
  pid_t pid_ = -1;
};

// GET over a plain socket (maildev's REST API).
std::string http_get(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return "";
  const std::string request =
      "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string answer;
  char buffer[4096];
  ssize_t n = 0;
  while ((n = recv(fd, buffer, sizeof buffer, 0)) > 0) answer.append(buffer, n);
  close(fd);
  const auto body = answer.find("\r\n\r\n");
  return body == std::string::npos ? "" : answer.substr(body + 4);
}

TEST(SmtpChannelMaildevTest, AMailArrivesWithTextHtmlAndSubject) {
  if (!std::filesystem::exists(Maildev::script())) {
    GTEST_SKIP() << "maildev is not installed (npm ci at the repository root)";
  }
  Maildev maildev;
  ASSERT_TRUE(maildev.up()) << "maildev did not start";
  memory::SimulatedClock clock;
  SmtpChannel channel(clock, SmtpOptions{"smtp://127.0.0.1:" + std::to_string(maildev.smtp()),
                                         "Gavel <notifications@gavel.test>", "", "", false,
                                         std::chrono::milliseconds(5000)});
  EXPECT_EQ(channel.name(), "email");
  ASSERT_EQ(describe(send(channel, a_notice("bob@example.com"))), "ok");

  std::string listing;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    listing = http_get(maildev.web(), "/api/email");  // maildev 3's REST API
    if (listing.find("bob@example.com") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const auto mails = json::parse(listing).as_array();
  ASSERT_EQ(mails.size(), 1u) << listing;
  const auto& mail = mails[0].as_object();
  EXPECT_EQ(mail.at("subject"), "You won \"Réveil\"");
  EXPECT_EQ(mail.at("to").as_array()[0].at("address"), "bob@example.com");
  EXPECT_EQ(mail.at("from").as_array()[0].at("address"), "notifications@gavel.test");
  EXPECT_THAT(std::string(mail.at("text").as_string()),
              HasSubstr("You won \"Réveil\" for EUR 20.00."));
  EXPECT_THAT(std::string(mail.at("html").as_string()), HasSubstr("<b>EUR 20.00</b>"));
}

TEST(SmtpChannelTest, AServerThatIsDownIsRetryableAndABadUrlIsRefused) {
  memory::SimulatedClock clock;
  SmtpChannel channel(
      clock, SmtpOptions{"smtp://127.0.0.1:" + std::to_string(free_port()), "n@gavel.test", "", "",
                         false, std::chrono::milliseconds(1000)});
  EXPECT_THAT(describe(send(channel, a_notice("bob@example.com"))), HasSubstr("retryable"));
  EXPECT_THAT(describe(send(channel, a_notice("bob@example.com>\r\nRCPT"))),
              HasSubstr("permanent"));
  SmtpOptions not_smtp;
  not_smtp.server_url = "http://mail";
  EXPECT_THROW(SmtpChannel(clock, not_smtp), std::invalid_argument);
}

}  // namespace
}  // namespace gavel::adapters::notify
