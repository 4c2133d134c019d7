// `gavel dlq` and /readyz against a gateway on a real loopback socket, over a memory
// queue holding a real dead letter (a message the consumer moved there).
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <sstream>
#include <thread>

#include "adapters/memory/memory_cache.hpp"
#include "adapters/memory/memory_queue.hpp"
#include "adapters/memory/memory_store.hpp"
#include "adapters/memory/static_authenticator.hpp"
#include "adapters/memory/system_clock.hpp"
#include "app/dlq.hpp"
#include "ports/blocking.hpp"
#include "roles/gateway/gateway.hpp"

namespace gavel::app {
namespace {

using adapters::memory::MemoryQueue;

class OperatorCalls : public ::testing::Test {
 protected:
  void SetUp() override {
    ports::Roles admin;
    admin.add(ports::Role::admin);
    ports::Roles bidder;
    bidder.add(ports::Role::bidder);
    auth_.add("admin-token", ports::Principal{domain::UserId{"root"}, admin,
                                              clock_->now() + std::chrono::hours(1)});
    auth_.add("bidder-token", ports::Principal{domain::UserId{"ann"}, bidder,
                                               clock_->now() + std::chrono::hours(1)});
    gateway_.listen("127.0.0.1", 0);
    io_thread_ = std::thread([this] { io_.run(); });
    target_ = "127.0.0.1:" + std::to_string(gateway_.port());
  }
  void TearDown() override {
    io_.stop();
    io_thread_.join();
  }

  /// Sends one message, receives it, and dead-letters it with `reason`; answers its id.
  std::string dead_letter(const std::string& body, const std::string& reason) {
    auto sent = ports::call_blocking<std::vector<ports::SendReceipt>>([&](auto done) {
      queue_.send({{"auction-1", body, clock_->now(), body}}, std::move(done));
    });
    auto received = ports::call_blocking<std::vector<ports::Delivery>>([&](auto done) {
      queue_.receive(ports::ReceiveOptions{10, {}, std::chrono::seconds(30)}, std::move(done));
    });
    EXPECT_EQ(received.value().size(), 1u);
    ports::call_blocking<void>([&](auto done) {
      queue_.dead_letter({received.value()[0].receipt}, reason, std::move(done));
    });
    return sent.value()[0].message_id;
  }

  int dlq(std::vector<std::string> args, const std::string& token = "admin-token") {
    out_.str("");
    err_.str("");
    args.insert(args.end(), {"--target", target_, "--token", token});
    char* environment[] = {nullptr};
    return run_dlq(args, environment, out_, err_);
  }

  /// /readyz's checks: the queue (real) and a store whose health the test sets.
  std::vector<gateway::ReadinessCheck> readiness() {
    return {{"queue",
             [this](ports::Callback<void> done) {
               queue_.watermark([done = std::move(done)](const auto& answer) {
                 done(answer ? ports::Result<void>{} : ports::Result<void>{answer.error()});
               });
             }},
            {"store", [this](ports::Callback<void> done) {
               if (store_down_) {
                 done(ports::Error{ports::ErrorKind::retryable, "database is locked"});
               } else {
                 done(ports::Result<void>{});
               }
             }}};
  }

