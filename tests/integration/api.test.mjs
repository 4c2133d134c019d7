// Every call of API.md's table: the happy paths and their exact shapes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt, sleep, startServer, uid } from './harness.mjs';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3}|\.\d{6})?Z$/;

let server;
let seller;
let otherSeller;
let alice;
let bob;
let admin;

before(async () => {
  server = await startServer();
  seller = await server.token('sally', ['seller']);
  otherSeller = await server.token('sven', ['seller']);
  alice = await server.token('alice', ['bidder']);
  bob = await server.token('bob', ['bidder']);
  admin = await server.token('root', ['admin']);
});

after(async () => {
  await server?.cleanup();
});

describe('health, readiness, metrics', () => {
  test('GET /healthz answers 200 {"status":"ok"}', async () => {
    const res = await server.get('/healthz');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { status: 'ok' });
    assert.match(res.headers['content-type'], /^application\/json/);
  });

  test('GET /readyz answers 200 "ready" with each dependency checked', async () => {
    const res = await server.get('/readyz');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      status: 'ready',
      checks: { store: 'ok', queue: 'ok', cache: 'ok', auditLog: 'ok', notices: 'ok' },
    });
  });

  test('GET /metrics is Prometheus text whose gavel_ counters move with a bid', async () => {
    const metric = (text, name) => {
      const line = text.split('\n').find((l) => l.startsWith(`${name} `));
      assert.ok(line, `metric ${name} missing`);
      return Number(line.slice(name.length + 1));
    };
    const auction = await server.createAuction(seller);
    const before = await server.get('/metrics');
    assert.equal(before.status, 200);
    assert.match(before.headers['content-type'], /^text\/plain; version=0\.0\.4/);
    for (const name of [
      'gavel_http_requests_total',
      'gavel_http_errors_total',
      'gavel_bids_received_total',
      'gavel_bids_fast_rejected_total',
      'gavel_bids_rate_limited_total',
      'gavel_engine_batches_total',
      'gavel_events_published_total',
    ]) {
      assert.match(before.text, new RegExp(`^# TYPE ${name} counter$`, 'm'));
      assert.ok(Number.isInteger(metric(before.text, name)), name);
    }
    const accepted = 'gavel_engine_decisions_total{outcome="accepted"}';
    const res = await server.bid(auction.id, alice, { amount: 1000 }, { key: uid(), wait: 5000 });
    assert.equal(res.status, 200);
    const after = await server.get('/metrics');
    assert.equal(
      metric(after.text, 'gavel_bids_received_total'),
      metric(before.text, 'gavel_bids_received_total') + 1,
    );
    assert.equal(metric(after.text, accepted), metric(before.text, accepted) + 1);
    // Each request is counted before it is answered: the bid and the second scrape.
    assert.equal(
      metric(after.text, 'gavel_http_requests_total'),
      metric(before.text, 'gavel_http_requests_total') + 2,
    );
    assert.equal(
      metric(after.text, 'gavel_http_errors_total'),
      metric(before.text, 'gavel_http_errors_total'),
    );
  });
});

describe('POST /v1/auth/dev-token', () => {
  test('mints an HS256 token with sub and roles', async () => {
    const res = await server.post('/v1/auth/dev-token', { sub: 'carol', roles: ['bidder', 'seller'] });
    assert.equal(res.status, 200);
    assert.equal(typeof res.body.token, 'string');
    assert.match(res.body.expiresAt, RFC3339);
    const { header, claims } = decodeJwt(res.body.token);
    assert.equal(header.alg, 'HS256');
    assert.equal(claims.sub, 'carol');
    assert.deepEqual(claims.roles, ['bidder', 'seller']);
    assert.ok(claims.exp > Date.now() / 1000);
    const skew = Date.parse(res.body.expiresAt) / 1000 - claims.exp;
    assert.ok(skew >= 0 && skew < 2, `expiresAt ${res.body.expiresAt} vs exp ${claims.exp}`);
    assert.ok(Math.abs(claims.exp - (Date.now() / 1000 + 12 * 3600)) < 60, 'a 12 h token');
  });

  test('roles default to bidder', async () => {
    const res = await server.post('/v1/auth/dev-token', { sub: 'dora' });
    assert.equal(res.status, 200);
    assert.deepEqual(decodeJwt(res.body.token).claims.roles, ['bidder']);
  });

  test('an unknown role, a missing sub or a non-array roles is 400 invalid_request', async () => {
    for (const [body, field] of [
      [{ sub: 'x', roles: ['emperor'] }, 'roles'],
      [{ sub: 'x', roles: 'bidder' }, 'roles'],
      [{ roles: ['bidder'] }, 'sub'],
      [{ sub: 'has space', roles: ['bidder'] }, 'sub'],
    ]) {
      const res = await server.post('/v1/auth/dev-token', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error.code, 'invalid_request');
      assert.equal(res.body.error.field, field);
    }
  });
});

