#include "adapters/redis/redis_queue.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <mutex>
#include <string_view>
#include <utility>

#include "adapters/redis/adapter_core.hpp"

namespace gavel::adapters::redis {

namespace {

// Shared by every queue script. ARGV[1]: key base, ARGV[2]: now (µs), ARGV[3]: max deliveries;
// each script's own arguments follow.
constexpr std::string_view kPrelude = R"lua(
local base, now, max_deliveries = ARGV[1], ARGV[2], tonumber(ARGV[3])
local function msg(id) return base .. 'm:' .. id end

-- Restores: a key is in `ready` (by its head's seq) iff it has visible messages and none in
-- flight.
local function refresh(key)
  redis.call('ZREM', base .. 'ready', key)
  if redis.call('HEXISTS', base .. 'busy', key) == 0 then
    local head = redis.call('ZRANGE', base .. 'k:' .. key, 0, 0, 'WITHSCORES')
    if head[1] then redis.call('ZADD', base .. 'ready', head[2], key) end
  end
end

-- Makes a stored message visible at its seq.
local function enqueue(id)
  local fields = redis.call('HMGET', msg(id), 'k', 'seq')
  redis.call('HDEL', msg(id), 'r')
  redis.call('ZADD', base .. 'k:' .. fields[1], fields[2], id)
  refresh(fields[1])
end

-- Takes a message out of flight; answers its key (the caller refreshes it).
local function land(id)
  local key = redis.call('HGET', msg(id), 'k')
  redis.call('ZREM', base .. 'inflight', id)
  redis.call('HDEL', msg(id), 'r')
  if redis.call('HINCRBY', base .. 'busy', key, -1) <= 0 then
    redis.call('HDEL', base .. 'busy', key)
  end
  return key
end

-- `unsettled` holds every message sent and not yet acknowledged or dead-lettered, delivered or
-- not, by event time: the watermark. A bid in flight on one engine so holds back the close of
-- its auction on every engine. A redriven dead letter is not counted again.
local function settled(id) redis.call('ZREM', base .. 'unsettled', id) end

local function to_dead(id, reason, at)
  settled(id)
  local f = redis.call('HMGET', msg(id), 'k', 'd', 't', 'b', 'n', 'ff')
  local entry = redis.call('XADD', base .. 'dlq', '*', 'id', id, 'k', f[1], 'd', f[2], 't', f[3],
                           'b', f[4], 'n', f[5], 'reason', reason, 'ff', f[6] or at, 'lf', at)
  redis.call('HSET', base .. 'dlqidx', id, entry)
  redis.call('DEL', msg(id))
end

-- A landed message failed at `at`: back to the queue, or dead once out of deliveries.
local function fail(id, reason, at)
  redis.call('HSETNX', msg(id), 'ff', at)
  if tonumber(redis.call('HGET', msg(id), 'n')) >= max_deliveries then
    to_dead(id, reason, at)
  else
    enqueue(id)
  end
end

local function wake() redis.call('PUBLISH', base .. 'wake', '1') end

-- Deliveries whose visibility ended come back (or die), failing at that end.
local function reclaim()
  local expired = redis.call('ZRANGEBYSCORE', base .. 'inflight', '-inf', now, 'WITHSCORES',
                             'LIMIT', 0, 1000)
  for i = 1, #expired, 2 do
    local id = expired[i]
    local key = land(id)
    fail(id, 'max deliveries exceeded', expired[i + 1])
    refresh(key)
  end
  if #expired > 0 then wake() end
end
)lua";

// ARGV[4]: lateness cutoff, [5]: dedup cutoff, [6]: dedup key TTL ms; then (ordering key,
// dedup id, event time, body) per message. Checks every message before writing any: a late
// one refuses the whole call. Answers (message id, duplicate 0/1, the first message's body or
// nil) per message: a duplicate's sender learns what was sent first while the queue holds it
// (waiting, in flight or in the DLQ); once acknowledged it is gone, and so is the body.
constexpr std::string_view kSend = R"lua(
local count = (#ARGV - 6) / 4
local answers, first_in_call = {}, {}
for i = 1, count do
  local o = 6 + (i - 1) * 4
  local dedup, t = ARGV[o + 2], ARGV[o + 3]
  local duplicate = false
  if dedup ~= '' then
    local seen = redis.call('GET', base .. 'dd:' .. dedup)
    if seen then
      local at, id = string.match(seen, '^(%d+)|(.*)$')
      if tonumber(at) > tonumber(ARGV[5]) then duplicate = id end
    end
    if not duplicate and first_in_call[dedup] then duplicate = first_in_call[dedup] end
    if not duplicate then first_in_call[dedup] = i end
  end
  if not duplicate and tonumber(t) < tonumber(ARGV[4]) then
    return redis.error_reply('LATE message ' .. i .. ' has an event_time older than the ' ..
                             "queue's lateness bound")
  end
  answers[i] = duplicate
end
local function held_body(id)
  local body = redis.call('HGET', msg(id), 'b')
  if body then return body end
  local entry = redis.call('HGET', base .. 'dlqidx', id)
  if not entry then return false end
  local letter = redis.call('XRANGE', base .. 'dlq', entry, entry)[1]
  if not letter then return false end
  for j = 1, #letter[2], 2 do
    if letter[2][j] == 'b' then return letter[2][j + 1] end
  end
  return false
end
local out = {}
for i = 1, count do
  local o = 6 + (i - 1) * 4
  local duplicate = answers[i]
  if type(duplicate) == 'number' then
    out[i] = {out[duplicate][1], 1, ARGV[6 + (duplicate - 1) * 4 + 4]}
  elseif duplicate then
    out[i] = {duplicate, 1, held_body(duplicate)}
  else
    local key, dedup, t, body = ARGV[o + 1], ARGV[o + 2], ARGV[o + 3], ARGV[o + 4]
    local id = 'm-' .. redis.call('INCR', base .. 'ids')
    redis.call('HSET', msg(id), 'k', key, 'd', dedup, 't', t, 'b', body, 'n', 0,
               'seq', redis.call('INCR', base .. 'seq'))
    if dedup ~= '' then
      redis.call('SET', base .. 'dd:' .. dedup, now .. '|' .. id, 'PX', ARGV[6])
    end
    redis.call('ZADD', base .. 'unsettled', t, id)
    enqueue(id)
    out[i] = {id, 0, false}
  end
end
if count > 0 then wake() end
return out
)lua";

// ARGV[4]: max messages, [5]: visibility end. Oldest head first; a key taken may go on within
// the call. Answers {deliveries, earliest visibility end or nil}.
constexpr std::string_view kReceive = R"lua(
reclaim()
local max, deadline = tonumber(ARGV[4]), ARGV[5]
local out, taken = {}, {}
while #out < max do
  local key = redis.call('ZRANGE', base .. 'ready', 0, 0)[1]
  if not key then break end
  local visible = base .. 'k:' .. key
  local id = redis.call('ZRANGE', visible, 0, 0)[1]
  redis.call('ZREM', visible, id)
  redis.call('HINCRBY', base .. 'busy', key, 1)
  local n = redis.call('HINCRBY', msg(id), 'n', 1)
  local receipt = id .. '#' .. n
  redis.call('HSET', msg(id), 'r', receipt)
  redis.call('ZADD', base .. 'inflight', deadline, id)
  local f = redis.call('HMGET', msg(id), 't', 'b')
  out[#out + 1] = {id, receipt, key, f[1], f[2], n}
  local next_head = redis.call('ZRANGE', visible, 0, 0, 'WITHSCORES')
  if next_head[1] then
    redis.call('ZADD', base .. 'ready', next_head[2], key)
  else
    redis.call('ZREM', base .. 'ready', key)
  end
  taken[key] = true
end
for key in pairs(taken) do refresh(key) end
local next_visible = redis.call('ZRANGE', base .. 'inflight', 0, 0, 'WITHSCORES')
return {out, next_visible[2] or false}
)lua";

// ARGV[4]: 'ack' | 'nack' | 'dead', [5]: reason; then receipts. Only a delivery's current
// receipt, while in flight, settles it.
constexpr std::string_view kSettle = R"lua(
reclaim()
local mode, reason = ARGV[4], ARGV[5]
local released = false
for i = 6, #ARGV do
  local receipt = ARGV[i]
  local id = string.match(receipt, '^(.-)#%d+$')
  if id and redis.call('HGET', msg(id), 'r') == receipt
     and redis.call('ZSCORE', base .. 'inflight', id) then
    local key = land(id)
    if mode == 'ack' then
      settled(id)
      redis.call('DEL', msg(id))
    elseif mode == 'nack' then
      fail(id, reason, now)
    else
      to_dead(id, reason, now)
    end
    refresh(key)
    released = true
  end
end
if released then wake() end
return 1
)lua";

// ARGV[4]: limit. Oldest first.
constexpr std::string_view kListDead = R"lua(
reclaim()
return redis.call('XRANGE', base .. 'dlq', '-', '+', 'COUNT', ARGV[4])
)lua";

