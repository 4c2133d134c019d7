#pragma once
// The `gavel` command line: one binary, every role and operator command.

namespace gavel::app {

/// Runs `gavel <command> ...`; returns the process exit status.
int run_cli(int argc, char** argv);

}  // namespace gavel::app
