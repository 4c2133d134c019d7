// Idempotent retries, ?wait= outcomes, and the per-user rate limit.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  GAVEL_BINARY, haveSelfhostedServers, makeTempDir, removeTempDir, sleep, startSelfhostedBackends, startServer,
  stopSelfhostedBackends, uid,
} from './harness.mjs';

let server;
let seller;
let alice;
let bob;
let admin;

before(async () => {
  server = await startServer();
  seller = await server.token('sally', ['seller']);
  alice = await server.token('alice', ['bidder']);
  bob = await server.token('bob', ['bidder']);
  admin = await server.token('root', ['admin']);
});

after(async () => {
  await server?.cleanup();
});

describe('idempotent retries', () => {
  test('the same Idempotency-Key twice in a row → the same bidId, one bid', async () => {
    const a = await server.createAuction(seller);
    const key = uid('retry');
    const first = await server.bid(a.id, alice, { amount: 1000, maxAmount: 2000 }, { key });
    assert.equal(first.status, 202);
    assert.equal(first.body.status, 'queued');
    const second = await server.bid(a.id, alice, { amount: 1000, maxAmount: 2000 }, { key });
    assert.equal(second.status, 202);
    assert.deepEqual(second.body, first.body);
    // With ?wait= the retry answers the first bid's decision.
    const third = await server.bid(a.id, alice, { amount: 1000, maxAmount: 2000 }, { key, wait: 5000 });
    assert.equal(third.status, 200);
    assert.equal(third.body.bidId, first.body.bidId);
    assert.equal(third.body.status, 'accepted');
    assert.equal(third.body.leading, true);
    // Even a different body under the same key is the first bid's answer, not a new bid.
    const fourth = await server.bid(a.id, alice, { amount: 5000 }, { key });
    assert.equal(fourth.status, 202);
    assert.equal(fourth.body.bidId, first.body.bidId);

    const history = await server.history(a.id, admin);
    assert.deepEqual(history.map((b) => b.bidId), [first.body.bidId]);
    const view = await server.auction(a.id);
    assert.equal(view.bidCount, 1);
    assert.equal(view.currentPrice, 1000);
    assert.equal(view.seq, a.seq + 1);
  });

  test('the same Idempotency-Key sent concurrently → one bidId for all, one bid', async () => {
    const a = await server.createAuction(seller);
    const key = uid('burst');
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        server.bid(a.id, bob, { amount: 1000, maxAmount: 3000 }, { key, ...(i % 2 ? { wait: 5000 } : {}) }),
      ),
    );
    const ids = new Set(answers.map((r) => r.body?.bidId));
    assert.equal(ids.size, 1, `several bids for one key: ${answers.map((r) => `${r.status} ${r.text}`).join(' | ')}`);
    for (const [i, r] of answers.entries()) {
      if (i % 2) {
        assert.equal(r.status, 200, r.text);
        assert.equal(r.body.status, 'accepted');
      } else {
        assert.equal(r.status, 202, r.text);
      }
    }
    const history = await server.history(a.id, admin);
    assert.equal(history.length, 1);
    assert.equal(history[0].bidId, [...ids][0]);
    assert.equal((await server.auction(a.id)).bidCount, 1);
  });

  test('keys are per user: the same key from two users is two bids', async () => {
    const a = await server.createAuction(seller);
    const key = uid('shared');
    const r1 = await server.bid(a.id, alice, { amount: 1000 }, { key, wait: 5000 });
    const r2 = await server.bid(a.id, bob, { amount: 1100 }, { key, wait: 5000 });
    assert.equal(r1.status, 200);
    assert.equal(r2.status, 200);
    assert.notEqual(r1.body.bidId, r2.body.bidId);
    assert.equal(r2.body.leading, true);
    assert.equal((await server.auction(a.id)).bidCount, 2);
  });
});

