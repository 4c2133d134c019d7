#pragma once
// `gavel load`: a load generator for the whole system. Bidders post real bids with proxy maxima
// over a mix of hot and cold auctions; watchers hold WebSockets and time the events. Bounded by
// count and duration; prints a progress line each second and the figures at the end.

#include <string>
#include <vector>

namespace gavel::app {

int run_load(const std::vector<std::string>& args);
std::string load_help();

}  // namespace gavel::app
