// Browser test of the web UI (web/): two bidders in two browser contexts bid against each
// other on a fresh auction and see each other's bids live, with outbid notices; then the
// outbid bidder reads the inbox (GET /v1/me/notifications, live on the socket), marks notices
// read and sets notification preferences.
//
// Needs Debian's chromium at /usr/bin/chromium and the npm package playwright-core (npm ci at
// the repository root); without them the test is skipped with the reason. The gavel binary is
// GAVEL_BINARY (default build/gavel). Screenshots go to test-artifacts/ (git-ignored).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BINARY = path.resolve(ROOT, process.env.GAVEL_BINARY ?? path.join('build', 'gavel'));
const CHROMIUM = process.env.GAVEL_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(ROOT, 'test-artifacts');
const LIVE_TIMEOUT = 5000; // a bid must show up in the other browser within this
const NOTIFIER_TIMEOUT = 20000; // the notifier writes inbox notices asynchronously: this long at most

let chromium = null;
let skipReason = null;
if (!fs.existsSync(CHROMIUM)) {
  skipReason = `${CHROMIUM} is missing (apt-get install -y chromium)`;
} else if (!fs.existsSync(BINARY)) {
  skipReason = `the gavel binary ${BINARY} is missing (build it, or set GAVEL_BINARY)`;
} else {
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (error) {
    skipReason = `playwright-core is not installed (npm ci at the repository root): ${error.message}`;
  }
}
if (skipReason) console.log(`# SKIP e2e browser test: ${skipReason}`);

// ---- the server ---------------------------------------------------------------------------------

async function startGavel() {
  const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'gavel-e2e-'));
  const child = spawn(BINARY, [
    'serve', '--http-addr', '127.0.0.1:0', '--data-dir', dataDir,
    '--web-root', path.join(ROOT, 'web'), '--auth-mode', 'dev',
    // E-mail must be offered for the preferences form to accept it; nothing listens there, so
    // the mail is only attempted, then dead-lettered.
    '--smtp-url', 'smtp://127.0.0.1:9',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const port = await new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`gavel did not start in 15 s:\n${stderr}`)), 15000);
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const match = /listening 127\.0\.0\.1:(\d+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.on('exit', (code) => reject(new Error(`gavel exited (${code}) before listening:\n${stderr}`)));
  });
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => {
        const timer = setTimeout(() => { child.kill('SIGKILL'); resolve(); }, 10000);
        child.on('exit', () => { clearTimeout(timer); resolve(); });
      });
    }
    await fsp.rm(dataDir, { recursive: true, force: true });
  };
  return { port, base: `http://127.0.0.1:${port}`, stop, stderr: () => stderr };
}

async function request(base, method, urlPath, { token, body } = {}) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(base + urlPath, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
}

async function devToken(base, sub, roles) {
  const { status, body } = await request(base, 'POST', '/v1/auth/dev-token', { body: { sub, roles } });
  assert.equal(status, 200, `dev token for ${sub}`);
  return body.token;
}

// ---- browser helpers ------------------------------------------------------------------------------

const LAUNCH_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
];

async function signIn(page, base, name) {
  await page.goto(`${base}/#/signin`);
  await page.getByLabel('Your name').fill(name);
  const bidder = page.getByLabel('Bidder');
  if (!(await bidder.isChecked())) await bidder.check();
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('[data-testid="user"]').filter({ hasText: name }).waitFor({ timeout: LIVE_TIMEOUT });
}

