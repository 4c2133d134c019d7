// Test harness: real `gavel serve` processes on 127.0.0.1, HTTP and WebSocket clients.
//
// Every server gets a fresh data directory under os.tmpdir(); the directories are removed by
// cleanup() (and, as a last resort, when the test process exits).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const GAVEL_BINARY = path.resolve(
  REPO_ROOT,
  process.env.GAVEL_BINARY ?? path.join('build', 'gavel'),
);

const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 10_000;
const REQUEST_TIMEOUT_MS = 20_000;
// Never set in CI: a diagnosis aid that hides crashes (see GavelServer.request).
const RESPAWN_ON_CRASH = process.env.GAVEL_IT_RESPAWN_ON_CRASH === '1';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- process bookkeeping: nothing outlives the test process ------------------------------

const liveChildren = new Set();
const tempDirs = new Set();
process.on('exit', () => {
  for (const child of liveChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const dir of tempDirs) {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort
    }
  }
});

export async function makeTempDir(prefix = 'gavel-it-') {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export async function removeTempDir(dir) {
  await fsp.rm(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

// ---- HTTP ---------------------------------------------------------------------------------

const defaultAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/**
 * One HTTP request to 127.0.0.1:port. Resolves {status, headers, body, text}; `body` is the
 * parsed JSON or null. `rawBody` (string/Buffer) is sent as is; `body` is JSON-encoded.
 * Rejects on a network error (connection refused or reset).
 */
export function httpRequest(port, method, urlPath, options = {}) {
  const {
    token,
    body,
    rawBody,
    headers = {},
    timeoutMs = REQUEST_TIMEOUT_MS,
    freshConnection,
    agent = defaultAgent,
  } = options;
  const payload =
    rawBody !== undefined ? rawBody : body !== undefined ? JSON.stringify(body) : undefined;
  const allHeaders = { ...headers };
  if (token) allHeaders.authorization = `Bearer ${token}`;
  if (payload !== undefined) {
    if (!Object.keys(allHeaders).some((h) => h.toLowerCase() === 'content-type')) {
      allHeaders['content-type'] = 'application/json';
    }
    allHeaders['content-length'] = Buffer.byteLength(payload);
  }
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: HOST,
        port,
        method,
        path: urlPath,
        headers: allHeaders,
        agent: freshConnection ? false : agent,
        timeout: timeoutMs,
      },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed = null;
          if ((res.headers['content-type'] ?? '').includes('json') && text.length > 0) {
            try {
              parsed = JSON.parse(text);
            } catch {
              parsed = null;
            }
          }
          resolve({ status: res.statusCode, headers: res.headers, body: parsed, text });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${urlPath}: timed out`)));
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

// ---- JWT (crafted tokens for the negative auth tests) -------------------------------------

export const b64url = (data) => Buffer.from(data).toString('base64url');

/** An HS256 JWS over `claims` with `secret` (header overridable, e.g. {alg: 'none'}). */
export function signJwt(claims, secret, header = { alg: 'HS256', typ: 'JWT' }) {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  if (header.alg !== 'HS256') return `${input}.`;
  const mac = crypto.createHmac('sha256', secret).update(input).digest('base64url');
  return `${input}.${mac}`;
}

export function decodeJwt(token) {
  const [header, payload] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')),
    claims: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')),
  };
}

// ---- the server ---------------------------------------------------------------------------

let serverCounter = 0;

export class GavelServer {
  /** Use startServer(). */
  constructor(dataDir, extraArgs, ownsDataDir) {
    this.dataDir = dataDir;
    this.extraArgs = extraArgs;
    this.ownsDataDir = ownsDataDir;
    this.child = null;
    this.port = null;
    this.stderr = '';
    this.exit = null; // {code, signal} once the current process ended
    this.exited = null; // a promise of it
    this.tokens = new Map();
    this.name = `gavel#${++serverCounter}`;
    this.crashes = 0;
    this.stopping = false;
  }

  get baseUrl() {
    return `http://${HOST}:${this.port}`;
  }

  get wsUrl() {
    return `ws://${HOST}:${this.port}/v1/ws`;
  }

  get pid() {
    return this.child?.pid;
  }

  get running() {
    return this.child !== null && this.exit === null;
  }

  /** Spawns `gavel serve` on port 0 and waits (≤ 15 s) for `listening 127.0.0.1:<port>`. */
  async start(port = 0) {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.exit = null;
    this.stopping = false;
    this.tokens.clear();
    this.agent?.destroy();
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    const args = [
      'serve',
      '--http-addr',
      `${HOST}:${port}`,
      '--data-dir',
      this.dataDir,
      ...this.extraArgs,
    ];
    const env = { ...process.env };
    for (const key of Object.keys(env)) if (key.startsWith('GAVEL_')) delete env[key];
    const child = spawn(GAVEL_BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    this.child = child;
    liveChildren.add(child);
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        liveChildren.delete(child);
        if (this.child === child) this.exit = { code, signal };
        resolve({ code, signal });
      });
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      this.stderr = (this.stderr + chunk).slice(-64 * 1024);
    });
    child.stdout.setEncoding('utf8');
    let stdout = '';
    this.port = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${this.name}: no 'listening' line within ${START_TIMEOUT_MS} ms\n${this.stderr}`));
      }, START_TIMEOUT_MS);
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${code ?? signal}) before listening:\n${this.stderr}`));
      });
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
        const match = /^listening 127\.0\.0\.1:(\d+)$/m.exec(stdout);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
    });
    return this;
  }

  /**
   * SIGTERM, wait; SIGKILL after 10 s. Resolves {code, signal, ms, killed}. `closeIdle`: first
   * close this harness's idle keep-alive connections to the server.
   */
  async stop({ graceMs = STOP_GRACE_MS, closeIdle = true } = {}) {
    if (!this.running) return { ...this.exit, ms: 0, killed: false };
    const started = Date.now();
    this.stopping = true;
    // Our own idle keep-alive connections would hold the drain up (see the lifecycle tests).
    if (closeIdle) this.agent.destroy();
    this.child.kill('SIGTERM');
    let timer;
    const timedOut = new Promise((resolve) => {
      timer = setTimeout(() => resolve('timeout'), graceMs);
    });
    const first = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    let killed = false;
    if (first === 'timeout') {
      killed = true;
      this.child.kill('SIGKILL');
      await this.exited;
    }
    return { ...this.exit, ms: Date.now() - started, killed };
  }

  /** kill -9, and wait for the process to be gone. */
  async kill9() {
    if (!this.running) return this.exit;
    this.stopping = true;
    this.child.kill('SIGKILL');
    return this.exited;
  }

  /** Stops (if running) and starts again on the same data dir, on a new port 0. */
  async restart() {
    if (this.running) await this.stop();
    return this.start();
  }

  /** Stops and removes the data dir (if this harness made it). */
  async cleanup() {
    if (this.running) {
      const result = await this.stop();
      if (result.killed) this.kill9();
    }
    if (this.ownsDataDir) await removeTempDir(this.dataDir);
  }

  /** httpRequest to this server; a network error names the server's fate (e.g. SIGSEGV). */
  async request(method, urlPath, options = {}) {
    const child = this.child;
    try {
      return await httpRequest(this.port, method, urlPath, { agent: this.agent, ...options });
    } catch (error) {
      // Did the server die? (It may take a moment to be reaped.)
      if (this.child === child && this.running) await Promise.race([this.exited, sleep(500)]);
      const crashed = this.child !== child || this.exit?.signal === 'SIGSEGV';
      if (this.child === child && this.exit) {
        error.message += ` [${this.name} exited: code ${this.exit.code} signal ${this.exit.signal}]`;
        error.serverExit = this.exit;
      }
      if (RESPAWN_ON_CRASH && crashed && !this.stopping) {
        // Diagnosis aid only (GAVEL_IT_RESPAWN_ON_CRASH=1): restart on the same port and retry
        // once what is safe to retry, so that the other checks can be looked at while a crash
        // is being fixed. Never use it to judge the service.
        if (this.child === child && !this.respawning) {
          this.crashes += 1;
          process.stderr.write(`# ${this.name} crashed (SIGSEGV) on ${method} ${urlPath}; respawning\n`);
          this.respawning = this.start(this.port).finally(() => {
            this.respawning = null;
          });
        }
        if (this.respawning) await this.respawning;
        const keyed = Object.keys(options.headers ?? {}).some((h) => h.toLowerCase() === 'idempotency-key');
        if (error.code === 'ECONNREFUSED' || method === 'GET' || keyed) {
          return this.request(method, urlPath, options);
        }
      }
      throw error;
    }
  }

  get(urlPath, options) {
    return this.request('GET', urlPath, options);
  }

  post(urlPath, body, options = {}) {
    return this.request('POST', urlPath, { ...options, body });
  }

  /** A dev token for `sub` with `roles` (cached per server process). */
  async token(sub, roles = ['bidder']) {
    const key = `${sub}|${roles.join(',')}`;
    if (this.tokens.has(key)) return this.tokens.get(key);
    const res = await this.post('/v1/auth/dev-token', { sub, roles });
    if (res.status !== 200 || typeof res.body?.token !== 'string') {
      throw new Error(`dev-token for ${sub}: ${res.status} ${res.text}`);
    }
    this.tokens.set(key, res.body.token);
    return res.body.token;
  }

  devSecret() {
    return fs.readFileSync(path.join(this.dataDir, 'dev-jwt-secret'), 'utf8').trim();
  }

  // ---- domain shortcuts ----

  /** Creates an auction (seller token) and asserts 201; returns the auction view. */
  async createAuction(sellerToken, terms = {}) {
    const body = {
      title: 'Integration lot',
      currency: 'EUR',
      startingPrice: 1000,
      ...(terms.endsAt === undefined ? { durationSeconds: 600 } : {}),
      ...terms,
    };
    const res = await this.post('/v1/auctions', body, { token: sellerToken });
    if (res.status !== 201) throw new Error(`create auction: ${res.status} ${res.text}`);
    return res.body;
  }

  async auction(id) {
    const res = await this.get(`/v1/auctions/${encodeURIComponent(id)}`);
    if (res.status !== 200) throw new Error(`GET auction ${id}: ${res.status} ${res.text}`);
    return res.body;
  }

  bid(auctionId, token, body, { key, wait, headers = {} } = {}) {
    const query = wait !== undefined ? `?wait=${wait}` : '';
    return this.post(`/v1/auctions/${encodeURIComponent(auctionId)}/bids${query}`, body, {
      token,
      headers: key !== undefined ? { ...headers, 'Idempotency-Key': key } : headers,
    });
  }

  /** Every decided bid of an auction (all pages, ≤ maxPages × 100). */
  async history(auctionId, token, maxPages = 100) {
    const bids = [];
    let after = null;
    for (let page = 0; page < maxPages; ++page) {
      const query = `limit=100${after !== null ? `&after=${after}` : ''}`;
      const res = await this.get(`/v1/auctions/${encodeURIComponent(auctionId)}/bids?${query}`, {
        token,
      });
      if (res.status !== 200) throw new Error(`history ${auctionId}: ${res.status} ${res.text}`);
      bids.push(...res.body.bids);
      if (res.body.next === null) return bids;
      after = res.body.next;
    }
    throw new Error(`history ${auctionId}: more than ${maxPages} pages`);
  }

  /** Polls GET /v1/auctions/{id} until predicate(view) holds (bounded). */
  async waitForAuction(id, predicate, timeoutMs = 10_000, intervalMs = 50) {
    const deadline = Date.now() + timeoutMs;
    let last;
    for (let i = 0; i < 10_000 && Date.now() < deadline; ++i) {
      last = await this.auction(id);
      if (predicate(last)) return last;
      await sleep(intervalMs);
    }
    throw new Error(`auction ${id} did not reach the expected state in ${timeoutMs} ms: ${JSON.stringify(last)}`);
  }

  /** Opens a WebSocket to /v1/ws (token in the query) and waits for the upgrade. */
  openWs(options = {}) {
    return WsClient.open(this, options);
  }
}

