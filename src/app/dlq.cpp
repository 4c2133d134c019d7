#include "app/dlq.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <filesystem>
#include <map>
#include <stdexcept>

#include "adapters/jwt/dev_authenticator.hpp"
#include "adapters/memory/system_clock.hpp"
#include "app/config.hpp"

namespace gavel::app {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;

namespace {

constexpr auto kCliTokenTtl = std::chrono::minutes(5);
constexpr auto kRequestTimeout = std::chrono::seconds(30);

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct DlqArgs {
  std::string subcommand;
  std::vector<std::string> ids;
  std::map<std::string, std::string> flags;  ///< --target, --token, --data-dir, --limit
  bool all = false;
  bool yes = false;
};

DlqArgs parse_args(const std::vector<std::string>& args) {
  static constexpr const char* kValued[] = {"--target", "--token", "--data-dir", "--limit"};
  DlqArgs parsed;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg == "--all") {
      parsed.all = true;
      continue;
    }
    if (arg == "--yes") {
      parsed.yes = true;
      continue;
    }
    if (arg.starts_with("--")) {
      std::string value;
      if (const auto equals = arg.find('='); equals != std::string::npos) {
        value = arg.substr(equals + 1);
        arg.resize(equals);
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        throw UsageError(arg + " needs a value");
      }
      if (std::find(std::begin(kValued), std::end(kValued), arg) == std::end(kValued))
        throw UsageError("unknown flag " + arg + " (see gavel dlq --help)");
      if (value.empty()) throw UsageError(arg + " must not be empty");
      parsed.flags[arg] = value;
    } else if (parsed.subcommand.empty()) {
      parsed.subcommand = arg;
    } else {
      parsed.ids.push_back(arg);
    }
  }
  return parsed;
}

/// Where the gateway listens and an admin token: flags first, then the serve settings (and,
/// in dev mode, a short-lived admin token minted with the data dir's secret).
struct Server {
  std::string host;
  std::string port;
  std::string token;
};

Server locate(const DlqArgs& args, char** environment) {
  std::vector<std::string> serve_args;
  if (const auto dir = args.flags.find("--data-dir"); dir != args.flags.end()) {
    serve_args = {"--data-dir", dir->second};
  }
  const Config config = load_config(serve_args, environment);
  Server server{config.http_host, std::to_string(config.http_port), ""};
  if (const auto target = args.flags.find("--target"); target != args.flags.end()) {
    const auto colon = target->second.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == target->second.size())
      throw UsageError("--target: expected host:port, got '" + target->second + "'");
    server.host = target->second.substr(0, colon);
    server.port = target->second.substr(colon + 1);
  }
  if (const auto token = args.flags.find("--token"); token != args.flags.end()) {
    server.token = token->second;
  } else if (const char* env = std::getenv("GAVEL_ADMIN_TOKEN"); env != nullptr && *env != 0) {
    server.token = env;
  } else if (config.auth_mode == "dev") {
    // Only a secret a running server wrote: creating one here would mint a useless token.
    if (config.dev_secret.empty() &&
        !std::filesystem::exists(adapters::jwt::DevAuthenticator::secret_file(config.data_dir))) {
      throw UsageError("no dev secret in " + config.data_dir +
                       " (the server's --data-dir?); or give an admin token with --token");
    }
    const std::string secret =
        config.dev_secret.empty()
            ? adapters::jwt::DevAuthenticator::load_or_create_secret(config.data_dir)
            : config.dev_secret;
    const adapters::jwt::DevAuthenticator minter{secret,
                                                 std::make_shared<adapters::memory::SystemClock>()};
    ports::Roles roles;
    roles.add(ports::Role::admin);
    server.token = minter.mint(domain::UserId{"gavel-cli"}, roles, kCliTokenTtl);
  } else {
    throw UsageError("give an admin token with --token or GAVEL_ADMIN_TOKEN (auth-mode jwks)");
  }
  return server;
}

struct Answer {
  unsigned status = 0;
  json::value body;
};

Answer call(const Server& server, http::verb verb, const std::string& target,
            const std::string& body = "") {
  asio::io_context io;
  asio::ip::tcp::resolver resolver{io};
  beast::tcp_stream stream{io};
  stream.expires_after(kRequestTimeout);
  stream.connect(resolver.resolve(server.host, server.port));
  http::request<http::string_body> request{verb, target, 11};
  request.set(http::field::host, server.host);
  request.set(http::field::authorization, "Bearer " + server.token);
  if (!body.empty()) {
    request.set(http::field::content_type, "application/json");
    request.body() = body;
  }
  request.prepare_payload();
  http::write(stream, request);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(stream, buffer, response);
  boost::system::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  boost::system::error_code ec;
  json::value parsed = json::parse(response.body(), ec);
  return Answer{response.result_int(), ec ? json::value(response.body()) : parsed};
}

std::string text_of(const json::value& value, std::string_view key) {
  if (!value.is_object()) return "";
  const json::value* field = value.get_object().if_contains(key);
  if (field == nullptr) return "";
  return field->is_string() ? std::string(field->get_string()) : json::serialize(*field);
}

