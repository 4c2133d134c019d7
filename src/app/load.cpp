#include "app/load.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <charconv>
#include <cstdio>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "app/fd_limit.hpp"

namespace gavel::app {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct LoadOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  unsigned bidders = 64;   ///< concurrent bidding connections
  unsigned users = 200;    ///< distinct bidder accounts
  unsigned watchers = 16;  ///< WebSocket clients timing events
  unsigned hot_auctions = 1;
  unsigned cold_auctions = 50;
  unsigned hot_percent = 80;  ///< share of bids on hot auctions
  double duration_seconds = 10;
  std::uint64_t max_bids = 100'000;
  bool wait = true;  ///< ?wait= for the decision
  unsigned threads = 1;
  bool allow_non_loopback = false;
  std::vector<std::string> source_addresses;  ///< spread connections over these local addresses
  unsigned idle_watchers = 0;  ///< only hold this many idle WebSockets for hold_seconds
  double hold_seconds = 10;
  double rate = 0;  ///< bids per second over all bidders, open loop (0: as fast as answered)
};

/// Latency samples in microseconds; percentiles by sorting at the end.
class Samples {
 public:
  void add(std::int64_t micros) {
    std::lock_guard lock{mutex_};
    values_.push_back(micros);
  }
  std::vector<std::int64_t> sorted() const {
    std::lock_guard lock{mutex_};
    auto copy = values_;
    std::sort(copy.begin(), copy.end());
    return copy;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::int64_t> values_;
};

std::string percentile_line(const std::vector<std::int64_t>& sorted) {
  if (sorted.empty()) return "no samples";
  const auto at = [&](double p) {
    const auto index = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1));
    return static_cast<double>(sorted[index]) / 1000.0;
  };
  char line[200];
  std::snprintf(line, sizeof line, "p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  p99.9 %.2f ms  (n=%zu)",
                at(0.5), at(0.9), at(0.99), at(0.999), sorted.size());
  return line;
}

struct Shared {
  LoadOptions options;
  std::vector<std::string> tokens;  // one per user
  std::string seller_token;
  std::vector<std::string> hot;
  std::vector<std::string> cold;
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> rejected{0};
  std::atomic<std::uint64_t> queued{0};
  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::uint64_t> events{0};
  std::atomic<std::uint64_t> ws_connected{0};
  std::atomic<bool> stop{false};
  Samples decision_latency;  // bid sent → HTTP answer
  Samples event_latency;     // bid sent → bid.accepted on a watcher's socket
  std::mutex times_mutex;
  std::unordered_map<std::string, Clock::time_point> sent_at;   // bidId → send time
  std::unordered_map<std::string, Clock::time_point> event_at;  // bidId → first event arrival
  std::mutex errors_mutex;
  std::map<std::string, std::uint64_t> error_kinds;  // "status code" → count
  void count_error(const std::string& kind) {
    ++errors;
    std::lock_guard lock{errors_mutex};
    ++error_kinds[kind];
  }
  std::mutex prices_mutex;
  std::unordered_map<std::string, std::int64_t> min_next;  // auction → last known minNextBid
};

/// One HTTP/1.1 keep-alive connection.
class HttpClient {
 public:
  HttpClient(asio::any_io_executor executor, Shared& shared, std::size_t index)
      : stream_(executor), shared_(shared), index_(index) {}

  asio::awaitable<boost::system::error_code> connect() {
    boost::system::error_code ec;
    tcp::endpoint target{asio::ip::make_address(shared_.options.host), shared_.options.port};
    auto& socket = stream_.socket();
    socket.open(tcp::v4(), ec);
    if (!shared_.options.source_addresses.empty()) {
      const auto& source =
          shared_.options.source_addresses[index_ % shared_.options.source_addresses.size()];
      socket.bind(tcp::endpoint{asio::ip::make_address(source), 0}, ec);
      if (ec) co_return ec;
    }
    co_await stream_.async_connect(target, asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) socket.set_option(tcp::no_delay(true), ec);
    co_return ec;
  }

  struct Answer {
    unsigned status = 0;
    std::string body;
    boost::system::error_code ec;
  };