describe('auctions: create, get, list', () => {
  test('POST /v1/auctions → 201 with the public state and a Location', async () => {
    const started = Date.now();
    const res = await server.post(
      '/v1/auctions',
      {
        title: 'Brass telescope',
        currency: 'EUR',
        startingPrice: 2500,
        durationSeconds: 3600,
        reservePrice: 9000,
        buyNowPrice: 50000,
        softCloseSeconds: 60,
        extensionSeconds: 30,
      },
      { token: seller },
    );
    assert.equal(res.status, 201);
    const a = res.body;
    assert.equal(res.headers.location, `/v1/auctions/${a.id}`);
    assert.equal(a.title, 'Brass telescope');
    assert.equal(a.sellerId, 'sally');
    assert.equal(a.currency, 'EUR');
    assert.equal(a.status, 'open');
    assert.equal(a.startingPrice, 2500);
    assert.equal(a.currentPrice, 2500);
    assert.equal(a.leaderId, null);
    assert.equal(a.bidCount, 0);
    assert.equal(a.minNextBid, 2500);
    assert.equal(a.reserveMet, false);
    assert.equal(a.buyNowPrice, 50000);
    assert.equal('reservePrice' in a, false, 'the reserve is hidden');
    assert.match(a.startsAt, RFC3339);
    assert.match(a.endsAt, RFC3339);
    assert.equal(Date.parse(a.endsAt) - Date.parse(a.startsAt), 3_600_000);
    assert.ok(Math.abs(Date.parse(a.startsAt) - started) < 5_000);
    assert.ok(Number.isInteger(a.seq) && a.seq >= 1);

    const got = await server.get(`/v1/auctions/${a.id}`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, a);
  });

  test('an explicit endsAt and a future startsAt make a scheduled auction', async () => {
    const startsAt = new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const endsAt = new Date(Date.parse(startsAt) + 7_200_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const a = await server.createAuction(seller, { startsAt, endsAt });
    assert.equal(a.status, 'scheduled');
    assert.equal(a.startsAt, startsAt);
    assert.equal(a.endsAt, endsAt);
    // Bidding before it opens: rejected by the engine, the auction unchanged.
    const res = await server.bid(a.id, alice, { amount: 1000 }, { key: uid(), wait: 5000 });
    assert.equal(res.status, 409);
    assert.equal(res.body.status, 'rejected');
    assert.equal(res.body.reason, 'auction_not_open');
    const after = await server.auction(a.id);
    assert.equal(after.seq, a.seq);
    assert.equal(after.bidCount, 0);
    assert.equal(after.status, 'scheduled');
  });

  test('GET /v1/auctions filters by status and pages with limit/after', async () => {
    // A fresh server for an exact census.
    const s = await startServer();
    try {
      const sel = await s.token('sally', ['seller']);
      const adm = await s.token('root', ['admin']);
      const open = [];
      for (let i = 0; i < 5; ++i) open.push((await s.createAuction(sel, { title: `open ${i}` })).id);
      const future = new Date(Date.now() + 3_600_000).toISOString();
      const scheduled = (await s.createAuction(sel, { startsAt: future, durationSeconds: 60 })).id;
      const cancelled = (await s.createAuction(sel)).id;
      const c = await s.post(`/v1/auctions/${cancelled}/cancel`, {}, { token: adm });
      assert.equal(c.status, 200);
      const closed = (await s.createAuction(sel, { durationSeconds: 1 })).id;
      await s.waitForAuction(closed, (a) => a.status === 'closed', 10_000);

      const list = async (query) => {
        const res = await s.get(`/v1/auctions${query}`);
        assert.equal(res.status, 200, query);
        return res.body;
      };
      const all = await list('');
      assert.deepEqual(
        new Set(all.auctions.map((a) => a.id)),
        new Set([...open, scheduled, cancelled, closed]),
      );
      assert.equal(all.next, null);
      const byStatus = async (status) => (await list(`?status=${status}`)).auctions;
      assert.deepEqual(new Set((await byStatus('open')).map((a) => a.id)), new Set(open));
      assert.ok((await byStatus('open')).every((a) => a.status === 'open'));
      assert.deepEqual((await byStatus('scheduled')).map((a) => a.id), [scheduled]);
      assert.deepEqual((await byStatus('cancelled')).map((a) => a.id), [cancelled]);
      const closedList = await byStatus('closed');
      assert.deepEqual(closedList.map((a) => a.id), [closed]);
      assert.equal(closedList[0].result, 'unsold');
      assert.equal(closedList[0].winnerId, null);
      assert.equal(closedList[0].finalPrice, null);

      // Pages of two through the open ones: every id once, `next` null at the end.
      const seen = [];
      let after = null;
      for (let page = 0; page < 10; ++page) {
        const body = await list(`?status=open&limit=2${after ? `&after=${after}` : ''}`);
        assert.ok(body.auctions.length <= 2);
        seen.push(...body.auctions.map((a) => a.id));
        if (body.next === null) break;
        assert.equal(body.next, body.auctions.at(-1).id);
        after = body.next;
      }
      assert.equal(seen.length, open.length);
      assert.deepEqual(new Set(seen), new Set(open));

      for (const [query, field] of [
        ['?status=sold', 'status'],
        ['?limit=0', 'limit'],
        ['?limit=101', 'limit'],
        ['?limit=abc', 'limit'],
        ['?after=a%20b', 'after'],
      ]) {
        const res = await s.get(`/v1/auctions${query}`);
        assert.equal(res.status, 400, query);
        assert.equal(res.body.error.code, 'invalid_request');
        assert.equal(res.body.error.field, field);
      }
    } finally {
      await s.cleanup();
    }
  });
});

describe('bids: post, get, history', () => {
  test('POST bids → 202 queued; GET /v1/bids/{id} gives the decision to its owner', async () => {
    const a = await server.createAuction(seller, { startingPrice: 1000 });
    const res = await server.bid(a.id, alice, { amount: 1000, maxAmount: 3000 }, { key: uid() });
    assert.equal(res.status, 202);
    assert.equal(res.body.status, 'queued');
    assert.equal(typeof res.body.bidId, 'string');
    const bidId = res.body.bidId;

    const mine = await server.get(`/v1/bids/${bidId}`, { token: alice });
    assert.equal(mine.status, 200);
    assert.equal(mine.body.bidId, bidId);
    assert.equal(mine.body.auctionId, a.id);
    assert.equal(mine.body.bidderId, 'alice');
    assert.equal(mine.body.status, 'accepted');
    assert.equal(mine.body.amount, 1000);
    assert.equal(mine.body.maxAmount, 3000);
    assert.equal(mine.body.leading, true);
    assert.equal(mine.body.price, 1000);
    assert.match(mine.body.receivedAt, RFC3339);

    const byAdmin = await server.get(`/v1/bids/${bidId}`, { token: admin });
    assert.equal(byAdmin.status, 200);
    assert.equal(byAdmin.body.bidId, bidId);

    // Someone else's bid is not theirs to see.
    const other = await server.get(`/v1/bids/${bidId}`, { token: bob });
    assert.equal(other.status, 404);
    assert.equal(other.body.error.code, 'bid_not_found');
    const none = await server.get(`/v1/bids/${bidId}`);
    assert.equal(none.status, 401);
    assert.equal(none.body.error.code, 'unauthenticated');
    const unknown = await server.get('/v1/bids/NO-SUCH-BID', { token: alice });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'bid_not_found');

    const view = await server.auction(a.id);
    assert.equal(view.bidCount, 1);
    assert.equal(view.leaderId, 'alice');
    assert.equal(view.currentPrice, 1000);
    assert.equal(view.minNextBid, 1050);
    assert.equal(view.seq, a.seq + 1);
  });

  test('proxy bidding: the history is in order; maxima only for admins', async () => {
    const a = await server.createAuction(seller, { startingPrice: 1000 });
    const b1 = await server.bid(a.id, alice, { amount: 1000, maxAmount: 3000 }, { key: uid(), wait: 5000 });
    assert.equal(b1.status, 200);
    // bob's maximum 2000 < alice's 3000: alice stays; price = min(3000, 2000 + 50) = 2050.
    const b2 = await server.bid(a.id, bob, { amount: 1500, maxAmount: 2000 }, { key: uid(), wait: 5000 });
    assert.equal(b2.status, 200);
    assert.equal(b2.body.status, 'accepted');
    assert.equal(b2.body.leading, false);
    assert.equal(b2.body.price, 2050);
    assert.equal(b2.body.auction.leaderId, 'alice');
    assert.equal(b2.body.auction.currentPrice, 2050);
    // bob raises to 4000 > 3000: bob leads at min(4000, 3000 + 100) = 3100.
    const b3 = await server.bid(a.id, bob, { amount: 2100, maxAmount: 4000 }, { key: uid(), wait: 5000 });
    assert.equal(b3.status, 200);
    assert.equal(b3.body.leading, true);
    assert.equal(b3.body.price, 3100);

    const pub = await server.get(`/v1/auctions/${a.id}/bids`);
    assert.equal(pub.status, 200);
    assert.equal(pub.body.next, null);
    assert.deepEqual(
      pub.body.bids.map((b) => [b.bidId, b.bidderId, b.amount, b.status, b.price]),
      [
        [b1.body.bidId, 'alice', 1000, 'accepted', 1000],
        [b2.body.bidId, 'bob', 1500, 'accepted', 2050],
        [b3.body.bidId, 'bob', 2100, 'accepted', 3100],
      ],
    );
    for (const b of pub.body.bids) assert.equal('maxAmount' in b, false, 'maxima are private');
    const positions = pub.body.bids.map((b) => b.position);
    assert.deepEqual([...positions].sort((x, y) => x - y), positions);

    const adm = await server.get(`/v1/auctions/${a.id}/bids`, { token: admin });
    assert.equal(adm.status, 200);
    assert.deepEqual(adm.body.bids.map((b) => b.maxAmount), [3000, 2000, 4000]);

    // Paging: limit 2, then after=next.
    const p1 = await server.get(`/v1/auctions/${a.id}/bids?limit=2`);
    assert.equal(p1.body.bids.length, 2);
    assert.equal(p1.body.next, p1.body.bids[1].position);
    const p2 = await server.get(`/v1/auctions/${a.id}/bids?limit=2&after=${p1.body.next}`);
    assert.deepEqual(p2.body.bids.map((b) => b.bidId), [b3.body.bidId]);
    assert.equal(p2.body.next, null);
    for (const query of ['?limit=0', '?after=-1', '?after=x']) {
      const bad = await server.get(`/v1/auctions/${a.id}/bids${query}`);
      assert.equal(bad.status, 400, query);
      assert.equal(bad.body.error.code, 'invalid_request');
    }
    const unknown = await server.get('/v1/auctions/no-such-auction/bids');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'auction_not_found');
  });
});

