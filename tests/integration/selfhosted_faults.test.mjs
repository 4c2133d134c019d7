// Faults of the selfhosted profile under load (issue 5, item 4): a gateway killed with -9, Redis
// killed and restarted on its data, the cache wiped. Redis and PostgreSQL are started for the
// test, then two gateways, two engines, a notifier and an auditor, each its own `gavel serve`.
// Each fault strikes while bids go in through both gateways; afterwards every bid answered 202
// has exactly one decision, the cache agrees with the store, WebSocket watchers reach each
// auction's last state, the audit chain verifies, and each auction's recorded commands replay
// to the same decisions and state.
//
// What a client does when it got no answer (a connection error, a 503): it asks again with the
// same Idempotency-Key. Here those retries wait until the bids answered 202 are decided, so that
// a retry finds its first attempt in the store (by key) if it was queued at all.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import {
  GAVEL_BINARY, auditTrail, haveSelfhostedServers, makeTempDir, mapLimit, redisCli, removeTempDir, sleep,
  spawnTracked, startSelfhostedBackends, startServer, stopSelfhostedBackends, uid, waitForDecisions,
} from './harness.mjs';

const skip = !haveSelfhostedServers() && !process.env.CI ? 'redis-server or PostgreSQL is not installed (scripts/setup.sh)' : false;

// A dead engine's (or a lost ack's) messages come back after this long.
const LEASE_SECONDS = 3;
const VISIBILITY_SECONDS = 8;
// The engines' open-auction rescan (serve.cpp: every 5 s in the selfhosted profile) puts the
// store's views back in the cache; allow two of them and some slack.
const CACHE_REBUILD_MS = 15_000;
const AUCTIONS = 4;
const CACHE_KEY = (id) => `{gavel:cache}:a:${id}`;

let state;
let redisUrl;
let postgresUrl;
let secret;
const processes = {};

function selfhosted(role, name) {
  return startServer({
    args: ['--profile', 'selfhosted', '--redis-url', redisUrl, '--postgres-url', postgresUrl,
      '--roles', role, '--node-id', name, '--dev-secret', secret, '--rate-per-second', '0',
      '--engine-visibility-seconds', String(VISIBILITY_SECONDS),
      // A dead engine's partitions go to the other one after this long (the lease).
      '--engine-lease-seconds', String(LEASE_SECONDS)],
  });
}

/** Turns the AOF on with an fsync per write (what a deployment runs; redis-server.sh has none). */
async function enableAof() {
  redisCli(redisUrl, 'CONFIG', 'SET', 'appendfsync', 'always');
  redisCli(redisUrl, 'CONFIG', 'SET', 'appendonly', 'yes');
  // Turning it on rewrites the AOF from the data set; until that is done the AOF is not whole.
  for (let i = 0; i < 200; ++i) {
    const info = redisCli(redisUrl, 'INFO', 'persistence');
    if (/aof_enabled:1/.test(info) && /aof_rewrite_in_progress:0/.test(info) && /aof_rewrite_scheduled:0/.test(info)) return;
    await sleep(50);
  }
  throw new Error('the AOF rewrite did not finish');
}

before(async () => {
  if (skip) return;
  state = await makeTempDir('gavel-faults-');
  ({ redisUrl, postgresUrl } = startSelfhostedBackends(state));
  await enableAof();
  const migrated = spawnSync(GAVEL_BINARY, ['migrate', '--postgres-url', postgresUrl], { encoding: 'utf8' });
  assert.equal(migrated.status, 0, migrated.stderr);
  secret = randomBytes(24).toString('hex');
  for (const [name, role] of [['engine-1', 'engine'], ['engine-2', 'engine'], ['notifier', 'notifier'],
    ['auditor', 'auditor'], ['gateway-1', 'gateway'], ['gateway-2', 'gateway']]) {
    processes[name] = await selfhosted(role, name);
  }
});

after(async () => {
  for (const server of Object.values(processes)) await server.cleanup();
  if (state) {
    stopSelfhostedBackends(state);
    await removeTempDir(state);
  }
});

// ---- Redis: kill -9, start again on the same port and data ---------------------------------

