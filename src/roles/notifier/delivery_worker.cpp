#include "roles/notifier/delivery_worker.hpp"

#include <algorithm>

#include "ports/blocking.hpp"
#include "ports/thread_name.hpp"

namespace gavel::roles::notifier {

namespace {
// A started worker re-reads the clock at least this often: a simulated clock moves without
// waking anyone.
constexpr auto kMaxIdleWait = std::chrono::milliseconds(500);
// Store writes of an outcome: long enough for a busy SQLite file.
constexpr auto kStoreTimeout = std::chrono::seconds(30);
}  // namespace

domain::Duration backoff_delay(int failures, const RetryPolicy& policy, std::mt19937_64& random) {
  domain::Duration ceiling = policy.base;
  for (int i = 1; i < failures && ceiling < policy.cap; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, policy.cap);
  std::uniform_int_distribution<domain::Duration::rep> pick(0, ceiling.count());
  return domain::Duration{pick(random)};
}

DeliveryWorker::DeliveryWorker(ports::NotificationChannel& channel, ports::NoticeStore& store,
                               ports::Clock& clock, RetryPolicy policy, std::uint64_t seed)
    : channel_(channel), store_(store), clock_(clock), policy_(policy), random_(seed) {}

DeliveryWorker::~DeliveryWorker() {
  stop();
}

void DeliveryWorker::enqueue(ports::DeliveryRecord record) {
  {
    std::lock_guard lock(mutex_);
    if (!queued_ids_.insert(record.notice.id).second) return;
    due_.emplace(clock_.now(), Job{std::move(record)});
  }
  changed_.notify_all();
}

std::size_t DeliveryWorker::run_due() {
  std::size_t attempted = 0;
  for (;;) {
    Job job;
    {
      std::lock_guard lock(mutex_);
      if (due_.empty() || due_.begin()->first > clock_.now()) break;
      job = std::move(due_.begin()->second);
      due_.erase(due_.begin());
    }
    attempt(std::move(job));
    ++attempted;
  }
  return attempted;
}

void DeliveryWorker::attempt(Job job) {
  auto& record = job.record;
  const auto result = ports::call_blocking<void>(
      [&](auto done) { channel_.send(record.notice, std::move(done)); }, policy_.send_timeout);
  ports::DeliveryOutcome outcome{
      record.notice.id, record.channel, ports::DeliveryState::sent, 0, clock_.now(), ""};
  if (result.ok()) {
    counts_.sent.fetch_add(1);
  } else {
    counts_.failed.fetch_add(1);
    outcome.attempts = ++record.attempts;
    outcome.error = result.error().message;
    const bool give_up = result.error().kind == ports::ErrorKind::permanent ||
                         record.attempts >= policy_.max_attempts;
    outcome.state = give_up ? ports::DeliveryState::dead : ports::DeliveryState::pending;
    if (give_up) counts_.dead.fetch_add(1);
  }
  settle(outcome);
  std::lock_guard lock(mutex_);
  if (outcome.state == ports::DeliveryState::pending) {
    const auto at = outcome.at + backoff_delay(record.attempts, policy_, random_);
    due_.emplace(at, std::move(job));
  } else {
    queued_ids_.erase(record.notice.id);
  }
}

void DeliveryWorker::settle(const ports::DeliveryOutcome& outcome) {
  // A failed write leaves the delivery pending in the store: a restart sends it again, which
  // the receiver can tell by the notice id. Nothing better to do here than carry on.
  (void)ports::call_blocking<void>([&](auto done) { store_.settle(outcome, std::move(done)); },
                                   kStoreTimeout);
}

void DeliveryWorker::start() {
  std::lock_guard guard(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] {
    ports::name_this_thread("send-" + std::string(channel()));
    for (;;) {
      run_due();
      std::unique_lock lock(mutex_);
      if (stopping_) return;
      auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(kMaxIdleWait);
      if (!due_.empty()) {
        const auto until = due_.begin()->first - clock_.now();
        wait = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(until),
                          std::chrono::milliseconds(0), wait);
      }
      if (wait > std::chrono::milliseconds(0)) changed_.wait_for(lock, wait);
    }
  });
}

void DeliveryWorker::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::size_t DeliveryWorker::queued() const {
  std::lock_guard lock(mutex_);
  return due_.size();
}

}  // namespace gavel::roles::notifier