// Message ids follow ARGV[3]. A redriven message gets a new seq and a fresh count; ids not in
// the dead-letter stream are skipped.
constexpr std::string_view kRedrive = R"lua(
reclaim()
local moved = 0
for i = 4, #ARGV do
  local id = ARGV[i]
  local entry_id = redis.call('HGET', base .. 'dlqidx', id)
  if entry_id then
    local entry = redis.call('XRANGE', base .. 'dlq', entry_id, entry_id)[1]
    redis.call('XDEL', base .. 'dlq', entry_id)
    redis.call('HDEL', base .. 'dlqidx', id)
    if entry then
      local f = {}
      for j = 1, #entry[2], 2 do f[entry[2][j]] = entry[2][j + 1] end
      redis.call('HSET', msg(id), 'k', f.k, 'd', f.d, 't', f.t, 'b', f.b, 'n', 0,
                 'seq', redis.call('INCR', base .. 'seq'))
      enqueue(id)
      moved = moved + 1
    end
  end
end
if moved > 0 then wake() end
return moved
)lua";

constexpr std::string_view kPurge = R"lua(
reclaim()
local count = redis.call('XLEN', base .. 'dlq')
redis.call('DEL', base .. 'dlq', base .. 'dlqidx')
return count
)lua";

// Answers {waiting, in flight, oldest event time or nil, dead letters}. Costs one step per
// ordering key with waiting messages and per message in flight, not per message waiting: a
// key's waiting messages are counted by ZCARD and only its first one is read for the oldest
// time, besides every in-flight message and the oldest unsettled one (`unsettled`).
// So the oldest time misses only a message that came back (or was redriven) behind another of
// its key with a later event time, which the lateness bound keeps within seconds.
constexpr std::string_view kStats = R"lua(
reclaim()
local waiting, oldest = 0, nil
local function older(t)
  t = tonumber(t)
  if t and (not oldest or t < oldest) then oldest = t end
