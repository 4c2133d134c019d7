#include "adapters/redis/redis_queue.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>

#include "adapters/redis/adapter_core.hpp"
#include "ports/thread_name.hpp"

namespace gavel::adapters::redis {

namespace {

// Shared by every queue script. ARGV[1]: the partition's key base, ARGV[2]: now (µs), ARGV[3]:
// max deliveries, ARGV[4]: the queue's wake channel (one for all partitions); each script's own
// arguments follow.
constexpr std::string_view kPrelude = R"lua(
local base, now, max_deliveries, wake_channel = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
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

local function wake() redis.call('PUBLISH', wake_channel, '1') end

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

// ARGV[5]: lateness cutoff, [6]: dedup cutoff, [7]: dedup key TTL ms; then (ordering key,
// dedup id, event time, body) per message. Checks every message before writing any: a late
// one refuses the whole call. Answers (message id, duplicate 0/1, the first message's body or
// nil) per message: a duplicate's sender learns what was sent first while the queue holds it
// (waiting, in flight or in the DLQ); once acknowledged it is gone, and so is the body.
constexpr std::string_view kSend = R"lua(
local count = (#ARGV - 7) / 4
local answers, first_in_call = {}, {}
for i = 1, count do
  local o = 7 + (i - 1) * 4
  local dedup, t = ARGV[o + 2], ARGV[o + 3]
  local duplicate = false
  if dedup ~= '' then
    local seen = redis.call('GET', base .. 'dd:' .. dedup)
    if seen then
      local at, id = string.match(seen, '^(%d+)|(.*)$')
      if tonumber(at) > tonumber(ARGV[6]) then duplicate = id end
    end
    if not duplicate and first_in_call[dedup] then duplicate = first_in_call[dedup] end
    if not duplicate then first_in_call[dedup] = i end
  end
  if not duplicate and tonumber(t) < tonumber(ARGV[5]) then
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
  local o = 7 + (i - 1) * 4
  local duplicate = answers[i]
  if type(duplicate) == 'number' then
    out[i] = {out[duplicate][1], 1, ARGV[7 + (duplicate - 1) * 4 + 4]}
  elseif duplicate then
    out[i] = {duplicate, 1, held_body(duplicate)}
  else
    local key, dedup, t, body = ARGV[o + 1], ARGV[o + 2], ARGV[o + 3], ARGV[o + 4]
    local id = 'm-' .. redis.call('INCR', base .. 'ids')
    redis.call('HSET', msg(id), 'k', key, 'd', dedup, 't', t, 'b', body, 'n', 0,
               'seq', redis.call('INCR', base .. 'seq'))
    if dedup ~= '' then
      redis.call('SET', base .. 'dd:' .. dedup, now .. '|' .. id, 'PX', ARGV[7])
    end
    redis.call('ZADD', base .. 'unsettled', t, id)
    enqueue(id)
    out[i] = {id, 0, false}
  end
end
if count > 0 then wake() end
return out
)lua";

// ARGV[5]: max messages, [6]: visibility end, [7]: the receiver holding the partition's lease
// (empty without leases: then anyone receives). Oldest head first; a key taken may go on within
// the call. Answers {deliveries, earliest visibility end or nil}; nothing to a receiver that
// does not hold the lease (it lapsed: another receiver may hold it now).
constexpr std::string_view kReceive = R"lua(
reclaim()
local max, deadline, owner = tonumber(ARGV[5]), ARGV[6], ARGV[7]
if owner ~= '' and redis.call('GET', base .. 'lease') ~= owner then return {{}, false} end
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
  redis.call('HSET', msg(id), 'r', receipt, 'o', owner)
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

// ARGV[5]: 'ack' | 'nack' | 'dead', [6]: reason; then receipts. Only a delivery's current
// receipt, while in flight, settles it.
constexpr std::string_view kSettle = R"lua(
reclaim()
local mode, reason = ARGV[5], ARGV[6]
local released = false
for i = 7, #ARGV do
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

// ARGV[5]: limit. Oldest first.
constexpr std::string_view kListDead = R"lua(
reclaim()
return redis.call('XRANGE', base .. 'dlq', '-', '+', 'COUNT', ARGV[5])
)lua";

// Message ids follow ARGV[4]. A redriven message gets a new seq and a fresh count; ids not in
// the dead-letter stream are skipped.
constexpr std::string_view kRedrive = R"lua(
reclaim()
local moved = 0
for i = 5, #ARGV do
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

// ARGV[5...]: the receivers alive. Deliveries in flight to a receiver that is gone (its lease
// lapsed with its heartbeat) come back at once, as if their visibility had ended, instead of
// waiting for it: a partition taken over is served within the lease time.
constexpr std::string_view kTakeOver = R"lua(
reclaim()
local alive = {}
for i = 5, #ARGV do alive[ARGV[i]] = true end
local back = 0
for _, id in ipairs(redis.call('ZRANGE', base .. 'inflight', 0, -1)) do
  local owner = redis.call('HGET', msg(id), 'o')
  if owner and owner ~= '' and not alive[owner] then
    local key = land(id)
    fail(id, 'its receiver is gone', now)
    refresh(key)
    back = back + 1
  end
end
if back > 0 then wake() end
return back
)lua";

