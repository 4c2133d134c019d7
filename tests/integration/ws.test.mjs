// WebSocket: snapshots, events with seq, per-user notifications, refusals, bad messages, and
// (selfhosted) fresh snapshots after the gateway's event feed broke.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import {
  GAVEL_BINARY, haveSelfhostedServers, makeTempDir, redisCli, removeTempDir, sleep, startSelfhostedBackends,
  startServer, stopSelfhostedBackends, uid, wsRoundTrip,
} from './harness.mjs';

let server;
let seller;
let alice;
let bob;
const sockets = [];

before(async () => {
  server = await startServer();
  seller = await server.token('sally', ['seller']);
  alice = await server.token('alice', ['bidder']);
  bob = await server.token('bob', ['bidder']);
});

after(async () => {
  for (const s of sockets) s.terminate();
  await server?.cleanup();
});

async function open(options) {
  const client = await server.openWs(options);
  sockets.push(client);
  return client;
}

const eventsOf = (client, auctionId) =>
  client.messages.filter((m) => m.auctionId === auctionId && m.type !== 'snapshot' && m.type !== 'notification');

describe('subscribe, snapshot, events', () => {
  test('snapshot with seq, then bid.accepted/outbid/auction.extended/auction.closed in seq order', async () => {
    // Soft close covers the whole (short) auction: every bid that moves the price extends it.
    const a = await server.createAuction(seller, {
      startingPrice: 1000,
      durationSeconds: 2,
      softCloseSeconds: 60,
      extensionSeconds: 3,
    });
    const watcher = await open({ token: bob });
    watcher.subscribe(a.id);
    const snapshot = await watcher.waitFor((m) => m.type === 'snapshot' && m.auctionId === a.id);
    assert.equal(snapshot.seq, a.seq);
    assert.deepEqual(snapshot.auction, a);

    const first = await server.bid(a.id, alice, { amount: 1000, maxAmount: 1500 }, { key: uid(), wait: 5000 });
    assert.equal(first.status, 200);
    const second = await server.bid(a.id, bob, { amount: 2000 }, { key: uid(), wait: 5000 });
    assert.equal(second.status, 200);
    assert.equal(second.body.leading, true);
    const endsAt = second.body.auction.endsAt;
    assert.ok(Date.parse(endsAt) > Date.parse(a.endsAt), 'the bid extended the auction');

    const closed = await watcher.waitFor((m) => m.type === 'auction.closed' && m.auctionId === a.id, 10_000);
    assert.equal(closed.result, 'sold');
    assert.equal(closed.winnerId, 'bob');
    assert.equal(closed.price, 2000);

    const events = eventsOf(watcher, a.id);
    const types = events.map((e) => e.type);
    assert.deepEqual(types, [
      'bid.accepted', // alice leads at 1000
      'auction.extended',
      'bid.accepted', // bob takes the lead at 2000
      'outbid', // alice
      'auction.extended',
      'auction.closed',
    ]);
    const accepted = events.filter((e) => e.type === 'bid.accepted');
    assert.deepEqual(accepted.map((e) => [e.bidId, e.bidderId, e.amount, e.price, e.leaderId]), [
      [first.body.bidId, 'alice', 1000, 1000, 'alice'],
      [second.body.bidId, 'bob', 2000, 2000, 'bob'],
    ]);
    assert.equal(events.find((e) => e.type === 'outbid').userId, 'alice');
    assert.equal(events.filter((e) => e.type === 'auction.extended').at(-1).endsAt, endsAt);
    // seq: every change raises it by one; the events of one change share it.
    const changes = events.filter((e) => e.type === 'bid.accepted' || e.type === 'auction.closed');
    assert.deepEqual(changes.map((e) => e.seq), [snapshot.seq + 1, snapshot.seq + 2, snapshot.seq + 3]);
    for (let i = 1; i < events.length; ++i) assert.ok(events[i].seq >= events[i - 1].seq, 'seq never goes down');
    for (const e of events) {
      assert.equal(typeof e.id, 'string');
      if (e.type !== 'bid.accepted' && e.type !== 'auction.closed') {
        assert.equal(e.seq, events[events.indexOf(e) - 1].seq, `${e.type} belongs to the change before it`);
      }
    }
    assert.equal(new Set(events.map((e) => e.id)).size, events.length, 'event ids are unique');
    const view = await server.auction(a.id);
    assert.equal(view.seq, closed.seq);
    assert.equal(view.status, 'closed');
  });

  test('a snapshot of an unknown auction says so', async () => {
    const client = await open({});
    client.subscribe('no-such-auction');
    const snap = await client.waitFor((m) => m.type === 'snapshot');
    assert.equal(snap.auctionId, 'no-such-auction');
    assert.equal(snap.seq, 0);
    assert.equal(snap.auction, null);
    assert.equal(snap.error.code, 'auction_not_found');
  });

  test('anonymous watchers and bearer-header tokens are accepted', async () => {
    const a = await server.createAuction(seller);
    for (const options of [{}, { token: alice, bearer: true }]) {
      const client = await open(options);
      client.subscribe(a.id);
      const snap = await client.waitFor((m) => m.type === 'snapshot');
      assert.equal(snap.auction.id, a.id);
    }
  });

  test('unsubscribe stops the events', async () => {
    const a = await server.createAuction(seller);
    const control = await open({});
    const leaving = await open({});
    control.subscribe(a.id);
    leaving.subscribe(a.id);
    await control.waitFor((m) => m.type === 'snapshot');
    await leaving.waitFor((m) => m.type === 'snapshot');
    const r1 = await server.bid(a.id, alice, { amount: 1000 }, { key: uid(), wait: 5000 });
    assert.equal(r1.status, 200);
    await leaving.waitFor((m) => m.type === 'bid.accepted' && m.bidId === r1.body.bidId);
    leaving.send({ op: 'unsubscribe', auctions: [a.id] });
    await wsRoundTrip(leaving);
    const from = leaving.messages.length;
    const r2 = await server.bid(a.id, bob, { amount: 2000 }, { key: uid(), wait: 5000 });
    assert.equal(r2.status, 200);
    await control.waitFor((m) => m.type === 'bid.accepted' && m.bidId === r2.body.bidId);
    await sleep(200);
    await wsRoundTrip(leaving);
    const late = leaving.messages.slice(from).filter((m) => m.auctionId === a.id);
    assert.deepEqual(late, []);
  });
});