  asio::awaitable<Answer> request(http::verb verb, const std::string& target,
                                  const std::string& body, const std::string& token) {
    Answer answer;
    http::request<http::string_body> request{verb, target, 11};
    request.set(http::field::host, shared_.options.host);
    request.set(http::field::content_type, "application/json");
    if (!token.empty()) request.set(http::field::authorization, "Bearer " + token);
    request.body() = body;
    request.keep_alive(true);
    request.prepare_payload();
    stream_.expires_after(std::chrono::seconds(30));
    co_await http::async_write(stream_, request,
                               asio::redirect_error(asio::use_awaitable, answer.ec));
    if (answer.ec) co_return answer;
    http::response<http::string_body> response;
    co_await http::async_read(stream_, buffer_, response,
                              asio::redirect_error(asio::use_awaitable, answer.ec));
    answer.status = response.result_int();
    answer.body = std::move(response.body());
    co_return answer;
  }

 private:
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  Shared& shared_;
  std::size_t index_;
};

std::int64_t known_min_next(Shared& shared, const std::string& auction) {
  std::lock_guard lock{shared.prices_mutex};
  return shared.min_next[auction];
}

void learn_min_next(Shared& shared, const std::string& auction, std::int64_t value) {
  std::lock_guard lock{shared.prices_mutex};
  auto& known = shared.min_next[auction];
  known = std::max(known, value);
}

asio::awaitable<void> bidder(Shared& shared, std::size_t index, asio::any_io_executor executor) {
  HttpClient client{executor, shared, index};
  if (co_await client.connect()) {
    ++shared.errors;
    co_return;
  }
  std::mt19937_64 random{index * 7919 + 17};
  const auto& options = shared.options;
  // Open loop with --rate: each bidder sends on its own schedule, and latency counts from the
  // scheduled time, so a slow answer is not hidden by the next bid waiting for it.
  asio::steady_timer pacer{executor};
  const auto interval = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(options.rate > 0 ? options.bidders / options.rate : 0.0));
  auto scheduled = Clock::now() + interval * static_cast<long>(index % 16) / 16;
  while (!shared.stop.load()) {
    if (options.rate > 0) {
      pacer.expires_at(scheduled);
      boost::system::error_code wait_error;
      co_await pacer.async_wait(asio::redirect_error(asio::use_awaitable, wait_error));
    }
    if (shared.sent.fetch_add(1) >= options.max_bids) {
      shared.stop = true;
      break;
    }
    const bool hot = !shared.cold.empty() ? (random() % 100 < options.hot_percent) : true;
    const auto& pool = hot ? shared.hot : shared.cold;
    const std::string& auction = pool[random() % pool.size()];
    const std::size_t user = random() % shared.tokens.size();
    // Bid at (or a little above) the last minimum seen, with a proxy maximum above it: the
    // competing maxima make the engine do real proxy work, and stale views make rejections.
    const std::int64_t base = std::max<std::int64_t>(known_min_next(shared, auction), 1000);
    // Raises are additive (a few euros), so prices grow linearly with the bid count and stay
    // far below the 10^13 limit in any bounded run.
    const std::int64_t amount = base + static_cast<std::int64_t>(random() % 3) * 100;
    const std::int64_t max = amount + static_cast<std::int64_t>(random() % 8) * 500;
    const std::string body =
        "{\"amount\":" + std::to_string(amount) + ",\"maxAmount\":" + std::to_string(max) + "}";
    const std::string target =
        "/v1/auctions/" + auction + "/bids" + (options.wait ? "?wait=5000" : "");
    const auto started = options.rate > 0 ? scheduled : Clock::now();
    scheduled += interval;
    auto answer = co_await client.request(http::verb::post, target, body, shared.tokens[user]);
    const auto finished = Clock::now();
    if (answer.ec) {
      shared.count_error("connection: " + answer.ec.message());
      if (co_await client.connect()) co_return;
      continue;
    }
    shared.decision_latency.add(
        std::chrono::duration_cast<std::chrono::microseconds>(finished - started).count());
    boost::system::error_code ec;
    const json::value parsed = json::parse(answer.body, ec);
    if (ec || !parsed.is_object()) {
      shared.count_error(std::to_string(answer.status) + " (not JSON)");
      continue;
    }
    const json::object& object = parsed.get_object();
    if (const auto* min_next = object.if_contains("minNextBid");
        min_next != nullptr && min_next->is_int64()) {
      learn_min_next(shared, auction, min_next->get_int64());
    }
    if (const auto* view = object.if_contains("auction"); view != nullptr && view->is_object()) {
      if (const auto* min_next = view->get_object().if_contains("minNextBid");
          min_next != nullptr && min_next->is_int64()) {
        learn_min_next(shared, auction, min_next->get_int64());
      }
    }
    const json::value* status = object.if_contains("status");
    const std::string status_text =
        status != nullptr && status->is_string() ? std::string(status->get_string()) : "";
    if (answer.status == 200 && status_text == "accepted") {
      ++shared.accepted;
    } else if (answer.status == 202) {
      ++shared.queued;
    } else if (status_text == "rejected") {
      ++shared.rejected;
    } else {
      const json::value* error = object.if_contains("error");
      std::string code = "?";
      if (error != nullptr && error->is_object() && error->get_object().contains("code")) {
        code = json::serialize(error->get_object().at("code"));
      }
      shared.count_error(std::to_string(answer.status) + " " + code);
    }
    if (const auto* bid_id = object.if_contains("bidId");
        bid_id != nullptr && bid_id->is_string()) {
      std::lock_guard lock{shared.times_mutex};
      shared.sent_at.emplace(std::string(bid_id->get_string()), started);
    }
  }
}

