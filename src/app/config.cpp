#include "app/config.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

namespace gavel::app {
namespace {

struct Setting {
  const char* name;  // flag name; the variable is GAVEL_ + upper case with '_'
  const char* help;
  std::function<void(Config&, const std::string&)> apply;
  std::function<std::string(const Config&)> show;
};

std::string env_name(std::string_view flag) {
  std::string out = "GAVEL_";
  for (const char c : flag)
    out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

template <typename T>
T parse_number(const std::string& name, const std::string& text, T min, T max) {
  T value{};
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr != text.data() + text.size() || value < min || value > max) {
    std::ostringstream message;
    message << name << ": expected a number in " << min << ".." << max << ", got '" << text << "'";
    throw ConfigError(message.str());
  }
  return value;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream stream{text};
  std::string item;
  while (std::getline(stream, item, ',')) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

void one_of(const std::string& name, const std::string& value,
            std::initializer_list<const char*> allowed) {
  for (const char* candidate : allowed) {
    if (value == candidate) return;
  }
  std::string list;
  for (const char* candidate : allowed) list += std::string(list.empty() ? "" : ", ") + candidate;
  throw ConfigError(name + ": expected one of " + list + ", got '" + value + "'");
}

bool parse_bool(const std::string& name, const std::string& value) {
  one_of(name, value, {"true", "false", "1", "0"});
  return value == "true" || value == "1";
}

template <typename T>
std::string show_number(T value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

const std::vector<Setting>& settings() {
  static const std::vector<Setting> setting_table{
      {"profile",
       "embedded (one process, SQLite) or selfhosted (Redis, PostgreSQL); aws is not built yet",
       [](Config& c, const std::string& v) {
         one_of("profile", v, {"embedded", "selfhosted", "aws"});
         c.profile = v;
       },
       [](const Config& c) { return c.profile; }},
      {"roles", "comma list of gateway, engine, notifier, auditor (default: all)",
       [](Config& c, const std::string& v) {
         auto roles = split_list(v);
         if (roles.empty()) throw ConfigError("roles: at least one role is needed");
         for (const auto& role : roles)
           one_of("roles", role, {"gateway", "engine", "notifier", "auditor"});
         c.roles = roles;
       },
       [](const Config&) { return std::string("gateway,engine,notifier,auditor"); }},
      {"http-addr", "host:port the gateway listens on (port 0: any free port)",
       [](Config& c, const std::string& v) {
         const auto colon = v.rfind(':');
         if (colon == std::string::npos || colon == 0) {
           throw ConfigError("http-addr: expected host:port, got '" + v + "'");
         }
         c.http_host = v.substr(0, colon);
         c.http_port = parse_number<std::uint16_t>("http-addr", v.substr(colon + 1), 0, 65535);
       },
       [](const Config& c) { return c.http_host + ":" + std::to_string(c.http_port); }},
      {"data-dir", "folder of the embedded store (created if missing)",
       [](Config& c, const std::string& v) {
         if (v.empty()) throw ConfigError("data-dir: must not be empty");
         c.data_dir = v;
       },
       [](const Config& c) { return c.data_dir; }},
      {"auth-mode", "dev (HS256 tokens from POST /v1/auth/dev-token) or jwks (RS256, e.g. Cognito)",
       [](Config& c, const std::string& v) {
         one_of("auth-mode", v, {"dev", "jwks"});
         c.auth_mode = v;
       },
       [](const Config& c) { return c.auth_mode; }},
      {"dev-secret", "HS256 secret of dev mode (default: generated into the data dir)",
       [](Config& c, const std::string& v) {
         if (v.size() < 32) throw ConfigError("dev-secret: use at least 32 characters");
         c.dev_secret = v;
       },
       [](const Config&) { return std::string("(generated)"); }},
      {"jwks-url", "JWKS URL of the token issuer (jwks mode)",
       [](Config& c, const std::string& v) { c.jwks_url = v; },
       [](const Config& c) { return c.jwks_url; }},
      {"jwks-file", "JWKS file instead of a URL (jwks mode)",
       [](Config& c, const std::string& v) { c.jwks_file = v; },
       [](const Config& c) { return c.jwks_file; }},
      {"jwt-issuer", "required iss of tokens (jwks mode)",
       [](Config& c, const std::string& v) { c.jwt_issuer = v; },
       [](const Config& c) { return c.jwt_issuer; }},
      {"jwt-audience", "required aud or client_id of tokens (jwks mode)",
       [](Config& c, const std::string& v) { c.jwt_audience = v; },
       [](const Config& c) { return c.jwt_audience; }},
      {"redis-url", "redis://host:port/db (selfhosted profile)",
       [](Config& c, const std::string& v) { c.redis_url = v; },
       [](const Config& c) { return c.redis_url; }},
      {"postgres-url", "libpq connection string (selfhosted profile)",
       [](Config& c, const std::string& v) { c.postgres_url = v; },
       [](const Config& c) { return c.postgres_url; }},
      {"web-root", "folder of the web UI served at /",
       [](Config& c, const std::string& v) { c.web_root = v; },
       [](const Config&) { return std::string("(bundled)"); }},
      {"http-threads", "I/O threads of the gateway (0: one per core)",
       [](Config& c, const std::string& v) {
         c.http_threads = parse_number<unsigned>("http-threads", v, 0, 256);
       },
       [](const Config& c) { return show_number(c.http_threads); }},
      {"rate-per-second", "bids per second per user (0: no limit)",
       [](Config& c, const std::string& v) {
         c.rate_per_second =
             static_cast<double>(parse_number<unsigned>("rate-per-second", v, 0, 1'000'000));
       },
       [](const Config& c) { return show_number(c.rate_per_second); }},
      {"rate-burst", "bids a user may send at once before the rate applies",
       [](Config& c, const std::string& v) {
         c.rate_burst = static_cast<double>(parse_number<unsigned>("rate-burst", v, 1, 1'000'000));
       },
       [](const Config& c) { return show_number(c.rate_burst); }},
      {"max-body-bytes", "largest request body (413 beyond)",
       [](Config& c, const std::string& v) {
         c.max_body_bytes = parse_number<std::size_t>("max-body-bytes", v, 256, 16u << 20);
       },
       [](const Config& c) { return show_number(c.max_body_bytes); }},
      {"max-header-bytes", "largest request header block (431 beyond)",
       [](Config& c, const std::string& v) {
         c.max_header_bytes = parse_number<std::size_t>("max-header-bytes", v, 1024, 1u << 20);
       },
       [](const Config& c) { return show_number(c.max_header_bytes); }},
      {"max-connections", "open connections per gateway, HTTP and WebSocket (more are refused)",
       [](Config& c, const std::string& v) {
         c.max_connections = parse_number<std::size_t>("max-connections", v, 1, 10'000'000);
       },
       [](const Config& c) { return show_number(c.max_connections); }},
      {"idle-timeout-seconds", "an idle connection is closed after this",
       [](Config& c, const std::string& v) {
         c.idle_timeout_seconds = parse_number<unsigned>("idle-timeout-seconds", v, 1, 86400);
       },
       [](const Config& c) { return show_number(c.idle_timeout_seconds); }},
      {"ws-max-message-bytes", "largest WebSocket message from a client",
       [](Config& c, const std::string& v) {
         c.ws_max_message_bytes =
             parse_number<std::size_t>("ws-max-message-bytes", v, 64, 1u << 20);
       },
       [](const Config& c) { return show_number(c.ws_max_message_bytes); }},
      {"ws-write-queue", "messages queued per WebSocket before it is conflated to snapshots",
       [](Config& c, const std::string& v) {
         c.ws_write_queue = parse_number<std::size_t>("ws-write-queue", v, 4, 1'000'000);
       },
       [](const Config& c) { return show_number(c.ws_write_queue); }},
      {"drain-seconds", "on SIGTERM: how long to finish work in flight before exiting",
       [](Config& c, const std::string& v) {
         c.drain_seconds = parse_number<unsigned>("drain-seconds", v, 0, 3600);
       },
       [](const Config& c) { return show_number(c.drain_seconds); }},
      {"engine-visibility-seconds",
       "a message an engine took and did not finish goes to another engine after this (failover)",
       [](Config& c, const std::string& v) {
         c.engine_visibility_seconds =
             parse_number<unsigned>("engine-visibility-seconds", v, 1, 3600);
       },
       [](const Config& c) { return show_number(c.engine_visibility_seconds); }},
      {"queue-partitions",
       "selfhosted: partitions the bid queue spreads auctions over (fixed for a queue's life)",
       [](Config& c, const std::string& v) {
         c.queue_partitions = parse_number<unsigned>("queue-partitions", v, 1, 1024);
       },
       [](const Config& c) { return show_number(c.queue_partitions); }},
      {"engine-lease-seconds",
       "selfhosted: a dead engine's partitions go to another engine after this (0: engines "
       "share every partition)",
       [](Config& c, const std::string& v) {
         c.engine_lease_seconds = parse_number<unsigned>("engine-lease-seconds", v, 0, 3600);
       },
       [](const Config& c) { return show_number(c.engine_lease_seconds); }},
      {"node-id", "this process's name among others (names its topic subscriptions)",
       [](Config& c, const std::string& v) {
         if (v.empty() || v.size() > 64 ||
             v.find_first_not_of(
                 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
                 std::string::npos)
           throw ConfigError("node-id: 1-64 letters, digits, '-', '_' or '.'");
         c.node_id = v;
       },
       [](const Config&) { return std::string("(host-pid)"); }},
      {"log-level", "debug (every request, decision and notice), info, warn or error",
       [](Config& c, const std::string& v) {
         one_of("log-level", v, {"debug", "info", "warn", "error"});
         c.log_level = v;
       },
       [](const Config& c) { return c.log_level; }},
      {"smtp-url", "SMTP server for e-mail notices, smtp://host:port or smtps:// (empty: off)",
       [](Config& c, const std::string& v) {
         if (!v.empty() && !v.starts_with("smtp://") && !v.starts_with("smtps://"))
           throw ConfigError("smtp-url: expected smtp://host:port or smtps://host:port");
         c.smtp_url = v;
       },
       [](const Config& c) { return c.smtp_url; }},
      {"smtp-from", "From: of e-mail notices",
       [](Config& c, const std::string& v) {
         if (v.empty()) throw ConfigError("smtp-from: must not be empty");
         c.smtp_from = v;
       },
       [](const Config& c) { return c.smtp_from; }},
      {"smtp-user", "SMTP AUTH user (empty: no AUTH)",
       [](Config& c, const std::string& v) { c.smtp_user = v; },
       [](const Config& c) { return c.smtp_user; }},
      {"smtp-password", "SMTP AUTH password",
       [](Config& c, const std::string& v) { c.smtp_password = v; },
       [](const Config&) { return std::string{}; }},
      {"smtp-require-tls", "refuse to send e-mail in clear when STARTTLS is not offered",
       [](Config& c, const std::string& v) {
         c.smtp_require_tls = parse_bool("smtp-require-tls", v);
       },
       [](const Config& c) { return std::string(c.smtp_require_tls ? "true" : "false"); }},
      {"sms-url", "SMS provider API, POST {to, text} with a bearer key (empty: off)",
       [](Config& c, const std::string& v) {
         if (!v.empty() && !v.starts_with("http://") && !v.starts_with("https://"))
           throw ConfigError("sms-url: expected an http(s) URL");
         c.sms_url = v;
       },
       [](const Config& c) { return c.sms_url; }},
      {"sms-api-key", "bearer key of the SMS provider",
       [](Config& c, const std::string& v) { c.sms_api_key = v; },
       [](const Config&) { return std::string{}; }},
      {"webhooks", "deliver notices to users' own webhook URLs: true or false",
       [](Config& c, const std::string& v) { c.webhooks = parse_bool("webhooks", v); },
       [](const Config& c) { return std::string(c.webhooks ? "true" : "false"); }},
      {"webhook-allow-private",
       "deliver webhooks to loopback and private addresses too (tests, trusted networks)",
       [](Config& c, const std::string& v) {
         c.webhook_allow_private = parse_bool("webhook-allow-private", v);
       },
       [](const Config& c) { return std::string(c.webhook_allow_private ? "true" : "false"); }},
      {"ending-soon-seconds", "how long before the end the ending-soon notice goes out",
       [](Config& c, const std::string& v) {
         c.ending_soon_seconds = parse_number<unsigned>("ending-soon-seconds", v, 1, 86400);
       },
       [](const Config& c) { return show_number(c.ending_soon_seconds); }},
      {"notify-max-attempts", "delivery attempts per notice and channel before its dead letter",
       [](Config& c, const std::string& v) {
         c.notify_max_attempts = parse_number<unsigned>("notify-max-attempts", v, 1, 100);
       },
       [](const Config& c) { return show_number(c.notify_max_attempts); }},
      {"demo", "create demo auctions (some ending within minutes) and a bidding bot: true or false",
       [](Config& c, const std::string& v) { c.demo = parse_bool("demo", v); },
       [](const Config& c) { return std::string(c.demo ? "true" : "false"); }},
  };
  return setting_table;
}

const Setting* find_setting(std::string_view name) {
  for (const auto& setting : settings()) {
    if (name == setting.name) return &setting;
  }
  return nullptr;
}

void apply(Config& config, const Setting& setting, const std::string& value,
           const std::string& source) {
  try {
    setting.apply(config, value);
  } catch (const ConfigError& error) {
    throw ConfigError(source + " " + error.what());
  }
}

void load_file(Config& config, const std::string& path) {
  std::ifstream file{path};
  if (!file) throw ConfigError("config file '" + path + "' cannot be read");
  std::string line;
  int number = 0;
  while (std::getline(file, line)) {
    ++number;
    line.erase(0, line.find_first_not_of(" \t"));
    if (line.empty() || line[0] == '#') continue;
    const auto equals = line.find('=');
    if (equals == std::string::npos) {
      throw ConfigError(path + ":" + std::to_string(number) + ": expected 'name = value'");
    }
    std::string name = line.substr(0, equals);
    std::string value = line.substr(equals + 1);
    name.erase(name.find_last_not_of(" \t") + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    value.erase(value.find_last_not_of(" \t\r") + 1);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    std::replace(name.begin(), name.end(), '_', '-');
    const Setting* setting = find_setting(name);
    if (setting == nullptr) {
      std::string message = path;
      message += ":" + std::to_string(number) + ": unknown setting '" + name + "'";
      throw ConfigError(message);
    }
    apply(config, *setting, value, path + ":" + std::to_string(number) + ":");
  }
}

}  // namespace

Config load_config(const std::vector<std::string>& args, char** environment) {
  Config config;
  std::map<std::string, std::string> env;
  for (char** entry = environment; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text{*entry};
    const auto equals = text.find('=');
    if (equals != std::string_view::npos && text.starts_with("GAVEL_")) {
      env.emplace(std::string(text.substr(0, equals)), std::string(text.substr(equals + 1)));
    }
  }

  // Flags first into a list (so that --config is known before anything applies).
  std::vector<std::pair<const Setting*, std::string>> flags;
  std::string config_file = env.contains("GAVEL_CONFIG") ? env["GAVEL_CONFIG"] : "";
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!arg.starts_with("--"))
      throw ConfigError("unexpected argument '" + arg + "' (see gavel serve --help)");
    std::string name = arg.substr(2);
    std::string value;
    if (const auto equals = name.find('='); equals != std::string::npos) {
      value = name.substr(equals + 1);
      name = name.substr(0, equals);
    } else if (name == "demo") {
      value = "true";
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      throw ConfigError("--" + name + " needs a value");
    }
    if (name == "config") {
      config_file = value;
      continue;
    }
    const Setting* setting = find_setting(name);
    if (setting == nullptr)
      throw ConfigError("unknown flag --" + name + " (see gavel serve --help)");
    flags.emplace_back(setting, value);
  }

  if (!config_file.empty()) load_file(config, config_file);
  for (const auto& setting : settings()) {
    const auto it = env.find(env_name(setting.name));
    if (it != env.end()) apply(config, setting, it->second, it->first + ":");
  }
  for (const auto& [setting, value] : flags)
    apply(config, *setting, value, std::string("--") + setting->name + ":");
  return config;
}

std::vector<SettingHelp> config_help() {
  std::vector<SettingHelp> out;
  const Config defaults;
  for (const auto& setting : settings()) {
    out.push_back({std::string("--") + setting.name, env_name(setting.name), setting.help,
                   setting.show(defaults)});
  }
  out.push_back(
      {"--config", "GAVEL_CONFIG", "a file of `name = value` lines (flags and variables win)", ""});
  return out;
}

}  // namespace gavel::app
