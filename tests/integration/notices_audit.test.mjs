// The notifier and the auditor inside one `gavel serve`: the inbox and its read state, the
// preferences API, a signed webhook delivered to a listener on loopback, the admin audit route,
// and `gavel audit verify` / `gavel audit replay` on the data dir the server wrote.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { GAVEL_BINARY, sleep, startServer, uid } from './harness.mjs';

let server;
let seller;
let alice;
let bob;
let admin;

before(async () => {
  // The webhook test's listener is on loopback, which webhooks refuse by default.
  server = await startServer({ args: ['--webhook-allow-private', 'true'] });
  seller = await server.token('sally', ['seller']);
  alice = await server.token('alice', ['bidder']);
  bob = await server.token('bob', ['bidder']);
  admin = await server.token('root', ['admin']);
});

after(async () => {
  await server?.cleanup();
});

/** Polls `probe` until it returns a truthy value (bounded); the notifier works asynchronously. */
async function eventually(probe, what, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function inbox(token, query = '') {
  const res = await server.get(`/v1/me/notifications${query}`, { token });
  assert.equal(res.status, 200, res.text);
  return res.body;
}

/** An auction where alice bid first and bob outbid her. */
async function outbidAlice() {
  const a = await server.createAuction(seller, { startingPrice: 1000 });
  assert.equal((await server.bid(a.id, alice, { amount: 1000 }, { key: uid(), wait: 5000 })).status, 200);
  assert.equal((await server.bid(a.id, bob, { amount: 2000 }, { key: uid(), wait: 5000 })).status, 200);
  return a;
}

describe('GET /v1/me/notifications', () => {
  test('each user sees their own notices, once each', async () => {
    const a = await outbidAlice();
    assert.equal((await server.get('/v1/me/notifications')).status, 401);
    const mine = await eventually(async () => {
      const body = await inbox(alice);
      return body.notifications.some((n) => n.auctionId === a.id && n.kind === 'outbid') && body;
    }, 'alice\'s outbid notice');
    const here = mine.notifications.filter((n) => n.auctionId === a.id);
    assert.deepEqual(here.map((n) => n.kind).sort(), ['leading', 'outbid']);
    assert.equal(new Set(here.map((n) => n.id)).size, here.length);
    for (const n of here) {
      assert.equal(n.read, false);
      assert.match(n.text, /EUR/);
    }
    const bobs = await eventually(async () => {
      const body = await inbox(bob);
      return body.notifications.some((n) => n.auctionId === a.id) && body;
    }, 'bob\'s leading notice');
    assert.deepEqual(bobs.notifications.filter((n) => n.auctionId === a.id).map((n) => n.kind), ['leading']);
  });

  test('mark read lowers the unread count; bad input changes nothing', async () => {
    const a = await outbidAlice();
    const before = await eventually(async () => {
      const body = await inbox(alice);
      return body.notifications.some((n) => n.auctionId === a.id && n.kind === 'outbid') && body;
    }, 'this auction\'s outbid notice');
    const bad = await server.post('/v1/me/notifications/read', { ids: 'all' }, { token: alice });
    assert.equal(bad.status, 400, bad.text);
    assert.equal((await inbox(alice)).unread, before.unread);
    const one = before.notifications.find((n) => !n.read);
    const res = await server.post('/v1/me/notifications/read', { ids: [one.id] }, { token: alice });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { marked: 1, unread: before.unread - 1 });
    // Bob cannot mark alice's notices.
    const theirs = await server.post('/v1/me/notifications/read', { ids: [before.notifications[0].id] }, { token: bob });
    assert.equal(theirs.body.marked, 0);
    const all = await server.post('/v1/me/notifications/read', { all: true }, { token: alice });
    assert.equal(all.body.unread, 0);
    assert.equal((await inbox(alice)).notifications.filter((n) => !n.read).length, 0);
  });

  test('paging with limit and before; a bad limit is refused', async () => {
    await outbidAlice();
    const first = await inbox(alice, '?limit=1');
    assert.equal(first.notifications.length, 1);
    assert.ok(first.next);
    const second = await inbox(alice, `?limit=1&before=${encodeURIComponent(first.next)}`);
    assert.equal(second.notifications.length, 1);
    assert.notEqual(second.notifications[0].id, first.notifications[0].id);
    assert.equal((await server.get('/v1/me/notifications?limit=0', { token: alice })).status, 400);
  });
});

