#pragma once
// `gavel replay`: the engine's rules without servers (API.md §Replay). Reads one JSON command a
// line, runs them through the same engine as the service on a simulated clock driven by the
// commands' times, and writes one JSON line per outcome, then the final state of each auction.

#include <iosfwd>

namespace gavel::app {

/// Runs a replay. Every line is checked before anything runs: if any line is malformed, each
/// problem is reported on `err` with its line number, nothing is written to `out`, and the
/// result is 1. Otherwise the result is 0.
int run_replay(std::istream& in, std::ostream& out, std::ostream& err);

/// The text of `gavel replay --help`.
const char* replay_help();

}  // namespace gavel::app