// The scripts with the prelude in front, built once.
const std::string& source(std::string_view body) {
  static const auto* sources =
      new std::vector<std::string>{std::string(kPrelude) + std::string(kSend),
                                   std::string(kPrelude) + std::string(kReceive),
                                   std::string(kPrelude) + std::string(kSettle),
                                   std::string(kPrelude) + std::string(kListDead),
                                   std::string(kPrelude) + std::string(kRedrive),
                                   std::string(kPrelude) + std::string(kPurge),
                                   std::string(kPrelude) + std::string(kStats),
                                   std::string(kPrelude) + std::string(kTakeOver)};
  for (const auto& full : *sources) {
    if (full.ends_with(body)) return full;
  }
  return sources->front();  // unreachable: every body is listed above
}

Script script(std::string_view body) {
  return Script{source(body)};
}

// Leases (standalone scripts; times are the server's own, so they need no clock in step).
// ARGV[1]: members key, [2]: this receiver, [3]: lease ms. Renews this receiver's heartbeat,
// forgets the lapsed ones, answers the receivers alive.
constexpr std::string_view kHeartbeat = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', ARGV[1], '-inf', now)
redis.call('ZADD', ARGV[1], now + tonumber(ARGV[3]), ARGV[2])
return redis.call('ZRANGE', ARGV[1], 0, -1)
)lua";

// ARGV[1]: a partition's lease key, [2]: this receiver, [3]: lease ms, [4]: 'take' | 'renew' |
// 'give'. Answers 1 when this receiver holds the lease afterwards (take, renew) or gave it up.
constexpr std::string_view kLease = R"lua(
local holder = redis.call('GET', ARGV[1])
if ARGV[4] == 'take' then
  if holder and holder ~= ARGV[2] then return 0 end
  redis.call('SET', ARGV[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
if holder ~= ARGV[2] then return 0 end
if ARGV[4] == 'renew' then
  redis.call('PEXPIRE', ARGV[1], ARGV[3])
else
  redis.call('DEL', ARGV[1])
end
return 1
)lua";

std::string field(const std::vector<const redisReply*>& pairs, std::string_view name) {
  for (std::size_t i = 0; i + 1 < pairs.size(); i += 2) {
    if (reply_text(*pairs[i]) == name) return reply_text(*pairs[i + 1]);
  }
  return {};
}

// FNV-1a: the same partition for a key in every process, whatever its build.
std::size_t partition_of(std::string_view key, std::size_t partitions) {
  std::uint64_t hash = 14695981039346656037ULL;
  for (const char c : key) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return static_cast<std::size_t>(hash % partitions);
}

// "<partition>.<rest>" (message ids and receipts): the partition and the script's own id. A dot,
// not a slash: message ids travel in URL paths (GET /v1/admin/dlq/{id}).
constexpr char kPartitionMark = '.';

std::optional<std::pair<std::size_t, std::string>> split_tagged(std::string_view tagged,
                                                                std::size_t partitions) {
  const auto mark = tagged.find(kPartitionMark);
  if (mark == std::string_view::npos) return std::nullopt;
  std::size_t partition = 0;
  const auto [end, ec] = std::from_chars(tagged.data(), tagged.data() + mark, partition);
  if (ec != std::errc{} || end != tagged.data() + mark || partition >= partitions) {
    return std::nullopt;
  }
  return std::pair{partition, std::string(tagged.substr(mark + 1))};
}

std::string tagged(std::size_t partition, std::string_view id) {
  return std::to_string(partition) + kPartitionMark + std::string(id);
}

// A stream entry id "<ms>-<seq>" as a pair that orders like the stream does.
std::pair<unsigned long long, unsigned long long> entry_order(std::string_view id) {
  unsigned long long ms = 0;
  unsigned long long seq = 0;
  const auto dash = id.find('-');
  std::from_chars(id.data(), id.data() + std::min(dash, id.size()), ms);
  if (dash != std::string_view::npos)
    std::from_chars(id.data() + dash + 1, id.data() + id.size(), seq);
  return {ms, seq};
}

std::string random_suffix() {
  std::random_device device;
  std::ostringstream out;
  out << std::hex << device() << device();
  return out.str();
}

}  // namespace