// Two gateways share one queue (selfhosted: Redis, PostgreSQL): a retry through the other
// gateway while the first attempt is still queued is a dedup hit in the queue, and must answer
// the first attempt's bid, not a bid id of its own that would never be decided.
describe('idempotent retries across gateways (selfhosted)', () => {
  const skip = !haveSelfhostedServers() && !process.env.CI ? 'redis-server or PostgreSQL is not installed (scripts/setup.sh)' : false;
  let state;
  const procs = {};
  let g1;
  let g2;

  before(async () => {
    if (skip) return;
    state = await makeTempDir('gavel-bids-sh-');
    const { redisUrl, postgresUrl } = startSelfhostedBackends(state);
    const migrated = spawnSync(GAVEL_BINARY, ['migrate', '--postgres-url', postgresUrl], { encoding: 'utf8' });
    assert.equal(migrated.status, 0, migrated.stderr);
    const secret = randomBytes(24).toString('hex');
    for (const [name, role] of [['engine-1', 'engine'], ['gateway-1', 'gateway'], ['gateway-2', 'gateway']]) {
      procs[name] = await startServer({
        args: ['--profile', 'selfhosted', '--redis-url', redisUrl, '--postgres-url', postgresUrl, '--roles', role,
          '--node-id', name, '--dev-secret', secret, '--rate-per-second', '0'],
      });
    }
    ({ 'gateway-1': g1, 'gateway-2': g2 } = procs);
  });

  after(async () => {
    for (const proc of Object.values(procs)) await proc.cleanup();
    if (state) {
      stopSelfhostedBackends(state);
      await removeTempDir(state);
    }
  });

  test('a retry through another gateway while the first is still queued → the first bidId, then its decision', { skip }, async () => {
    const sel = await g1.token('sally', ['seller']);
    const carl = await g1.token('carl', ['bidder']);
    const root = await g1.token('root', ['admin']);
    const a = await g1.createAuction(sel);
    // No engine: the first attempt stays queued, undecided, for as long as the test needs.
    await procs['engine-1'].stop();
    const key = uid('queued');
    const first = await g1.bid(a.id, carl, { amount: 1000 }, { key });
    assert.equal(first.status, 202, first.text);
    const bidId = first.body.bidId;
    const elsewhere = await g2.bid(a.id, carl, { amount: 1000 }, { key });
    assert.equal(elsewhere.status, 202, elsewhere.text);
    assert.deepEqual(elsewhere.body, { bidId, status: 'queued' });
    // ?wait= on a bid that stays undecided: still the first bid, still queued, after the wait.
    const waited = await g2.bid(a.id, carl, { amount: 1000 }, { key, wait: 300 });
    assert.equal(waited.status, 202, waited.text);
    assert.equal(waited.body.bidId, bidId);
    // The gateway that answered the retry knows the bid as queued.
    const queued = await g2.get(`/v1/bids/${bidId}`, { token: carl });
    assert.equal(queued.status, 200, queued.text);
    assert.equal(queued.body.status, 'queued');

    // The engine comes back: a retry that waits gets the first bid's decision.
    const retry = g2.bid(a.id, carl, { amount: 1000 }, { key, wait: 15_000 });
    await procs['engine-1'].start();
    const decided = await retry;
    assert.equal(decided.status, 200, decided.text);
    assert.equal(decided.body.bidId, bidId);
    assert.equal(decided.body.status, 'accepted');
    assert.equal(decided.body.leading, true);
    const history = await g1.history(a.id, root);
    assert.deepEqual(history.map((b) => b.bidId), [bidId]);
  });

  test('the same key posted concurrently to two gateways → one bidId in every answer, one bid', { skip }, async () => {
    const sel = await g1.token('sally', ['seller']);
    const dora = await g1.token('dora', ['bidder']);
    const root = await g1.token('root', ['admin']);
    for (let round = 0; round < 5; ++round) {
      const a = await g1.createAuction(sel);
      const key = uid('pair');
      const body = { amount: 1000, maxAmount: 5000 };
      const answers = await Promise.all([
        g1.bid(a.id, dora, body, { key }),
        g2.bid(a.id, dora, body, { key }),
        g1.bid(a.id, dora, body, { key, wait: 10_000 }),
        g2.bid(a.id, dora, body, { key, wait: 10_000 }),
      ]);
      const ids = new Set(answers.map((r) => r.body?.bidId));
      const history = await g1.history(a.id, root);
      const looked = await Promise.all([...ids].map((id) => g1.get(`/v1/bids/${id}`, { token: root })));
      assert.equal(ids.size, 1, `several bids for one key: ${answers.map((r) => `${r.status} ${r.text}`).join(' | ')} ## ${JSON.stringify(history)} ## ${looked.map((r) => r.text).join(' | ')}`);
      assert.deepEqual(answers.map((r) => r.status), [202, 202, 200, 200], answers.map((r) => r.text).join(' | '));
      assert.deepEqual(history.map((b) => b.bidId), [...ids]);
    }
  });
});