describe('PUT /v1/me/preferences', () => {
  test('validates, saves and never echoes the webhook secret', async () => {
    const dora = await server.token('dora', ['bidder']);
    const initial = await server.get('/v1/me/preferences', { token: dora });
    assert.equal(initial.status, 200);
    assert.deepEqual(initial.body.channels, { inapp: true, webhook: false, email: false, sms: false });
    const bad = await server.request('PUT', '/v1/me/preferences', {
      token: dora, body: { channels: { sms: true }, phone: 'not-a-phone' },
    });
    assert.equal(bad.status, 400, bad.text);
    assert.equal(bad.body.error.field, 'phone');
    // A channel this server does not run (no --smtp-url) is refused, not silently ignored.
    const unoffered = await server.request('PUT', '/v1/me/preferences', {
      token: dora, body: { channels: { email: true }, email: 'dora@example.com' },
    });
    assert.equal(unoffered.status, 400, unoffered.text);
    assert.equal(unoffered.body.error.field, 'channels.email');
    assert.deepEqual((await server.get('/v1/me/preferences', { token: dora })).body, initial.body);
    const good = await server.request('PUT', '/v1/me/preferences', {
      token: dora,
      body: { channels: { webhook: true }, webhookUrl: 'http://127.0.0.1:9/hook', webhookSecret: 'a'.repeat(32) },
    });
    assert.equal(good.status, 200, good.text);
    assert.equal(good.body.webhookSecretSet, true);
    assert.ok(!JSON.stringify(good.body).includes('a'.repeat(32)));
    assert.equal((await server.get('/v1/me/preferences', { token: dora })).body.webhookUrl, 'http://127.0.0.1:9/hook');
  });

  test('a webhook receives the outbid notice, signed with the user\'s secret', async () => {
    const received = [];
    const listener = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => { body += chunk; });
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise((resolve) => listener.listen(0, '127.0.0.1', resolve));
    try {
      const secret = `s-${uid()}-${'x'.repeat(16)}`;
      const erin = await server.token('erin', ['bidder']);
      const saved = await server.request('PUT', '/v1/me/preferences', {
        token: erin,
        body: { channels: { webhook: true }, webhookUrl: `http://127.0.0.1:${listener.address().port}/gavel`, webhookSecret: secret },
      });
      assert.equal(saved.status, 200, saved.text);
      const a = await server.createAuction(seller, { startingPrice: 1000 });
      assert.equal((await server.bid(a.id, erin, { amount: 1000 }, { wait: 5000 })).status, 200);
      assert.equal((await server.bid(a.id, bob, { amount: 3000 }, { wait: 5000 })).status, 200);
      const hook = await eventually(() => received.find((r) => JSON.parse(r.body).kind === 'outbid'), 'the outbid webhook');
      const timestamp = hook.headers['x-gavel-timestamp'];
      const expected = createHmac('sha256', secret).update(`${timestamp}.${hook.body}`).digest('hex');
      assert.equal(hook.headers['x-gavel-signature'], `sha256=${expected}`);
      assert.equal(JSON.parse(hook.body).auctionId, a.id);
    } finally {
      listener.close();
    }
  });
});

