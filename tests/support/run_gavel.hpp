#pragma once
// Runs the built `gavel` binary (GAVEL_BINARY, set by the test targets) as a command-line user
// would, and answers its exit status and output, for the tests of the operator commands.

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace gavel::testing {

struct CliRun {
  int status = -1;
  std::string output;  // standard output and error
};

/// `text` quoted for sh.
inline std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (const char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

/// Runs `gavel <args>`; `environment` ("NAME=value ...") goes before it.
inline CliRun gavel(const std::string& args, const std::string& environment = "") {
  const std::string command = environment + " " + GAVEL_BINARY + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return {};
  CliRun run;
  char buffer[4096];
  std::size_t read = 0;
  while ((read = fread(buffer, 1, sizeof buffer, pipe)) > 0) run.output.append(buffer, read);
  const int status = pclose(pipe);
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

}  // namespace gavel::testing
