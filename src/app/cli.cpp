#include "app/cli.hpp"

#include <unistd.h>

#include <iostream>
#include <string_view>
#include <vector>

#include "app/audit.hpp"
#include "app/dlq.hpp"
#include "app/load.hpp"
#include "app/migrate.hpp"
#include "app/replay.hpp"
#include "app/serve.hpp"

namespace gavel::app {
namespace {

constexpr const char* kVersion = "0.1.0";

constexpr const char* kHelp = R"(gavel — a real-time auction platform

Usage: gavel <command> [options]

Commands:
  serve      run the service's roles (gateway, engine, notifier, auditor): all in one process
             (embedded profile) or some per process (selfhosted) (gavel serve --help)
  load       a load generator for a running gavel (gavel load --help)
  replay     run auction commands (JSON lines on stdin) through the engine on a simulated
             clock and print every decision and the final state (gavel replay --help)
  audit      check the audit trail's hash chain, or re-derive an auction from its recorded
             commands (gavel audit --help)
  dlq        list, show, redrive or purge the dead-letter queue of a running gateway
             (gavel dlq --help)
  migrate    create or upgrade the selfhosted profile's PostgreSQL schema: store, audit log
             and notifier tables (gavel migrate --help)
  version    print the version
  help       print this help
)";

bool wants_help(int argc, char** argv, int from) {
  for (int i = from; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") return true;
  }
  return false;
}

}  // namespace

int run_cli(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  if (argc < 2) {
    std::cerr << kHelp;
    return 2;
  }
  const std::string_view command = argv[1];
  if (command == "help" || command == "--help" || command == "-h") {
    std::cout << kHelp;
    return 0;
  }
  if (command == "version" || command == "--version") {
    std::cout << "gavel " << kVersion << "\n";
    return 0;
  }
  if (command == "serve") {
    if (wants_help(argc, argv, 2)) {
      std::cout << serve_help();
      return 0;
    }
    return run_serve(std::vector<std::string>(argv + 2, argv + argc), environ);
  }
  if (command == "load") {
    if (wants_help(argc, argv, 2)) {
      std::cout << load_help();
      return 0;
    }
    return run_load(std::vector<std::string>(argv + 2, argv + argc));
  }
  if (command == "replay") {
    if (wants_help(argc, argv, 2)) {
      std::cout << replay_help();
      return 0;
    }
    if (argc > 2) {
      std::cerr << "gavel replay: unexpected argument '" << argv[2]
                << "' (commands come on standard input; see gavel replay --help)\n";
      return 2;
    }
    return run_replay(std::cin, std::cout, std::cerr);
  }
  if (command == "audit") {
    if (wants_help(argc, argv, 2)) {
      std::cout << audit_help();
      return 0;
    }
    return run_audit(std::vector<std::string>(argv + 2, argv + argc), environ, std::cout,
                     std::cerr);
  }
  if (command == "dlq") {
    if (wants_help(argc, argv, 2)) {
      std::cout << dlq_help();
      return 0;
    }
    return run_dlq(std::vector<std::string>(argv + 2, argv + argc), environ, std::cout, std::cerr);
  }
  if (command == "migrate") {
    if (wants_help(argc, argv, 2)) {
      std::cout << migrate_help();
      return 0;
    }
    return run_migrate(std::vector<std::string>(argv + 2, argv + argc), environ, std::cout,
                       std::cerr);
  }
  std::cerr << "gavel: unknown command '" << command << "' (see gavel --help)\n";
  return 2;
}

}  // namespace gavel::app
