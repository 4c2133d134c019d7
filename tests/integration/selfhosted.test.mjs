// The selfhosted profile across processes: Redis (queue, topics, cache) and PostgreSQL (store,
// audit log, notices) started for the test; two gateways, two engines, a notifier and an
// auditor, each its own `gavel serve`. Bids go in through both gateways at once; every bid
// answered 202 gets exactly one decision, the cache agrees with the store, WebSocket watchers
// on either gateway see the events, and an engine killed with -9 under load loses nothing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  GAVEL_BINARY, haveSelfhostedServers, makeTempDir, mapLimit, postgresPids as postgresPidsIn, removeTempDir, sleep,
  startSelfhostedBackends, startServer, stopSelfhostedBackends, uid, waitForDecisions as decisions,
} from './harness.mjs';

const skip = !haveSelfhostedServers() && !process.env.CI ? 'redis-server or PostgreSQL is not installed (scripts/setup.sh)' : false;

// A dead engine's messages go to another after this; a store outage spends one delivery per
// this long (5 before a dead letter), so the 20 s outage below must fit in fewer.
const LEASE_SECONDS = 3;
const VISIBILITY_SECONDS = 8;
let state;
let redisUrl;
let postgresUrl;
const processes = {};

function selfhosted(role, name, secret) {
  return startServer({
    args: ['--profile', 'selfhosted', '--redis-url', redisUrl, '--postgres-url', postgresUrl,
      '--roles', role, '--node-id', name, '--dev-secret', secret, '--rate-per-second', '0',
      // A dead engine's messages go to the other one after this long.
      '--engine-visibility-seconds', String(VISIBILITY_SECONDS),
      // A dead engine's partitions go to the other one after this long (the lease).
      '--engine-lease-seconds', String(LEASE_SECONDS)],
  });
}

before(async () => {
  if (skip) return;
  state = await makeTempDir('gavel-selfhosted-');
  ({ redisUrl, postgresUrl } = startSelfhostedBackends(state));
  const migrated = spawnSync(GAVEL_BINARY, ['migrate', '--postgres-url', postgresUrl], { encoding: 'utf8' });
  assert.equal(migrated.status, 0, migrated.stderr);
  const secret = randomBytes(24).toString('hex');
  for (const [name, role] of [['engine-1', 'engine'], ['engine-2', 'engine'], ['notifier', 'notifier'],
    ['auditor', 'auditor'], ['gateway-1', 'gateway'], ['gateway-2', 'gateway']]) {
    processes[name] = await selfhosted(role, name, secret);
  }
});

after(async () => {
  for (const server of Object.values(processes)) await server.cleanup();
  if (state) {
    stopSelfhostedBackends(state);
    await removeTempDir(state);
  }
});

const postgresPids = () => postgresPidsIn(state);

/** The admin history of an auction, every page. */
async function history(gateway, admin, id) {
  const bids = [];
  let after = 0;
  for (let page = 0; page < 100; ++page) {
    const res = await gateway.get(`/v1/auctions/${id}/bids?limit=100&after=${after}`, { token: admin });
    assert.equal(res.status, 200, res.text);
    bids.push(...res.body.bids);
    if (res.body.next === null) return bids;
    after = res.body.next;
  }
  throw new Error('history too long');
}