/**
 * Starts a server on a fresh temp data dir (or `dataDir`). `args`: extra `gavel serve` flags.
 */
export async function startServer({ args = [], dataDir } = {}) {
  const dir = dataDir ?? (await makeTempDir());
  const server = new GavelServer(dir, args, dataDir === undefined);
  try {
    await server.start();
  } catch (error) {
    if (server.ownsDataDir) await removeTempDir(dir);
    throw error;
  }
  return server;
}

// ---- WebSocket ----------------------------------------------------------------------------

export class WsClient {
  constructor(socket) {
    this.socket = socket;
    this.messages = [];
    this.waiters = new Set();
    this.closeInfo = null;
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString('utf8') };
        resolve(this.closeInfo);
        for (const waiter of this.waiters) waiter.check();
      });
    });
    socket.on('message', (data, isBinary) => {
      const text = isBinary ? null : data.toString('utf8');
      let parsed;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = { unparsable: text };
      }
      this.messages.push(parsed);
      for (const waiter of this.waiters) waiter.check();
    });
    socket.on('error', () => {
      // surfaced through 'close'
    });
  }

  /**
   * Connects. `token`: sent as access_token (or, with `bearer: true`, as a header). Resolves a
   * WsClient, or rejects with an error carrying `status` (and `body`) when the upgrade is refused.
   */
  static open(server, { token, bearer = false, timeoutMs = 5_000, path: urlPath = '/v1/ws' } = {}) {
    const query = token && !bearer ? `?access_token=${encodeURIComponent(token)}` : '';
    const headers = token && bearer ? { authorization: `Bearer ${token}` } : {};
    const socket = new WebSocket(`ws://${HOST}:${server.port}${urlPath}${query}`, {
      headers,
      handshakeTimeout: timeoutMs,
    });
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new WsClient(socket)));
      socket.once('unexpected-response', (req, res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const error = new Error(`upgrade refused: ${res.statusCode}`);
          error.status = res.statusCode;
          try {
            error.body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            error.body = null;
          }
          req.destroy();
          reject(error);
        });
      });
      socket.once('error', (error) => reject(error));
    });
  }

  send(message) {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  subscribe(...auctionIds) {
    this.send({ op: 'subscribe', auctions: auctionIds });
  }

  /**
   * The first message (from index `from`) satisfying predicate; waits ≤ timeoutMs for it.
   * Rejects on timeout or when the socket closes first.
   */
  waitFor(predicate, timeoutMs = 5_000, { from = 0 } = {}) {
    return new Promise((resolve, reject) => {
      let index = from;
      const waiter = {
        check: () => {
          for (; index < this.messages.length; ++index) {
            if (predicate(this.messages[index])) {
              done();
              resolve(this.messages[index]);
              return;
            }
          }
          if (this.closeInfo) {
            done();
            reject(new Error(`socket closed (${this.closeInfo.code}) while waiting; got ${JSON.stringify(this.messages).slice(0, 2000)}`));
          }
        },
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no matching WebSocket message in ${timeoutMs} ms; got ${JSON.stringify(this.messages).slice(0, 2000)}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      this.waiters.add(waiter);
      waiter.check();
    });
  }

  /** Resolves the close {code, reason}, or rejects after timeoutMs. */
  waitForClose(timeoutMs = 5_000) {
    let timer;
    return Promise.race([
      this.closed.finally(() => clearTimeout(timer)),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no close within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  }

  close() {
    if (!this.closeInfo) this.socket.close(1000);
  }

  terminate() {
    this.socket.terminate();
  }
}

/** Awaits the next WebSocket message via a ping round trip (the socket answers in order). */
export async function wsRoundTrip(client, timeoutMs = 5_000) {
  const from = client.messages.length;
  client.send({ op: 'ping' });
  return client.waitFor((m) => m.type === 'pong', timeoutMs, { from });
}

// ---- concurrency --------------------------------------------------------------------------

/** Runs `fn(item, index)` over items with at most `limit` in flight; results in order. */
export async function mapLimit(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const index = next++;
      if (index >= items.length) return;
      results[index] = await fn(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

// ---- replay -------------------------------------------------------------------------------

/** Runs `gavel replay` with `lines` (objects) on stdin; resolves {code, stdout lines, stderr}. */
export function runReplay(lines, timeoutMs = 20_000) {
  return new Promise((resolve, reject) => {
    const child = spawn(GAVEL_BINARY, ['replay'], { stdio: ['pipe', 'pipe', 'pipe'] });
    liveChildren.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gavel replay did not finish in ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      liveChildren.delete(child);
      const out = stdout
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l));
      resolve({ code, lines: out, stderr });
    });
    child.stdin.end(lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  });
}

/** Unique-enough ids for idempotency keys etc. */
export function uid(prefix = 'k') {
  return `${prefix}-${crypto.randomBytes(6).toString('hex')}`;
}

// ---- selfhosted backends (Redis, PostgreSQL) ------------------------------------------------
// Shared by the selfhosted tests: the servers come from tests/support/*.sh, in a state dir of
// the test's; `redis/` and `pg/` below it.

const REDIS_SCRIPT = path.join(REPO_ROOT, 'tests/support/redis-server.sh');
const POSTGRES_SCRIPT = path.join(REPO_ROOT, 'tests/support/postgres-server.sh');

/** Whether redis-server and PostgreSQL's server binaries are installed. */
export function haveSelfhostedServers() {
  return spawnSync('sh', ['-c', 'command -v redis-server && ls /usr/lib/postgresql/*/bin/pg_ctl'], { stdio: 'ignore' }).status === 0;
}

/** Starts a throwaway Redis and PostgreSQL under `state`; resolves {redisUrl, postgresUrl}. */
export function startSelfhostedBackends(state) {
  const redisUrl = execFileSync(REDIS_SCRIPT, ['start', path.join(state, 'redis')], { encoding: 'utf8' }).trim().split('\n').pop();
  execFileSync(POSTGRES_SCRIPT, ['start', path.join(state, 'pg')], { encoding: 'utf8' });
  const postgresUrl = fs.readFileSync(path.join(state, 'pg', 'url'), 'utf8').trim();
  return { redisUrl, postgresUrl };
}

/** Stops what startSelfhostedBackends started (whatever of it is there). */
export function stopSelfhostedBackends(state) {
  if (fs.existsSync(path.join(state, 'redis'))) spawnSync(REDIS_SCRIPT, ['stop', path.join(state, 'redis')]);
  if (fs.existsSync(path.join(state, 'pg'))) spawnSync(POSTGRES_SCRIPT, ['stop', path.join(state, 'pg')]);
}

/** PostgreSQL's server process and its backends (to freeze them: commits then hang). */
export function postgresPids(state) {
  const root = fs.readFileSync(path.join(state, 'pg', 'root'), 'utf8').trim();
  const main = fs.readFileSync(path.join(root, 'data', 'postmaster.pid'), 'utf8').split('\n')[0].trim();
  const children = spawnSync('pgrep', ['-P', main], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  return [main, ...children].map(Number);
}

/** One redis-cli command against `url`; answers its stdout (trimmed); throws on failure. */
export function redisCli(url, ...args) {
  const run = spawnSync('redis-cli', ['-u', url, ...args], { encoding: 'utf8', timeout: 10_000 });
  if (run.status !== 0) throw new Error(`redis-cli ${args.join(' ')}: ${run.status} ${run.stderr}`);
  return run.stdout.trim();
}

/** Spawns a helper process that the test process kills (SIGKILL) if it exits first. */
export function spawnTracked(command, args, options = {}) {
  const child = spawn(command, args, options);
  liveChildren.add(child);
  child.on('exit', () => liveChildren.delete(child));
  return child;
}

/**
 * Waits until every bid id has a decision in the store (read through `gateway`); resolves a
 * Map bidId → the stored bid. Throws after timeoutMs.
 */
export async function waitForDecisions(gateway, token, bidIds, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  const decided = new Map();
  while (decided.size < bidIds.length) {
    await mapLimit(bidIds.filter((id) => !decided.has(id)), 16, async (id) => {
      const res = await gateway.get(`/v1/bids/${id}`, { token });
      if (res.status === 200 && res.body.status !== 'queued') decided.set(id, res.body);
    });
    if (decided.size < bidIds.length) {
      if (Date.now() > deadline) throw new Error(`${bidIds.length - decided.size} bids undecided after ${timeoutMs} ms`);
      await sleep(200);
    }
  }
  return decided;
}

/** An auction's audit trail (admin), every page (≤ maxPages × 100 entries). */
export async function auditTrail(gateway, adminToken, auctionId, maxPages = 50) {
  const entries = [];
  let after = 0;
  for (let page = 0; page < maxPages; ++page) {
    const res = await gateway.get(`/v1/admin/audit?auctionId=${encodeURIComponent(auctionId)}&limit=100&after=${after}`, { token: adminToken });
    if (res.status !== 200) throw new Error(`audit trail of ${auctionId}: ${res.status} ${res.text}`);
    entries.push(...res.body.entries);
    if (res.body.next === null) return entries;
    after = res.body.next;
  }
  throw new Error(`audit trail of ${auctionId}: more than ${maxPages} pages`);
}

/** A free TCP port on 127.0.0.1 (bound and released; the caller retries on a race). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}
