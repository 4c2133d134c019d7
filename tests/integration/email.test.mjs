// E-mail notices end to end: a real `gavel serve` (embedded profile) submits them over SMTP to
// maildev (npm; its SMTP server and REST API on free loopback ports, started here), for a user
// who chose the e-mail channel and only for them. maildev's GET /api/email lists what arrived,
// parsed: subject, to/from addresses, and the text and HTML parts; GET /api/email/:id/source
// gives the message as sent, whose shape (multipart/alternative, line lengths, RFC 2047 words
// of a long non-ASCII subject) is checked too.
//
// Without node_modules/maildev (npm ci at the repository root; scripts/setup.sh does) the test
// is skipped, except in CI (CI set), where it fails.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO_ROOT, freePort, httpRequest, makeTempDir, removeTempDir, sleep, spawnTracked, startServer, uid } from './harness.mjs';

const MAILDEV = path.join(REPO_ROOT, 'node_modules', 'maildev', 'dist', 'bin', 'maildev.js');
const IN_CI = (process.env.CI ?? '') !== '' && process.env.CI !== 'false';
const FROM = 'notifications@gavel.test';
const MAILDEV_START_MS = 15_000;
const MAIL_WAIT_MS = 15_000; // the notifier delivers asynchronously, with retries

const maildevMissing = !fs.existsSync(MAILDEV);
const skip =
  maildevMissing && !IN_CI ? `${MAILDEV} not found: npm ci at the repository root to run this test` : false;