describe('webhook addresses', () => {
  test('by default a webhook to a loopback address is refused and dead-lettered, not sent', async () => {
    let hits = 0;
    const listener = http.createServer((req, res) => {
      hits += 1;
      res.writeHead(204).end();
    });
    await new Promise((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const guarded = await startServer();
    try {
      const s = await guarded.token('sally', ['seller']);
      const hal = await guarded.token('hal', ['bidder']);
      const ivy = await guarded.token('ivy', ['bidder']);
      const saved = await guarded.request('PUT', '/v1/me/preferences', {
        token: hal,
        body: { channels: { webhook: true }, webhookUrl: `http://127.0.0.1:${listener.address().port}/in`, webhookSecret: 'y'.repeat(20) },
      });
      assert.equal(saved.status, 200, saved.text);
      const a = await guarded.createAuction(s, { startingPrice: 1000 });
      assert.equal((await guarded.bid(a.id, hal, { amount: 1000 }, { wait: 5000 })).status, 200);
      assert.equal((await guarded.bid(a.id, ivy, { amount: 3000 }, { wait: 5000 })).status, 200);
      const dead = await eventually(async () => {
        const text = (await guarded.get('/metrics')).text;
        const line = text.split('\n').find((l) => l.startsWith('gavel_notifier_deliveries_total{channel="webhook",result="dead"}'));
        const value = Number(line?.split(' ')[1] ?? 0);
        return value >= 2 && value;  // hal's leading and outbid notices
      }, 'the refused webhook deliveries to be dead-lettered');
      assert.ok(dead >= 2);
      assert.equal(hits, 0);
    } finally {
      await guarded.cleanup();
      listener.close();
    }
  });
});

describe('GET /v1/admin/audit', () => {
  test('admins read an auction\'s chained trail; others are refused', async () => {
    const a = await outbidAlice();
    assert.equal((await server.get(`/v1/admin/audit?auctionId=${a.id}`)).status, 401);
    assert.equal((await server.get(`/v1/admin/audit?auctionId=${a.id}`, { token: alice })).status, 403);
    assert.equal((await server.get('/v1/admin/audit', { token: admin })).status, 400);
    const trail = await eventually(async () => {
      const res = await server.get(`/v1/admin/audit?auctionId=${a.id}&limit=100`, { token: admin });
      assert.equal(res.status, 200, res.text);
      return res.body.entries.filter((e) => e.kind === 'command').length === 3 && res.body;
    }, 'three command entries');
    const bids = trail.entries.filter((e) => e.kind === 'command' && e.record.command.op === 'bid');
    assert.deepEqual(bids.map((e) => e.record.command.bidderId), ['alice', 'bob']);
    for (const e of trail.entries) {
      assert.match(e.hash, /^[0-9a-f]{64}$/);
      assert.match(e.prevHash, /^[0-9a-f]{64}$/);
    }
    for (const e of bids) {
      assert.equal(e.record.decision.accepted, true);
      assert.ok(e.record.command.gatewayId, 'records which gateway took the bid');
      assert.ok(e.record.command.receivedAt);
    }
    assert.ok(trail.entries.some((e) => e.kind === 'event' && e.record.event.type === 'outbid'));
  });
});

describe('gavel audit on the data dir', () => {
  test('verify passes and replay re-derives the outcome after the server stops', async () => {
    const a = await outbidAlice();
    await eventually(async () => {
      const res = await server.get(`/v1/admin/audit?auctionId=${a.id}&limit=100`, { token: admin });
      return res.body.entries.filter((e) => e.kind === 'command').length === 3;
    }, 'the trail of the last auction');
    await server.stop();
    try {
      const verify = spawnSync(GAVEL_BINARY, ['audit', 'verify', '--data-dir', server.dataDir], { encoding: 'utf8' });
      assert.equal(verify.status, 0, verify.stderr);
      assert.match(verify.stdout, /^audit chain ok: \d+ entries, head [0-9a-f]{64}/);
      const replay = spawnSync(GAVEL_BINARY, ['audit', 'replay', a.id, '--data-dir', server.dataDir], { encoding: 'utf8' });
      assert.equal(replay.status, 0, replay.stdout + replay.stderr);
      assert.match(replay.stdout, /identical/);
    } finally {
      await server.start();
    }
  });
});

describe('JSON logs', () => {
  test('one request id follows a bid from the gateway through the engine to its notices', async () => {
    const traced = await startServer({ args: ['--log-level', 'debug'] });
    try {
      const s = await traced.token('sally', ['seller']);
      const first = await traced.token('fay', ['bidder']);
      const second = await traced.token('gus', ['bidder']);
      const a = await traced.createAuction(s, { startingPrice: 1000 });
      assert.equal((await traced.bid(a.id, first, { amount: 1000 }, { wait: 5000 })).status, 200);
      const watcher = await traced.openWs();
      watcher.subscribe(a.id);
      await watcher.waitFor((m) => m.type === 'snapshot');
      const requestId = `trace-${uid()}`;
      const res = await traced.bid(a.id, second, { amount: 2000 }, { wait: 5000, headers: { 'x-request-id': requestId } });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.headers['x-request-id'], requestId);
      const lines = await eventually(() => {
        const parsed = traced.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
        const mine = parsed.filter((l) => l.requestId === requestId);
        return mine.some((l) => l.component === 'notifier' && l.kind === 'outbid') && mine;
      }, 'the notifier\'s log line for the outbid notice');
      const components = new Set(lines.map((l) => l.component));
      assert.deepEqual([...components].sort(), ['engine', 'gateway', 'notifier']);
      for (const line of lines) {
        assert.match(line.ts, /^\d{4}-\d\d-\d\dT/);
        assert.equal(line.level, 'debug');
      }
      const decided = lines.find((l) => l.component === 'engine');
      assert.equal(decided.accepted, true);
      assert.equal(decided.auctionId, a.id);
      const outbid = lines.find((l) => l.component === 'notifier' && l.kind === 'outbid');
      assert.equal(outbid.userId, 'fay');
      // Watchers see the event, not the request id behind it.
      const seen = await watcher.waitFor((m) => m.type === 'bid.accepted' && m.amount === 2000);
      assert.equal(seen.requestId, undefined);
      watcher.close();
    } finally {
      await traced.cleanup();
    }
  });
});
