#include "adapters/redis/adapter_core.hpp"

#include <utility>

namespace gavel::adapters::redis {

namespace {
// How long a clock timer waits for its job (a visibility end, a long poll's expiry) on the
// worker. Waiting at all is what lets a simulated clock's advance() return with the poll
// answered; the bound keeps a slow server from stalling the clock's other timers for long.
constexpr std::chrono::milliseconds kTimerWait{1000};
}  // namespace

AdapterCore::AdapterCore(const std::string& url, ConnectionOptions options, ports::ClockPtr clock,
                         std::string wake_channel)
    : clock_(std::move(clock)),
      polls_(clock_,
             [this](domain::Timestamp at, LongPolls::Job job) {
               return clock_->call_at(at, [weak = weak_from_this(), job = std::move(job)] {
                 if (const auto self = weak.lock()) self->worker_->run(job, kTimerWait);
               });
             }),
      worker_(std::make_unique<Worker>(Endpoint::parse(url), options)) {
  listener_ = std::make_unique<WakeListener>(Endpoint::parse(url), std::move(wake_channel),
                                             [this] { serve_later(); });
}

AdapterCore::~AdapterCore() {
  stop();
}

void AdapterCore::stop() {
  listener_.reset();
  worker_.reset();
}

void AdapterCore::long_poll(std::uint64_t owner, LongPolls::Attempt attempt, domain::Duration wait,
                            ports::Callback<std::vector<ports::Delivery>> done) {
  worker_->post([this, ticket = polls_.take_ticket(wait), owner, attempt = std::move(attempt),
                 done = std::move(done)](Connection& connection) {
    polls_.receive(connection, ticket, owner, attempt, done);
  });
}

void AdapterCore::serve_later() {
  worker_->post([this](Connection& connection) {
    if (!polls_.empty()) polls_.serve(connection);
  });
}

}  // namespace gavel::adapters::redis
