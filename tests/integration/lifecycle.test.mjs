// Process lifecycle: restart keeps the state, kill -9 under load loses nothing acknowledged,
// SIGTERM drains and closes WebSockets with 1001.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GAVEL_BINARY, httpRequest, mapLimit, sleep, startServer, uid } from './harness.mjs';
import { spawnSync } from 'node:child_process';

test('a restart on the same data dir keeps auctions, bids and tokens', async () => {
  const server = await startServer();
  try {
    const seller = await server.token('sally', ['seller']);
    const alice = await server.token('alice', ['bidder']);
    const admin = await server.token('root', ['admin']);
    const a = await server.createAuction(seller, { startingPrice: 1000 });
    const bid = await server.bid(a.id, alice, { amount: 1000, maxAmount: 2500 }, { key: 'persist-1', wait: 5000 });
    assert.equal(bid.status, 200);
    const before = await server.auction(a.id);
    const history = await server.history(a.id, admin);
    const stopped = await server.stop();
    assert.equal(stopped.code, 0);
    await server.start();
    assert.deepEqual(await server.auction(a.id), before);
    assert.deepEqual(await server.history(a.id, admin), history);
    // The old token still works (the dev secret lives in the data dir) …
    const mine = await server.get(`/v1/bids/${bid.body.bidId}`, { token: alice });
    assert.equal(mine.status, 200);
    assert.equal(mine.body.maxAmount, 2500);
    // … and the idempotency key is remembered across the restart.
    const retry = await server.bid(a.id, alice, { amount: 1000, maxAmount: 2500 }, { key: 'persist-1' });
    assert.equal(retry.status, 202);
    assert.equal(retry.body.bidId, bid.body.bidId);
    assert.equal((await server.auction(a.id)).bidCount, 1);
  } finally {
    await server.cleanup();
  }
});

test('kill -9 under load: every answered bid has exactly one decision after the restart', async () => {
  const server = await startServer({ args: ['--rate-per-second', '0'] });
  try {
    const seller = await server.token('sally', ['seller']);
    const admin = await server.token('root', ['admin']);
    const CLIENTS = 30;
    const tokens = [];
    for (let c = 0; c < CLIENTS; ++c) tokens.push(await server.token(`load${c}`, ['bidder']));
    const auctions = [];
    for (let i = 0; i < 3; ++i) auctions.push(await server.createAuction(seller, { startingPrice: 1000, title: `crash ${i}` }));

    const port = server.port;
    const sent = []; // {client, auctionId, key, wait, status?, body?, error?, answeredBeforeKill}
    let killed = false;
    let counter = 0;
    const clientLoop = async (c) => {
      for (let n = 0; n < 200 && !killed; ++n) {
        const auctionId = auctions[(c + n) % auctions.length].id;
        // Rising amounts across all clients, so that most bids reach the engine.
        const amount = 1000 + 20 * counter++;
        const record = { client: c, auctionId, key: uid(`crash${c}-${n}`), wait: n % 2 === 1, amount };
        sent.push(record);
        try {
          const res = await httpRequest(port, 'POST', `/v1/auctions/${auctionId}/bids${record.wait ? '?wait=5000' : ''}`, {
            token: tokens[c],
            body: { amount: record.amount, maxAmount: record.amount + 500 },
            headers: { 'Idempotency-Key': record.key },
            timeoutMs: 10_000,
          });
          record.status = res.status;
          record.body = res.body;
          record.answeredBeforeKill = !killed;
        } catch (error) {
          record.error = error.code ?? error.message;
          return;
        }
      }
    };
    const load = Promise.all(Array.from({ length: CLIENTS }, (_, c) => clientLoop(c)));
    // Let the load build up, then pull the plug.
    const deadline = Date.now() + 10_000;
    while (sent.filter((r) => r.status !== undefined).length < 150 && Date.now() < deadline) await sleep(20);
    killed = true;
    const exit = await server.kill9();
    assert.equal(exit.signal, 'SIGKILL');
    await load;

    const answered = sent.filter((r) => r.answeredBeforeKill);
    assert.ok(answered.length >= 100, `only ${answered.length} answers before the kill`);
    for (const r of answered) {
      assert.ok([200, 202, 409].includes(r.status), `unexpected answer ${r.status} ${JSON.stringify(r.body)}`);
    }

    await server.start();
    // Every bid answered with a bidId (202, 200, or an engine 409) has exactly one decision.
    const withId = answered.filter((r) => typeof r.body?.bidId === 'string');
    assert.ok(withId.length >= 50, `only ${withId.length} answers with a bidId`);
    for (const r of answered.filter((x) => x.body?.bidId === undefined)) {
      // Without a bidId only a fast reject from the cache (nothing queued).
      assert.equal(r.status, 409, JSON.stringify(r.body));
    }
    await mapLimit(withId, 8, async (r) => {
      const res = await server.get(`/v1/bids/${r.body.bidId}`, { token: tokens[r.client] });
      assert.equal(res.status, 200, `${r.body.bidId} (answered ${r.status}) after restart: ${res.status} ${res.text}`);
      assert.ok(res.body.status === 'accepted' || res.body.status === 'rejected');
      if (r.status === 200) assert.equal(res.body.status, 'accepted');
      if (r.status === 409) assert.equal(res.body.status, 'rejected');
    });

    // Retrying the bids whose answers were lost: the same key never makes a second bid.
    const unanswered = sent.filter((r) => !r.answeredBeforeKill);
    await mapLimit(unanswered, 8, async (r) => {
      const res = await server.bid(r.auctionId, tokens[r.client], { amount: r.amount, maxAmount: r.amount + 500 }, { key: r.key });
      assert.ok([202, 409].includes(res.status), `retry: ${res.status} ${res.text}`);
      r.retryBidId = res.body.bidId;
    });

    // The state is consistent with the history, and nothing is there twice.
    const answeredIds = new Set(withId.map((r) => r.body.bidId));
    let historyTotal = 0;
    for (const a of auctions) {
      const history = await server.history(a.id, admin);
      historyTotal += history.length;
      const ids = history.map((b) => b.bidId);
      assert.equal(new Set(ids).size, ids.length, 'a bid appears twice in the history');
      const view = await server.auction(a.id);
      const accepted = history.filter((b) => b.status === 'accepted');
      assert.equal(view.bidCount, accepted.length, `auction ${a.id}: bidCount ${view.bidCount} vs ${accepted.length} accepted`);
      assert.equal(view.seq, a.seq + accepted.length);
      if (history.length > 0) assert.equal(view.currentPrice, history.at(-1).price);
      for (let i = 1; i < history.length; ++i) assert.ok(history[i].price >= history[i - 1].price);
      // Per user: no more bids in the history than keys that user sent to this auction.
      const keysPerUser = new Map();
      for (const r of sent.filter((x) => x.auctionId === a.id)) keysPerUser.set(`load${r.client}`, (keysPerUser.get(`load${r.client}`) ?? 0) + 1);
      const bidsPerUser = new Map();
      for (const b of history) bidsPerUser.set(b.bidderId, (bidsPerUser.get(b.bidderId) ?? 0) + 1);
      for (const [user, count] of bidsPerUser) assert.ok(count <= (keysPerUser.get(user) ?? 0), `${user}: ${count} bids for ${keysPerUser.get(user)} keys`);
    }
    for (const id of answeredIds) assert.ok(id, 'answered ids are known');
    assert.ok(historyTotal >= answeredIds.size);

    // The audit trail lost nothing either: every decided bid has its command entry once (the
    // records of the batches committed just before the kill went out from the store's audit
    // outbox after the restart).
    const auditedBids = async (auctionId) => {
      const ids = [];
      let after = 0;
      for (let page = 0; page < 100; ++page) {
        const res = await server.get(`/v1/admin/audit?auctionId=${auctionId}&limit=100&after=${after}`, { token: admin });
        assert.equal(res.status, 200, res.text);
        for (const e of res.body.entries) if (e.kind === 'command' && e.record.command.op === 'bid') ids.push(e.record.command.bidId);
        if (res.body.next === null) break;
        after = res.body.next;
      }
      return ids;
    };
    for (const a of auctions) {
      const decided = (await server.history(a.id, admin)).map((b) => b.bidId).sort();
      const deadline = Date.now() + 10_000;
      let audited = [];
      while (Date.now() < deadline) {
        audited = (await auditedBids(a.id)).sort();
        if (audited.length >= decided.length) break;
        await sleep(100);
      }
      assert.deepEqual(audited, decided, `auction ${a.id}: audited bids vs decided bids`);
    }
  } finally {
    await server.cleanup();
  }
});

