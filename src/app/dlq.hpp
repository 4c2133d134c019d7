#pragma once
// `gavel dlq list|show|redrive|purge`: the operator's view of the dead-letter queue, as a
// client of a running gateway's /v1/admin/dlq (the embedded queue lives inside `gavel serve`).

#include <ostream>
#include <string>
#include <vector>

namespace gavel::app {

/// Runs `gavel dlq <args>`; exit status 0 done, 1 refused or failed by the server, 2 bad usage
/// or no server to talk to.
int run_dlq(const std::vector<std::string>& args, char** environment, std::ostream& out,
            std::ostream& err);

const char* dlq_help();

}  // namespace gavel::app