asio::awaitable<void> watcher(Shared& shared, std::size_t index, bool idle,
                              asio::any_io_executor executor) {
  websocket::stream<beast::tcp_stream> ws{executor};
  boost::system::error_code ec;
  auto& socket = beast::get_lowest_layer(ws).socket();
  socket.open(tcp::v4(), ec);
  if (!shared.options.source_addresses.empty()) {
    socket.bind(
        tcp::endpoint{
            asio::ip::make_address(
                shared.options.source_addresses[index % shared.options.source_addresses.size()]),
            0},
        ec);
  }
  if (!ec) {
    co_await beast::get_lowest_layer(ws).async_connect(
        tcp::endpoint{asio::ip::make_address(shared.options.host), shared.options.port},
        asio::redirect_error(asio::use_awaitable, ec));
  }
  if (!ec) {
    beast::get_lowest_layer(ws).expires_never();
    co_await ws.async_handshake(shared.options.host, "/v1/ws",
                                asio::redirect_error(asio::use_awaitable, ec));
  }
  if (ec) {
    ++shared.errors;
    co_return;
  }
  ++shared.ws_connected;
  json::array auctions;
  for (const auto& id : shared.hot) auctions.push_back(json::string(id));
  if (!shared.cold.empty())
    auctions.push_back(json::string(shared.cold[index % shared.cold.size()]));
  const std::string subscribe =
      json::serialize(json::object{{"op", "subscribe"}, {"auctions", auctions}});
  co_await ws.async_write(asio::buffer(subscribe), asio::redirect_error(asio::use_awaitable, ec));
  beast::flat_buffer buffer;
  while (!ec && !shared.stop.load()) {
    co_await ws.async_read(buffer, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    if (!idle) {
      const auto arrived = Clock::now();
      const std::string text = beast::buffers_to_string(buffer.data());
      boost::system::error_code parse_error;
      const json::value event = json::parse(text, parse_error);
      if (!parse_error && event.is_object()) {
        const auto* type = event.get_object().if_contains("type");
        const auto* bid_id = event.get_object().if_contains("bidId");
        if (type != nullptr && *type == "bid.accepted" && bid_id != nullptr &&
            bid_id->is_string()) {
          ++shared.events;
          std::lock_guard lock{shared.times_mutex};
          shared.event_at.emplace(std::string(bid_id->get_string()), arrived);
        }
      }
    }
    buffer.consume(buffer.size());
  }
  --shared.ws_connected;
  boost::system::error_code ignored;
  beast::get_lowest_layer(ws).socket().close(ignored);
}

/// Tokens and auctions, through the API like any client.
bool prepare(Shared& shared, asio::io_context& io) {
  bool ok = true;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        HttpClient client{io.get_executor(), shared, 0};
        if (co_await client.connect()) {
          std::cerr << "gavel load: cannot connect to " << shared.options.host << ":"
                    << shared.options.port << "\n";
          ok = false;
          co_return;
        }
        const auto token = [&](const std::string& sub,
                               const char* role) -> asio::awaitable<std::string> {
          auto answer =
              co_await client.request(http::verb::post, "/v1/auth/dev-token",
                                      "{\"sub\":\"" + sub + "\",\"roles\":[\"" + role + "\"]}", "");
          if (answer.ec || answer.status != 200) co_return std::string{};
          co_return std::string(json::parse(answer.body).at("token").as_string());
        };
        shared.seller_token = co_await token("load-seller", "seller");
        if (shared.seller_token.empty()) {
          std::cerr << "gavel load: POST /v1/auth/dev-token failed (the target must run in dev "
                       "auth mode)\n";
          ok = false;
          co_return;
        }
        for (unsigned i = 0; i < shared.options.users; ++i) {
          shared.tokens.push_back(co_await token("load-user-" + std::to_string(i), "bidder"));
        }
        const auto create = [&](const std::string& title) -> asio::awaitable<std::string> {
          const std::string body = "{\"title\":\"" + title +
                                   "\",\"currency\":\"EUR\",\"startingPrice\":1000,"
                                   "\"durationSeconds\":3600,\"softCloseSeconds\":30}";
          auto answer =
              co_await client.request(http::verb::post, "/v1/auctions", body, shared.seller_token);
          if (answer.ec || answer.status != 201) co_return std::string{};
          co_return std::string(json::parse(answer.body).at("id").as_string());
        };
        for (unsigned i = 0; i < shared.options.hot_auctions; ++i)
          shared.hot.push_back(co_await create("load hot " + std::to_string(i)));
        for (unsigned i = 0; i < shared.options.cold_auctions; ++i)
          shared.cold.push_back(co_await create("load cold " + std::to_string(i)));
        const auto failed = [](const std::string& id) { return id.empty(); };
        if (std::any_of(shared.hot.begin(), shared.hot.end(), failed) ||
            std::any_of(shared.cold.begin(), shared.cold.end(), failed)) {
          std::cerr << "gavel load: creating auctions failed\n";
          ok = false;
        }
      },
      asio::detached);
  io.run();
  io.restart();
  return ok;
}