int report_failure(const Answer& answer, std::ostream& err) {
  const json::value* error =
      answer.body.is_object() ? answer.body.get_object().if_contains("error") : nullptr;
  err << "gavel dlq: the server answered " << answer.status;
  if (error != nullptr) err << " " << text_of(*error, "code") << ": " << text_of(*error, "message");
  err << "\n";
  return 1;
}

int list(const Server& server, const DlqArgs& args, std::ostream& out, std::ostream& err) {
  std::string target = "/v1/admin/dlq";
  if (const auto limit = args.flags.find("--limit"); limit != args.flags.end())
    target += "?limit=" + limit->second;
  const Answer answer = call(server, http::verb::get, target);
  if (answer.status != 200) return report_failure(answer, err);
  const json::array& letters = answer.body.at("deadLetters").as_array();
  for (const json::value& letter : letters) {
    out << text_of(letter, "messageId") << "  auction " << text_of(letter, "orderingKey")
        << "  deliveries " << text_of(letter, "deliveryCount") << "  last failure "
        << text_of(letter, "lastFailure") << "  reason: " << text_of(letter, "reason") << "\n";
  }
  out << letters.size() << " dead letter" << (letters.size() == 1 ? "" : "s") << "\n";
  return 0;
}

int show(const Server& server, const DlqArgs& args, std::ostream& out, std::ostream& err) {
  if (args.ids.size() != 1) throw UsageError("show needs exactly one message id");
  const Answer answer = call(server, http::verb::get, "/v1/admin/dlq/" + args.ids.front());
  if (answer.status != 200) return report_failure(answer, err);
  out << json::serialize(answer.body) << "\n";
  return 0;
}

int redrive(const Server& server, const DlqArgs& args, std::ostream& out, std::ostream& err) {
  if (args.all == !args.ids.empty()) throw UsageError("redrive needs message ids or --all");
  json::object body;
  if (args.all) {
    body["all"] = true;
  } else {
    json::array ids;
    for (const auto& id : args.ids) ids.emplace_back(id);
    body["ids"] = std::move(ids);
  }
  const Answer answer =
      call(server, http::verb::post, "/v1/admin/dlq/redrive", json::serialize(body));
  if (answer.status != 200) return report_failure(answer, err);
  out << "redriven " << text_of(answer.body, "redriven") << "\n";
  return 0;
}

int purge(const Server& server, const DlqArgs& args, std::ostream& out, std::ostream& err) {
  if (!args.yes) throw UsageError("purge deletes every dead letter; confirm with --yes");
  const Answer answer = call(server, http::verb::delete_, "/v1/admin/dlq");
  if (answer.status != 200) return report_failure(answer, err);
  out << "purged " << text_of(answer.body, "purged") << "\n";
  return 0;
}

}  // namespace

int run_dlq(const std::vector<std::string>& args, char** environment, std::ostream& out,
            std::ostream& err) {
  try {
    const DlqArgs parsed = parse_args(args);
    using Handler = int (*)(const Server&, const DlqArgs&, std::ostream&, std::ostream&);
    static const std::map<std::string, Handler> subcommands{
        {"list", list}, {"show", show}, {"redrive", redrive}, {"purge", purge}};
    const auto handler = subcommands.find(parsed.subcommand);
    if (handler == subcommands.end()) {
      throw UsageError(parsed.subcommand.empty()
                           ? "missing subcommand (list, show, redrive or purge)"
                           : "unknown subcommand '" + parsed.subcommand + "'");
    }
    const Server server = locate(parsed, environment);
    try {
      return handler->second(server, parsed, out, err);
    } catch (const boost::system::system_error& error) {
      err << "gavel dlq: cannot reach the gateway at " << server.host << ":" << server.port << ": "
          << error.code().message() << "\n";
      return 2;
    }
  } catch (const UsageError& error) {
    err << "gavel dlq: " << error.what() << "\n";
    return 2;
  } catch (const ConfigError& error) {
    err << "gavel dlq: " << error.what() << "\n";
    return 2;
  }
}

const char* dlq_help() {
  return R"help(Usage: gavel dlq list [--limit N]
       gavel dlq show <messageId>
       gavel dlq redrive <messageId>... | --all
       gavel dlq purge --yes
  common flags: [--target HOST:PORT] [--token TOKEN] [--data-dir DIR]

The dead-letter queue of a running gateway (GET/POST/DELETE /v1/admin/dlq): commands that
failed too many times or could not be parsed, with their reason, delivery count and first and
last failure.

  list     one line per dead letter, oldest first (--limit 1..100, default 20)
  show     one dead letter with its body, as JSON
  redrive  puts dead letters back at the end of the queue with a fresh delivery count; ids no
           longer in the dead-letter queue are skipped, so redriving twice is harmless
  purge    deletes every dead letter

TARGET defaults to gavel serve's http-addr setting. The token must carry the admin role:
--token, else GAVEL_ADMIN_TOKEN, else (auth-mode dev) one minted for five minutes with the
data dir's dev secret. Exit status: 0 done, 1 refused by the server, 2 bad usage or no server.
)help";
}

}  // namespace gavel::app