describe('notifications', () => {
  test('the notifier’s outbid and leading notices reach the user’s own sockets only, once each', async () => {
    const a = await server.createAuction(seller, { startingPrice: 1000 });
    const aliceWs = await open({ token: alice });
    const bobWs = await open({ token: bob });
    const anon = await open({});
    await Promise.all([wsRoundTrip(aliceWs), wsRoundTrip(bobWs), wsRoundTrip(anon)]);
    const notice = (m, kind) => m.type === 'notification' && m.notification?.auctionId === a.id && m.notification.kind === kind;
    const r1 = await server.bid(a.id, alice, { amount: 1000 }, { key: uid(), wait: 5000 });
    assert.equal(r1.status, 200);
    const leading = await aliceWs.waitFor((m) => notice(m, 'leading'));
    assert.equal(leading.notification.read, false);
    assert.match(leading.notification.text, /Your bid leads/);
    const r2 = await server.bid(a.id, bob, { amount: 1500 }, { key: uid(), wait: 5000 });
    assert.equal(r2.status, 200);
    const outbid = await aliceWs.waitFor((m) => notice(m, 'outbid'));
    assert.match(outbid.notification.text, /15\.00/);
    await bobWs.waitFor((m) => notice(m, 'leading'));
    // The same notices are in the inbox, under the same ids.
    const inbox = await server.request('GET', '/v1/me/notifications', { token: alice });
    assert.equal(inbox.status, 200);
    const inboxIds = inbox.body.notifications.filter((n) => n.auctionId === a.id).map((n) => n.id).sort();
    assert.deepEqual(inboxIds, [leading.notification.id, outbid.notification.id].sort());
    await sleep(300);
    await Promise.all([wsRoundTrip(aliceWs), wsRoundTrip(bobWs), wsRoundTrip(anon)]);
    const kinds = (c) => c.messages.filter((m) => m.type === 'notification' && m.notification?.auctionId === a.id).map((m) => m.notification.kind);
    assert.deepEqual(kinds(aliceWs), ['leading', 'outbid']);
    assert.deepEqual(kinds(bobWs), ['leading']);
    assert.deepEqual(kinds(anon), []);
    // Every notification message is the notifier's (no second, flat copy from the gateway).
    assert.deepEqual(aliceWs.messages.filter((m) => m.type === 'notification' && !m.notification), []);
    // Not subscribed to the auction: no auction events, only the user's notices.
    assert.deepEqual(aliceWs.messages.filter((m) => m.auctionId === a.id && m.type !== 'notification'), []);
  });
});

