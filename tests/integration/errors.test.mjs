// Bad input gets a clear error and changes nothing (ARCHITECTURE.md §4).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { signJwt, startServer, uid } from './harness.mjs';

let server;
let seller;
let alice;
let bob;
let admin;
let auction; // has one accepted bid by alice at 1000 (max 1000): minNextBid 1050

before(async () => {
  server = await startServer();
  seller = await server.token('sally', ['seller']);
  alice = await server.token('alice', ['bidder']);
  bob = await server.token('bob', ['bidder']);
  admin = await server.token('root', ['admin']);
  const created = await server.createAuction(seller, { startingPrice: 1000, currency: 'EUR' });
  const first = await server.bid(created.id, alice, { amount: 1000 }, { key: uid(), wait: 5000 });
  assert.equal(first.status, 200);
  auction = await server.auction(created.id);
  assert.equal(auction.bidCount, 1);
  assert.equal(auction.minNextBid, 1050);
});

after(async () => {
  await server?.cleanup();
});

/** Runs `fn`, then asserts the auction and its decided history are exactly as before. */
async function changesNothing(fn) {
  const before = await server.auction(auction.id);
  const historyBefore = await server.history(auction.id, admin);
  await fn();
  const after = await server.auction(auction.id);
  assert.deepEqual(after, before, 'the auction changed');
  assert.equal(after.seq, before.seq);
  assert.equal(after.bidCount, before.bidCount);
  assert.deepEqual(await server.history(auction.id, admin), historyBefore, 'the history changed');
}