describe('?wait= outcomes', () => {
  test('accepted: 200 with leading true/false and the auction', async () => {
    const a = await server.createAuction(seller, { startingPrice: 1000 });
    const lead = await server.bid(a.id, alice, { amount: 1000, maxAmount: 1500 }, { key: uid(), wait: 5000 });
    assert.equal(lead.status, 200);
    assert.equal(lead.body.status, 'accepted');
    assert.equal(lead.body.leading, true);
    assert.equal(lead.body.price, 1000);
    assert.equal(lead.body.auction.id, a.id);
    assert.equal(lead.body.auction.leaderId, 'alice');
    assert.equal(lead.body.auction.currentPrice, 1000);
    assert.equal(lead.body.auction.bidCount, 1);
    assert.equal(lead.body.auction.seq, a.seq + 1);

    // bob's 1200 (no max) < alice's max 1500: accepted, not leading, price min(1500, 1200+50).
    const under = await server.bid(a.id, bob, { amount: 1200 }, { key: uid(), wait: 5000 });
    assert.equal(under.status, 200);
    assert.equal(under.body.status, 'accepted');
    assert.equal(under.body.leading, false);
    assert.equal(under.body.price, 1250);
    assert.equal(under.body.auction.leaderId, 'alice');
    assert.equal(under.body.auction.currentPrice, 1250);
    assert.equal(under.body.auction.minNextBid, 1300);
    assert.equal(under.body.auction.bidCount, 2);
    assert.equal(under.body.auction.seq, a.seq + 2);
    assert.deepEqual(await server.auction(a.id), under.body.auction);
  });

  test('rejected: 409 with the reason (and minNextBid when too low)', async () => {
    const a = await server.createAuction(seller, { startingPrice: 1000 });
    const low = await server.bid(a.id, bob, { amount: 999 }, { key: uid(), wait: 5000 });
    assert.equal(low.status, 409);
    assert.equal(low.body.status, 'rejected');
    assert.equal(low.body.reason, 'bid_too_low');
    assert.equal(low.body.minNextBid, 1000);
    const first = await server.bid(a.id, bob, { amount: 1000 }, { key: uid(), wait: 5000 });
    assert.equal(first.status, 200);
    const again = await server.bid(a.id, bob, { amount: 1000 }, { key: uid(), wait: 5000 });
    assert.equal(again.status, 409);
    assert.equal(again.body.status, 'rejected');
    assert.equal(again.body.reason, 'not_raising_max');
    assert.equal(typeof again.body.bidId, 'string');
    assert.equal(again.body.auction.seq, first.body.auction.seq);
    assert.equal(again.body.auction.bidCount, 1);
    assert.deepEqual(await server.auction(a.id), first.body.auction);
  });

  test('API.md: a rejected ?wait= answer carries the bidId, also when too low', async () => {
    const a = await server.createAuction(seller, { startingPrice: 1000 });
    const low = await server.bid(a.id, bob, { amount: 999 }, { key: uid(), wait: 5000 });
    assert.equal(low.status, 409);
    assert.equal(typeof low.body.bidId, 'string');
  });
});

describe('rate limit', () => {
  test('over the burst → 429 rate_limited with Retry-After; nothing changes; it refills', async () => {
    const s = await startServer({ args: ['--rate-per-second', '1', '--rate-burst', '3'] });
    try {
      const sel = await s.token('sally', ['seller']);
      const carl = await s.token('carl', ['bidder']);
      const dana = await s.token('dana', ['bidder']);
      const a = await s.createAuction(sel, { startingPrice: 1000 });
      // Three bids (the burst): each one is decided.
      const statuses = [];
      for (const max of [2000, 3000, 4000]) {
        const r = await s.bid(a.id, carl, { amount: 1000, maxAmount: max }, { key: uid(), wait: 5000 });
        statuses.push(r.status);
      }
      assert.deepEqual(statuses, [200, 200, 200]);
      const before = await s.auction(a.id);
      assert.equal(before.bidCount, 3);
      const limited = await s.bid(a.id, carl, { amount: 1000, maxAmount: 5000 }, { key: uid(), wait: 5000 });
      assert.equal(limited.status, 429, limited.text);
      assert.equal(limited.body.error.code, 'rate_limited');
      const retryAfter = Number(limited.headers['retry-after']);
      assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 2, `Retry-After ${limited.headers['retry-after']}`);
      assert.deepEqual(await s.auction(a.id), before);
      // Another user has their own bucket.
      const other = await s.bid(a.id, dana, { amount: 1050 }, { key: uid(), wait: 5000 });
      assert.equal(other.status, 200, other.text);
      // After Retry-After the user may bid again.
      await sleep(retryAfter * 1000 + 100);
      const later = await s.bid(a.id, carl, { amount: 1000, maxAmount: 5000 }, { key: uid(), wait: 5000 });
      assert.equal(later.status, 200, later.text);
      const metrics = await s.get('/metrics');
      assert.match(metrics.text, /^gavel_bids_rate_limited_total 1$/m);
    } finally {
      await s.cleanup();
    }
  });
});