class RedisQueue::Impl final : public AdapterCore {
 public:
  Impl(const std::string& url, const std::string& name, ports::ClockPtr clock, Options options)
      : AdapterCore(url, options.connection, std::move(clock),
                    "{" + options.prefix + ":queue:" + name + "}:wake"),
        root_("{" + options.prefix + ":queue:" + name + "}:"),
        name_(name),
        receiver_(options.receiver + "-" + random_suffix()),
        options_(std::move(options)) {
    if (options_.partitions == 0)
      throw std::invalid_argument("redis queue: partitions must be > 0");
    for (std::size_t p = 0; p < options_.partitions; ++p) {
      bases_.push_back("{" + options_.prefix + ":queue:" + name + ":p" + std::to_string(p) + "}:");
    }
    demand_.assign(options_.partitions, 0);
    held_ = std::vector<std::atomic<bool>>(options_.partitions);
  }

  ~Impl() override {
    {
      std::lock_guard lock{keeper_mutex_};
      stopping_ = true;
    }
    keeper_wake_.notify_all();
    if (keeper_.joinable()) keeper_.join();
    worker_->run(
        [this](Connection& connection) {
          leave(connection);
          polls_.close(std::nullopt, "queue closed");
        },
        std::chrono::milliseconds(1000));
    stop();
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  // Sends that arrive while the worker is busy go to Redis together, one script call per
  // partition they touch: with appendfsync always each call costs an fsync, so one call per
  // send would bound intake at a few thousand a second whatever the number of connections.
  void send(std::vector<ports::OutgoingMessage> messages,
            ports::Callback<std::vector<ports::SendReceipt>> done) {
    sends_.add(*worker_, {std::move(messages), std::move(done)});
  }

  void receive(ports::ReceiveOptions options, ports::Callback<std::vector<ports::Delivery>> done) {
    long_poll(
        0,
        [this, options](Connection& connection) -> ports::Result<Fetch> {
          if (auto layout = check_layout(connection); !layout.ok()) return layout.error();
          if (leasing() && !joined_) join(connection);
          return receive_now(connection, options);
        },
        options.max_messages == 0 ? domain::Duration::zero() : options.wait, std::move(done));
  }

  void settle(std::string_view mode, std::vector<std::string> receipts, std::string reason,
              ports::Callback<void> done) {
    run_and_serve<void>(
        std::move(done),
        [this, mode = std::string(mode), receipts = std::move(receipts),
         reason = std::move(reason)](Connection& connection) -> ports::Result<void> {
          // Receipts of another partition count or format are unknown: ignored, as the port says.
          std::map<std::size_t, std::vector<std::string>> by_partition;
          for (const auto& receipt : receipts) {
            if (auto parts = split_tagged(receipt, bases_.size())) {
              by_partition[parts->first].push_back(std::move(parts->second));
            }
          }
          return for_partitions(connection, kSettle, by_partition, {mode, reason});
        });
  }

  void list_dead_letters(std::size_t limit, ports::Callback<std::vector<ports::DeadLetter>> done) {
    using Letters = std::vector<ports::DeadLetter>;
    answer_on<Letters>(
        *worker_, std::move(done), [this, limit](Connection& connection) -> ports::Result<Letters> {
          if (limit == 0) return Letters{};
          auto replies = each_partition(connection, kListDead, {std::to_string(limit)});
          // Oldest first across partitions: by dead-letter stream entry id (time, then seq).
          std::vector<std::tuple<std::pair<unsigned long long, unsigned long long>, std::size_t,
                                 ports::DeadLetter>>
              all;
          for (std::size_t p = 0; p < replies.size(); ++p) {
            if (!replies[p].ok()) return replies[p].error();
            for (const redisReply* entry : reply_elements(*replies[p].value())) {
              const auto parts = reply_elements(*entry);
              if (parts.size() != 2) continue;
              const auto fields = reply_elements(*parts[1]);
              all.emplace_back(
                  entry_order(reply_text(*parts[0])), p,
                  ports::DeadLetter{tagged(p, field(fields, "id")), field(fields, "k"),
                                    field(fields, "d"), from_micros(field(fields, "t")),
                                    field(fields, "b"),
                                    static_cast<int>(std::stol("0" + field(fields, "n"))),
                                    field(fields, "reason"), from_micros(field(fields, "ff")),
                                    from_micros(field(fields, "lf"))});
            }
          }
          std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
            return std::tie(std::get<0>(a), std::get<1>(a)) <
                   std::tie(std::get<0>(b), std::get<1>(b));
          });
          Letters letters;
          for (auto& item : all) {
            if (letters.size() == limit) break;
            letters.push_back(std::move(std::get<2>(item)));
          }
          return letters;
        });
  }

  void redrive(std::vector<std::string> message_ids, ports::Callback<std::size_t> done) {
    run_and_serve<std::size_t>(
        std::move(done),
        [this, ids = std::move(message_ids)](Connection& connection) -> ports::Result<std::size_t> {
          std::map<std::size_t, std::vector<std::string>> by_partition;
          for (const auto& id : ids) {
            if (auto parts = split_tagged(id, bases_.size())) {
              by_partition[parts->first].push_back(std::move(parts->second));
            }
          }
          return count_in_partitions(connection, kRedrive, by_partition);
        });
  }

  void purge_dead_letters(ports::Callback<std::size_t> done) {
    answer_on<std::size_t>(*worker_, std::move(done),
                           [this](Connection& connection) -> ports::Result<std::size_t> {
                             std::map<std::size_t, std::vector<std::string>> all;
                             for (std::size_t p = 0; p < bases_.size(); ++p) all[p] = {};
                             return count_in_partitions(connection, kPurge, all);
                           });
  }

  void watermark(ports::Callback<domain::Timestamp> done) {
    answer_on<domain::Timestamp>(
        *worker_, std::move(done),
        [this](Connection& connection) -> ports::Result<domain::Timestamp> {
          if (auto layout = check_layout(connection); !layout.ok()) return layout.error();
          // Read the clock before the server: a message sent in between has an event time
          // after now - max_lateness, so the bound still holds for it.
          domain::Timestamp mark = clock_->now() - options_.max_lateness;
          std::vector<std::vector<std::string>> oldest;
          for (const auto& base : bases_) {
            oldest.push_back({"ZRANGE", base + "unsettled", "0", "0", "WITHSCORES"});
          }
          for (const auto& reply : connection.pipeline(oldest)) {
            if (!reply.ok()) return reply.error();
            const auto first = reply_elements(*reply.value());
            if (first.size() == 2) mark = std::min(mark, from_micros(reply_text(*first[1])));
          }
          return mark;
        });
  }

  void stats(ports::Callback<ports::QueueStats> done) {
    // Served after: the script's reclaim may have made expired deliveries visible again.
    run_and_serve<ports::QueueStats>(
        std::move(done), [this](Connection& connection) -> ports::Result<ports::QueueStats> {
          ports::QueueStats stats;
          for (const auto& reply : each_partition(connection, kStats, {})) {
            if (!reply.ok()) return reply.error();
            const auto parts = reply_elements(*reply.value());
            if (parts.size() != 4) {
              return ports::Error{ports::ErrorKind::retryable, "redis queue: malformed stats"};
            }
            stats.waiting += static_cast<std::size_t>(reply_integer(*parts[0]));
            stats.in_flight += static_cast<std::size_t>(reply_integer(*parts[1]));
            if (!reply_nil(*parts[2])) {
              const auto oldest = from_micros(reply_text(*parts[2]));
              stats.oldest_event_time =
                  stats.oldest_event_time ? std::min(*stats.oldest_event_time, oldest) : oldest;
            }
            stats.dead_letters += static_cast<std::size_t>(reply_integer(*parts[3]));
          }
          return stats;
        });
  }

  bool receives(const std::string& ordering_key) const {
    return !leasing() || held_[partition_of(ordering_key, bases_.size())].load();
  }

 private:
  bool leasing() const { return options_.lease.count() > 0; }

  // What receives() reads from other threads: the partitions held, as of the last round.
  void publish_held() {
    for (std::size_t p = 0; p < held_.size(); ++p) held_[p] = owned_.contains(p);
  }

  std::vector<std::string> common(std::size_t partition, domain::Timestamp now) const {
    return {bases_[partition], to_micros(now), std::to_string(options_.max_deliveries),
            root_ + "wake"};
  }

  // The partition count is part of the queue: a key's messages live in the partition its hash
  // picks, so a process counting otherwise would look for them in the wrong place. The first
  // process records the count; the others refuse to work with another one.
  ports::Result<void> check_layout(Connection& connection) {
    if (layout_checked_) return {};
    const std::string key = root_ + "partitions";
    const std::string mine = std::to_string(bases_.size());
    auto replies = connection.pipeline({{"SET", key, mine, "NX"}, {"GET", key}});
    if (!replies[1].ok()) return replies[1].error();
    const std::string recorded = reply_text(*replies[1].value());
    if (recorded != mine) {
      return ports::Error{ports::ErrorKind::permanent,
                          "redis queue '" + name_ + "' has " + recorded +
                              " partitions in Redis but this process counts " + mine +
                              " (--queue-partitions): the count is fixed for the life of a queue"};
    }
    layout_checked_ = true;
    return {};
  }

  // Runs a prelude script once in each partition, pipelined, with `extra` after the common
  // arguments.
  std::vector<ports::Result<Reply>> each_partition(Connection& connection, std::string_view body,
                                                   const std::vector<std::string>& extra) {
    std::map<std::size_t, std::vector<std::string>> all;
    for (std::size_t p = 0; p < bases_.size(); ++p) all[p] = {};
    return in_partitions(connection, body, all, extra);
  }

  // Runs a prelude script in each partition of `items`, pipelined: the common arguments,
  // `extra`, then the partition's items.
  std::vector<ports::Result<Reply>> in_partitions(
      Connection& connection, std::string_view body,
      const std::map<std::size_t, std::vector<std::string>>& items,
      const std::vector<std::string>& extra = {}) {
    if (auto layout = check_layout(connection); !layout.ok()) {
      std::vector<ports::Result<Reply>> refused;
      refused.emplace_back(layout.error());
      return refused;
    }
    const auto now = clock_->now();
    std::vector<std::vector<std::string>> arg_lists;
    for (const auto& [partition, own] : items) {
      auto args = common(partition, now);
      args.insert(args.end(), extra.begin(), extra.end());
      args.insert(args.end(), own.begin(), own.end());
      arg_lists.push_back(std::move(args));
    }
    return connection.eval_each(script(body), arg_lists);
  }

  ports::Result<void> for_partitions(Connection& connection, std::string_view body,
                                     const std::map<std::size_t, std::vector<std::string>>& items,
                                     const std::vector<std::string>& extra) {
    for (const auto& reply : in_partitions(connection, body, items, extra)) {
      if (!reply.ok()) return reply.error();
    }
    return {};
  }

  ports::Result<std::size_t> count_in_partitions(
      Connection& connection, std::string_view body,
      const std::map<std::size_t, std::vector<std::string>>& items) {
    std::size_t total = 0;
    for (const auto& reply : in_partitions(connection, body, items)) {
      if (!reply.ok()) return reply.error();
      total += static_cast<std::size_t>(reply_integer(*reply.value()));
    }
    return total;
  }

  std::vector<std::size_t> readable() const {
    if (leasing()) return {owned_.begin(), owned_.end()};
    std::vector<std::size_t> all(bases_.size());
    for (std::size_t p = 0; p < all.size(); ++p) all[p] = p;
    return all;
  }

  // The share of `max` each readable partition is asked for first: in proportion to what each
  // gave last time (plus one, so a quiet partition is still weighed), so a busy partition gets
  // most of a batch. The remainder goes round from a place that moves with every call. A
  // partition left without a share is asked afterwards if the others fall short.
  std::vector<std::pair<std::size_t, std::size_t>> shares(const std::vector<std::size_t>& parts,
                                                          std::size_t max) {
    std::vector<std::pair<std::size_t, std::size_t>> out;
    if (parts.empty() || max == 0) return out;
    std::size_t weight_sum = 0;
    for (const auto p : parts) weight_sum += demand_[p] + 1;
    std::size_t given = 0;
    for (const auto p : parts) {
      out.emplace_back(p, max * (demand_[p] + 1) / weight_sum);
      given += out.back().second;
    }
    const std::size_t start = rotation_++ % out.size();
    for (std::size_t i = 0; given < max; ++i, ++given) ++out[(start + i) % out.size()].second;
    return out;
  }

  // Receives from each (partition, count) at once, pipelined, into `all`. Deliveries taken from
  // the partitions that answered are in flight now: they go to the caller even if another
  // partition failed (asked again next time); answers the failure otherwise.
  std::optional<ports::Error> receive_from(
      Connection& connection, const std::vector<std::pair<std::size_t, std::size_t>>& asked,
      const ports::ReceiveOptions& options, Fetch& all) {
    const auto now = clock_->now();
    std::vector<std::vector<std::string>> arg_lists;
    for (const auto& [partition, count] : asked) {
      auto args = common(partition, now);
      args.insert(args.end(), {std::to_string(count), to_micros(now + options.visibility),
                               leasing() ? receiver_ : std::string()});
      arg_lists.push_back(std::move(args));
    }
    auto replies = connection.eval_each(script(kReceive), arg_lists);
    std::optional<ports::Error> failure;
    for (std::size_t i = 0; i < replies.size(); ++i) {
      const std::size_t partition = asked[i].first;
      auto fetch = replies[i].ok() ? parse_fetch(replies[i].value())
                                   : ports::Result<Fetch>(replies[i].error());
      if (!fetch.ok()) {
        failure = fetch.error();
        continue;
      }
      demand_[partition] = fetch.value().deliveries.size();
      for (auto& delivery : fetch.value().deliveries) {
        delivery.message_id = tagged(partition, delivery.message_id);
        delivery.receipt = tagged(partition, delivery.receipt);
        all.deliveries.push_back(std::move(delivery));
      }
      if (const auto next = fetch.value().next_visible) {
        all.next_visible = all.next_visible ? std::min(*all.next_visible, *next) : *next;
      }
    }
    return failure;
  }

  ports::Result<Fetch> receive_now(Connection& connection, const ports::ReceiveOptions& options) {
    const auto parts = readable();
    auto asked = shares(parts, options.max_messages);
    std::vector<std::size_t> later;
    for (const auto& [partition, count] : asked) {
      if (count == 0) later.push_back(partition);
    }
    std::erase_if(asked, [](const auto& share) { return share.second == 0; });
    Fetch all;
    auto failure = asked.empty() ? std::nullopt : receive_from(connection, asked, options, all);
    for (const auto partition : later) {
      if (all.deliveries.size() >= options.max_messages) break;
      auto again = receive_from(
          connection, {{partition, options.max_messages - all.deliveries.size()}}, options, all);
      if (again) failure = again;
    }
    if (failure && all.deliveries.empty()) return *failure;
    return all;
  }

  // --- leases -------------------------------------------------------------------------------

  // The first receive joins the receivers: this process takes its share of the partitions at
  // once and keeps it from then on (gateways, which only send, never join).
  void join(Connection& connection) {
    joined_ = true;
    rebalance(connection);
    keeper_ = std::thread([this] {
      ports::name_this_thread("queue-leases");
      keep_leases();
    });
  }

  // Renews the heartbeat and the leases a few times per lease, so one late round does not
  // lose them.
  void keep_leases() {
    const auto every = std::max(options_.lease / 3, std::chrono::milliseconds(1));
    std::unique_lock lock{keeper_mutex_};
    while (!keeper_wake_.wait_for(lock, every, [this] { return stopping_; })) {
      worker_->post([this](Connection& connection) { rebalance(connection); });
    }
  }

  ports::Result<Reply> lease_call(Connection& connection, std::size_t partition, const char* mode) {
    return connection.eval(
        Script{kLease}, {},
        {bases_[partition] + "lease", receiver_, std::to_string(options_.lease.count()), mode});
  }

  // Each receiver aims at ceil(partitions / receivers alive): it renews what it holds, gives
  // back what is over its share, takes free partitions up to it (starting at a place of its
  // own, so receivers do not all reach for the same ones), and takes back the deliveries
  // that receivers gone left in flight in its partitions.
  void rebalance(Connection& connection) {
    auto alive_reply =
        connection.eval(Script{kHeartbeat}, {},
                        {root_ + "receivers", receiver_, std::to_string(options_.lease.count())});
    if (!alive_reply.ok()) return;  // the leases lapse on the server meanwhile, as they should
    std::vector<std::string> alive;
    for (const redisReply* member : reply_elements(*alive_reply.value())) {
      alive.push_back(reply_text(*member));
    }
    const std::size_t count = bases_.size();
    const std::size_t share = (count + std::max<std::size_t>(alive.size(), 1) - 1) /
                              std::max<std::size_t>(alive.size(), 1);
    const auto before = owned_.size();
    std::erase_if(owned_, [&](std::size_t p) {
      auto renewed = lease_call(connection, p, "renew");
      return !renewed.ok() || reply_integer(*renewed.value()) != 1;
    });
    while (owned_.size() > share) {
      const auto last = std::prev(owned_.end());
      (void)lease_call(connection, *last, "give");
      owned_.erase(last);
    }
    const std::size_t start = partition_of(receiver_, count);
    for (std::size_t i = 0; i < count && owned_.size() < share; ++i) {
      const std::size_t p = (start + i) % count;
      if (owned_.contains(p)) continue;
      auto taken = lease_call(connection, p, "take");
      if (taken.ok() && reply_integer(*taken.value()) == 1) owned_.insert(p);
    }
    if (!owned_.empty()) {
      std::map<std::size_t, std::vector<std::string>> mine;
      for (const auto p : owned_) mine[p] = {};
      (void)in_partitions(connection, kTakeOver, mine, alive);
    }
    publish_held();
    if (owned_.size() != before || !polls_.empty()) polls_.serve(connection);
  }

  // Gives the leases back and leaves the receivers, so the others take over at their next
  // round instead of after the lease time.
  void leave(Connection& connection) {
    if (!joined_) return;
    for (const auto p : owned_) (void)lease_call(connection, p, "give");
    owned_.clear();
    publish_held();
    (void)connection.command({"ZREM", root_ + "receivers", receiver_});
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

  // Where one pending send's message goes: its partition's call, and its place there.
  struct Placed {
    std::size_t pending = 0;
    std::size_t index = 0;  // in the pending send's messages
  };

  using Groups = std::map<std::size_t, std::vector<Placed>>;  // by partition

  void flush_sends(Connection& connection, std::vector<PendingSend> batch) {
    if (auto layout = check_layout(connection); !layout.ok()) {
      for (auto& pending : batch) pending.done(layout.error());
      return;
    }
    std::vector<Receipts> receipts(batch.size());
    std::vector<std::optional<ports::Error>> errors(batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) receipts[i].resize(batch[i].messages.size());
    // Sends within one partition go together, one script call per partition, all pipelined.
    // A send that spreads over partitions goes alone, partition by partition, those with a
    // late message first, and stops at the first refusal: so a late message still refuses
    // its whole send.
    Groups together;
    std::vector<Groups> spread;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      Groups own;
      for (std::size_t m = 0; m < batch[i].messages.size(); ++m) {
        own[partition_of(batch[i].messages[m].ordering_key, bases_.size())].push_back({i, m});
      }
      if (own.size() > 1) {
        spread.push_back(std::move(own));
      } else if (!own.empty()) {
        auto& placed = together[own.begin()->first];
        placed.insert(placed.end(), own.begin()->second.begin(), own.begin()->second.end());
      }
    }
    const auto messages_of = [&](const std::vector<Placed>& placed) {
      std::vector<const ports::OutgoingMessage*> messages;
      messages.reserve(placed.size());
      for (const auto& at : placed) messages.push_back(&batch[at.pending].messages[at.index]);
      return messages;
    };
    // Files the receipts of a partition's answer; answers its error otherwise.
    const auto file = [&](const std::vector<Placed>& placed, ports::Result<Receipts> sent) {
      if (!sent.ok()) return std::optional<ports::Error>{sent.error()};
      for (std::size_t k = 0; k < placed.size(); ++k) {
        receipts[placed[k].pending][placed[k].index] = std::move(sent.value()[k]);
      }
      return std::optional<ports::Error>{};
    };
    const auto now = clock_->now();
    const auto deliver = [&](std::size_t partition, const std::vector<Placed>& placed) {
      return file(placed, read_sent(connection.eval(script(kSend), {},
                                                    send_args(partition, now, messages_of(placed))),
                                    partition, placed.size(), now));
    };
    bool any_ok = false;
    std::vector<std::vector<std::string>> arg_lists;
    for (const auto& [partition, placed] : together) {
      arg_lists.push_back(send_args(partition, now, messages_of(placed)));
    }
    std::vector<ports::Result<Reply>> replies;
    if (!arg_lists.empty()) replies = connection.eval_each(script(kSend), arg_lists);
    std::size_t next_reply = 0;
    for (const auto& [partition, placed] : together) {
      auto failed =
          file(placed, read_sent(std::move(replies[next_reply++]), partition, placed.size(), now));
      std::set<std::size_t> senders;
      for (const auto& at : placed) senders.insert(at.pending);
      if (!failed) {
        any_ok = true;
      } else if (senders.size() == 1) {
        errors[*senders.begin()] = failed;
      } else {
        // One caller's refusal (a late message refuses its call) must not refuse the
        // others: each caller's messages in this partition are sent on their own again.
        for (const auto sender : senders) {
          std::vector<Placed> own;
          for (const auto& at : placed) {
            if (at.pending == sender) own.push_back(at);
          }
          errors[sender] = deliver(partition, own);
          any_ok = any_ok || !errors[sender];
        }
      }
    }
    const auto late_before = now - options_.max_lateness;
    for (const auto& own : spread) {
      std::vector<std::size_t> order;
      for (const auto& [partition, placed] : own) {
        const bool late = std::any_of(placed.begin(), placed.end(), [&](const Placed& at) {
          return batch[at.pending].messages[at.index].event_time < late_before;
        });
        order.insert(late ? order.begin() : order.end(), partition);
      }
      for (const auto partition : order) {
        const auto& placed = own.at(partition);
        if (auto failed = deliver(partition, placed)) {
          errors[placed.front().pending] = failed;
          break;
        }
        any_ok = true;
      }
    }
    if (any_ok && !polls_.empty()) polls_.serve(connection);
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (errors[i]) {
        batch[i].done(*errors[i]);
      } else {
        batch[i].done(std::move(receipts[i]));
      }
    }
  }

  // A partition's send script: the common arguments, the bounds, then each message.
  std::vector<std::string> send_args(
      std::size_t partition, domain::Timestamp now,
      const std::vector<const ports::OutgoingMessage*>& messages) const {
    auto args = common(partition, now);
    args.insert(
        args.end(),
        {to_micros(now - options_.max_lateness), to_micros(now - options_.dedup_window),
         std::to_string(
             std::chrono::ceil<std::chrono::milliseconds>(options_.dedup_window).count() + 1000)});
    for (const auto* message : messages) {
      args.insert(args.end(), {message->ordering_key, message->dedup_id,
                               to_micros(message->event_time), message->body});
    }
    return args;
  }

  // What a partition's send script answered for `count` messages.
  ports::Result<Receipts> read_sent(ports::Result<Reply> reply, std::size_t partition,
                                    std::size_t count, domain::Timestamp now) const {
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
      receipt.message_id = tagged(partition, reply_text(*fields[0]));
      receipt.duplicate = reply_integer(*fields[1]) == 1;
      if (fields[2]->type != REDIS_REPLY_NIL) receipt.first_body = reply_text(*fields[2]);
      receipts.push_back(std::move(receipt));
    }
    if (receipts.size() != count) {
      return ports::Error{ports::ErrorKind::retryable,
                          "redis queue: send answered the wrong count"};
    }
    return receipts;
  }

  Coalescer<PendingSend> sends_{[this](Connection& connection, std::vector<PendingSend> batch) {
    flush_sends(connection, std::move(batch));
  }};
  const std::string root_;  // "{<prefix>:queue:<name>}:" — receivers, partition count, wake
  const std::string name_;
  const std::string receiver_;  // this process among the receivers (leases)
  const Options options_;
  std::vector<std::string> bases_;  // "{<prefix>:queue:<name>:p<i>}:" per partition

  // Worker thread only.
  bool layout_checked_ = false;
  bool joined_ = false;
  std::set<std::size_t> owned_;      // partitions whose lease this receiver holds
  std::vector<std::size_t> demand_;  // per partition: deliveries it gave last time
  std::size_t rotation_ = 0;
  std::vector<std::atomic<bool>> held_;  // written by the worker, read by receives()

  std::mutex keeper_mutex_;
  std::condition_variable keeper_wake_;
  bool stopping_ = false;
  std::thread keeper_;
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
bool RedisQueue::receives(const std::string& ordering_key) const {
  return impl_->receives(ordering_key);
}

}  // namespace gavel::adapters::redis