describe('refusals and bad messages', () => {
  test('an invalid token on upgrade is refused with 401 invalid_token', async () => {
    for (const token of ['not-a-token', `${alice.slice(0, -4)}AAAA`]) {
      await assert.rejects(server.openWs({ token }), (error) => {
        assert.equal(error.status, 401);
        assert.equal(error.body?.error?.code, 'invalid_token');
        return true;
      });
    }
    await assert.rejects(server.openWs({ path: '/v1/elsewhere' }), (error) => error.status === 404);
  });

  test('malformed messages get an error message; the socket stays usable', async () => {
    const a = await server.createAuction(seller);
    const client = await open({ token: bob });
    const cases = [
      ['this is not json', 'malformed_json'],
      ['[1,2]', 'malformed_json'],
      [JSON.stringify({ auctions: [a.id] }), 'invalid_request'],
      [JSON.stringify({ op: 'dance' }), 'invalid_request'],
      [JSON.stringify({ op: 'subscribe', auctions: a.id }), 'invalid_request'],
      [JSON.stringify({ op: 'subscribe', auctions: ['bad id'] }), 'invalid_request'],
      [JSON.stringify({ op: 'subscribe', auctions: [42] }), 'invalid_request'],
    ];
    for (const [text, code] of cases) {
      const from = client.messages.length;
      client.send(text);
      const error = await client.waitFor((m) => m.type === 'error', 5_000, { from });
      assert.equal(error.error.code, code, text);
      assert.equal(typeof error.error.message, 'string');
    }
    assert.equal(client.closeInfo, null);
    client.subscribe(a.id);
    const snap = await client.waitFor((m) => m.type === 'snapshot' && m.auctionId === a.id);
    assert.equal(snap.seq, a.seq);
    // A message over the limit (4 KiB) closes the socket: 1009 (message too big).
    client.send(JSON.stringify({ op: 'subscribe', auctions: ['x'.repeat(5000)] }));
    const closed = await client.waitForClose(5_000);
    assert.equal(closed.code, 1009);
  });

  test('a socket watches at most 100 auctions; an unsubscribe frees a place', async () => {
    const client = await open({});
    const ids = Array.from({ length: 100 }, (_, i) => `limit-${i}`);
    client.subscribe(...ids);
    await client.waitFor((m) => m.type === 'snapshot' && m.auctionId === 'limit-99');
    // Watching one already watched again is no new subscription; one more is refused.
    client.subscribe('limit-0');
    await client.waitFor((m) => m.type === 'snapshot' && m.auctionId === 'limit-0', 5_000, { from: 100 });
    let from = client.messages.length;
    client.subscribe('limit-100');
    const refused = await client.waitFor((m) => m.type === 'error', 5_000, { from });
    assert.equal(refused.error.code, 'too_many_subscriptions');
    client.send({ op: 'unsubscribe', auctions: ['limit-7'] });
    from = client.messages.length;
    client.subscribe('limit-100');
    const snap = await client.waitFor((m) => m.type === 'snapshot' || m.type === 'error', 5_000, { from });
    assert.equal(snap.type, 'snapshot');
    assert.equal(snap.auctionId, 'limit-100');
  });
});

// The gateway pings a quiet socket at half the idle timeout and drops one that stays silent
// (answers no ping) for the whole timeout.
describe('keep-alive pings and the idle timeout', () => {
  let quick;

  before(async () => {
    quick = await startServer({ args: ['--idle-timeout-seconds', '2'] });
  });

  after(async () => {
    await quick?.cleanup();
  });

  test('a socket that answers pings stays open past the idle timeout; a silent one is closed', async () => {
    const live = await quick.openWs({});
    let pings = 0;
    live.socket.on('ping', () => ++pings);
    const silent = new WebSocket(`ws://127.0.0.1:${quick.port}/v1/ws`, { autoPong: false });
    const silentClosed = new Promise((resolve) => silent.on('close', resolve));
    silent.on('error', () => {});
    try {
      await sleep(4_500);
      assert.ok(pings >= 2, `pings seen: ${pings}`);
      assert.equal(live.closeInfo, null);
      live.subscribe('still-here');
      const snap = await live.waitFor((m) => m.type === 'snapshot');
      assert.equal(snap.auctionId, 'still-here');
      await Promise.race([
        silentClosed,
        sleep(3_000).then(() => assert.fail('the silent socket is still open')),
      ]);
    } finally {
      live.terminate();
      silent.terminate();
    }
  });
});

describe('the connection limit', () => {
  const LIMIT = 4;
  let small;

  before(async () => {
    small = await startServer({ args: ['--max-connections', String(LIMIT)] });
  });

  after(async () => {
    await small?.cleanup();
  });

  // A socket that opens, or 'refused' when the gateway closes the connection first.
  const openOne = () => new Promise((resolve) => {
    const socket = new WebSocket(`ws://127.0.0.1:${small.port}/v1/ws`);
    socket.on('open', () => resolve(socket));
    socket.on('error', () => resolve('refused'));
    socket.on('close', () => resolve('refused'));
  });
  // Its own connection each time (fetch's pool would keep one open, and it does not always
  // report a connection closed before the response).
  const healthz = () => new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port: small.port, path: '/healthz', agent: false, timeout: 3000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    request.on('error', () => resolve('refused'));
    request.on('timeout', () => request.destroy());
  });

  test('WebSockets count against --max-connections; a freed place is taken again', async () => {
    const held = [];
    try {
      // Other connections (the harness's keep-alive ones) may hold places too: open until
      // refused, never more than the limit.
      for (let i = 0; i <= LIMIT; ++i) {
        const socket = await openOne();
        if (socket === 'refused') break;
        held.push(socket);
        await sleep(100);  // the upgraded socket has left the HTTP count for the hub's
      }
      assert.ok(held.length >= 1 && held.length <= LIMIT, `${held.length} sockets opened`);
      assert.equal(await healthz(), 'refused');
      held.pop().terminate();
      let status;
      for (let i = 0; i < 30 && status !== 200; ++i) {
        await sleep(100);
        status = await healthz();
      }
      assert.equal(status, 200);
    } finally {
      for (const socket of held) socket.terminate();
    }
  });
});

