// The HTTP floor of the gateway's framework: the least a Boost.Beast server can do per request.
// It answers every request with the fixed 202 that nginx answers in scripts/bench-http.sh, on
// as many threads as the gateway (one io_context per core), with none of gavel's work: no
// routing, auth, JSON, timers or queue. What this reaches is the most any Beast gateway can
// reach on the machine, so it tells how much of the gap to nginx is the framework's own.
// Usage: gavel_beast_floor PORT [THREADS]   (binds 127.0.0.1 only)
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <cstdio>
#include <string_view>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;

namespace {

constexpr std::string_view kBody = R"({"bidId":"01JDZ8X4K2M7Q9R3T5V7W9Y1AB","status":"queued"})";

asio::awaitable<void> session(tcp::socket socket) {
  boost::beast::flat_buffer buffer;
  boost::system::error_code ec;
  for (;;) {
    http::request<http::string_body> request;
    co_await http::async_read(socket, buffer, request,
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    http::response<http::string_body> response{http::status::accepted, request.version()};
    response.set(http::field::content_type, "application/json");
    response.body() = kBody;
    response.keep_alive(request.keep_alive());
    response.prepare_payload();
    co_await http::async_write(socket, response, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !response.keep_alive()) break;
  }
  socket.shutdown(tcp::socket::shutdown_send, ec);
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, asio::io_context& io) {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(
        asio::make_strand(io), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) continue;
    socket.set_option(tcp::no_delay(true), ec);
    auto executor = socket.get_executor();
    asio::co_spawn(executor, session(std::move(socket)), asio::detached);
  }
}

unsigned parse_unsigned(const char* text, unsigned fallback) {
  unsigned value = fallback;
  const std::string_view view{text};
  const auto [end, error] = std::from_chars(view.data(), view.data() + view.size(), value);
  return error == std::errc{} && end == view.data() + view.size() ? value : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PORT [THREADS]\n", argv[0]);
    return 2;
  }
  const auto port = static_cast<unsigned short>(parse_unsigned(argv[1], 0));
  const unsigned threads =
      argc > 2 ? parse_unsigned(argv[2], 1) : std::max(1U, std::thread::hardware_concurrency());
  asio::io_context io{static_cast<int>(threads)};
  tcp::acceptor acceptor{io, {asio::ip::make_address("127.0.0.1"), port}};
  std::printf("listening on 127.0.0.1:%u with %u threads\n", acceptor.local_endpoint().port(),
              threads);
  std::fflush(stdout);
  asio::co_spawn(io, accept_loop(acceptor, io), asio::detached);
  std::vector<std::thread> workers;
  for (unsigned i = 1; i < threads; ++i) workers.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& worker : workers) worker.join();
}
