#include "adapters/redis/redis_cache.hpp"

#include <hiredis/hiredis.h>

#include <map>
#include <utility>

#include "adapters/redis/worker.hpp"

namespace gavel::adapters::redis {

namespace {

// KEYS[1]: the id set. ARGV[1]: the key base; then (id, seq, body) per entry. Seqs compare as
// decimal text (no leading zeros): longer is greater, else lexicographic — exact beyond 2^53.
constexpr Script kPut{R"lua(
local function greater(a, b)
  if #a ~= #b then return #a > #b end
  return a > b
end
for i = 2, #ARGV, 3 do
  local id, seq, body = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local key = ARGV[1] .. id
  local current = redis.call('HGET', key, 's')
  if not current or greater(seq, current) then
    redis.call('HSET', key, 's', seq, 'b', body)
    redis.call('SADD', KEYS[1], id)
  end
end
return 1
)lua"};

// ARGV[1]: the key base; then the ids. Answers (seq, body) per id, nils when absent.
constexpr Script kGet{R"lua(
local out = {}
for i = 2, #ARGV do
  local fields = redis.call('HMGET', ARGV[1] .. ARGV[i], 's', 'b')
  out[#out + 1] = fields[1]
  out[#out + 1] = fields[2]
end
return out
)lua"};

// KEYS[1]: the id set. ARGV[1]: the key base. Unlinks in chunks (unpack has a stack limit).
constexpr Script kClear{R"lua(
local ids = redis.call('SMEMBERS', KEYS[1])
for i = 1, #ids, 500 do
  local keys = {}
  for j = i, math.min(i + 499, #ids) do keys[#keys + 1] = ARGV[1] .. ids[j] end
  redis.call('UNLINK', unpack(keys))
end
redis.call('DEL', KEYS[1])
return #ids
)lua"};

}  // namespace

RedisCache::RedisCache(const std::string& url, const Options& options)
    : base_("{" + options.prefix + ":cache}:"),
      worker_(std::make_unique<Worker>(Endpoint::parse(url), options.connection)) {}

RedisCache::~RedisCache() = default;

void RedisCache::put(std::vector<ports::CachedAuction> entries, ports::Callback<void> done) {
  answer_on<void>(*worker_, std::move(done),
                  [this, entries = std::move(entries)](Connection& connection) {
                    std::vector<std::string> args{base_ + "a:"};
                    for (const auto& entry : entries) {
                      args.push_back(entry.id.str());
                      args.push_back(std::to_string(entry.seq));
                      args.push_back(entry.body);
                    }
                    auto reply = connection.eval(kPut, {base_ + "ids"}, args);
                    return reply.ok() ? ports::Result<void>{} : reply.error();
                  });
}

// Lookups that arrive while the worker is busy go to Redis together, as one script call: the
// gateway looks an auction up for every bid, and one round trip per bid would bound intake at
// the connection's round-trip rate whatever the number of client connections.
void RedisCache::get(std::vector<domain::AuctionId> ids, ports::Callback<Answers> done) {
  gets_.add(*worker_, {std::move(ids), std::move(done)});
}

void RedisCache::flush_gets(Connection& connection, const std::vector<PendingGet>& batch) {
  // Each id once, whoever asked for it.
  std::map<std::string, std::optional<ports::CachedAuction>> found;
  std::vector<std::string> args{base_ + "a:"};
  for (const auto& pending : batch) {
    for (const auto& id : pending.ids) {
      if (found.emplace(id.str(), std::nullopt).second) args.push_back(id.str());
    }
  }
  ports::Result<void> outcome;
  if (args.size() > 1) outcome = look_up(connection, args, found);
  for (const auto& pending : batch) {
    if (!outcome.ok()) {
      pending.done(outcome.error());
      continue;
    }
    Answers answers;
    answers.reserve(pending.ids.size());
    for (const auto& id : pending.ids) answers.push_back(found.at(id.str()));
    pending.done(std::move(answers));
  }
}

ports::Result<void> RedisCache::look_up(
    Connection& connection, const std::vector<std::string>& args,
    std::map<std::string, std::optional<ports::CachedAuction>>& found) {
  auto reply = connection.eval(kGet, {}, args);
  if (!reply.ok()) return reply.error();
  const auto fields = reply_elements(*reply.value());
  if (fields.size() != 2 * (args.size() - 1)) {
    return ports::Error{ports::ErrorKind::retryable, "redis cache: malformed answer"};
  }
  for (std::size_t i = 1; i < args.size(); ++i) {
    const redisReply& seq = *fields[2 * (i - 1)];
    if (reply_nil(seq)) continue;
    found[args[i]] = ports::CachedAuction{domain::AuctionId(args[i]),
                                          static_cast<std::uint64_t>(std::stoull(reply_text(seq))),
                                          reply_text(*fields[2 * (i - 1) + 1])};
  }
  return {};
}

void RedisCache::clear(ports::Callback<void> done) {
  answer_on<void>(*worker_, std::move(done), [this](Connection& connection) {
    auto reply = connection.eval(kClear, {base_ + "ids"}, {base_ + "a:"});
    return reply.ok() ? ports::Result<void>{} : reply.error();
  });
}

}  // namespace gavel::adapters::redis