/** The text of a locator once it matches `expected` (a string or RegExp), within `timeout`. */
async function waitForText(locator, expected, timeout = LIVE_TIMEOUT) {
  const deadline = Date.now() + timeout;
  let last = '';
  for (;;) {
    last = ((await locator.first().textContent({ timeout }).catch(() => '')) ?? '').trim();
    if (typeof expected === 'string' ? last === expected : expected.test(last)) return last;
    if (Date.now() > deadline) {
      throw new assert.AssertionError({ message: `expected ${expected}, still "${last}" after ${timeout} ms`, actual: last, expected });
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function bid(page, amount, max) {
  const amountField = page.getByLabel(/^Your bid/);
  await amountField.fill(amount);
  const maxField = page.getByLabel(/^Maximum for automatic bidding/);
  await maxField.fill(max ?? '');
  await page.getByRole('button', { name: 'Place bid' }).click();
  const result = page.locator('.form-result p:not(.result-info)');
  await result.waitFor({ timeout: LIVE_TIMEOUT });
  return (await result.textContent()).trim();
}

/** The errors Chromium logs for answers the test provokes on purpose. */
function expectedConsoleError(message) {
  const text = message.text();
  const url = message.location()?.url ?? '';
  return /status of 409/.test(text) || (/status of 400/.test(text) && url.endsWith('/v1/me/preferences'));
}

/** The number in the header's unread badge (0 when hidden). */
async function unreadBadge(page) {
  const badge = page.locator('#note-count');
  if (await badge.isHidden()) return 0;
  return Number((await badge.textContent()).trim());
}

/** Waits until `read()` answers a value `ok` accepts; answers it. */
async function eventually(read, ok, what, timeout = LIVE_TIMEOUT) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await read();
    if (ok(last)) return last;
    if (Date.now() > deadline) throw new assert.AssertionError({ message: `${what}: still ${JSON.stringify(last)} after ${timeout} ms` });
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function sideways(page) {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

/** Marks the page so that a reload (which would reset window state) is detectable. */
async function markNoReload(page) {
  await page.evaluate(() => { window.__e2eNoReload = true; });
}
async function assertNotReloaded(page, who) {
  assert.equal(await page.evaluate(() => window.__e2eNoReload === true), true, `${who}'s page must not reload`);
}

// ---- the test ------------------------------------------------------------------------------------

describe('web UI: two bidders', { skip: skipReason ?? false, timeout: 240000 }, () => {
  let server;
  let browser;
  let auction;
  const pageErrors = [];

  before(async () => {
    await fsp.mkdir(ARTIFACTS, { recursive: true });
    server = await startGavel();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS, headless: true });
    const seller = await devToken(server.base, 'sam-seller', ['seller']);
    const created = await request(server.base, 'POST', '/v1/auctions', {
      token: seller,
      body: { title: 'Brass ship clock (e2e)', currency: 'EUR', startingPrice: 1000, durationSeconds: 900, softCloseSeconds: 30 },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    auction = created.body;
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('bids show up live in the other browser, with outbid notices', async () => {
    const contexts = await Promise.all([0, 1].map(() => browser.newContext({ viewport: { width: 1280, height: 900 } })));
    const [alice, bob] = await Promise.all(contexts.map((c) => c.newPage()));
    for (const [page, who] of [[alice, 'alice'], [bob, 'bob']]) {
      page.on('pageerror', (error) => pageErrors.push(`${who}: ${error.message}`));
      page.on('console', (message) => {
        // A rejected bid is a 409 answer, and refused preferences a 400, which the browser logs;
        // anything else is a fault.
        if (message.type() === 'error' && !expectedConsoleError(message)) {
          pageErrors.push(`${who} console: ${message.text()} (${message.location()?.url ?? '?'})`);
        }
      });
    }

    await signIn(alice, server.base, 'alice');
    await signIn(bob, server.base, 'bob');

    // The list: the new auction with its price and a countdown on the server's clock.
    await alice.goto(`${server.base}/#/`);
    const card = alice.locator('li.card', { hasText: 'Brass ship clock (e2e)' });
    await card.waitFor();
    assert.match(await card.locator('.price').textContent(), /€10\.00/);
    await waitForText(card.locator('.countdown'), /^1[45]m \d\ds left$/);
    assert.equal(await alice.getByRole('heading', { level: 1 }).textContent(), 'Open auctions');
    await alice.screenshot({ path: path.join(ARTIFACTS, 'list-desktop.png'), fullPage: true });

    // Both open the auction page from the list / by its address.
    await card.getByRole('link', { name: 'Brass ship clock (e2e)' }).click();
    await alice.waitForURL(`**/#/auction/${auction.id}`);
    await bob.goto(`${server.base}/#/auction/${auction.id}`);
    for (const page of [alice, bob]) {
      await waitForText(page.getByTestId('price'), '€10.00');
      await waitForText(page.getByTestId('leader'), 'No bids yet');
      await waitForText(page.getByTestId('min-next'), '€10.00');
      assert.equal(await page.getByLabel(/^Your bid/).inputValue(), '10.00', 'the minimum is prefilled');
      await markNoReload(page);
    }
    // The countdown follows the server's clock: endsAt - serverNow ≈ the remaining duration.
    const remaining = await alice.evaluate((endsAt) => Date.parse(endsAt) - window.gavel.serverNow(), auction.endsAt);
    assert.ok(remaining > 800000 && remaining <= 901000, `remaining ${remaining} ms`);

    // alice opens at the starting price.
    assert.match(await bid(alice, '10.00'), /you are the highest bidder at €10\.00/i);
    await waitForText(bob.getByTestId('price'), '€10.00');
    await waitForText(bob.getByTestId('leader'), 'alice');
    await waitForText(bob.getByTestId('bid-count'), '1');
    await waitForText(bob.getByTestId('min-next'), '€10.50');
    assert.equal(await bob.getByLabel(/^Your bid/).inputValue(), '10.50', 'the new minimum is prefilled');
    await waitForText(alice.locator('[data-standing]'), 'You are the highest bidder.');

    // bob outbids alice: alice sees it live, with an outbid notice.
    assert.match(await bid(bob, '11.00'), /you are the highest bidder at €11\.00/i);
    await waitForText(alice.getByTestId('price'), '€11.00');
    await waitForText(alice.getByTestId('leader'), 'bob');
    await waitForText(alice.locator('#notices .notice[data-kind="outbid"]'), /outbid you on "Brass ship clock \(e2e\)"\. The price is now EUR 11\.00/);
    await waitForText(alice.locator('[data-standing]'), /You have been outbid/);
    await waitForText(bob.getByTestId('leader'), 'bob (you)');

    // alice comes back with a maximum; bob is outbid and told so.
    assert.match(await bid(alice, '11.50', '20.00'), /highest bidder at €11\.50/);
    await waitForText(bob.getByTestId('price'), '€11.50');
    await waitForText(bob.getByTestId('leader'), 'alice');
    await waitForText(bob.locator('#notices .notice[data-kind="outbid"]'), /price is now EUR 11\.50/);

    // bob's next bid is beaten at once by alice's maximum (proxy bidding).
    assert.match(await bid(bob, '12.00'), /another bidder's maximum is higher: the price is now €12\.50/);
    await waitForText(alice.getByTestId('price'), '€12.50');
    await waitForText(alice.getByTestId('leader'), 'alice (you)');
    await waitForText(bob.getByTestId('min-next'), '€13.00');

    // Clear messages for bad input: too many decimals (client), too low (the API's reason).
    assert.equal(await bid(bob, '12.345'), 'Bid: EUR amounts have at most 2 decimal places.');
    assert.equal(await bob.getByLabel(/^Your bid/).getAttribute('aria-invalid'), 'true');
    assert.equal(await bid(bob, '1.00'), 'Your bid is too low. The minimum next bid is €13.00.');
    assert.equal(await bob.getByLabel(/^Your bid/).inputValue(), '13.00');

    // The auction page at desktop width, then at phone width (360 px), without a horizontal scroll.
    await bob.screenshot({ path: path.join(ARTIFACTS, 'auction-desktop.png'), fullPage: true });
    await bob.setViewportSize({ width: 360, height: 780 });
    await waitForText(bob.getByTestId('price'), '€12.50');
    const overflow = await bob.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow} px at 360 px`);
    const formBox = await bob.getByRole('button', { name: 'Place bid' }).boundingBox();
    assert.ok(formBox && formBox.x >= 0 && formBox.x + formBox.width <= 360, 'the bid button fits the phone screen');
    await bob.screenshot({ path: path.join(ARTIFACTS, 'auction-phone.png'), fullPage: true });
    await alice.setViewportSize({ width: 360, height: 780 });
    await alice.goto(`${server.base}/#/`);
    await alice.locator('li.card', { hasText: 'Brass ship clock (e2e)' }).locator('.price').filter({ hasText: '€12.50' }).waitFor();
    await alice.screenshot({ path: path.join(ARTIFACTS, 'list-phone.png'), fullPage: true });

    // Neither page reloaded: everything above came over the WebSocket.
    await assertNotReloaded(bob, 'bob');

    // My bids (this session's records).
    await bob.goto(`${server.base}/#/my-bids`);
    const rows = bob.locator('table.records tbody tr');
    await rows.first().waitFor();
    assert.equal(await rows.count(), 3, 'two accepted and one rejected by the API (the malformed amount was never sent)');
    const decisions = await rows.locator('td:nth-child(4)').allTextContents();
    assert.equal(decisions[0], 'Rejected: Your bid is too low. The minimum next bid is €13.00.');
    assert.equal(decisions[2], 'Accepted — price €11.00');
    assert.match(decisions[1], /^Accepted — price €12\.50/);
    assert.match(await rows.nth(1).locator('td:nth-child(5)').textContent(), /Outbid/);
    await bob.screenshot({ path: path.join(ARTIFACTS, 'my-bids-phone.png'), fullPage: true });

    // ---- alice's notifications: the server's inbox, at phone width (375 px) ----
    const aliceToken = await devToken(server.base, 'alice', ['bidder']);
    const inboxOf = async () => {
      const res = await request(server.base, 'GET', '/v1/me/notifications?limit=100', { token: aliceToken });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    };
    await alice.setViewportSize({ width: 375, height: 812 });
    await alice.getByRole('link', { name: /^Notifications/ }).click();
    await alice.waitForURL('**/#/notifications');
    await markNoReload(alice);
    // The URL changes before the hashchange handler renders the view: wait for the view itself.
    await waitForText(alice.getByRole('heading', { level: 1 }), 'Notifications');
    const notes = alice.locator('ul.note-list > li.note');
    // The notifier writes the outbid notice asynchronously: it comes with the page or on the socket.
    const outbidNote = alice.locator('ul.note-list > li.note[data-kind="outbid"]').first();
    await outbidNote.waitFor({ timeout: NOTIFIER_TIMEOUT });
    assert.match(await outbidNote.locator('.note-subject').textContent(), /outbid on Brass ship clock \(e2e\)/);
    const outbidText = await outbidNote.locator('.note-text').textContent();
    assert.match(outbidText, /Brass ship clock \(e2e\)/);
    assert.doesNotMatch(outbidText, /<\/?(p|b)>/, 'the text body, not the HTML one');
    assert.equal(await alice.locator('ul.note-list b, ul.note-list p p').count(), 0, 'no notice HTML is inserted into the page');
    assert.equal(await outbidNote.getAttribute('data-read'), 'false');
    assert.match(await outbidNote.textContent(), /Unread/);
    // Newest first, like the server's list.
    await eventually(async () => (await inboxOf()).notifications.length, (n) => n >= 2, 'alice has her leading and outbid notices', NOTIFIER_TIMEOUT);
    // The badge settles on the server's unread count (the notifier may still be writing).
    const unreadBefore = await eventually(async () => {
      const [badge, server] = [await unreadBadge(alice), (await inboxOf()).unread];
      return badge === server ? badge : -1;
    }, (n) => n > 0, 'the unread badge matches the server', NOTIFIER_TIMEOUT);
    const shownIds = await notes.evaluateAll((items) => items.map((li) => li.dataset.id));
    const serverIds = (await inboxOf()).notifications.map((n) => n.id);
    assert.deepEqual(shownIds, serverIds.slice(0, shownIds.length), 'the inbox shows the server\'s order, newest first');
    assert.ok(await sideways(alice) <= 0, 'no sideways scroll at 375 px (inbox)');
    await alice.screenshot({ path: path.join(ARTIFACTS, 'notifications-phone.png'), fullPage: true });

    // Mark the outbid notice read with the keyboard: the badge goes down by one.
    const outbidId = await outbidNote.getAttribute('data-id');
    const markRead = outbidNote.getByRole('button', { name: /^Mark read/ });
    await markRead.focus();
    await alice.keyboard.press('Enter');
    const readNote = alice.locator(`ul.note-list > li.note[data-id="${outbidId}"]`);
    await waitForText(readNote.locator('.note-meta'), /^(?!.*Unread)/);
    assert.equal(await readNote.getAttribute('data-read'), 'true');
    assert.equal(await readNote.getByRole('button', { name: /^Mark read/ }).count(), 0);
    await eventually(() => unreadBadge(alice), (n) => n === unreadBefore - 1, 'the badge after marking one read');
    const afterOne = await inboxOf();
    assert.equal(afterOne.notifications.find((n) => n.id === outbidId).read, true, 'read on the server');
    assert.equal(afterOne.unread, unreadBefore - 1);
    assert.equal(await alice.evaluate(() => document.activeElement?.dataset?.id), outbidId, 'focus stays on the notice');

    // Mark all read: the badge goes away.
    await alice.getByRole('button', { name: 'Mark all read' }).click();
    await eventually(() => unreadBadge(alice), (n) => n === 0, 'the badge after marking all read');
    assert.equal((await inboxOf()).unread, 0);
    assert.equal(await notes.and(alice.locator('[data-read="false"]')).count(), 0);

    // A new notice arrives live: bob outbids alice's maximum through the API.
    const bobToken = await devToken(server.base, 'bob', ['bidder']);
    const outbidAgain = await request(server.base, 'POST', `/v1/auctions/${auction.id}/bids?wait=3000`, {
      token: bobToken, body: { amount: 2100, currency: 'EUR' },
    });
    assert.equal(outbidAgain.status, 200, JSON.stringify(outbidAgain.body));
    const liveNote = notes.first();
    await waitForText(liveNote.locator('.note-subject'), /outbid on Brass ship clock \(e2e\)/, NOTIFIER_TIMEOUT);
    const newPrice = (outbidAgain.body.auction.currentPrice / 100).toFixed(2);
    await waitForText(liveNote.locator('.note-text'), new RegExp(`now EUR ${newPrice.replace('.', '\\.')}`));
    assert.equal(await liveNote.getAttribute('data-read'), 'false');
    await eventually(() => unreadBadge(alice), (n) => n >= 1, 'the badge after a live notice');
    await assertNotReloaded(alice, 'alice');

    // ---- preferences: a refused e-mail address is named next to its field, then a good one ----
    await alice.getByRole('link', { name: 'Preferences' }).click();
    await alice.waitForURL('**/#/preferences');
    await alice.getByRole('heading', { level: 1, name: 'Notification preferences' }).waitFor();
    const emailOn = alice.getByLabel('Send notices by e-mail');
    const email = alice.getByLabel('E-mail address');
    const secret = alice.getByLabel('Webhook secret');
    assert.equal(await emailOn.isChecked(), false);
    assert.equal(await secret.getAttribute('type'), 'password');
    await emailOn.focus();
    await alice.keyboard.press('Space');
    assert.equal(await emailOn.isChecked(), true, 'the checkbox works from the keyboard');
    await email.fill('alice@example');
    await alice.getByRole('button', { name: 'Save preferences' }).click();
    const emailError = alice.locator('.field', { has: email }).locator('.field-error');
    await waitForText(emailError, /^Email must be an e-mail address\.$/);
    assert.equal(await email.getAttribute('aria-invalid'), 'true');
    assert.match(await email.getAttribute('aria-describedby'), new RegExp(await emailError.getAttribute('id')));
    assert.equal(await alice.evaluate(() => document.activeElement?.type), 'email', 'focus goes to the refused field');
    assert.match(await alice.locator('.form-result [role="alert"]').textContent(), /Not saved/);
    assert.ok(await sideways(alice) <= 0, 'no sideways scroll at 375 px (preferences)');
    await alice.screenshot({ path: path.join(ARTIFACTS, 'preferences-error-phone.png'), fullPage: true });
    assert.equal((await request(server.base, 'GET', '/v1/me/preferences', { token: aliceToken })).body.channels.email, false, 'nothing was saved');

    await email.fill('alice@example.com');
    await alice.getByRole('button', { name: 'Save preferences' }).click();
    await waitForText(alice.locator('.form-result'), 'Preferences saved.');
    assert.equal(await emailError.textContent(), '');
    assert.equal(await email.getAttribute('aria-invalid'), null);
    await alice.reload();
    await alice.getByRole('heading', { level: 1, name: 'Notification preferences' }).waitFor();
    assert.equal(await alice.getByLabel('Send notices by e-mail').isChecked(), true, 'saved: e-mail on after a reload');
    assert.equal(await alice.getByLabel('E-mail address').inputValue(), 'alice@example.com');
    assert.equal(await alice.getByLabel('Webhook secret').inputValue(), '', 'the secret is never prefilled');
    const saved = (await request(server.base, 'GET', '/v1/me/preferences', { token: aliceToken })).body;
    assert.equal(saved.channels.email, true);
    assert.equal(saved.email, 'alice@example.com');
    await alice.screenshot({ path: path.join(ARTIFACTS, 'preferences-phone.png'), fullPage: true });

    assert.deepEqual(pageErrors, [], 'no script errors in either page');
    await Promise.all(contexts.map((c) => c.close()));
  });

  test('a seller creates an auction with the form; a bidder takes buy-now with the keyboard', async () => {
    pageErrors.length = 0;
    const sellerContext = await browser.newContext({ viewport: { width: 360, height: 780 } });
    const buyerContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const seller = await sellerContext.newPage();
    const buyer = await buyerContext.newPage();
    for (const [page, who] of [[seller, 'seller'], [buyer, 'buyer']]) {
      page.on('pageerror', (error) => pageErrors.push(`${who}: ${error.message}`));
    }

    await seller.goto(`${server.base}/#/signin`);
    await seller.getByLabel('Your name').fill('sue');
    await seller.getByLabel('Bidder').uncheck();
    await seller.getByLabel('Seller').check();
    await seller.getByRole('button', { name: 'Sign in' }).click();
    await seller.getByRole('link', { name: 'Sell' }).click();
    await seller.getByLabel('Title').fill('Teak chess set (e2e)');
    await seller.getByLabel('Currency').selectOption('USD');
    await seller.getByLabel('Starting price').fill('25');
    await seller.getByLabel(/^Buy-now price/).fill('1,234.5');
    await seller.getByLabel(/^Duration/).fill('5');
    // A price with too many decimals is refused before anything is sent.
    await seller.getByLabel(/^Reserve price/).fill('30.001');
    await seller.getByRole('button', { name: 'Create auction' }).click();
    await waitForText(seller.locator('.form-result'), 'Reserve price: USD amounts have at most 2 decimal places.');
    await seller.getByLabel(/^Reserve price/).fill('');
    await seller.getByRole('button', { name: 'Create auction' }).click();
    await seller.waitForURL(/#\/auction\//);
    const id = decodeURIComponent(seller.url().split('#/auction/')[1]);
    await waitForText(seller.getByTestId('price'), '$25.00');
    assert.match(await seller.locator('.signin-prompt').textContent(), /no bidder role/);
    const { body: stored } = await request(server.base, 'GET', `/v1/auctions/${id}`);
    assert.equal(stored.startingPrice, 2500);
    assert.equal(stored.buyNowPrice, 123450, '1,234.5 is 123450 cents, exactly');
    assert.equal(stored.sellerId, 'sue');

    await signIn(buyer, server.base, 'bea');
    await buyer.goto(`${server.base}/#/auction/${encodeURIComponent(id)}`);
    const buyButton = buyer.getByRole('button', { name: 'Buy now for $1,234.50' });
    await buyButton.waitFor();
    buyer.once('dialog', (dialog) => dialog.accept());
    await buyButton.focus();
    await buyer.keyboard.press('Enter');
    await waitForText(buyer.locator('[data-standing]'), 'You won this auction for $1,234.50.');
    await waitForText(buyer.locator('#notices .notice[data-kind="won"]'), /You won "Teak chess set \(e2e\)" for USD 1,234\.50\./);
    // The seller's page follows live.
    await waitForText(seller.locator('.auction [data-field="status"]'), 'Sold to bea');
    await waitForText(seller.getByTestId('countdown'), 'Ended');
    assert.equal(await buyer.getByRole('button', { name: 'Bidding closed' }).isDisabled(), true);
    assert.deepEqual(pageErrors, []);
    await sellerContext.close();
    await buyerContext.close();
  });
});