template <typename T>
T parse_value(const std::string& name, const std::string& text) {
  T value{};
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr != text.data() + text.size()) {
    throw std::invalid_argument("--" + name + ": not a number: '" + text + "'");
  }
  return value;
}

LoadOptions parse_options(const std::vector<std::string>& args) {
  LoadOptions options;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string name = args[i];
    if (!name.starts_with("--")) throw std::invalid_argument("unexpected argument '" + name + "'");
    name = name.substr(2);
    std::string value;
    if (const auto equals = name.find('='); equals != std::string::npos) {
      value = name.substr(equals + 1);
      name = name.substr(0, equals);
    } else if (name == "no-wait" || name == "allow-non-loopback") {
      value = "true";
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      throw std::invalid_argument("--" + name + " needs a value");
    }
    if (name == "target") {
      const auto colon = value.rfind(':');
      if (colon == std::string::npos) throw std::invalid_argument("--target: expected host:port");
      options.host = value.substr(0, colon);
      options.port = parse_value<std::uint16_t>(name, value.substr(colon + 1));
    } else if (name == "bidders") {
      options.bidders = parse_value<unsigned>(name, value);
    } else if (name == "users") {
      options.users = std::max(1U, parse_value<unsigned>(name, value));
    } else if (name == "watchers") {
      options.watchers = parse_value<unsigned>(name, value);
    } else if (name == "hot") {
      options.hot_auctions = std::max(1U, parse_value<unsigned>(name, value));
    } else if (name == "cold") {
      options.cold_auctions = parse_value<unsigned>(name, value);
    } else if (name == "hot-percent") {
      options.hot_percent = std::min(100U, parse_value<unsigned>(name, value));
    } else if (name == "duration") {
      options.duration_seconds = parse_value<double>(name, value);
    } else if (name == "max-bids") {
      options.max_bids = parse_value<std::uint64_t>(name, value);
    } else if (name == "threads") {
      options.threads = std::max(1U, parse_value<unsigned>(name, value));
    } else if (name == "no-wait") {
      options.wait = false;
    } else if (name == "allow-non-loopback") {
      options.allow_non_loopback = true;
    } else if (name == "source-addresses") {
      std::stringstream stream{value};
      std::string item;
      while (std::getline(stream, item, ',')) options.source_addresses.push_back(item);
    } else if (name == "idle-watchers") {
      options.idle_watchers = parse_value<unsigned>(name, value);
    } else if (name == "hold") {
      options.hold_seconds = parse_value<double>(name, value);
    } else if (name == "rate") {
      options.rate = parse_value<double>(name, value);
      if (options.rate < 0 || options.rate > 1e7)
        throw std::invalid_argument("--rate: 0..10,000,000");
    } else {
      throw std::invalid_argument("unknown option --" + name + " (see gavel load --help)");
    }
  }
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(options.host, ec);
  if (ec) throw std::invalid_argument("--target: '" + options.host + "' is not an IP address");
  if (!address.is_loopback() && !options.allow_non_loopback) {
    throw std::invalid_argument(
        "--target: " + options.host +
        " is not a loopback address (add --allow-non-loopback to load another host on purpose)");
  }
  if (options.duration_seconds <= 0 || options.duration_seconds > 3600)
    throw std::invalid_argument("--duration: 0 < seconds <= 3600");
  if (options.max_bids == 0 || options.max_bids > 50'000'000)
    throw std::invalid_argument("--max-bids: 1..50,000,000");
  return options;
}

}  // namespace