describe('selfhosted: two gateways, two engines', { skip }, () => {
  test('bids through both gateways: one decision each, live on both, cache = store', async () => {
    const [g1, g2] = [processes['gateway-1'], processes['gateway-2']];
    const seller = await g1.token('sally', ['seller']);
    const admin = await g1.token('root', ['admin']);
    const a = await g1.createAuction(seller, { startingPrice: 1000, durationSeconds: 600 });
    const watcher = await g2.openWs();
    watcher.subscribe(a.id);
    await watcher.waitFor((m) => m.type === 'snapshot');

    const users = await Promise.all(Array.from({ length: 8 }, (_, u) => (u % 2 ? g2 : g1).token(`u${u}`, ['bidder'])));
    const plan = Array.from({ length: 120 }, (_, i) => ({ i, user: i % 8, amount: 1000 + i * 50, key: uid(`s${i}`) }));
    const answers = await mapLimit(plan, 16, async (bid) => {
      const gateway = bid.i % 2 ? g2 : g1;
      const res = await gateway.bid(a.id, users[bid.user], { amount: bid.amount }, { key: bid.key });
      return { ...bid, status: res.status, bidId: res.body?.bidId };
    });
    const queued = answers.filter((r) => r.status === 202);
    // The rest were refused at the gateway before queueing (too low by then): nothing to decide.
    for (const r of answers.filter((x) => x.status !== 202)) assert.equal(r.status, 409, JSON.stringify(r));
    assert.ok(queued.length > 30, `only ${queued.length} bids were queued`);

    const decided = await decisions(g1, admin, queued.map((r) => r.bidId), 30_000);
    const stored = await history(g2, admin, a.id);
    assert.equal(stored.length, queued.length, 'each queued bid is stored once');
    assert.deepEqual(new Set(stored.map((b) => b.bidId)), new Set(queued.map((r) => r.bidId)));
    assert.ok([...decided.values()].some((b) => b.status === 'accepted'));

    // The cache (GET) agrees with the store (the listing reads the store).
    const cached = await g2.auction(a.id);
    const listed = (await g1.get('/v1/auctions?limit=100', { token: admin })).body.auctions.find((x) => x.id === a.id);
    assert.deepEqual(cached, listed);
    // A watcher on the other gateway saw the last price.
    await watcher.waitFor((m) => m.type === 'bid.accepted' && m.seq === cached.seq, 10_000);
    watcher.close();
  });

  test('the notifier and the auditor as their own processes: notices, audit trail, verify', async () => {
    const [g1, g2] = [processes['gateway-1'], processes['gateway-2']];
    const seller = await g1.token('sally', ['seller']);
    const admin = await g2.token('root', ['admin']);
    const first = await g1.token('nina', ['bidder']);
    const second = await g2.token('otto', ['bidder']);
    const a = await g1.createAuction(seller, { startingPrice: 1000, durationSeconds: 600 });
    assert.equal((await g1.bid(a.id, first, { amount: 1000 }, { wait: 5000 })).status, 200);
    assert.equal((await g2.bid(a.id, second, { amount: 2000 }, { wait: 5000 })).status, 200);
    // The notifier process wrote nina's outbid notice to PostgreSQL; either gateway serves it.
    const deadline = Date.now() + 10_000;
    let inbox;
    for (;;) {
      inbox = (await g2.get('/v1/me/notifications', { token: first })).body;
      if (inbox.notifications?.some((n) => n.auctionId === a.id && n.kind === 'outbid')) break;
      if (Date.now() > deadline) throw new Error(`no outbid notice: ${JSON.stringify(inbox)}`);
      await sleep(100);
    }
    // The auditor process chained the commands and events; the CLI verifies the whole log.
    let trail;
    for (;;) {
      trail = (await g1.get(`/v1/admin/audit?auctionId=${a.id}&limit=100`, { token: admin })).body;
      if (trail.entries?.filter((e) => e.kind === 'command').length === 3) break;
      if (Date.now() > deadline) throw new Error(`audit trail incomplete: ${JSON.stringify(trail)}`);
      await sleep(100);
    }
    assert.deepEqual(
      trail.entries.filter((e) => e.kind === 'command' && e.record.command.op === 'bid').map((e) => e.record.command.gatewayId),
      ['gateway-1', 'gateway-2'],
    );
    const verify = spawnSync(GAVEL_BINARY, ['audit', 'verify', '--profile', 'selfhosted', '--postgres-url', postgresUrl], { encoding: 'utf8' });
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, /^audit chain ok: \d+ entries/);
    const replay = spawnSync(GAVEL_BINARY, ['audit', 'replay', a.id, '--profile', 'selfhosted', '--postgres-url', postgresUrl], { encoding: 'utf8' });
    assert.equal(replay.status, 0, replay.stdout + replay.stderr);
  });

  test('auctions ending across two engines: each closes once, with its winner', async () => {
    const [g1, g2] = [processes['gateway-1'], processes['gateway-2']];
    const seller = await g1.token('sally', ['seller']);
    const winner = await g2.token('wendy', ['bidder']);
    // Eight auctions spread over the partitions, so both engines hold some of them.
    const auctions = [];
    for (let n = 0; n < 8; ++n) auctions.push(await g1.createAuction(seller, { startingPrice: 1000, durationSeconds: 3 }));
    for (const [n, a] of auctions.entries()) {
      const res = await (n % 2 ? g2 : g1).bid(a.id, winner, { amount: 1000 }, { wait: 5000 });
      assert.equal(res.status, 200, res.text);
    }
    const deadline = Date.now() + 20_000;
    for (const a of auctions) {
      let state;
      for (;;) {
        state = await g2.auction(a.id);
        if (state.status === 'closed') break;
        if (Date.now() > deadline) throw new Error(`not closed: ${JSON.stringify(state)}`);
        await sleep(200);
      }
      assert.equal(state.leaderId, 'wendy');
    }
    // One "won" notice per auction: a second close would have made a second one.
    let won;
    for (;;) {
      const inbox = (await g1.get('/v1/me/notifications?limit=100', { token: winner })).body;
      won = (inbox.notifications ?? []).filter((n) => n.kind === 'won');
      if (won.length >= auctions.length || Date.now() > deadline) break;
      await sleep(200);
    }
    assert.deepEqual(won.map((n) => n.auctionId).sort(), auctions.map((a) => a.id).sort());
  });

  test('PostgreSQL unavailable for 20 s: bids keep being taken, then each is decided once', async () => {
    const [g1, g2] = [processes['gateway-1'], processes['gateway-2']];
    const seller = await g1.token('sally', ['seller']);
    const admin = await g1.token('root', ['admin']);
    const a = await g1.createAuction(seller, { startingPrice: 1000, durationSeconds: 600 });
    const users = await Promise.all(Array.from({ length: 4 }, (_, u) => g1.token(`p${u}`, ['bidder'])));
    const frozen = postgresPids();
    for (const pid of frozen) process.kill(pid, 'SIGSTOP');
    const frozenAt = Date.now();
    let answers;
    try {
      // No Idempotency-Key: the gateway then needs only Redis (cache, queue) to take a bid.
      answers = await mapLimit(Array.from({ length: 40 }, (_, i) => i), 4, async (i) => {
        const gateway = i % 2 ? g2 : g1;
        const res = await gateway.bid(a.id, users[i % 4], { amount: 1000 + i * 100 });
        return { status: res.status, bidId: res.body?.bidId };
      });
      await sleep(Math.max(0, 20_000 - (Date.now() - frozenAt)));
    } finally {
      for (const pid of frozen) process.kill(pid, 'SIGCONT');
    }
    assert.ok(answers.every((r) => r.status === 202), JSON.stringify(answers.filter((r) => r.status !== 202)));
    const queued = answers.map((r) => r.bidId);
    await decisions(g1, admin, queued, 30_000 + VISIBILITY_SECONDS * 1000);
    const stored = await history(g2, admin, a.id);
    assert.equal(stored.length, queued.length, 'each bid stored exactly once');
    assert.deepEqual(new Set(stored.map((b) => b.bidId)), new Set(queued));
    const dead = await g1.get('/v1/admin/dlq', { token: admin });
    assert.deepEqual(dead.body.deadLetters, [], 'nothing was dead-lettered by the outage');
  });

  test('kill -9 an engine under load: every bid answered 202 is still decided exactly once', async () => {
    const [g1, g2] = [processes['gateway-1'], processes['gateway-2']];
    const seller = await g1.token('sally', ['seller']);
    const admin = await g1.token('root', ['admin']);
    // Several auctions: the queue holds an auction back while one engine has its messages in
    // flight, so with several the two engines each hold some when PostgreSQL freezes.
    const auctions = [];
    for (let n = 0; n < 6; ++n) auctions.push(await g1.createAuction(seller, { startingPrice: 1000, durationSeconds: 600 }));
    const users = await Promise.all(Array.from({ length: 6 }, (_, u) => g1.token(`k${u}`, ['bidder'])));
    const plan = Array.from({ length: 180 }, (_, i) => ({
      i, user: i % 6, auction: auctions[i % auctions.length], amount: 1000 + Math.floor(i / auctions.length) * 100, key: uid(`k${i}`),
    }));
    // Midway PostgreSQL is frozen, so the engines hang in a commit with batches in flight;
    // engine-1 is killed there and PostgreSQL thawed. When engine-1's leases lapse, engine-2
    // takes its partitions and its batches in flight (committed or not, never acknowledged),
    // and each bid is decided once: a committed one is recognised, an uncommitted one judged.
    const killAt = 90;
    let frozen = [];
    const answers = await mapLimit(plan, 12, async (bid) => {
      if (bid.i === killAt) {
        frozen = postgresPids();
        for (const pid of frozen) process.kill(pid, 'SIGSTOP');
        await sleep(300);  // the engines take their next batches and block in commit
        await processes['engine-1'].kill9();
        for (const pid of frozen) process.kill(pid, 'SIGCONT');
      }
      const gateway = bid.i % 2 ? g2 : g1;
      const res = await gateway.bid(bid.auction.id, users[bid.user], { amount: bid.amount, maxAmount: bid.amount }, { key: bid.key });
      return { ...bid, status: res.status, bidId: res.body?.bidId };
    });
    assert.ok(frozen.length > 1, 'PostgreSQL was frozen');
    const queued = answers.filter((r) => r.status === 202);
    assert.ok(queued.length > 90, `only ${queued.length} bids were queued`);
    const waited = Date.now();
    await decisions(g2, admin, queued.map((r) => r.bidId), 20_000 + VISIBILITY_SECONDS * 1000);
    process.stderr.write(`# all ${queued.length} decided ${Date.now() - waited} ms after the last answer\n`);
    for (const a of auctions) {
      const stored = await history(g1, admin, a.id);
      const expected = queued.filter((r) => r.auction.id === a.id);
      assert.equal(stored.length, expected.length, `each 202 bid on ${a.id} is stored exactly once`);
      assert.deepEqual(new Set(stored.map((b) => b.bidId)), new Set(expected.map((r) => r.bidId)));
      assert.deepEqual(await g2.auction(a.id), (await g1.get(`/v1/auctions?limit=100`, { token: admin })).body.auctions.find((x) => x.id === a.id));
    }
    await processes['engine-1'].start();  // back for whatever runs next
  });
});