const redisDir = () => path.join(state, 'redis');

function processGone(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  // An orphan killed by a signal stays a zombie until it is reaped: gone all the same.
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** SIGKILL: what a crash does. With appendfsync always every acknowledged write is in the AOF. */
async function killRedis() {
  const pid = Number(readFileSync(path.join(redisDir(), 'pid'), 'utf8'));
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 100 && !processGone(pid); ++i) await sleep(50);
  assert.ok(processGone(pid), 'redis-server did not die');
}

/** Starts redis-server again on the same port and directory (it loads the AOF), as redis-server.sh does. */
async function startRedisAgain() {
  const port = new URL(redisUrl).port;
  const child = spawnTracked('redis-server', ['--port', port, '--bind', '127.0.0.1', '--dir', redisDir(), '--save', '',
    '--appendonly', 'yes', '--appendfsync', 'always', '--daemonize', 'no',
    '--logfile', path.join(redisDir(), 'redis.log'), '--protected-mode', 'yes'], { stdio: 'ignore' });
  // redis-server.sh stop kills this PID in after().
  writeFileSync(path.join(redisDir(), 'pid'), `${child.pid}\n`);
  for (let i = 0; i < 200; ++i) {
    const ping = spawnSync('redis-cli', ['-u', redisUrl, 'PING'], { encoding: 'utf8', timeout: 2000 });
    if (ping.stdout?.trim() === 'PONG') return;
    if (child.exitCode !== null) break;
    await sleep(50);
  }
  throw new Error(`redis-server did not come back: ${readFileSync(path.join(redisDir(), 'redis.log'), 'utf8').slice(-2000)}`);
}

// ---- load and checks -----------------------------------------------------------------------

const gateways = () => [processes['gateway-1'], processes['gateway-2']];

/** Tokens for the test's people (the dev secret is shared: any gateway's token works on both). */
async function people(prefix, bidders) {
  const g = processes['gateway-2'];
  return {
    seller: await g.token(`${prefix}-seller`, ['seller']),
    admin: await g.token('root', ['admin']),
    users: await Promise.all(Array.from({ length: bidders }, (_, u) => g.token(`${prefix}-u${u}`, ['bidder']))),
  };
}

/**
 * Bids of `plan` (each {i, gateway, user, auction, amount, key}) with `concurrency` in flight;
 * `during(i)` runs before bid i is sent (the fault). A worker whose bid got no answer pauses
 * `backoffMs` before its next one, as a client backs off. Never longer than `budgetMs`: what is
 * left then is not sent. Answers {…bid, status, bidId}, status 'error' for a network error.
 */
async function load(plan, users, { concurrency = 8, backoffMs = 0, budgetMs = 60_000, during = async () => {} } = {}) {
  const stopAt = Date.now() + budgetMs;
  return mapLimit(plan, concurrency, async (bid) => {
    if (Date.now() > stopAt) return { ...bid, status: 'unsent' };
    await during(bid.i);
    let answer;
    try {
      const res = await bid.gateway.bid(bid.auction, users[bid.user], { amount: bid.amount, maxAmount: bid.amount }, { key: bid.key });
      answer = { ...bid, at: Date.now(), status: res.status, bidId: res.body?.bidId, error: res.status >= 500 ? res.body?.error?.code : undefined };
    } catch (error) {
      answer = { ...bid, at: Date.now(), status: 'error', error: error.code ?? error.message };
    }
    if (backoffMs && uncertain(answer)) await sleep(backoffMs);
    return answer;
  });
}

/** Each auction gets amounts rising with i, so that later bids outbid earlier ones. */
function makePlan(count, auctions, bidders, prefix) {
  return Array.from({ length: count }, (_, i) => ({
    i,
    user: i % bidders,
    auction: auctions[i % auctions.length],
    amount: 1000 + Math.floor(i / auctions.length) * 100,
    key: uid(`${prefix}${i}`),
  }));
}

const uncertain = (r) => r.status === 'error' || (typeof r.status === 'number' && r.status >= 500);

/**
 * What a client does with a bid that got no answer: asks again with the same key, through a
 * gateway that answers, once the bids answered 202 are decided. Answers the retries' results.
 */
