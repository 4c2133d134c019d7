// jwks auth mode: RS256 tokens checked against a JWKS file or URL (as with Cognito), and the
// dev-token endpoint absent.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import fs from 'node:fs/promises';
import path from 'node:path';

import { startServer, makeTempDir, removeTempDir, b64url, signJwt } from './harness.mjs';

const ISSUER = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_TEST';
const CLIENT = 'gavel-test-client';

function keyPair(kid) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
  return { privateKey, jwk, kid };
}

/** A Cognito-style access token: no aud, client_id, cognito:groups, token_use. */
function accessToken(key, claims = {}) {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'RS256', kid: key.kid, typ: 'JWT' };
  const payload = {
    sub: 'carol', iss: ISSUER, client_id: CLIENT, token_use: 'access',
    'cognito:groups': ['bidder', 'seller'], iat: now, exp: now + 600, ...claims,
  };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const signature = crypto.sign('RSA-SHA256', Buffer.from(input), key.privateKey);
  return `${input}.${b64url(signature)}`;
}

async function createAndBid(server, token) {
  const created = await server.post('/v1/auctions', { title: 'jwks', currency: 'EUR', startingPrice: 100, durationSeconds: 600 }, { token });
  assert.equal(created.status, 201, created.text);
  const bidder = accessToken(server.key, { sub: 'dave', 'cognito:groups': ['bidder'] });
  const bid = await server.bid(created.body.id, bidder, { amount: 100 }, { wait: 5000 });
  assert.equal(bid.status, 200, bid.text);
  assert.equal(bid.body.status, 'accepted');
  assert.equal(bid.body.auction.leaderId, 'dave');
}

describe('jwks mode with a JWKS file', () => {
  let server;
  let dir;
  const key = keyPair('key-1');
  const other = keyPair('key-2');  // not in the JWKS

  before(async () => {
    dir = await makeTempDir('gavel-jwks-');
    const file = path.join(dir, 'jwks.json');
    await fs.writeFile(file, JSON.stringify({ keys: [key.jwk] }));
    server = await startServer({ args: ['--auth-mode', 'jwks', '--jwks-file', file, '--jwt-issuer', ISSUER, '--jwt-audience', CLIENT] });
    server.key = key;
  });
  after(async () => {
    await server?.cleanup();
    await removeTempDir(dir);
  });

  test('a signed access token works end to end', async () => {
    await createAndBid(server, accessToken(key));
  });

  test('the dev-token endpoint does not exist', async () => {
    const res = await server.post('/v1/auth/dev-token', { sub: 'x', roles: ['admin'] });
    assert.equal(res.status, 404);
  });

  test('wrong issuer, wrong audience, unknown key, expired, HS256 and alg none are refused with 401', async () => {
    const now = Math.floor(Date.now() / 1000);
    const bad = {
      'wrong issuer': accessToken(key, { iss: 'https://evil.example' }),
      'wrong audience': accessToken(key, { client_id: 'someone-else' }),
      'unknown key': accessToken(other),
      expired: accessToken(key, { iat: now - 7200, exp: now - 3600 }),
      hs256: signJwt({ sub: 'carol', iss: ISSUER, client_id: CLIENT, exp: now + 600 }, 'a-secret-that-is-long-enough-32b!', { alg: 'HS256', typ: 'JWT', kid: 'key-1' }),
      none: `${b64url(JSON.stringify({ alg: 'none', kid: 'key-1' }))}.${b64url(JSON.stringify({ sub: 'carol', iss: ISSUER, client_id: CLIENT, exp: now + 600 }))}.`,
    };
    for (const [name, token] of Object.entries(bad)) {
      const res = await server.post('/v1/auctions', { title: 'x', currency: 'EUR', startingPrice: 100, durationSeconds: 60 }, { token });
      assert.equal(res.status, 401, `${name}: ${res.text}`);
      assert.equal(res.body.error.code, 'invalid_token', name);
    }
  });
});

describe('jwks mode with a JWKS URL', () => {
  let server;
  let jwksServer;
  let fetches = 0;
  const key = keyPair('url-key');

  before(async () => {
    jwksServer = http.createServer((req, res) => {
      fetches += 1;
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ keys: [key.jwk] }));
    });
    await new Promise((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${jwksServer.address().port}/eu-west-1_TEST/.well-known/jwks.json`;
    server = await startServer({ args: ['--auth-mode', 'jwks', '--jwks-url', url, '--jwt-issuer', ISSUER, '--jwt-audience', CLIENT] });
    server.key = key;
  });
  after(async () => {
    await server?.cleanup();
    await new Promise((resolve) => jwksServer.close(resolve));
  });

  test('keys are fetched at start and tokens work', async () => {
    assert.ok(fetches >= 1);
    await createAndBid(server, accessToken(key));
  });
});

test('jwks mode without an issuer, or with an unreachable JWKS URL, refuses to start with a reason', async () => {
  const { spawnSync } = await import('node:child_process');
  const { GAVEL_BINARY } = await import('./harness.mjs');
  const dir = await makeTempDir('gavel-jwks-bad-');
  try {
    const missing = spawnSync(GAVEL_BINARY, ['serve', '--data-dir', dir, '--http-addr', '127.0.0.1:0', '--auth-mode', 'jwks', '--jwks-url', 'http://127.0.0.1:9/jwks.json', '--jwt-audience', CLIENT], { encoding: 'utf8', timeout: 15000 });
    assert.equal(missing.status, 2, missing.stderr);
    assert.match(missing.stderr, /jwt-issuer/);
    const unreachable = spawnSync(GAVEL_BINARY, ['serve', '--data-dir', dir, '--http-addr', '127.0.0.1:0', '--auth-mode', 'jwks', '--jwks-url', 'http://127.0.0.1:9/jwks.json', '--jwt-issuer', ISSUER, '--jwt-audience', CLIENT], { encoding: 'utf8', timeout: 15000 });
    assert.equal(unreachable.status, 1, unreachable.stderr);
    assert.match(unreachable.stderr, /cannot load the JWKS/);
  } finally {
    await removeTempDir(dir);
  }
});
