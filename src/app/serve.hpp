#pragma once
// `gavel serve`: wires the roles to the adapters of the chosen profile and runs them until
// SIGINT/SIGTERM, then drains within a bounded time.

#include <string>
#include <vector>

namespace gavel::app {

/// Runs the service; returns the exit status (2: bad setting, 1: a dependency failed at start).
int run_serve(const std::vector<std::string>& args, char** environment);

/// The text of `gavel serve --help`.
std::string serve_help();

}  // namespace gavel::app