async function retryUncertain(answers, users, via) {
  return mapLimit(answers.filter(uncertain), 4, async (bid) => {
    for (let attempt = 0; ; ++attempt) {
      const res = await via.bid(bid.auction, users[bid.user], { amount: bid.amount, maxAmount: bid.amount }, { key: bid.key });
      if (res.status < 500 || attempt === 20) return { ...bid, status: res.status, bidId: res.body?.bidId, retried: true };
      await sleep(250);
    }
  });
}

/** Every auction the store holds, by id (the listing reads the store). */
async function storeViews(gateway, admin) {
  const views = new Map();
  let after = '';
  for (let page = 0; page < 50; ++page) {
    const res = await gateway.get(`/v1/auctions?limit=100${after ? `&after=${after}` : ''}`, { token: admin });
    assert.equal(res.status, 200, res.text);
    for (const a of res.body.auctions) views.set(a.id, a);
    if (res.body.auctions.length < 100) return views;
    after = res.body.auctions.at(-1).id;
  }
  throw new Error('too many auctions');
}

/** The auction's entry in the Redis cache itself ({seq, view}), or null. */
function cacheEntry(id) {
  // Not a terminal: redis-cli answers raw, one line per field (the JSON body is one line),
  // an empty line for a missing one.
  const [seq, body] = redisCli(redisUrl, 'HMGET', CACHE_KEY(id), 's', 'b').split('\n');
  if (!body) return null;
  return { seq: Number(seq), view: JSON.parse(body) };
}

/** Waits (≤ timeoutMs) until the cache holds, for each auction, exactly the store's view. */
async function cacheAgreesWithStore(gateway, admin, auctionIds, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stored = await storeViews(gateway, admin);
    const wrong = [];
    for (const id of auctionIds) {
      const entry = cacheEntry(id);
      if (!entry || entry.seq !== stored.get(id).seq || !isDeepStrictEqual(entry.view, stored.get(id))) {
        wrong.push({ id, cache: entry, store: stored.get(id) });
      }
    }
    if (wrong.length === 0) {
      // And the API's cache path (GET) serves it.
      for (const id of auctionIds) assert.deepEqual(await gateway.auction(id), stored.get(id));
      return;
    }
    if (Date.now() > deadline) assert.fail(`the cache disagrees with the store after ${timeoutMs} ms: ${JSON.stringify(wrong).slice(0, 3000)}`);
    await sleep(250);
  }
}

/**
 * The promises after a fault: every bid answered 202 is decided, and stored exactly once (no
 * other bid of these auctions is stored); nothing dead-lettered; the cache agrees with the
 * store; the auditor logged each decided bid once, the chain verifies and each auction's
 * commands replay to what was recorded.
 */