describe('buy-now', () => {
  test('a bidder takes the buy-now price: closed, sold, at once', async () => {
    const a = await server.createAuction(seller, { startingPrice: 1000, buyNowPrice: 7500 });
    const res = await server.post(`/v1/auctions/${a.id}/buy-now`, undefined, { token: bob });
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'accepted');
    const v = res.body.auction;
    assert.equal(v.status, 'closed');
    assert.equal(v.result, 'sold');
    assert.equal(v.winnerId, 'bob');
    assert.equal(v.finalPrice, 7500);
    assert.equal(v.currentPrice, 7500);
    assert.equal(v.seq, a.seq + 1);
    assert.deepEqual(await server.auction(a.id), v);

    const again = await server.post(`/v1/auctions/${a.id}/buy-now`, {}, { token: alice });
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'auction_closed');
    const late = await server.bid(a.id, alice, { amount: 8000 }, { key: uid(), wait: 5000 });
    assert.equal(late.status, 409);
    assert.equal(late.body.reason, 'auction_closed');
    assert.equal((await server.auction(a.id)).seq, v.seq);
  });

  test('buy-now is refused after the first accepted bid, and without a buy-now price', async () => {
    const a = await server.createAuction(seller, { startingPrice: 1000, buyNowPrice: 7500 });
    const bid = await server.bid(a.id, alice, { amount: 1000 }, { key: uid(), wait: 5000 });
    assert.equal(bid.status, 200);
    assert.equal(bid.body.auction.buyNowPrice, null);
    const before = await server.auction(a.id);
    const res = await server.post(`/v1/auctions/${a.id}/buy-now`, {}, { token: bob });
    assert.equal(res.status, 409);
    assert.equal(res.body.error.code, 'buy_now_unavailable');
    assert.deepEqual(await server.auction(a.id), before);

    const plain = await server.createAuction(seller);
    const res2 = await server.post(`/v1/auctions/${plain.id}/buy-now`, {}, { token: bob });
    assert.equal(res2.status, 409);
    assert.equal(res2.body.error.code, 'buy_now_unavailable');
    assert.deepEqual(await server.auction(plain.id), plain);
  });

  test('buy-now needs the bidder role and a known auction', async () => {
    const a = await server.createAuction(seller, { buyNowPrice: 7500 });
    const res = await server.post(`/v1/auctions/${a.id}/buy-now`, {}, { token: seller });
    assert.equal(res.status, 403);
    assert.equal(res.body.error.code, 'forbidden');
    const none = await server.post(`/v1/auctions/${a.id}/buy-now`, {});
    assert.equal(none.status, 401);
    const unknown = await server.post('/v1/auctions/no-such-auction/buy-now', {}, { token: bob });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'auction_not_found');
    assert.deepEqual(await server.auction(a.id), a);
  });
});