/** maildev on free loopback ports; mails() reads its REST API. */
class Maildev {
  async start() {
    // Its own mail directory: maildev's default (/tmp/maildev) is shared by every instance.
    this.dir = await makeTempDir('gavel-maildev-');
    for (let attempt = 1; ; attempt += 1) {
      this.smtpPort = await freePort();
      this.webPort = await freePort();
      this.stderr = '';
      this.child = spawnTracked(
        process.execPath,
        [
          MAILDEV,
          ...['--smtp', `${this.smtpPort}`, '--web', `${this.webPort}`, '--ip', '127.0.0.1', '--web-ip', '127.0.0.1'],
          ...['--mail-directory', this.dir, '--silent'],
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      this.child.stderr.on('data', (chunk) => {
        this.stderr += chunk;
      });
      this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve(code ?? signal)));
      this.exit = null;
      this.exited.then((exit) => {
        this.exit = exit;
      });
      const deadline = Date.now() + MAILDEV_START_MS;
      while (Date.now() < deadline && this.exit === null) {
        // Both listeners must be up: the REST API answering says little about the SMTP port.
        if ((await this.#smtpOpen()) && (await this.mails().then(() => true, () => false))) return this;
        await sleep(100);
      }
      await this.stop();
      // A port taken between freePort() and maildev's bind: try other ports.
      if (/EADDRINUSE/.test(this.stderr) && attempt < 3) continue;
      throw new Error(`maildev did not start on 127.0.0.1:${this.smtpPort}/${this.webPort} (exit ${this.exit}):\n${this.stderr}`);
    }
  }

  #smtpOpen() {
    return new Promise((resolve) => {
      const socket = net.connect(this.smtpPort, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
  }

  /** Every mail maildev received, parsed (maildev 3's REST API). */
  async mails() {
    const res = await httpRequest(this.webPort, 'GET', '/api/email', { freshConnection: true, timeoutMs: 5_000 });
    assert.equal(res.status, 200, `maildev /api/email: ${res.status} ${res.text}`);
    assert.ok(Array.isArray(res.body), `maildev /api/email: ${res.text}`);
    return res.body;
  }

  /** The message as maildev received it (headers and MIME parts, CRLF line ends). */
  async source(id) {
    const res = await httpRequest(this.webPort, 'GET', `/api/email/${encodeURIComponent(id)}/source`, {
      freshConnection: true,
      timeoutMs: 5_000,
    });
    assert.equal(res.status, 200, `maildev source of ${id}: ${res.status} ${res.text}`);
    return res.text;
  }

  async stop() {
    if (this.child && this.exit === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
      await this.exited;
      clearTimeout(timer);
    }
  }

  async cleanup() {
    await this.stop();
    if (this.dir) await removeTempDir(this.dir);
  }
}

const to = (mail) => (mail.to ?? []).map((a) => a.address);

describe('e-mail notices through SMTP', { skip }, () => {
  let maildev;
  let server;

  before(async () => {
    assert.ok(!maildevMissing, `${MAILDEV} is missing (CI): npm ci installs maildev`);
    maildev = await new Maildev().start();
    server = await startServer({
      args: ['--smtp-url', `smtp://127.0.0.1:${maildev.smtpPort}`, '--smtp-from', `Gavel <${FROM}>`],
    });
  });

  after(async () => {
    await server?.cleanup();
    await maildev?.cleanup();
  });

  test('an outbid user who chose e-mail gets one outbid mail; a user who did not gets none', async () => {
    const seller = await server.token('sally', ['seller']);
    const alice = await server.token('alice', ['bidder']);
    const bob = await server.token('bob', ['bidder']);
    const aliceAddress = `alice-${uid('m')}@example.com`;
    const bobAddress = `bob-${uid('m')}@example.com`;

    // Alice chooses e-mail; Bob saves an address but keeps the channel off.
    const chosen = await server.request('PUT', '/v1/me/preferences', {
      token: alice,
      body: { channels: { email: true }, email: aliceAddress },
    });
    assert.equal(chosen.status, 200, chosen.text);
    assert.equal(chosen.body.channels.email, true);
    assert.equal(chosen.body.email, aliceAddress);
    const kept = await server.request('PUT', '/v1/me/preferences', {
      token: bob,
      body: { channels: { email: false }, email: bobAddress },
    });
    assert.equal(kept.status, 200, kept.text);
    assert.equal(kept.body.channels.email, false);

    // A title that needs RFC 2047 in the subject (long enough for several encoded words) and
    // escaping in the HTML part.
    const title = `Réveil & horloge ancienne, très belle — ${'é'.repeat(30)} ${uid('lot')}`;
    const auction = await server.createAuction(seller, { title, startingPrice: 1000 });
    // Alice leads, Bob outbids her (her outbid mail), Alice outbids Bob (his outbid notice,
    // in-app only) and leads again: her second "leading" mail comes after anything of Bob's.
    for (const [token, amount] of [
      [alice, 1000],
      [bob, 2000],
      [alice, 3000],
    ]) {
      const res = await server.bid(auction.id, token, { amount }, { key: uid(), wait: 5000 });
      assert.equal(res.status, 200, `bid ${amount}: ${res.status} ${res.text}`);
      assert.equal(res.body.status, 'accepted', res.text);
    }

    const forAlice = (mails) => mails.filter((m) => to(m).includes(aliceAddress));
    const deadline = Date.now() + MAIL_WAIT_MS;
    let mails = [];
    while (Date.now() < deadline) {
      mails = await maildev.mails();
      if (forAlice(mails).filter((m) => m.subject.startsWith('You are the highest bidder')).length >= 2) break;
      await sleep(100);
    }
    const alices = forAlice(mails);
    assert.equal(
      alices.filter((m) => m.subject.startsWith('You are the highest bidder')).length,
      2,
      `alice's two "leading" mails: ${JSON.stringify(alices.map((m) => m.subject))}`,
    );

    const outbid = alices.filter((m) => m.subject === `You were outbid on ${title}`);
    assert.equal(outbid.length, 1, `one outbid mail for alice: ${JSON.stringify(alices.map((m) => m.subject))}`);
    const [mail] = outbid;
    assert.deepEqual(to(mail), [aliceAddress]);
    assert.deepEqual(
      mail.from.map((a) => a.address),
      [FROM],
    );
    assert.match(mail.text, new RegExp(`Someone outbid you on "${title}"\\.`));
    assert.match(mail.text, /The price is now EUR 20\.00/);
    assert.match(mail.html, new RegExp(`Someone outbid you on &quot;${title.replace('&', '&amp;')}&quot;\\.`));
    assert.match(mail.html, /<b>EUR 20\.00<\/b>/);

    // As sent: multipart/alternative with a plain-text and an HTML part, every line within
    // RFC 5322's 78 characters, the subject in RFC 2047 words of at most 75.
    const source = await maildev.source(mail.id);
    const [head, ...rest] = source.split('\r\n\r\n');
    assert.match(head, /^Content-Type: multipart\/alternative; boundary="([^"]+)"$/m, head);
    const body = rest.join('\r\n\r\n');
    assert.match(body, /Content-Type: text\/plain; charset=UTF-8/);
    assert.match(body, /Content-Type: text\/html; charset=UTF-8/);
    const long = source.split('\r\n').filter((line) => line.length > 78);
    assert.deepEqual(long, [], 'lines longer than 78 characters');
    const subject = /^Subject:(.*(?:\r\n[ \t].*)*)/m.exec(head)?.[1];
    assert.ok(subject, head);
    const words = subject.trim().split(/\s+/);
    assert.ok(words.length > 1, `a long subject in several words: ${subject}`);
    for (const word of words) {
      assert.match(word, /^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$/);
      assert.ok(word.length <= 75, `encoded word of ${word.length} characters: ${word}`);
    }

    // Bob was outbid too, before Alice's second "leading" mail was sent; nothing reached him.
    assert.deepEqual(
      mails.filter((m) => to(m).includes(bobAddress)).map((m) => m.subject),
      [],
    );
    const bobsInbox = await server.get('/v1/me/notifications', { token: bob });
    assert.equal(bobsInbox.status, 200, bobsInbox.text);
    assert.ok(
      bobsInbox.body.notifications.some((n) => n.auctionId === auction.id && n.kind === 'outbid'),
      `bob's in-app outbid notice: ${bobsInbox.text}`,
    );
  });
});