function assertError(res, status, code, field) {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status} ${res.text}`);
  assert.equal(res.body?.error?.code, code, res.text);
  assert.equal(typeof res.body.error.message, 'string');
  assert.ok(res.body.error.message.length > 0);
  if (field !== undefined) assert.equal(res.body.error.field, field, res.text);
}

const bidPath = () => `/v1/auctions/${auction.id}/bids`;
const postRaw = (rawBody, token = bob, headers = {}) =>
  server.request('POST', bidPath(), { token, rawBody, headers: { 'Idempotency-Key': uid(), ...headers } });

describe('bid bodies', () => {
  test('malformed JSON and a non-object body → 400 malformed_json', async () => {
    await changesNothing(async () => {
      for (const raw of ['{"amount": ', 'amount=1100', '', '[1100]', '"1100"', 'null']) {
        assertError(await postRaw(raw), 400, 'malformed_json');
      }
    });
  });

  test('wrong types → 400 invalid_amount / invalid_request', async () => {
    await changesNothing(async () => {
      for (const body of [
        { amount: '1100' },
        { amount: true },
        { amount: [1100] },
        { amount: { value: 1100 } },
        {},
        { amount: null },
      ]) {
        assertError(await postRaw(JSON.stringify(body)), 400, 'invalid_amount', 'amount');
      }
      assertError(await postRaw(JSON.stringify({ amount: 1100, maxAmount: '2000' })), 400, 'invalid_amount', 'maxAmount');
      assertError(await postRaw(JSON.stringify({ amount: 1100, currency: 7 })), 400, 'invalid_request', 'currency');
      assertError(await postRaw(JSON.stringify({ amount: 1100, currency: 'EURO' })), 400, 'invalid_request', 'currency');
    });
  });

  test('fractional amounts (12.5, 12.0, 1100.0, 1.1e3) → 400 invalid_amount', async () => {
    await changesNothing(async () => {
      for (const raw of ['{"amount": 12.5}', '{"amount": 12.0}', '{"amount": 1100.0}', '{"amount": 1.1e3}', '{"amount": 1100, "maxAmount": 2000.5}']) {
        const res = await postRaw(raw);
        assertError(res, 400, 'invalid_amount');
        assert.equal(res.body.error.field, raw.includes('maxAmount') ? 'maxAmount' : 'amount');
      }
    });
  });

  test('negative, zero and more than 10^13 → 400 invalid_amount', async () => {
    await changesNothing(async () => {
      for (const raw of [
        '{"amount": -1100}',
        '{"amount": 0}',
        '{"amount": -0}',
        '{"amount": 10000000000001}',
        '{"amount": 99999999999999999999}',
        '{"amount": 18446744073709551615}',
        '{"amount": 1100, "maxAmount": 10000000000001}',
        '{"amount": 1100, "maxAmount": 0}',
      ]) {
        assertError(await postRaw(raw), 400, 'invalid_amount');
      }
    });
  });

  test('maxAmount < amount → 400 max_below_amount', async () => {
    await changesNothing(async () => {
      assertError(await postRaw('{"amount": 2000, "maxAmount": 1999}'), 400, 'max_below_amount', 'maxAmount');
    });
  });

  test('exactly 10^13 is a valid amount', async () => {
    const a = await server.createAuction(seller, { startingPrice: 1000 });
    const res = await server.bid(a.id, bob, { amount: 10_000_000_000_000 }, { key: uid(), wait: 5000 });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.status, 'accepted');
    assert.equal(res.body.price, 10_000_000_000_000);
  });

  test('a body over the 16 KiB limit → 413 body_too_large', async () => {
    await changesNothing(async () => {
      const raw = JSON.stringify({ amount: 1100, pad: 'x'.repeat(17 * 1024) });
      const res = await server.request('POST', bidPath(), {
        token: bob,
        rawBody: raw,
        headers: { 'Idempotency-Key': uid() },
        freshConnection: true,
      });
      assertError(res, 413, 'body_too_large');
      assert.equal(res.headers.connection, 'close');
    });
  });

  test('a bad Idempotency-Key or ?wait= → 400 invalid_request', async () => {
    await changesNothing(async () => {
      assertError(await postRaw('{"amount": 1100}', bob, { 'Idempotency-Key': 'k'.repeat(65) }), 400, 'invalid_request', 'Idempotency-Key');
      assertError(await postRaw('{"amount": 1100}', bob, { 'Idempotency-Key': 'has space' }), 400, 'invalid_request', 'Idempotency-Key');
      const res = await server.request('POST', `${bidPath()}?wait=soon`, { token: bob, body: { amount: 1100 } });
      assertError(res, 400, 'invalid_request', 'wait');
      const neg = await server.request('POST', `${bidPath()}?wait=-5`, { token: bob, body: { amount: 1100 } });
      assertError(neg, 400, 'invalid_request', 'wait');
    });
  });
});

describe('unknown things', () => {
  test('a bid on an unknown auction → 404 auction_not_found', async () => {
    const res = await server.bid('no-such-auction', bob, { amount: 1100 }, { key: uid(), wait: 2000 });
    assertError(res, 404, 'auction_not_found');
    const get = await server.get('/v1/auctions/no-such-auction');
    assertError(get, 404, 'auction_not_found');
  });

  test('an unknown route → 404 not_found (also for unknown methods)', async () => {
    assertError(await server.get('/v1/nothing-here'), 404, 'not_found');
    assertError(await server.request('DELETE', `/v1/auctions/${auction.id}`, { token: admin }), 404, 'not_found');
    assertError(await server.request('PUT', bidPath(), { token: bob, body: { amount: 1100 } }), 404, 'not_found');
    assert.deepEqual(await server.auction(auction.id), auction);
  });
});

describe('authentication and rights', () => {
  const claims = (overrides = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return { sub: 'mallory', roles: ['bidder'], iss: 'gavel-dev', aud: 'gavel', iat: now, nbf: now, exp: now + 600, ...overrides };
  };

  test('no token, or not a Bearer token → 401 unauthenticated', async () => {
    await changesNothing(async () => {
      assertError(await postRaw('{"amount": 1100}', null), 401, 'unauthenticated');
      assertError(await postRaw('{"amount": 1100}', null, { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }), 401, 'unauthenticated');
      assertError(await server.post('/v1/auctions', { currency: 'EUR', startingPrice: 100, durationSeconds: 60 }), 401, 'unauthenticated');
    });
  });

  test('a token we sign with the data dir secret works (control for the forged ones)', async () => {
    const token = signJwt(claims({ sub: 'trent' }), server.devSecret());
    const res = await server.get(`/v1/bids/NO-SUCH-BID`, { token });
    assertError(res, 404, 'bid_not_found');
  });

  test('a bad signature, an expired token, alg none, garbage → 401 invalid_token', async () => {
    await changesNothing(async () => {
      const secret = server.devSecret();
      const forged = [
        ['wrong secret', signJwt(claims(), 'x'.repeat(64))],
        ['expired', signJwt(claims({ exp: Math.floor(Date.now() / 1000) - 3600, nbf: Math.floor(Date.now() / 1000) - 7200, iat: Math.floor(Date.now() / 1000) - 7200 }), secret)],
        ['not yet valid', signJwt(claims({ nbf: Math.floor(Date.now() / 1000) + 3600 }), secret)],
        ['alg none', signJwt(claims(), secret, { alg: 'none', typ: 'JWT' })],
        ['wrong issuer', signJwt(claims({ iss: 'someone-else' }), secret)],
        ['wrong audience', signJwt(claims({ aud: 'other-app' }), secret)],
        ['truncated', (await server.token('alice', ['bidder'])).slice(0, -10)],
        ['garbage', 'not.a.jwt'],
      ];
      // alg none with the real header but an HS256 signature stripped:
      const [h, p] = signJwt(claims(), secret).split('.');
      forged.push(['signature stripped', `${h}.${p}.`]);
      for (const [what, token] of forged) {
        const res = await server.request('POST', bidPath(), { token, body: { amount: 1100 }, headers: { 'Idempotency-Key': uid() } });
        assert.equal(res.status, 401, `${what}: ${res.status} ${res.text}`);
        assert.equal(res.body.error.code, 'invalid_token', what);
      }
    });
  });

  test('a seller-only token bidding → 403 forbidden', async () => {
    await changesNothing(async () => {
      const res = await server.bid(auction.id, await server.token('sven', ['seller']), { amount: 1100 }, { key: uid(), wait: 2000 });
      assertError(res, 403, 'forbidden');
    });
  });

  test('a bidder creating an auction → 403 forbidden', async () => {
    const before = await server.get('/v1/auctions?limit=100');
    const res = await server.post('/v1/auctions', { currency: 'EUR', startingPrice: 100, durationSeconds: 60 }, { token: bob });
    assertError(res, 403, 'forbidden');
    assert.deepEqual((await server.get('/v1/auctions?limit=100')).body, before.body);
  });

  test('the seller bidding on their own auction → 409 seller_cannot_bid', async () => {
    await changesNothing(async () => {
      const both = await server.token('sally', ['seller', 'bidder']);
      const res = await server.bid(auction.id, both, { amount: 5000 }, { key: uid(), wait: 2000 });
      assert.equal(res.status, 409, res.text);
      assert.equal(res.body.status, 'rejected');
      assert.equal(res.body.reason, 'seller_cannot_bid');
      assert.equal(res.body.error.code, 'seller_cannot_bid');
    });
  });
});

describe('rejected bids', () => {
  test('currency mismatch → 409 currency_mismatch', async () => {
    await changesNothing(async () => {
      const res = await server.bid(auction.id, bob, { amount: 5000, currency: 'USD' }, { key: uid(), wait: 2000 });
      assert.equal(res.status, 409, res.text);
      assert.equal(res.body.reason, 'currency_mismatch');
      assert.equal(res.body.error.code, 'currency_mismatch');
    });
    // The right currency is fine.
    const ok = await server.bid(auction.id, bob, { amount: 1050, currency: 'EUR' }, { key: uid(), wait: 5000 });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.status, 'accepted');
    auction = ok.body.auction;
  });

  test('too low → 409 bid_too_low with minNextBid: refused at the gateway without ?wait=', async () => {
    await changesNothing(async () => {
      const min = auction.minNextBid;
      for (const amount of [1, min - 1]) {
        const res = await server.bid(auction.id, alice, { amount, maxAmount: min - 1 }, { key: uid() });
        assert.equal(res.status, 409, res.text);
        assert.equal(res.body.status, 'rejected');
        assert.equal(res.body.reason, 'bid_too_low');
        assert.equal(res.body.minNextBid, min);
        assert.equal(res.body.error.code, 'bid_too_low');
      }
    });
  });

  test('too low with ?wait= → judged by the engine: 409 with a bidId, the auction unchanged', async () => {
    const before = await server.auction(auction.id);
    const historyBefore = await server.history(auction.id, admin);
    const min = before.minNextBid;
    const res = await server.bid(auction.id, alice, { amount: min - 1 }, { key: uid(), wait: 5000 });
    assert.equal(res.status, 409, res.text);
    assert.equal(res.body.reason, 'bid_too_low');
    assert.equal(res.body.minNextBid, min);
    assert.equal(typeof res.body.bidId, 'string');
    const after = await server.auction(auction.id);
    assert.deepEqual(after, before, 'the auction changed');
    const historyAfter = await server.history(auction.id, admin);
    // The decision is recorded (every bid judged by the engine gets exactly one), as a rejection.
    assert.equal(historyAfter.length, historyBefore.length + 1);
    const recorded = historyAfter.find((b) => b.bidId === res.body.bidId);
    assert.equal(recorded.status, 'rejected');
    assert.equal(recorded.reason, 'bid_too_low');
  });

  test('the leader not raising their maximum → 409 not_raising_max with a bidId', async () => {
    const leader = auction.leaderId === 'bob' ? bob : alice;
    const before = await server.auction(auction.id);
    const historyBefore = await server.history(auction.id, admin);
    const res = await server.bid(auction.id, leader, { amount: before.currentPrice }, { key: uid(), wait: 5000 });
    assert.equal(res.status, 409, res.text);
    assert.equal(res.body.status, 'rejected');
    assert.equal(res.body.reason, 'not_raising_max');
    assert.equal(typeof res.body.bidId, 'string');
    const mine = await server.get(`/v1/bids/${res.body.bidId}`, { token: leader });
    assert.equal(mine.status, 200);
    assert.equal(mine.body.status, 'rejected');
    assert.equal(mine.body.reason, 'not_raising_max');
    // The auction is unchanged; the history records the decided (rejected) bid, and only it.
    assert.deepEqual(await server.auction(auction.id), before);
    const history = await server.history(auction.id, admin);
    assert.deepEqual(history.slice(0, -1), historyBefore);
    assert.equal(history.at(-1).bidId, res.body.bidId);
    assert.equal(history.at(-1).status, 'rejected');
    assert.equal(history.at(-1).reason, 'not_raising_max');
  });
});

describe('auction creation errors', () => {
  test('bad terms → 400 with the field; nothing is created', async () => {
    const before = (await server.get('/v1/auctions?limit=100')).body;
    const cases = [
      [{ startingPrice: 1000, durationSeconds: 60 }, 'invalid_request', 'currency'],
      [{ currency: 'EUR', durationSeconds: 60 }, 'invalid_amount', 'startingPrice'],
      [{ currency: 'EUR', startingPrice: 12.5, durationSeconds: 60 }, 'invalid_amount', 'startingPrice'],
      [{ currency: 'EUR', startingPrice: -5, durationSeconds: 60 }, 'invalid_amount', 'startingPrice'],
      [{ currency: 'EUR', startingPrice: 1000 }, 'invalid_request', 'endsAt'],
      [{ currency: 'EUR', startingPrice: 1000, durationSeconds: 60, endsAt: '2030-01-01T00:00:00Z' }, 'invalid_request', 'endsAt'],
      [{ currency: 'EUR', startingPrice: 1000, durationSeconds: 0 }, 'invalid_request', 'durationSeconds'],
      [{ currency: 'EUR', startingPrice: 1000, endsAt: 'tomorrow' }, 'invalid_request', 'endsAt'],
      [{ currency: 'EUR', startingPrice: 1000, durationSeconds: 60, buyNowPrice: 999 }, 'invalid_amount', 'buyNowPrice'],
      [{ currency: 'EUR', startingPrice: 1000, durationSeconds: 60, title: 't'.repeat(201) }, 'invalid_request', 'title'],
      [{ currency: 'EUR', startingPrice: 1000, durationSeconds: 60, softCloseSeconds: -1 }, 'invalid_request', 'softCloseSeconds'],
      [{ currency: 'EUR', startingPrice: 1000, durationSeconds: 60, increment: 0 }, 'invalid_request', 'increment'],
    ];
    for (const [body, code, field] of cases) {
      const res = await server.post('/v1/auctions', body, { token: seller });
      assert.equal(res.status, 400, `${JSON.stringify(body)} → ${res.status} ${res.text}`);
      assert.equal(res.body.error.code, code, JSON.stringify(body));
      assert.equal(res.body.error.field, field, JSON.stringify(body));
    }
    const malformed = await server.request('POST', '/v1/auctions', { token: seller, rawBody: '{"currency":' });
    assertError(malformed, 400, 'malformed_json');
    assert.deepEqual((await server.get('/v1/auctions?limit=100')).body, before);
  });
});