end
-- `ready` and `busy` hold every key with waiting messages (and are disjoint).
local function count(key)
  local visible = base .. 'k:' .. key
  waiting = waiting + redis.call('ZCARD', visible)
  local head = redis.call('ZRANGE', visible, 0, 0)[1]
  if head then older(redis.call('HGET', msg(head), 't')) end
end
for _, key in ipairs(redis.call('ZRANGE', base .. 'ready', 0, -1)) do count(key) end
for _, key in ipairs(redis.call('HKEYS', base .. 'busy')) do count(key) end
local inflight = redis.call('ZRANGE', base .. 'inflight', 0, -1)
for _, id in ipairs(inflight) do older(redis.call('HGET', msg(id), 't')) end
local first = redis.call('ZRANGE', base .. 'unsettled', 0, 0, 'WITHSCORES')
if first[2] then older(first[2]) end
return {waiting, #inflight, oldest or false, redis.call('XLEN', base .. 'dlq')}
)lua";

// The scripts with the prelude in front, built once.
const std::string& source(std::string_view body) {
  static const auto* sources = new std::vector<std::string>{
      std::string(kPrelude) + std::string(kSend),    std::string(kPrelude) + std::string(kReceive),
      std::string(kPrelude) + std::string(kSettle),  std::string(kPrelude) + std::string(kListDead),
      std::string(kPrelude) + std::string(kRedrive), std::string(kPrelude) + std::string(kPurge),
      std::string(kPrelude) + std::string(kStats)};
  for (const auto& full : *sources) {
    if (full.ends_with(body)) return full;
  }
  return sources->front();  // unreachable: every body is listed above
}

Script script(std::string_view body) {
  return Script{source(body)};
}

ports::Result<void> done_or_error(const ports::Result<Reply>& reply) {
  return reply.ok() ? ports::Result<void>{} : reply.error();
}

