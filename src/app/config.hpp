#pragma once
// Settings of `gavel serve`: every setting is an environment variable GAVEL_<NAME> and a flag
// --<name> (flags win), optionally from a config file (--config FILE: `name = value` lines).
// Invalid settings throw ConfigError with a one-line reason naming the setting.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace gavel::app {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Config {
  std::string profile = "embedded";
  std::vector<std::string> roles{"gateway", "engine", "notifier", "auditor"};
  std::string http_host = "127.0.0.1";
  std::uint16_t http_port = 8080;
  std::string data_dir = "gavel-data";
  std::string auth_mode = "dev";
  std::string dev_secret;  ///< empty: generated into the data dir on first start
  std::string jwks_url;
  std::string jwks_file;
  std::string jwt_issuer;
  std::string jwt_audience;
  std::string redis_url;
  std::string postgres_url;
  std::string web_root;       ///< empty: the bundled web/ next to the binary or the sources
  unsigned http_threads = 0;  ///< 0: one per core
  double rate_per_second = 20;
  double rate_burst = 40;
  std::size_t max_body_bytes = std::size_t{16} * 1024;
  std::size_t max_header_bytes = std::size_t{8} * 1024;
  std::size_t max_connections = 10'000;
  unsigned idle_timeout_seconds = 60;
  std::size_t ws_max_message_bytes = std::size_t{4} * 1024;
  std::size_t ws_write_queue = 256;
  unsigned drain_seconds = 10;
  bool demo = false;
  std::string log_level = "info";
  unsigned engine_visibility_seconds = 30;  ///< a dead engine's messages come back after this
  /// selfhosted: partitions of the bid queue (auctions spread by a hash of their id); fixed
  /// for the life of a queue
  unsigned queue_partitions = 8;
  /// selfhosted: an engine that stops renewing its partitions' leases loses them to another
  /// after this; 0: every engine reads every partition
  unsigned engine_lease_seconds = 10;
  std::string node_id;  ///< this process among others (subscription names); empty: host-pid  ///<
                        ///< debug logs every request, decision and notice
  // Notification channels: each is on only when its endpoint is set.
  std::string smtp_url;  ///< smtp://host:port or smtps://host:port
  std::string smtp_from = "Gavel <notifications@gavel.invalid>";
  std::string smtp_user;
  std::string smtp_password;
  bool smtp_require_tls = false;
  std::string sms_url;  ///< the SMS provider's HTTP API
  std::string sms_api_key;
  bool webhooks = true;                ///< users' own webhook URLs
  bool webhook_allow_private = false;  ///< deliver webhooks to loopback/private addresses too
  unsigned ending_soon_seconds = 300;
  unsigned notify_max_attempts = 5;
};

/// One setting, for --help.
struct SettingHelp {
  std::string flag;
  std::string env;
  std::string help;
  std::string default_value;
};

/// Reads defaults, then the config file (GAVEL_CONFIG or --config), then the environment,
/// then `args` (the flags after `gavel serve`). Throws ConfigError.
Config load_config(const std::vector<std::string>& args, char** environment);

/// Every setting with its flag, variable, meaning and default.
std::vector<SettingHelp> config_help();

}  // namespace gavel::app
