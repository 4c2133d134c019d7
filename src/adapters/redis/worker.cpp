#include "adapters/redis/worker.hpp"

#include <future>
#include <utility>

#include "ports/thread_name.hpp"

namespace gavel::adapters::redis {

struct Worker::State {
  State(Endpoint endpoint, ConnectionOptions options) : connection(std::move(endpoint), options) {}

  Connection connection;
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<Job> jobs;
  bool stopping = false;
};

Worker::Worker(Endpoint endpoint, ConnectionOptions options)
    : state_(std::make_shared<State>(std::move(endpoint), options)) {
  thread_ = std::thread([state = state_] {
    ports::name_this_thread("redis");
    loop(state);
  });
}

Worker::~Worker() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
  }
  state_->wake.notify_all();
  if (thread_.get_id() == std::this_thread::get_id()) {
    thread_.detach();
  } else {
    thread_.join();
  }
}

void Worker::post(Job job) {
  {
    std::lock_guard lock(state_->mutex);
    state_->jobs.push_back(std::move(job));
  }
  state_->wake.notify_one();
}

bool Worker::run(Job job, std::chrono::milliseconds timeout) {
  if (thread_.get_id() == std::this_thread::get_id()) {
    job(state_->connection);
    return true;
  }
  auto finished = std::make_shared<std::promise<void>>();
  auto future = finished->get_future();
  post([job = std::move(job), finished](Connection& connection) {
    job(connection);
    finished->set_value();
  });
  return future.wait_for(timeout) == std::future_status::ready;
}

void Worker::loop(const std::shared_ptr<State>& state) {
  block_sigpipe_in_this_thread();
  std::unique_lock lock(state->mutex);
  for (;;) {
    state->wake.wait(lock, [&] { return state->stopping || !state->jobs.empty(); });
    if (state->jobs.empty()) return;  // stopping, and nothing left to run
    Job job = std::move(state->jobs.front());
    state->jobs.pop_front();
    lock.unlock();
    job(state->connection);
    job = nullptr;  // release what the job captured before taking the lock again
    lock.lock();
  }
}

WakeListener::WakeListener(Endpoint endpoint, std::string channel, std::function<void()> on_wake)
    : connection_(std::move(endpoint),
                  ConnectionOptions{std::chrono::milliseconds(2000), std::chrono::milliseconds(0)}),
      channel_(std::move(channel)),
      on_wake_(std::move(on_wake)) {
  thread_ = std::thread([this] {
    ports::name_this_thread("redis-sub");
    loop();
  });
}

WakeListener::~WakeListener() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stop_signal_.notify_all();
  connection_.interrupt();
  thread_.join();
}

void WakeListener::loop() {
  block_sigpipe_in_this_thread();
  const auto stopping = [this] {
    std::lock_guard lock(mutex_);
    return stopping_;
  };
  while (!stopping()) {
    if (connection_.command({"SUBSCRIBE", channel_}).ok()) {
      on_wake_();
      while (connection_.read().ok()) on_wake_();
    }
    // Lost (or never had) the server: try again soon, unless told to stop. A shutdown that
    // raced the connect is caught here: interrupt() found no socket, but stopping_ is set.
    std::unique_lock lock(mutex_);
    stop_signal_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stopping_; });
  }
}

}  // namespace gavel::adapters::redis