async function checkPromises({ admin, auctions, answers, label }) {
  const g = processes['gateway-2'];
  const queued = answers.filter((r) => r.status === 202);
  const ids = [...new Set(queued.map((r) => r.bidId))];
  const started = Date.now();
  await waitForDecisions(g, admin, ids, 30_000 + VISIBILITY_SECONDS * 1000);
  process.stderr.write(`# ${label}: ${ids.length} bids decided ${Date.now() - started} ms after the last answer\n`);
  const storedCount = new Map();
  for (const a of auctions) {
    const stored = await g.history(a, admin);
    const expected = new Set(queued.filter((r) => r.auction === a).map((r) => r.bidId));
    const storedIds = stored.map((b) => b.bidId);
    assert.equal(new Set(storedIds).size, storedIds.length, `${label}: a bid of ${a} is stored twice`);
    assert.deepEqual(new Set(storedIds), expected, `${label}: the bids stored for ${a} are the ones answered 202`);
    storedCount.set(a, stored.length);
  }
  const dead = await g.get('/v1/admin/dlq', { token: admin });
  assert.deepEqual(dead.body.deadLetters, [], `${label}: nothing dead-lettered`);
  await cacheAgreesWithStore(g, admin, auctions, CACHE_REBUILD_MS);

  // The auditor's trail: each stored bid's command once (the audit topic is consumed
  // asynchronously: wait for it). Records the auditor had taken when Redis died come back after
  // its visibility timeout (30 s), so the wait is longer than that.
  const deadline = Date.now() + 45_000;
  for (const a of auctions) {
    for (;;) {
      const commands = (await auditTrail(g, admin, a)).filter((e) => e.kind === 'command' && e.record.command.op === 'bid');
      const bidIds = commands.map((e) => e.record.command.bidId);
      if (commands.length >= storedCount.get(a)) {
        assert.equal(commands.length, storedCount.get(a), `${label}: each decided bid of ${a} is audited once: ${JSON.stringify(bidIds)}`);
        break;
      }
      if (Date.now() > deadline) assert.fail(`${label}: audit trail of ${a} has ${commands.length} of ${storedCount.get(a)} bids`);
      await sleep(200);
    }
  }
  const verify = spawnSync(GAVEL_BINARY, ['audit', 'verify', '--profile', 'selfhosted', '--postgres-url', postgresUrl], { encoding: 'utf8' });
  assert.equal(verify.status, 0, verify.stdout + verify.stderr);
  assert.match(verify.stdout, /^audit chain ok: \d+ entries/);
  for (const a of auctions) {
    const replay = spawnSync(GAVEL_BINARY, ['audit', 'replay', a, '--profile', 'selfhosted', '--postgres-url', postgresUrl], { encoding: 'utf8' });
    if (replay.status === 0) continue;
    // Two engines sharing the store once gave one event number to two commands (a rejection
    // takes a number without moving seq, and the store fenced seq only): name the commands
    // that share an event number, the sign of it, along with replay's own report.
    const numbers = new Map();
    for (const e of await auditTrail(g, admin, a)) {
      if (e.kind !== 'command' || !e.record.decision?.eventNumber) continue;
      const n = e.record.decision.eventNumber;
      numbers.set(n, [...(numbers.get(n) ?? []), e.record.command.bidId ?? e.seq]);
    }
    const shared = [...numbers].filter(([, ids]) => ids.length > 1);
    assert.fail(`${label}: ${a}: audit replay exit ${replay.status}; event numbers given to several commands: ${JSON.stringify(shared)}\n${replay.stdout.slice(0, 1500)}${replay.stderr}`);
  }
}

/** Waits until `ws` has seen auction `id` at `seq` (an event, or a snapshot). */
function sawSeq(ws, id, seq, timeoutMs = 15_000) {
  return ws.waitFor((m) => m.auctionId === id && m.seq === seq, timeoutMs);
}

async function watcher(gateway, auctionIds) {
  const ws = await gateway.openWs();
  ws.subscribe(...auctionIds);
  for (const id of auctionIds) await ws.waitFor((m) => m.type === 'snapshot' && m.auctionId === id);
  return ws;
}

function allRunning() {
  for (const [name, server] of Object.entries(processes)) {
    assert.ok(server.running, `${name} is running (exit ${JSON.stringify(server.exit)})\n${server.stderr.slice(-3000)}`);
  }
}