int run_load(const std::vector<std::string>& args) {
  Shared shared;
  try {
    shared.options = parse_options(args);
  } catch (const std::invalid_argument& error) {
    std::cerr << "gavel load: " << error.what() << "\n";
    return 2;
  }
  const LoadOptions& options = shared.options;
  // One descriptor per connection: make room for them all, or say how many fit.
  const std::size_t sockets = options.idle_watchers + options.bidders + options.watchers;
  const FdLimit files = raise_fd_limit(sockets + kSpareDescriptors);
  if (files.now < sockets + kSpareDescriptors) {
    std::cerr << "gavel load: the open-file limit (" << files.now << ") is below the " << sockets
              << " connections asked for; raise it with ulimit -Hn\n";
  }
  asio::io_context io;
  if (options.idle_watchers > 0) {
    // Idle WebSockets only: how many one gateway holds (memory is read off the server).
    if (options.cold_auctions == 0) shared.cold.emplace_back("idle");
    shared.hot = {"idle-hot"};
    for (unsigned i = 0; i < options.idle_watchers; ++i)
      asio::co_spawn(io, watcher(shared, i, true, io.get_executor()), asio::detached);
    std::thread progress([&] {
      const auto until = Clock::now() + std::chrono::duration<double>(options.hold_seconds);
      while (Clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::seconds(1));
        std::cerr << "\rgavel load: " << shared.ws_connected.load()
                  << " idle WebSockets connected, " << shared.errors.load() << " failed   "
                  << std::flush;
      }
      std::cerr << "\n";
      std::cout << "idle_websockets_connected " << shared.ws_connected.load() << "\nfailed "
                << shared.errors.load() << std::endl;
      shared.stop = true;
      io.stop();
    });
    std::vector<std::thread> workers;
    for (unsigned i = 1; i < options.threads; ++i) workers.emplace_back([&] { io.run(); });
    io.run();
    for (auto& worker : workers) worker.join();
    progress.join();
    return shared.errors.load() == 0 ? 0 : 1;
  }

  if (!prepare(shared, io)) return 1;
  std::cerr << "gavel load: " << options.bidders << " bidders (" << options.users << " users), "
            << options.watchers << " watchers, " << shared.hot.size() << " hot + "
            << shared.cold.size() << " cold auctions, " << (options.wait ? "?wait" : "no wait")
            << ", at most " << options.max_bids << " bids or " << options.duration_seconds
            << " s\n";
  for (unsigned i = 0; i < options.watchers; ++i)
    asio::co_spawn(io, watcher(shared, i, false, io.get_executor()), asio::detached);
  const auto started = Clock::now();
  for (unsigned i = 0; i < options.bidders; ++i)
    asio::co_spawn(io, bidder(shared, i, io.get_executor()), asio::detached);

  std::thread progress([&] {
    const auto deadline = started + std::chrono::duration<double>(options.duration_seconds);
    std::uint64_t last = 0;
    while (!shared.stop.load() && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      const std::uint64_t done = shared.accepted + shared.rejected + shared.queued;
      const double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
      std::fprintf(stderr,
                   "\rgavel load: %5.1f s  %8llu answered  %7llu/s  accepted %llu  rejected %llu  "
                   "queued %llu  errors %llu  ws events %llu   ",
                   elapsed, static_cast<unsigned long long>(done),
                   static_cast<unsigned long long>(done - last),
                   static_cast<unsigned long long>(shared.accepted.load()),
                   static_cast<unsigned long long>(shared.rejected.load()),
                   static_cast<unsigned long long>(shared.queued.load()),
                   static_cast<unsigned long long>(shared.errors.load()),
                   static_cast<unsigned long long>(shared.events.load()));
      last = done;
    }
    shared.stop = true;
    // Watchers get a moment for the last events, then everything stops.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    io.stop();
  });
  std::vector<std::thread> workers;
  for (unsigned i = 1; i < options.threads; ++i) workers.emplace_back([&] { io.run(); });
  io.run();
  for (auto& worker : workers) worker.join();
  progress.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - started).count() - 0.5;

  for (const auto& [bid_id, arrived] : shared.event_at) {
    const auto sent = shared.sent_at.find(bid_id);
    if (sent != shared.sent_at.end()) {
      shared.event_latency.add(
          std::chrono::duration_cast<std::chrono::microseconds>(arrived - sent->second).count());
    }
  }
  const std::uint64_t answered = shared.accepted + shared.rejected + shared.queued;
  std::fprintf(stderr, "\n");
  std::printf(
      "duration_s %.2f\nanswered %llu\nrate_per_s %.0f\naccepted %llu\nrejected %llu\nqueued "
      "%llu\nerrors %llu\n",
      elapsed, static_cast<unsigned long long>(answered),
      static_cast<double>(answered) / std::max(elapsed, 0.001),
      static_cast<unsigned long long>(shared.accepted.load()),
      static_cast<unsigned long long>(shared.rejected.load()),
      static_cast<unsigned long long>(shared.queued.load()),
      static_cast<unsigned long long>(shared.errors.load()));
  for (const auto& [kind, count] : shared.error_kinds) {
    std::printf("error %s: %llu\n", kind.c_str(), static_cast<unsigned long long>(count));
  }
  std::printf("bid_to_%s %s\n", options.wait ? "decision" : "ack",
              percentile_line(shared.decision_latency.sorted()).c_str());
  std::printf("bid_to_ws_event %s\n", percentile_line(shared.event_latency.sorted()).c_str());
  return 0;
}