describe('cancel', () => {
  test('the seller cancels before any bid', async () => {
    const a = await server.createAuction(seller);
    const res = await server.post(`/v1/auctions/${a.id}/cancel`, { reason: 'withdrawn' }, { token: seller });
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'accepted');
    assert.equal(res.body.auction.status, 'cancelled');
    assert.equal(res.body.auction.seq, a.seq + 1);
    const view = await server.auction(a.id);
    assert.equal(view.status, 'cancelled');
    const bid = await server.bid(a.id, alice, { amount: 1000 }, { key: uid(), wait: 5000 });
    assert.equal(bid.status, 409);
    assert.equal(bid.body.reason, 'auction_closed');
    const twice = await server.post(`/v1/auctions/${a.id}/cancel`, {}, { token: seller });
    assert.equal(twice.status, 409);
    assert.equal(twice.body.error.code, 'auction_closed');
    assert.deepEqual(await server.auction(a.id), view);
  });

  test('the seller is refused after a bid; another seller and a bidder are refused; an admin cancels', async () => {
    const a = await server.createAuction(seller);
    const bid = await server.bid(a.id, alice, { amount: 1000 }, { key: uid(), wait: 5000 });
    assert.equal(bid.status, 200);
    const before = await server.auction(a.id);

    const own = await server.post(`/v1/auctions/${a.id}/cancel`, {}, { token: seller });
    assert.equal(own.status, 409);
    assert.equal(own.body.error.code, 'auction_has_bids');
    const foreign = await server.post(`/v1/auctions/${a.id}/cancel`, {}, { token: otherSeller });
    assert.equal(foreign.status, 403);
    assert.equal(foreign.body.error.code, 'not_allowed');
    const bidder = await server.post(`/v1/auctions/${a.id}/cancel`, {}, { token: alice });
    assert.equal(bidder.status, 403);
    assert.equal(bidder.body.error.code, 'forbidden');
    const longReason = await server.post(`/v1/auctions/${a.id}/cancel`, { reason: 'x'.repeat(501) }, { token: admin });
    assert.equal(longReason.status, 400);
    assert.equal(longReason.body.error.code, 'invalid_request');
    assert.deepEqual(await server.auction(a.id), before);

    const res = await server.post(`/v1/auctions/${a.id}/cancel`, { reason: 'fraud' }, { token: admin });
    assert.equal(res.status, 200);
    assert.equal(res.body.auction.status, 'cancelled');
    assert.equal(res.body.auction.seq, before.seq + 1);
    assert.equal(res.body.auction.bidCount, 1);
  });
});

describe('closing on time', () => {
  test('an auction closes at endsAt, sold to the leader at the current price', async () => {
    const a = await server.createAuction(seller, { durationSeconds: 2, startingPrice: 1000 });
    const bid = await server.bid(a.id, bob, { amount: 1200, maxAmount: 5000 }, { key: uid(), wait: 5000 });
    assert.equal(bid.status, 200);
    const closed = await server.waitForAuction(a.id, (v) => v.status === 'closed', 10_000);
    assert.equal(closed.result, 'sold');
    assert.equal(closed.winnerId, 'bob');
    assert.equal(closed.finalPrice, 1200);
    assert.equal(closed.seq, bid.body.auction.seq + 1);
    assert.ok(Date.now() >= Date.parse(closed.endsAt));
    const late = await server.bid(a.id, alice, { amount: 9000 }, { key: uid(), wait: 5000 });
    assert.equal(late.status, 409);
    assert.equal(late.body.reason, 'auction_closed');
    await sleep(50);
    assert.deepEqual(await server.auction(a.id), closed);
  });
});