  std::atomic<bool> store_down_{false};
  std::shared_ptr<adapters::memory::SystemClock> clock_ =
      std::make_shared<adapters::memory::SystemClock>();
  adapters::memory::StaticAuthenticator auth_{clock_};
  MemoryQueue queue_{clock_};
  adapters::memory::MemoryCache cache_;
  adapters::memory::MemoryStore store_;
  gateway::DecisionWaiters waiters_;
  gateway::WsHub hub_;
  boost::asio::io_context io_;
  gateway::Gateway gateway_{
      io_,
      gateway::GatewayDeps{auth_, queue_, cache_, store_, *clock_, waiters_, hub_, nullptr, nullptr,
                           nullptr, nullptr, readiness()},
      gateway::GatewayOptions{}};
  std::thread io_thread_;
  std::string target_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(OperatorCalls, ListsShowsRedrivesOnceAndPurges) {
  const std::string first = dead_letter(R"({"op":"bid","broken":true})", "not a command");
  const std::string second = dead_letter("not json at all", "unparseable body");

  ASSERT_EQ(dlq({"list"}), 0) << err_.str();
  EXPECT_NE(out_.str().find(first), std::string::npos);
  EXPECT_NE(out_.str().find("reason: unparseable body"), std::string::npos);
  EXPECT_NE(out_.str().find("2 dead letters"), std::string::npos);

  ASSERT_EQ(dlq({"show", first}), 0) << err_.str();
  EXPECT_NE(out_.str().find(R"("broken":true)"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find(R"("deliveryCount":1)"), std::string::npos) << out_.str();

  ASSERT_EQ(dlq({"redrive", first}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "redriven 1\n");
  EXPECT_EQ(queue_.size(), 1u);  // back in the queue
  ASSERT_EQ(dlq({"redrive", first}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "redriven 0\n");  // idempotent: nothing moves twice
  EXPECT_EQ(queue_.size(), 1u);

  EXPECT_EQ(dlq({"purge"}), 2);  // needs --yes
  ASSERT_EQ(dlq({"purge", "--yes"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "purged 1\n");
  ASSERT_EQ(dlq({"list"}), 0);
  EXPECT_NE(out_.str().find("0 dead letters"), std::string::npos);
  EXPECT_NE(second, first);
}

TEST_F(OperatorCalls, RefusesNonAdminsAndUnknownIdsAndBadUsage) {
  const std::string id = dead_letter("x", "unparseable body");
  EXPECT_EQ(dlq({"list"}, "bidder-token"), 1);
  EXPECT_NE(err_.str().find("403 forbidden"), std::string::npos) << err_.str();
  EXPECT_EQ(dlq({"redrive", id}, "bidder-token"), 1);
  EXPECT_EQ(queue_.size(), 0u);  // refused: nothing moved

  EXPECT_EQ(dlq({"show", "no-such-id"}), 1);
  EXPECT_NE(err_.str().find("404"), std::string::npos);
  EXPECT_EQ(dlq({"redrive"}), 2);
  EXPECT_EQ(dlq({"frobnicate"}), 2);
  EXPECT_EQ(dlq({"list", "--limit", "0"}), 1);  // the server names the bad limit
  EXPECT_NE(err_.str().find("limit"), std::string::npos);
}

TEST_F(OperatorCalls, ReadyzNamesTheDependencyThatFails) {
  const auto readyz = [this] {
    boost::asio::io_context io;
    boost::asio::ip::tcp::resolver resolver{io};
    boost::beast::tcp_stream stream{io};
    stream.connect(resolver.resolve("127.0.0.1", std::to_string(gateway_.port())));
    boost::beast::http::request<boost::beast::http::empty_body> request{
        boost::beast::http::verb::get, "/readyz", 11};
    boost::beast::http::write(stream, request);
    boost::beast::flat_buffer buffer;
    boost::beast::http::response<boost::beast::http::string_body> response;
    boost::beast::http::read(stream, buffer, response);
    return std::make_pair(response.result_int(), response.body());
  };
  auto [status, body] = readyz();
  EXPECT_EQ(status, 200u);
  EXPECT_EQ(body, R"({"status":"ready","checks":{"queue":"ok","store":"ok"}})");
  store_down_ = true;
  std::tie(status, body) = readyz();
  EXPECT_EQ(status, 503u);
  EXPECT_EQ(body, R"({"status":"not_ready","checks":{"queue":"ok","store":"database is locked"}})");
}

TEST_F(OperatorCalls, SaysWhenNoGatewayAnswers) {
  std::ostringstream out;
  std::ostringstream err;
  char* environment[] = {nullptr};
  EXPECT_EQ(run_dlq({"list", "--target", "127.0.0.1:1", "--token", "t"}, environment, out, err), 2);
  EXPECT_NE(err.str().find("cannot reach the gateway"), std::string::npos) << err.str();
}

}  // namespace
}  // namespace gavel::app
