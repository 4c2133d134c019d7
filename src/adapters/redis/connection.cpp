#include "adapters/redis/connection.hpp"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <array>
#include <charconv>
#include <stdexcept>
#include <utility>

namespace gavel::adapters::redis {

namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<decltype(tv.tv_sec)>(ms.count() / 1000);
  tv.tv_usec = static_cast<decltype(tv.tv_usec)>((ms.count() % 1000) * 1000);
  return tv;
}

int parse_int(std::string_view text, std::string_view what, std::string_view url) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < 0) {
    throw std::invalid_argument("redis URL " + std::string(url) + ": bad " + std::string(what));
  }
  return value;
}

// Error replies that say "not now" rather than "never": the server is starting, a script runs
// long, a failover or resharding is under way.
bool transient_error(std::string_view text) {
  constexpr std::array<std::string_view, 6> kTransient = {"LOADING",    "BUSY",     "TRYAGAIN",
                                                          "MASTERDOWN", "READONLY", "CLUSTERDOWN"};
  for (const auto prefix : kTransient) {
    if (text.starts_with(prefix)) return true;
  }
  return false;
}

}  // namespace

Endpoint Endpoint::parse(std::string_view url) {
  constexpr std::string_view kScheme = "redis://";
  if (!url.starts_with(kScheme)) {
    throw std::invalid_argument("redis URL must start with redis://: " + std::string(url));
  }
  Endpoint endpoint;
  std::string_view rest = url.substr(kScheme.size());
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view credentials = rest.substr(0, at);
    rest = rest.substr(at + 1);
    if (const auto colon = credentials.find(':'); colon != std::string_view::npos) {
      endpoint.user = credentials.substr(0, colon);
      endpoint.password = credentials.substr(colon + 1);
    } else {
      endpoint.password = credentials;
    }
  }
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    const std::string_view db = rest.substr(slash + 1);
    if (!db.empty()) endpoint.db = parse_int(db, "database number", url);
    rest = rest.substr(0, slash);
  }
  if (const auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    endpoint.port = parse_int(rest.substr(colon + 1), "port", url);
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) throw std::invalid_argument("redis URL without a host: " + std::string(url));
  endpoint.host = rest;
  return endpoint;
}

void ReplyDeleter::operator()(redisReply* reply) const {
  freeReplyObject(reply);
}

Connection::Connection(Endpoint endpoint, ConnectionOptions options)
    : endpoint_(std::move(endpoint)), options_(options) {}

Connection::~Connection() {
  close();
}

void Connection::close() {
  {
    std::lock_guard lock(fd_mutex_);
    fd_ = -1;
  }
  if (context_ != nullptr) redisFree(context_);
  context_ = nullptr;
  script_shas_.clear();
}

ports::Error Connection::drop(const std::string& what) {
  const std::string reason =
      context_ != nullptr && context_->err != 0 ? std::string(context_->errstr) : "no reply";
  close();
  return ports::Error{ports::ErrorKind::retryable, "redis " + endpoint_.host + ":" +
                                                       std::to_string(endpoint_.port) + ": " +
                                                       what + ": " + reason};
}

ports::Result<void> Connection::ensure_connected() {
  if (context_ != nullptr) return {};
  context_ = redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port,
                                     to_timeval(options_.connect_timeout));
  if (context_ == nullptr || context_->err != 0) return drop("connect");
  if (options_.command_timeout.count() > 0 &&
      redisSetTimeout(context_, to_timeval(options_.command_timeout)) != REDIS_OK) {
    return drop("set timeout");
  }
  {
    std::lock_guard lock(fd_mutex_);
    fd_ = context_->fd;
    if (interrupted_) ::shutdown(fd_, SHUT_RDWR);
  }
  std::vector<std::vector<std::string>> hello;
  if (!endpoint_.password.empty()) {
    hello.push_back(endpoint_.user.empty()
                        ? std::vector<std::string>{"AUTH", endpoint_.password}
                        : std::vector<std::string>{"AUTH", endpoint_.user, endpoint_.password});
  }
  if (endpoint_.db != 0) hello.push_back({"SELECT", std::to_string(endpoint_.db)});
  for (const auto& argv : hello) {
    auto reply = command(argv);
    if (!reply.ok()) {
      close();
      // A wrong password or database stays wrong: say so instead of retrying for ever.
      return reply.error();
    }
  }
  return {};
}

namespace {

// An argv as hiredis takes it: pointers and lengths into the strings (which must outlive them).
struct Argv {
  explicit Argv(const std::vector<std::string>& argv) {
    pointers.reserve(argv.size());
    lengths.reserve(argv.size());
    for (const auto& arg : argv) {
      pointers.push_back(arg.data());
      lengths.push_back(arg.size());
    }
  }
  int count() const { return static_cast<int>(pointers.size()); }

  std::vector<const char*> pointers;
  std::vector<size_t> lengths;
};

// An error reply answers ErrorKind::permanent with its text, except the transient ones.
ports::Result<Reply> checked(Reply reply) {
  if (reply->type == REDIS_REPLY_ERROR) {
    std::string text(reply->str, reply->len);
    return ports::Error{
        transient_error(text) ? ports::ErrorKind::retryable : ports::ErrorKind::permanent,
        "redis: " + text};
  }
  return reply;
}

}  // namespace

