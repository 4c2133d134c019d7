// Hundreds of concurrent bids on one auction: one decision each, one order, and `gavel replay`
// of the decided order gives the same outcome.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mapLimit, runReplay, startServer, uid } from './harness.mjs';

const USERS = 20;
const BIDS = 400;
const CONCURRENCY = 24;

let server;

before(async () => {
  server = await startServer({ args: ['--rate-per-second', '0'] });
});

after(async () => {
  await server?.cleanup();
});

/** A small deterministic PRNG (mulberry32), so a failure can be re-run with the same bids. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe(`${BIDS} concurrent bids from ${USERS} users on one auction`, () => {
  let a; // the auction as created
  let tokens;
  let admin;
  let queued; // answers 202 {bidId}
  let history; // the admin history afterwards
  let view; // the auction afterwards

  before(async () => {
    const seller = await server.token('sally', ['seller']);
    admin = await server.token('root', ['admin']);
    tokens = [];
    for (let u = 0; u < USERS; ++u) tokens.push(await server.token(`user${u}`, ['bidder']));
    a = await server.createAuction(seller, { title: 'Contested lot', currency: 'EUR', startingPrice: 1000, durationSeconds: 600 });

    const random = prng(0x5eed);
    const plan = Array.from({ length: BIDS }, (_, i) => {
      const user = i % USERS;
      // Rising ~5 % a bid (more than any increment step), with proxy maxima up to 10 % above:
      // most bids reach the engine even while two dozen are in flight.
      const amount = Math.floor(1000 * 1.05 ** i * (1 + random() * 0.02));
      const maxAmount = amount + Math.floor(amount * random() * 0.1);
      return { user, amount, maxAmount, key: uid(`c${i}`) };
    });
    const answers = await mapLimit(plan, CONCURRENCY, async (bid) => {
      const res = await server.bid(a.id, tokens[bid.user], { amount: bid.amount, maxAmount: bid.maxAmount }, { key: bid.key });
      return { ...bid, status: res.status, body: res.body, text: res.text };
    });

    // Every request is answered 202 (queued and durable) or 409 (fast reject from the cache).
    const odd = answers.filter((r) => r.status !== 202 && r.status !== 409);
    assert.deepEqual(odd.map((r) => `${r.status} ${r.text}`).slice(0, 5), []);
    for (const r of answers.filter((x) => x.status === 409)) assert.equal(r.body.reason, 'bid_too_low', r.text);
    queued = answers.filter((r) => r.status === 202);
    assert.ok(queued.length > BIDS / 4, `only ${queued.length} bids were queued`);
    history = await server.history(a.id, admin);
    view = await server.auction(a.id);
  });

  test('every queued bid has exactly one decision, and the history has each exactly once', async () => {
    const queuedIds = queued.map((r) => r.body.bidId);
    assert.equal(new Set(queuedIds).size, queuedIds.length, 'bidIds are unique');
    const decisions = await mapLimit(queued, 8, async (r) => {
      const res = await server.get(`/v1/bids/${r.body.bidId}`, { token: tokens[r.user] });
      assert.equal(res.status, 200, res.text);
      assert.ok(res.body.status === 'accepted' || res.body.status === 'rejected', res.text);
      assert.equal(res.body.amount, r.amount);
      assert.equal(res.body.maxAmount, r.maxAmount);
      assert.equal(res.body.bidderId, `user${r.user}`);
      return res.body;
    });
    assert.equal(history.length, queued.length, 'the history holds every queued bid');
    assert.deepEqual(new Set(history.map((b) => b.bidId)), new Set(queuedIds));
    const byId = new Map(history.map((b) => [b.bidId, b]));
    for (const d of decisions) {
      const h = byId.get(d.bidId);
      assert.equal(h.status, d.status);
      assert.equal(h.price, d.price);
      assert.equal(h.maxAmount, d.maxAmount);
      assert.equal(h.position, d.position);
    }
    // One order: positions strictly increase; the price never goes down.
    for (let i = 1; i < history.length; ++i) {
      assert.ok(history[i].position > history[i - 1].position);
      assert.ok(history[i].price >= history[i - 1].price, `price went down at ${i}`);
    }
    const accepted = history.filter((b) => b.status === 'accepted');
    assert.equal(view.bidCount, accepted.length);
    assert.equal(view.currentPrice, history.at(-1).price);
    assert.equal(view.seq, a.seq + accepted.length);
  });

  const replayLines = (clamp) => {
    let clock = a.startsAt;
    return [
      {
        op: 'create',
        at: a.startsAt,
        auction: {
          id: a.id,
          sellerId: a.sellerId,
          title: a.title,
          currency: a.currency,
          startingPrice: a.startingPrice,
          startsAt: a.startsAt,
          endsAt: a.endsAt,
        },
      },
      ...history.map((b) => {
        // RFC 3339 with 6 or 3 fraction digits, all UTC: string order is time order when the
        // lengths match; compare as numbers to be safe.
        let at = b.receivedAt;
        if (clamp && toMicros(at) < toMicros(clock)) at = clock;
        clock = at;
        return {
          op: 'bid',
          bidId: b.bidId,
          auctionId: a.id,
          bidderId: b.bidderId,
          amount: b.amount,
          ...(b.maxAmount !== null ? { maxAmount: b.maxAmount } : {}),
          receivedAt: at,
        };
      }),
    ];
  };

  const checkReplay = async (clamp) => {
    const replay = await runReplay(replayLines(clamp));
    assert.equal(replay.code, 0, `gavel replay failed: ${replay.stderr.slice(0, 2000)}`);
    const outcomes = replay.lines.filter((l) => l.bidId);
    assert.equal(outcomes.length, history.length);
    for (let i = 0; i < history.length; ++i) {
      assert.equal(outcomes[i].bidId, history[i].bidId);
      assert.equal(outcomes[i].status, history[i].status, `bid ${i} (${history[i].bidId})`);
      assert.equal(outcomes[i].price, history[i].price, `bid ${i} (${history[i].bidId})`);
      if (history[i].status === 'rejected') assert.equal(outcomes[i].reason, history[i].reason);
    }
    const final = replay.lines.find((l) => l.auction)?.auction;
    assert.ok(final, 'replay printed the auction');
    assert.equal(final.currentPrice, view.currentPrice);
    assert.equal(final.leaderId, view.leaderId);
    assert.equal(final.bidCount, view.bidCount);
    assert.equal(final.minNextBid, view.minNextBid);
  };

  test('gavel replay of the decided order (receivedAt held non-decreasing) gives the same decisions and state', async () => {
    await checkReplay(true);
  });

  test('gavel replay accepts the decided order with its exact receivedAt', async () => {
    await checkReplay(false);
  });
});

function toMicros(rfc3339) {
  const match = /^(.*?)(?:\.(\d+))?Z$/.exec(rfc3339);
  const fraction = (match[2] ?? '').padEnd(6, '0').slice(0, 6);
  return Date.parse(`${match[1]}Z`) * 1000 + Number(fraction);
}