// The gateway's event feed is a Redis stream read through a consumer group. A Redis that comes
// back without its data has lost the group and whatever was published meanwhile; the gateway
// cannot tell what its sockets missed, so it sends each a fresh snapshot of what it watches.
describe('event feed interrupted (selfhosted)', () => {
  const skip = !haveSelfhostedServers() && !process.env.CI ? 'redis-server or PostgreSQL is not installed (scripts/setup.sh)' : false;
  let state;
  let redisUrl;
  const procs = {};

  before(async () => {
    if (skip) return;
    state = await makeTempDir('gavel-ws-sh-');
    let postgresUrl;
    ({ redisUrl, postgresUrl } = startSelfhostedBackends(state));
    const migrated = spawnSync(GAVEL_BINARY, ['migrate', '--postgres-url', postgresUrl], { encoding: 'utf8' });
    assert.equal(migrated.status, 0, migrated.stderr);
    const secret = randomBytes(24).toString('hex');
    for (const [name, role] of [['engine-1', 'engine'], ['gateway-1', 'gateway']]) {
      procs[name] = await startServer({
        args: ['--profile', 'selfhosted', '--redis-url', redisUrl, '--postgres-url', postgresUrl, '--roles', role,
          '--node-id', name, '--dev-secret', secret, '--rate-per-second', '0'],
      });
    }
  });

  after(async () => {
    for (const proc of Object.values(procs)) await proc.cleanup();
    if (state) {
      stopSelfhostedBackends(state);
      await removeTempDir(state);
    }
  });

  test('Redis loses its data under a watcher → a fresh snapshot (from the store), then events again', { skip }, async () => {
    const gateway = procs['gateway-1'];
    const sel = await gateway.token('sally', ['seller']);
    const erin = await gateway.token('erin', ['bidder']);
    const a = await gateway.createAuction(sel);
    const client = await gateway.openWs({});
    try {
      client.subscribe(a.id);
      const first = await client.waitFor((m) => m.type === 'snapshot' && m.auctionId === a.id);
      assert.equal(first.seq, a.seq);
      const bid = await gateway.bid(a.id, erin, { amount: 1000 }, { key: uid(), wait: 5000 });
      assert.equal(bid.status, 200, bid.text);
      await client.waitFor((m) => m.type === 'bid.accepted' && m.seq === a.seq + 1);

      // Redis "restarts" without its data: every key gone (the stream, the gateway's group, the
      // cache) and every connection dropped, so the gateway's next receive fails.
      const from = client.messages.length;
      redisCli(redisUrl, 'FLUSHALL');
      redisCli(redisUrl, 'CLIENT', 'KILL', 'TYPE', 'normal');
      redisCli(redisUrl, 'CLIENT', 'KILL', 'TYPE', 'pubsub');
      const fresh = await client.waitFor((m) => m.type === 'snapshot' && m.auctionId === a.id, 10_000, { from });
      assert.equal(fresh.seq, a.seq + 1);
      assert.equal(fresh.auction?.seq, a.seq + 1);
      assert.equal(fresh.auction.leaderId, 'erin');

      // The feed works again: the next change arrives as an event after that snapshot.
      const frank = await gateway.token('frank', ['bidder']);
      // The gateway's queue connection was dropped too: its first send may answer 503, and the
      // client retries with the same key (selfhosted.md, "Redis restarts").
      const key = uid();
      let next;
      for (let attempt = 0; attempt < 5; ++attempt) {
        next = await gateway.bid(a.id, frank, { amount: fresh.auction.minNextBid }, { key, wait: 5000 });
        if (next.status !== 503) break;
        await sleep(200);
      }
      assert.equal(next.status, 200, next.text);
      const event = await client.waitFor((m) => m.auctionId === a.id && m.type !== 'snapshot' && m.seq === a.seq + 2,
        10_000, { from });
      assert.ok(client.messages.indexOf(event) > client.messages.indexOf(fresh), 'the event follows the snapshot');
    } finally {
      client.terminate();
    }
  });
});