std::string load_help() {
  return R"(Usage: gavel load [options]

Loads a running Gavel (dev auth mode) with bidders and WebSocket watchers, then prints decisions
per second and latency percentiles. Bounded by --max-bids and --duration.

  --target HOST:PORT      the gateway (default 127.0.0.1:8080; loopback only unless
                          --allow-non-loopback)
  --bidders N             concurrent bidding connections (default 64)
  --users N               distinct bidder accounts (default 200)
  --watchers N            WebSocket clients timing bid→event latency (default 16)
  --hot N / --cold N      hot and cold auctions created for the run (default 1 / 50)
  --hot-percent P         share of bids on hot auctions (default 80)
  --duration S            stop after S seconds (default 10, at most 3600)
  --max-bids N            stop after N bids (default 100000)
  --no-wait               post without ?wait= (measures intake: 202 answers)
  --rate R                open loop: R bids/s in all, latency counted from each bid's scheduled
                          time (default: closed loop, each bidder sends when answered)
  --threads N             client I/O threads (default 1)
  --source-addresses A,B  spread connections over local addresses (127.0.0.x) to pass the
                          ephemeral port range
  --idle-watchers N       instead: hold N idle WebSockets for --hold S seconds and report how
                          many stayed connected (measure the server's memory meanwhile)

Output: a progress line each second on stderr; at the end on stdout: answered, rate_per_s,
accepted, rejected, queued, errors, and p50/p90/p99/p99.9 of bid→decision (or bid→ack with
--no-wait) and of bid→WebSocket event (bid.accepted seen by a watcher).
)";
}

}  // namespace gavel::app