std::string field(const std::vector<const redisReply*>& pairs, std::string_view name) {
  for (std::size_t i = 0; i + 1 < pairs.size(); i += 2) {
    if (reply_text(*pairs[i]) == name) return reply_text(*pairs[i + 1]);
  }
  return {};
}

}  // namespace

class RedisQueue::Impl final : public AdapterCore {
 public:
  Impl(const std::string& url, const std::string& name, ports::ClockPtr clock, Options options)
      : AdapterCore(url, options.connection, std::move(clock),
                    "{" + options.prefix + ":queue:" + name + "}:wake"),
        base_("{" + options.prefix + ":queue:" + name + "}:"),
        options_(std::move(options)) {}

  ~Impl() override {
    worker_->run([this](Connection&) { polls_.close(std::nullopt, "queue closed"); },
                 std::chrono::milliseconds(1000));
    stop();
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  // Sends that arrive while the worker is busy go to Redis together, as one script call: with
  // appendfsync always each call costs an fsync, so one call per send would bound intake at a
  // few thousand a second whatever the number of gateways' connections.
  void send(std::vector<ports::OutgoingMessage> messages,
            ports::Callback<std::vector<ports::SendReceipt>> done) {
    {
      std::lock_guard lock{sends_mutex_};
      sends_.push_back({std::move(messages), std::move(done)});
      if (flush_posted_) return;
      flush_posted_ = true;
    }
    worker_->post([this](Connection& connection) { flush_sends(connection); });
  }

  void receive(ports::ReceiveOptions options, ports::Callback<std::vector<ports::Delivery>> done) {
    long_poll(
        0,
        [this, options](Connection& connection) -> ports::Result<Fetch> {
          const auto now = clock_->now();
          auto args = common(now);
          args.insert(args.end(),
                      {std::to_string(options.max_messages), to_micros(now + options.visibility)});
          auto reply = connection.eval(script(kReceive), {}, args);
          if (!reply.ok()) return reply.error();
          return parse_fetch(reply.value());
        },
        options.max_messages == 0 ? domain::Duration::zero() : options.wait, std::move(done));
  }

  void settle(std::string_view mode, std::vector<std::string> receipts, std::string reason,
              ports::Callback<void> done) {
    run_and_serve<void>(std::move(done),
                        [this, mode = std::string(mode), receipts = std::move(receipts),
                         reason = std::move(reason)](Connection& connection) {
                          auto args = common(clock_->now());
                          args.insert(args.end(), {mode, reason});
                          args.insert(args.end(), receipts.begin(), receipts.end());
                          return done_or_error(connection.eval(script(kSettle), {}, args));
                        });
  }

  void list_dead_letters(std::size_t limit, ports::Callback<std::vector<ports::DeadLetter>> done) {
    using Letters = std::vector<ports::DeadLetter>;
    answer_on<Letters>(
        *worker_, std::move(done), [this, limit](Connection& connection) -> ports::Result<Letters> {
          Letters letters;
          if (limit == 0) return letters;
          auto args = common(clock_->now());
          args.push_back(std::to_string(limit));
          auto reply = connection.eval(script(kListDead), {}, args);
          if (!reply.ok()) return reply.error();
          for (const redisReply* entry : reply_elements(*reply.value())) {
            const auto parts = reply_elements(*entry);
            if (parts.size() != 2) continue;
            const auto fields = reply_elements(*parts[1]);
            letters.push_back(ports::DeadLetter{
                field(fields, "id"), field(fields, "k"), field(fields, "d"),
                from_micros(field(fields, "t")), field(fields, "b"),
                static_cast<int>(std::stol("0" + field(fields, "n"))), field(fields, "reason"),
                from_micros(field(fields, "ff")), from_micros(field(fields, "lf"))});
          }
          return letters;
        });
  }

  void redrive(std::vector<std::string> message_ids, ports::Callback<std::size_t> done) {
    run_and_serve<std::size_t>(
        std::move(done),
        [this, ids = std::move(message_ids)](Connection& connection) -> ports::Result<std::size_t> {
          auto args = common(clock_->now());
          args.insert(args.end(), ids.begin(), ids.end());
          auto reply = connection.eval(script(kRedrive), {}, args);
          if (!reply.ok()) return reply.error();
          return static_cast<std::size_t>(reply_integer(*reply.value()));
        });
  }

  void purge_dead_letters(ports::Callback<std::size_t> done) {
    answer_on<std::size_t>(
        *worker_, std::move(done), [this](Connection& connection) -> ports::Result<std::size_t> {
          auto reply = connection.eval(script(kPurge), {}, common(clock_->now()));
          if (!reply.ok()) return reply.error();
          return static_cast<std::size_t>(reply_integer(*reply.value()));
        });
  }

  void watermark(ports::Callback<domain::Timestamp> done) {
    answer_on<domain::Timestamp>(
        *worker_, std::move(done),
        [this](Connection& connection) -> ports::Result<domain::Timestamp> {
          // Read the clock before the server: a message sent in between has an event time
          // after now - max_lateness, so the bound still holds for it.
          const domain::Timestamp bound = clock_->now() - options_.max_lateness;
          auto reply = connection.command({"ZRANGE", base_ + "unsettled", "0", "0", "WITHSCORES"});
          if (!reply.ok()) return reply.error();
          const auto oldest = reply_elements(*reply.value());
          if (oldest.size() == 2) return std::min(bound, from_micros(reply_text(*oldest[1])));
          return bound;
        });
  }

  void stats(ports::Callback<ports::QueueStats> done) {
    // Served after: the script's reclaim may have made expired deliveries visible again.
    run_and_serve<ports::QueueStats>(
        std::move(done), [this](Connection& connection) -> ports::Result<ports::QueueStats> {
          auto reply = connection.eval(script(kStats), {}, common(clock_->now()));
          if (!reply.ok()) return reply.error();
          const auto parts = reply_elements(*reply.value());
          if (parts.size() != 4) {
            return ports::Error{ports::ErrorKind::retryable, "redis queue: malformed stats"};
          }
          ports::QueueStats stats;
          stats.waiting = static_cast<std::size_t>(reply_integer(*parts[0]));
          stats.in_flight = static_cast<std::size_t>(reply_integer(*parts[1]));
          if (!reply_nil(*parts[2])) stats.oldest_event_time = from_micros(reply_text(*parts[2]));
          stats.dead_letters = static_cast<std::size_t>(reply_integer(*parts[3]));
          return stats;
        });
  }

 private:
  std::vector<std::string> common(domain::Timestamp now) const {
    return {base_, to_micros(now), std::to_string(options_.max_deliveries)};
  }

  // Runs `work` on the worker and, when it succeeded, serves this process's long polls before
  // answering: what it enqueued or released goes to a waiting receive first.
  template <typename T, typename Work>
  void run_and_serve(ports::Callback<T> done, Work work) {
    worker_->post([this, done = std::move(done), work = std::move(work)](Connection& connection) {
      auto result = work(connection);
      if (result.ok() && !polls_.empty()) polls_.serve(connection);
      done(std::move(result));
    });
  }

  using Receipts = std::vector<ports::SendReceipt>;
  struct PendingSend {
    std::vector<ports::OutgoingMessage> messages;
    ports::Callback<Receipts> done;
  };

  void flush_sends(Connection& connection) {
    std::vector<PendingSend> batch;
    {
      std::lock_guard lock{sends_mutex_};
      batch.swap(sends_);
      flush_posted_ = false;
    }
    std::vector<const ports::OutgoingMessage*> all;
    for (const auto& pending : batch) {
      for (const auto& message : pending.messages) all.push_back(&message);
    }
    std::vector<ports::Result<Receipts>> answers;
    auto together = send_now(connection, all);
    if (together.ok()) {
      std::size_t next = 0;
      for (const auto& pending : batch) {
        const auto first = together.value().begin() + static_cast<std::ptrdiff_t>(next);
        answers.emplace_back(
            Receipts(first, first + static_cast<std::ptrdiff_t>(pending.messages.size())));
        next += pending.messages.size();
      }
    } else if (batch.size() == 1) {
      answers.push_back(std::move(together));
    } else {
      // One caller's refusal (a late message refuses its whole send) must not refuse the
      // others: each is sent on its own again.
      for (const auto& pending : batch) {
        std::vector<const ports::OutgoingMessage*> own;
        for (const auto& message : pending.messages) own.push_back(&message);
        answers.push_back(send_now(connection, own));
      }
    }
    const bool any_ok =
        std::any_of(answers.begin(), answers.end(), [](const auto& answer) { return answer.ok(); });
    if (any_ok && !polls_.empty()) polls_.serve(connection);
    for (std::size_t i = 0; i < batch.size(); ++i) batch[i].done(std::move(answers[i]));
  }

  ports::Result<Receipts> send_now(Connection& connection,
                                   const std::vector<const ports::OutgoingMessage*>& messages) {
    const auto now = clock_->now();
    auto args = common(now);
    args.insert(
        args.end(),
        {to_micros(now - options_.max_lateness), to_micros(now - options_.dedup_window),
         std::to_string(
             std::chrono::ceil<std::chrono::milliseconds>(options_.dedup_window).count() + 1000)});
    for (const auto* message : messages) {
      args.insert(args.end(), {message->ordering_key, message->dedup_id,
                               to_micros(message->event_time), message->body});
    }
    auto reply = connection.eval(script(kSend), {}, args);
    if (!reply.ok()) {
      if (reply.error().message.find("LATE ") != std::string::npos) {
        return ports::Error{ports::ErrorKind::permanent,
                            "a message's event_time is older than the queue's lateness bound (" +
                                domain::format_rfc3339(now - options_.max_lateness) + ")"};
      }
      return reply.error();
    }
    Receipts receipts;
    for (const redisReply* item : reply_elements(*reply.value())) {
      const auto fields = reply_elements(*item);
      if (fields.size() != 3) {
        return ports::Error{ports::ErrorKind::retryable, "redis queue: malformed send"};
      }
      ports::SendReceipt receipt;
      receipt.message_id = reply_text(*fields[0]);
      receipt.duplicate = reply_integer(*fields[1]) == 1;
      if (fields[2]->type != REDIS_REPLY_NIL) receipt.first_body = reply_text(*fields[2]);
      receipts.push_back(std::move(receipt));
    }
    if (receipts.size() != messages.size()) {
      return ports::Error{ports::ErrorKind::retryable,
                          "redis queue: send answered the wrong count"};
    }
    return receipts;
  }

  std::mutex sends_mutex_;
  std::vector<PendingSend> sends_;
  bool flush_posted_ = false;
  const std::string base_;
  const Options options_;
};

RedisQueue::RedisQueue(const std::string& url, const std::string& name, ports::ClockPtr clock,
                       Options options)
    : impl_(std::make_shared<Impl>(url, name, std::move(clock), std::move(options))) {}

RedisQueue::~RedisQueue() = default;

void RedisQueue::send(std::vector<ports::OutgoingMessage> messages,
                      ports::Callback<std::vector<ports::SendReceipt>> done) {
  impl_->send(std::move(messages), std::move(done));
}
void RedisQueue::receive(ports::ReceiveOptions options,
                         ports::Callback<std::vector<ports::Delivery>> done) {
  impl_->receive(options, std::move(done));
}
void RedisQueue::ack(std::vector<std::string> receipts, ports::Callback<void> done) {
  impl_->settle("ack", std::move(receipts), {}, std::move(done));
}
void RedisQueue::nack(std::vector<std::string> receipts, std::string reason,
                      ports::Callback<void> done) {
  impl_->settle("nack", std::move(receipts), std::move(reason), std::move(done));
}
void RedisQueue::dead_letter(std::vector<std::string> receipts, std::string reason,
                             ports::Callback<void> done) {
  impl_->settle("dead", std::move(receipts), std::move(reason), std::move(done));
}
void RedisQueue::list_dead_letters(std::size_t limit,
                                   ports::Callback<std::vector<ports::DeadLetter>> done) {
  impl_->list_dead_letters(limit, std::move(done));
}
void RedisQueue::redrive(std::vector<std::string> message_ids, ports::Callback<std::size_t> done) {
  impl_->redrive(std::move(message_ids), std::move(done));
}
void RedisQueue::purge_dead_letters(ports::Callback<std::size_t> done) {
  impl_->purge_dead_letters(std::move(done));
}
void RedisQueue::watermark(ports::Callback<domain::Timestamp> done) {
  impl_->watermark(std::move(done));
}
void RedisQueue::stats(ports::Callback<ports::QueueStats> done) {
  impl_->stats(std::move(done));
}

}  // namespace gavel::adapters::redis
