#include "adapters/redis/redis_topic.hpp"

#include <unistd.h>

#include <atomic>
#include <utility>

#include "adapters/redis/adapter_core.hpp"

namespace gavel::adapters::redis {

namespace {

// KEYS[1]: stream, KEYS[2]: generated-id counter. ARGV: key base, now, dedup cutoff (a first
// publish after it makes a duplicate), dedup key TTL ms, max length, wake channel; then
// (dedup id, ordering key, event time, body) per message.
constexpr Script kPublish{R"lua(
local added = 0
for i = 7, #ARGV, 4 do
  local dedup, key, t, body = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local id = dedup
  local fresh = true
  if dedup == '' then
    id = 't-' .. redis.call('INCR', KEYS[2])
  else
    local dedup_key = ARGV[1] .. 'dd:' .. dedup
    local seen = redis.call('GET', dedup_key)
    if seen and tonumber(seen) > tonumber(ARGV[3]) then
      fresh = false
    else
      redis.call('SET', dedup_key, ARGV[2], 'PX', ARGV[4])
    end
  end
  if fresh then
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[5], '*', 'id', id, 'k', key, 't', t, 'b', body)
    added = added + 1
  end
end
if added > 0 then redis.call('PUBLISH', ARGV[6], 'publish') end
return added
)lua"};

// KEYS[1]: stream. ARGV: subscription key base, group, consumer, max, now, visibility end.
// Expired deliveries first (oldest stream id first), then new messages.
constexpr Script kReceive{R"lua(
local stream, sub, group = KEYS[1], ARGV[1], ARGV[2]
local max, now, deadline = tonumber(ARGV[4]), ARGV[5], ARGV[6]
local inflight, again, receipts, counts = sub .. 'inflight', sub .. 'again', sub .. 'rcpt', sub .. 'n'
for _, id in ipairs(redis.call('ZRANGEBYSCORE', inflight, '-inf', now)) do
  redis.call('ZREM', inflight, id)
  redis.call('SADD', again, id)
end
local out = {}
local function deliver(id, fields)
  local n = redis.call('HINCRBY', counts, id, 1)
  local receipt = id .. '#' .. n
  redis.call('HSET', receipts, id, receipt)
  redis.call('ZADD', inflight, deadline, id)
  local f = {}
  for i = 1, #fields, 2 do f[fields[i]] = fields[i + 1] end
  out[#out + 1] = {f.id, receipt, f.k, f.t, f.b, n}
end
local function older(a, b)
  local am, as = string.match(a, '(%d+)-(%d+)')
  local bm, bs = string.match(b, '(%d+)-(%d+)')
  if am ~= bm then return tonumber(am) < tonumber(bm) end
  return tonumber(as) < tonumber(bs)
end
local returning = redis.call('SMEMBERS', again)
table.sort(returning, older)
for _, id in ipairs(returning) do
  if #out >= max then break end
  redis.call('SREM', again, id)
  local entry = redis.call('XRANGE', stream, id, id)
  if #entry == 0 then
    -- trimmed away by MAXLEN: nothing left to deliver
    redis.call('XACK', stream, group, id)
    redis.call('HDEL', receipts, id)
    redis.call('HDEL', counts, id)
  else
    deliver(id, entry[1][2])
  end
end
if #out < max then
  local read = redis.call('XREADGROUP', 'GROUP', group, ARGV[3], 'COUNT', max - #out,
                          'STREAMS', stream, '>')
  if read then
    for _, entry in ipairs(read[1][2]) do deliver(entry[1], entry[2]) end
  end
end
local next_visible = redis.call('ZRANGE', inflight, 0, 0, 'WITHSCORES')
return {out, next_visible[2] or false}
)lua"};

// KEYS[1]: stream. ARGV: subscription key base, group; then receipts. Only a delivery's current
// receipt, while in flight, acknowledges it.
constexpr Script kAck{R"lua(
local stream, sub, group = KEYS[1], ARGV[1], ARGV[2]
for i = 3, #ARGV do
  local receipt = ARGV[i]
  local id = string.match(receipt, '^(.-)#%d+$')
  if id and redis.call('HGET', sub .. 'rcpt', id) == receipt
     and redis.call('ZSCORE', sub .. 'inflight', id) then
    redis.call('XACK', stream, group, id)
    redis.call('ZREM', sub .. 'inflight', id)
    redis.call('HDEL', sub .. 'rcpt', id)
    redis.call('HDEL', sub .. 'n', id)
  end
end
return 1
)lua"};

// KEYS[1]: stream. ARGV: subscription key prefix (base .. 's:'), group name prefix, idle ms.
// Destroys the groups named with the prefix whose consumers have all been idle longer than the
// limit (a group nobody has read from yet is left alone: it may be a subscription just opened),
// with their delivery bookkeeping. Answers the names removed.
constexpr Script kPrune{R"lua(
local stream, subs, prefix, idle = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3])
if redis.call('EXISTS', stream) == 0 then return {} end
local function fields(list)
  local out = {}
  for i = 1, #list, 2 do out[list[i]] = list[i + 1] end
  return out
end
local removed = {}
for _, group in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
  local name = fields(group)['name']
  if string.sub(name, 1, #prefix) == prefix then
    local consumers = redis.call('XINFO', 'CONSUMERS', stream, name)
    local stale = #consumers > 0
    for _, consumer in ipairs(consumers) do
      if tonumber(fields(consumer)['idle']) < idle then stale = false end
    end
    if stale then
      redis.call('XGROUP', 'DESTROY', stream, name)
      local sub = subs .. name .. ':'
      redis.call('DEL', sub .. 'inflight', sub .. 'again', sub .. 'rcpt', sub .. 'n')
      removed[#removed + 1] = name
    end
  end
end
return removed
)lua"};

std::string consumer_name() {
  static std::atomic<int> counter{0};
  return "c-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

}  // namespace

class RedisTopic::Impl final : public AdapterCore {
 public:
  Impl(const std::string& url, const std::string& name, ports::ClockPtr clock, Options options)
      : AdapterCore(url, options.connection, std::move(clock),
                    "{" + options.prefix + ":topic:" + name + "}:wake"),
        base_("{" + options.prefix + ":topic:" + name + "}:"),
        options_(std::move(options)),
        consumer_(consumer_name()) {}

  ~Impl() override { stop(); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  void publish(std::vector<ports::OutgoingMessage> messages, ports::Callback<void> done) {
    worker_->post([this, messages = std::move(messages),
                   done = std::move(done)](Connection& connection) {
      const auto now = clock_->now();
      std::vector<std::string> args{
          base_,
          to_micros(now),
          to_micros(now - options_.dedup_window),
          std::to_string(
              std::chrono::ceil<std::chrono::milliseconds>(options_.dedup_window).count() + 1000),
          std::to_string(options_.max_length),
          base_ + "wake"};
      for (const auto& message : messages) {
        args.insert(args.end(), {message.dedup_id, message.ordering_key,
                                 to_micros(message.event_time), message.body});
      }
      auto reply = connection.eval(kPublish, {stream(), base_ + "gen"}, args);
      if (!reply.ok()) {
        done(reply.error());
        return;
      }
      if (!polls_.empty()) polls_.serve(connection);
      done({});
    });
  }

  std::uint64_t open(const std::string& name) {
    worker_->run([this, name](Connection& connection) { create_group(connection, name); },
                 std::chrono::milliseconds(5000));
    return next_handle_.fetch_add(1);
  }

  void receive(const std::string& name, std::uint64_t handle, std::size_t max_messages,
               domain::Duration wait, domain::Duration visibility,
               ports::Callback<std::vector<ports::Delivery>> done) {
    long_poll(
        handle,
        [this, name, max_messages, visibility](Connection& connection) {
          return fetch(connection, name, max_messages, visibility);
        },
        max_messages == 0 ? domain::Duration::zero() : wait, std::move(done));
  }

  void ack(const std::string& name, std::vector<std::string> receipts, ports::Callback<void> done) {
    answer_on<void>(*worker_, std::move(done),
                    [this, name, receipts = std::move(receipts)](Connection& connection) {
                      std::vector<std::string> args{subscription_base(name), name};
                      args.insert(args.end(), receipts.begin(), receipts.end());
                      auto reply = connection.eval(kAck, {stream()}, args);
                      return reply.ok() ? ports::Result<void>{} : reply.error();
                    });
  }

  void prune(const std::string& prefix, domain::Duration idle,
             ports::Callback<std::vector<std::string>> done) {
    answer_on<std::vector<std::string>>(
        *worker_, std::move(done),
        [this, prefix, idle](Connection& connection) -> ports::Result<std::vector<std::string>> {
          const auto idle_ms = std::chrono::duration_cast<std::chrono::milliseconds>(idle).count();
          auto reply =
              connection.eval(kPrune, {stream()}, {base_ + "s:", prefix, std::to_string(idle_ms)});
          if (!reply.ok()) return reply.error();
          std::vector<std::string> names;
          for (const auto* name : reply_elements(*reply.value()))
            names.push_back(reply_text(*name));
          return names;
        });
  }

  void close(std::uint64_t handle) {
    worker_->run([this, handle](Connection&) { polls_.close(handle, "subscription closed"); },
                 std::chrono::milliseconds(1000));
  }

 private:
  std::string stream() const { return base_ + "log"; }
  std::string subscription_base(const std::string& name) const { return base_ + "s:" + name + ":"; }

  ports::Result<void> create_group(Connection& connection, const std::string& name) {
    auto reply = connection.command({"XGROUP", "CREATE", stream(), name, "$", "MKSTREAM"});
    if (reply.ok() || reply.error().message.find("BUSYGROUP") != std::string::npos) return {};
    return reply.error();
  }

  ports::Result<Fetch> fetch(Connection& connection, const std::string& name, std::size_t max,
                             domain::Duration visibility) {
    for (int attempt = 0;; ++attempt) {
      const auto now = clock_->now();
      auto reply = connection.eval(kReceive, {stream()},
                                   {subscription_base(name), name, consumer_, std::to_string(max),
                                    to_micros(now), to_micros(now + visibility)});
      if (reply.ok()) return parse_fetch(reply.value());
      if (attempt > 0 || reply.error().message.find("NOGROUP") == std::string::npos) {
        return reply.error();
      }
      if (auto created = create_group(connection, name); !created.ok()) return created.error();
    }
  }

  const std::string base_;
  const Options options_;
  const std::string consumer_;
  std::atomic<std::uint64_t> next_handle_{1};
};

namespace {

class RedisSubscription final : public ports::Subscription {
 public:
  RedisSubscription(std::shared_ptr<RedisTopic::Impl> topic, std::string name)
      : topic_(std::move(topic)), name_(std::move(name)), handle_(topic_->open(name_)) {}
  ~RedisSubscription() override { topic_->close(handle_); }
  RedisSubscription(const RedisSubscription&) = delete;
  RedisSubscription& operator=(const RedisSubscription&) = delete;

  void receive(std::size_t max_messages, domain::Duration wait, domain::Duration visibility,
               ports::Callback<std::vector<ports::Delivery>> done) override {
    topic_->receive(name_, handle_, max_messages, wait, visibility, std::move(done));
  }

  void ack(std::vector<std::string> receipts, ports::Callback<void> done) override {
    topic_->ack(name_, std::move(receipts), std::move(done));
  }

 private:
  const std::shared_ptr<RedisTopic::Impl> topic_;
  const std::string name_;
  const std::uint64_t handle_;
};

}  // namespace

RedisTopic::RedisTopic(const std::string& url, const std::string& name, ports::ClockPtr clock,
                       Options options)
    : impl_(std::make_shared<Impl>(url, name, std::move(clock), std::move(options))) {}

RedisTopic::~RedisTopic() = default;

void RedisTopic::publish(std::vector<ports::OutgoingMessage> messages, ports::Callback<void> done) {
  impl_->publish(std::move(messages), std::move(done));
}

void RedisTopic::prune_idle_subscriptions(const std::string& prefix, domain::Duration idle,
                                          ports::Callback<std::vector<std::string>> done) {
  impl_->prune(prefix, idle, std::move(done));
}

ports::SubscriptionPtr RedisTopic::subscribe(const std::string& name) {
  return std::make_unique<RedisSubscription>(impl_, name);
}

}  // namespace gavel::adapters::redis