ports::Result<Reply> Connection::command(const std::vector<std::string>& argv) {
  if (auto connected = ensure_connected(); !connected.ok()) return connected.error();
  Argv args(argv);
  Reply reply(static_cast<redisReply*>(
      redisCommandArgv(context_, args.count(), args.pointers.data(), args.lengths.data())));
  if (!reply) return drop(argv.empty() ? "command" : argv.front());
  return checked(std::move(reply));
}

std::vector<ports::Result<Reply>> Connection::pipeline(
    const std::vector<std::vector<std::string>>& argvs) {
  std::vector<ports::Result<Reply>> out;
  out.reserve(argvs.size());
  const auto fail_rest = [&](const ports::Error& error) {
    while (out.size() < argvs.size()) out.emplace_back(error);
    return std::move(out);
  };
  if (auto connected = ensure_connected(); !connected.ok()) return fail_rest(connected.error());
  for (const auto& argv : argvs) {
    Argv args(argv);
    if (redisAppendCommandArgv(context_, args.count(), args.pointers.data(), args.lengths.data()) !=
        REDIS_OK) {
      return fail_rest(drop("pipeline"));
    }
  }
  for (std::size_t i = 0; i < argvs.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(context_, &raw) != REDIS_OK || raw == nullptr) {
      return fail_rest(drop("pipeline"));
    }
    out.push_back(checked(Reply(static_cast<redisReply*>(raw))));
  }
  return out;
}

ports::Result<Reply> Connection::eval(const Script& script, const std::vector<std::string>& keys,
                                      const std::vector<std::string>& args) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto& sha = script_shas_[script.source.data()];
    if (sha.empty()) {
      auto loaded = command({"SCRIPT", "LOAD", std::string(script.source)});
      if (!loaded.ok()) return loaded.error();
      sha = reply_text(*loaded.value());
    }
    std::vector<std::string> argv{"EVALSHA", sha, std::to_string(keys.size())};
    argv.insert(argv.end(), keys.begin(), keys.end());
    argv.insert(argv.end(), args.begin(), args.end());
    auto reply = command(argv);
    if (reply.ok() || reply.error().message.find("NOSCRIPT") == std::string::npos) return reply;
    script_shas_.erase(script.source.data());  // the server forgot it: load it again
  }
  return ports::Error{ports::ErrorKind::retryable, "redis: script could not be loaded"};
}

std::vector<ports::Result<Reply>> Connection::eval_each(
    const Script& script, const std::vector<std::vector<std::string>>& arg_lists) {
  auto& sha = script_shas_[script.source.data()];
  if (sha.empty()) {
    auto loaded = command({"SCRIPT", "LOAD", std::string(script.source)});
    if (!loaded.ok()) {
      std::vector<ports::Result<Reply>> failed;
      for (std::size_t i = 0; i < arg_lists.size(); ++i) failed.emplace_back(loaded.error());
      return failed;
    }
    sha = reply_text(*loaded.value());
  }
  std::vector<std::vector<std::string>> argvs;
  argvs.reserve(arg_lists.size());
  for (const auto& args : arg_lists) {
    std::vector<std::string> argv{"EVALSHA", sha, "0"};
    argv.insert(argv.end(), args.begin(), args.end());
    argvs.push_back(std::move(argv));
  }
  auto replies = pipeline(argvs);
  // A server that forgot its scripts (SCRIPT FLUSH between the load and the calls) refused
  // those calls without running them: each runs again alone, loading the script first.
  for (std::size_t i = 0; i < replies.size(); ++i) {
    if (!replies[i].ok() && replies[i].error().message.find("NOSCRIPT") != std::string::npos) {
      script_shas_.erase(script.source.data());
      replies[i] = eval(script, {}, arg_lists[i]);
    }
  }
  return replies;
}

ports::Result<Reply> Connection::read() {
  if (auto connected = ensure_connected(); !connected.ok()) return connected.error();
  void* raw = nullptr;
  if (redisGetReply(context_, &raw) != REDIS_OK || raw == nullptr) return drop("read");
  return Reply(static_cast<redisReply*>(raw));
}

void Connection::interrupt() {
  std::lock_guard lock(fd_mutex_);
  interrupted_ = true;
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

void block_sigpipe_in_this_thread() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

std::string reply_text(const redisReply& reply) {
  switch (reply.type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      return {reply.str, reply.len};
    case REDIS_REPLY_INTEGER:
      return std::to_string(reply.integer);
    default:
      return {};
  }
}

bool reply_nil(const redisReply& reply) {
  return reply.type == REDIS_REPLY_NIL;
}

long long reply_integer(const redisReply& reply) {
  if (reply.type == REDIS_REPLY_INTEGER) return reply.integer;
  const std::string text = reply_text(reply);
  long long value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

std::vector<const redisReply*> reply_elements(const redisReply& reply) {
  std::vector<const redisReply*> out;
  if (reply.type != REDIS_REPLY_ARRAY) return out;
  out.reserve(reply.elements);
  for (size_t i = 0; i < reply.elements; ++i) out.push_back(reply.element[i]);
  return out;
}

std::string to_micros(std::chrono::sys_time<std::chrono::microseconds> at) {
  return std::to_string(at.time_since_epoch().count());
}

std::chrono::sys_time<std::chrono::microseconds> from_micros(const std::string& text) {
  long long value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return std::chrono::sys_time<std::chrono::microseconds>(std::chrono::microseconds(value));
}

}  // namespace gavel::adapters::redis
