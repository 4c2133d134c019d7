#pragma once
// A blocking connection to one Redis server over hiredis 0.14 (the only client library): connect
// with a timeout, send a command as an argv, own each reply (RAII), reconnect on the next call
// after an I/O error, and map failures to ports::ErrorKind. Lua scripts run by EVALSHA, loaded
// on first use and again after NOSCRIPT (a restarted or flushed server).
//
// Not thread-safe: each connection lives on one thread (an adapter's worker, or a wake-up
// listener); interrupt() is the one call another thread may make.

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ports/result.hpp"

struct redisContext;
struct redisReply;

namespace gavel::adapters::redis {

/// Where the server is: `redis://[[user]:password@]host[:port][/db]` (port 6379, db 0 by
/// default). Throws std::invalid_argument on anything else.
struct Endpoint {
  std::string host;
  int port = 6379;
  std::string user;
  std::string password;
  int db = 0;

  static Endpoint parse(std::string_view url);
};

struct ConnectionOptions {
  std::chrono::milliseconds connect_timeout{2000};
  /// A command without an answer within this long fails retryable and drops the connection.
  /// Zero: no limit (the wake-up listener blocks until interrupted).
  std::chrono::milliseconds command_timeout{5000};
};

struct ReplyDeleter {
  void operator()(redisReply* reply) const;
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

/// A Lua script, run with EVALSHA. Its SHA1 is learned per connection from SCRIPT LOAD.
struct Script {
  std::string_view source;
};

class Connection {
 public:
  Connection(Endpoint endpoint, ConnectionOptions options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Runs one command. An error reply answers ErrorKind::permanent with its text, except the
  /// transient ones (LOADING, BUSY, TRYAGAIN, MASTERDOWN, READONLY, CLUSTERDOWN): retryable,
  /// like connection failures.
  ports::Result<Reply> command(const std::vector<std::string>& argv);

  /// Runs `script` with KEYS and ARGV.
  ports::Result<Reply> eval(const Script& script, const std::vector<std::string>& keys,
                            const std::vector<std::string>& args);

  /// Sends every command at once, then reads the replies: one round trip for all. Answers one
  /// result per command, in order; after an I/O error the rest fail retryable (the commands
  /// already sent may have run).
  std::vector<ports::Result<Reply>> pipeline(const std::vector<std::vector<std::string>>& argvs);

  /// Runs `script` (without KEYS) once per ARGV list, pipelined.
  std::vector<ports::Result<Reply>> eval_each(
      const Script& script, const std::vector<std::vector<std::string>>& arg_lists);

  /// Reads the next reply the server pushes (after SUBSCRIBE), waiting up to the command
  /// timeout (for ever if zero).
  ports::Result<Reply> read();

  /// From any thread: makes a blocked read() fail at once (shuts the socket down).
  void interrupt();

 private:
  ports::Result<void> ensure_connected();
  ports::Error drop(const std::string& what);
  void close();

  const Endpoint endpoint_;
  const ConnectionOptions options_;
  redisContext* context_ = nullptr;
  std::mutex fd_mutex_;  // guards fd_ and interrupted_ against interrupt() from another thread
  int fd_ = -1;
  bool interrupted_ = false;  // sticky: a connection made after interrupt() is shut at once
  std::unordered_map<const void*, std::string> script_shas_;
};

/// Blocks SIGPIPE in the calling thread. hiredis writes with write(2): a server that went away
/// (or a socket shut by interrupt()) would otherwise kill the process; with the signal blocked
/// the write fails with EPIPE and the connection reports a retryable error. Every thread that
/// owns a Connection calls this first.
void block_sigpipe_in_this_thread();

// --- reading replies ----------------------------------------------------------------------

/// The text of a string, status or integer reply; empty for nil.
std::string reply_text(const redisReply& reply);
/// Whether the reply is nil.
bool reply_nil(const redisReply& reply);
/// An integer reply, or a string holding one.
long long reply_integer(const redisReply& reply);
/// The elements of an array reply (none for any other type).
std::vector<const redisReply*> reply_elements(const redisReply& reply);

/// Microseconds since the epoch as text (times travel to scripts as exact integers).
std::string to_micros(std::chrono::sys_time<std::chrono::microseconds> at);
std::chrono::sys_time<std::chrono::microseconds> from_micros(const std::string& text);

}  // namespace gavel::adapters::redis