describe('selfhosted faults under load', { skip }, () => {
  test('kill -9 a gateway under load: the other serves, its 202s are decided once, it comes back', async () => {
    const [g1, g2] = gateways();
    const { seller, admin, users } = await people('gk', 6);
    const auctions = [];
    for (let n = 0; n < AUCTIONS; ++n) auctions.push((await g2.createAuction(seller)).id);
    const w1 = await watcher(g1, auctions);
    const w2 = await watcher(g2, auctions);

    const plan = makePlan(160, auctions, users.length, 'gk').map((b) => ({ ...b, gateway: b.i % 2 ? g2 : g1 }));
    const killAt = 60;
    const answers = await load(plan, users, {
      concurrency: 8,
      during: async (i) => {
        if (i === killAt) await g1.kill9();
      },
    });
    assert.equal(g1.exit?.signal, 'SIGKILL');
    const [viaG1, viaG2] = [answers.filter((r) => r.gateway === g1), answers.filter((r) => r.gateway === g2)];
    // The live gateway answered every one of its bids; the dead one's clients got errors.
    for (const r of viaG2) assert.ok(r.status === 202 || r.status === 409, JSON.stringify(r));
    assert.ok(viaG1.filter((r) => r.status === 202).length >= 20, 'gateway-1 took bids before it died');
    assert.ok(viaG1.filter((r) => r.status === 'error').length >= 30, 'gateway-1 clients saw errors after the kill');
    await w1.waitForClose(5_000);

    // Bids gateway-1 answered 202 before dying are decided (the queue has them): checked by
    // checkPromises. Its clients ask gateway-2 again with the same key.
    await waitForDecisions(g2, admin, answers.filter((r) => r.status === 202).map((r) => r.bidId), 30_000);
    const retried = await retryUncertain(answers, users, g2);
    for (const r of retried) assert.ok(r.status === 202 || r.status === 409, JSON.stringify(r));
    const settled = [...answers.filter((r) => !uncertain(r)), ...retried];

    // The watcher on the live gateway saw every auction to its last state.
    const stored = await storeViews(g2, admin);
    for (const a of auctions) await sawSeq(w2, a, stored.get(a).seq);

    // gateway-1 again, same node id (same consumer groups): it serves bids and its watchers.
    await g1.start();
    const w1again = await watcher(g1, [auctions[0]]);
    const late = await g1.token('gk-late', ['bidder']);
    const top = Math.max(...settled.filter((r) => r.auction === auctions[0]).map((r) => r.amount));
    const res = await g1.bid(auctions[0], late, { amount: top + 1000 }, { key: uid('gk-late'), wait: 10_000 });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.status, 'accepted', res.text);
    settled.push({ auction: auctions[0], status: 202, bidId: res.body.bidId });
    const view = await g2.auction(auctions[0]);
    await sawSeq(w1again, auctions[0], view.seq);
    await sawSeq(w2, auctions[0], view.seq);
    w1again.close();
    w2.close();

    allRunning();
    await checkPromises({ admin, auctions, answers: settled, label: 'gateway kill' });
  });

  test('Redis killed and restarted under load: every 202 decided once, every process reconnects', async () => {
    const [g1, g2] = gateways();
    const { seller, admin, users } = await people('rr', 6);
    const auctions = [];
    for (let n = 0; n < AUCTIONS; ++n) auctions.push((await g1.createAuction(seller)).id);
    const w1 = await watcher(g1, auctions);
    const w2 = await watcher(g2, auctions);

    const plan = makePlan(160, auctions, users.length, 'rr').map((b) => ({ ...b, gateway: b.i % 2 ? g2 : g1 }));
    const killAt = 40;
    const downMs = 2500;
    let outage;
    let killedAt;
    let upAt;
    const answers = await load(plan, users, {
      concurrency: 6,
      backoffMs: 300,  // so that the load spans the outage and goes on after it
      during: async (i) => {
        if (i !== killAt) return;
        await killRedis();
        killedAt = Date.now();
        outage = sleep(downMs).then(startRedisAgain).then(() => {
          upAt = Date.now();
        });
      },
    });
    await outage;
    process.stderr.write(`# redis down ${upAt - killedAt} ms; answers: ${JSON.stringify(countBy(answers, (r) => r.status))}\n`);
    assert.ok(answers.filter((r) => r.status === 202 && r.i < killAt).length >= 20, 'bids were taken before the kill');
    assert.ok(answers.some(uncertain), 'the outage failed some bids');
    assert.ok(answers.filter((r) => r.status === 202 && r.at > upAt).length >= 10, 'bids were taken after the restart');
    for (const r of answers) assert.ok(r.status === 202 || r.status === 409 || uncertain(r), JSON.stringify(r));
    allRunning();  // nothing crashed

    // No gavel process was restarted: bids are taken again through both gateways.
    await waitForDecisions(g2, admin, answers.filter((r) => r.status === 202).map((r) => r.bidId), 30_000 + VISIBILITY_SECONDS * 1000);
    const retried = [...await retryUncertain(answers.filter((r) => r.i % 2 === 0), users, g1),
      ...await retryUncertain(answers.filter((r) => r.i % 2 === 1), users, g2)];
    for (const r of retried) assert.ok(r.status === 202 || r.status === 409, JSON.stringify(r));
    const settled = [...answers.filter((r) => !uncertain(r)), ...retried];

    // The decision feeds (?wait= through both gateways) and the notifier work again: a fresh
    // auction, bid on and outbid after the restart, ends in an outbid notice.
    const fresh = await g2.createAuction(seller);
    const [first, second] = [await g1.token('rr-first', ['bidder']), await g2.token('rr-second', ['bidder'])];
    const one = await g1.bid(fresh.id, first, { amount: 1000 }, { key: uid('rr-a'), wait: 10_000 });
    assert.equal(one.status, 200, one.text);
    const two = await g2.bid(fresh.id, second, { amount: 2000 }, { key: uid('rr-b'), wait: 10_000 });
    assert.equal(two.status, 200, two.text);
    settled.push({ auction: fresh.id, status: 202, bidId: one.body.bidId }, { auction: fresh.id, status: 202, bidId: two.body.bidId });
    const noticeBy = Date.now() + 15_000;
    for (;;) {
      const inbox = (await g1.get('/v1/me/notifications', { token: first })).body;
      if (inbox.notifications?.some((n) => n.auctionId === fresh.id && n.kind === 'outbid')) break;
      if (Date.now() > noticeBy) assert.fail(`no outbid notice after the restart: ${JSON.stringify(inbox)}`);
      await sleep(200);
    }

    // Watchers on both gateways, connected throughout, reach every auction's last state.
    const stored = await storeViews(g2, admin);
    for (const ws of [w1, w2]) {
      for (const a of auctions) await sawSeq(ws, a, stored.get(a).seq);
    }
    w1.close();
    w2.close();
    allRunning();
    await checkPromises({ admin, auctions: [...auctions, fresh.id], answers: settled, label: 'redis restart' });
  });

  test('the cache wiped under load: rebuilt from the store, without restarting anything', async () => {
    const [g1, g2] = gateways();
    const { seller, admin, users } = await people('cw', 6);
    const hot = [];
    for (let n = 0; n < AUCTIONS; ++n) hot.push((await g1.createAuction(seller)).id);
    // Auctions that nobody bids on after the wipe: only a rebuild from the store brings them
    // back into the cache (no batch of an engine touches them again).
    const idle = [];
    const early = [];
    for (let n = 0; n < 3; ++n) {
      const id = (await g2.createAuction(seller)).id;
      idle.push(id);
      for (let b = 0; b < n; ++b) {
        const res = await g1.bid(id, users[b], { amount: 1000 + b * 500 }, { key: uid('cw-idle'), wait: 10_000 });
        assert.equal(res.status, 200, res.text);
        early.push({ auction: id, status: 202, bidId: res.body.bidId });
      }
    }
    const w2 = await watcher(g2, hot);

    const plan = makePlan(120, hot, users.length, 'cw').map((b) => ({ ...b, gateway: b.i % 2 ? g2 : g1 }));
    let wiped = 0;
    const answers = await load(plan, users, {
      concurrency: 8,
      during: async (i) => {
        if (i !== 40) return;
        // Every cache key at once (what FLUSHALL does to the cache, without touching the queue).
        wiped = Number(redisCli(redisUrl, 'EVAL',
          "local keys = redis.call('KEYS', ARGV[1]) for _, k in ipairs(keys) do redis.call('DEL', k) end return #keys",
          '0', '{gavel:cache}:*'));
      },
    });
    // Every auction of every test so far had an entry, and the id set.
    assert.ok(wiped >= hot.length + idle.length + 1, `wiped ${wiped} cache keys`);
    for (const r of answers) assert.ok(r.status === 202 || r.status === 409, JSON.stringify(r));

    const stored = await storeViews(g2, admin);
    for (const a of hot) await sawSeq(w2, a, stored.get(a).seq);
    w2.close();
    allRunning();
    // Within the rescan's bound, the idle auctions are back too (checkPromises compares the
    // cache's own entries with the store).
    await checkPromises({ admin, auctions: [...hot, ...idle], answers: [...early, ...answers], label: 'cache wipe' });
  });
});

function countBy(items, key) {
  const counts = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}