async function sigtermWithWebSockets() {
  const server = await startServer();
  try {
    const seller = await server.token('sally', ['seller']);
    const a = await server.createAuction(seller);
    const watchers = [await server.openWs({}), await server.openWs({ token: await server.token('bob') })];
    for (const w of watchers) {
      w.subscribe(a.id);
      await w.waitFor((m) => m.type === 'snapshot');
    }
    const started = Date.now();
    const stopping = server.stop();
    const closes = await Promise.all(watchers.map((w) => w.waitForClose(5_000)));
    const result = await stopping;
    return { closes, result, ms: Date.now() - started, stderr: server.stderr };
  } finally {
    await server.cleanup();
  }
}

test('SIGTERM with open WebSockets: the sockets are closed, the process exits 0 within a few seconds', async () => {
  const { closes, result, ms, stderr } = await sigtermWithWebSockets();
  assert.equal(closes.length, 2);
  assert.equal(result.killed, false, 'SIGKILL was needed');
  assert.equal(result.code, 0);
  assert.equal(result.signal, null);
  assert.ok(ms < 5_000, `took ${ms} ms`);
  assert.match(stderr, /received SIGTERM/);
  assert.match(stderr, /stopped/);
});

test('SIGTERM: open WebSockets receive a close frame with 1001 (going away)', async () => {
  const { closes } = await sigtermWithWebSockets();
  for (const c of closes) assert.equal(c.code, 1001);
});

test('SIGTERM while idle exits 0 quickly', async () => {
  const server = await startServer();
  try {
    assert.equal((await server.get('/readyz')).status, 200);
    const result = await server.stop();
    assert.equal(result.killed, false);
    assert.equal(result.code, 0);
    assert.equal(result.signal, null);
    assert.ok(result.ms < 3_000, `took ${result.ms} ms`);
    assert.match(server.stderr, /stopped/);
  } finally {
    await server.cleanup();
  }
});

test('SIGTERM with an idle keep-alive client connection still exits within a few seconds', async () => {
  const server = await startServer();
  try {
    assert.equal((await server.get('/readyz')).status, 200); // leaves an idle keep-alive socket
    const result = await server.stop({ closeIdle: false, graceMs: 15_000 });
    assert.equal(result.code, 0);
    assert.ok(result.ms < 3_000, `took ${result.ms} ms`);
  } finally {
    await server.cleanup();
  }
});

test('gavel serve refuses a bad setting with a one-line reason and a non-zero exit', () => {
  const run = spawnSync(GAVEL_BINARY, ['serve', '--http-addr', 'nonsense', '--data-dir', '/nonexistent-never-created'], { encoding: 'utf8', timeout: 10_000 });
  assert.notEqual(run.status, 0);
  assert.equal(run.stdout, '');
  assert.equal(run.stderr.trim().split('\n').length, 1);
  assert.match(run.stderr, /http-addr/);
});
