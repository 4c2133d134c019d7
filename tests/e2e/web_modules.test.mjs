// The web UI's pure modules (web/money.js, web/clock.js, web/inbox.js), run in Node: exact
// money text ↔ minor units without floats, the server clock learned from Date headers and
// event times, and the notification inbox and preferences as data.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatMoney, parseMajor, provisionalMinNext, toMajorText } from '../../web/money.js';
import * as clock from '../../web/clock.js';
import {
  cleanNotice, formFieldFor, Inbox, kindClass, kindLabel, preferencesBody, preferencesToForm, sentence,
} from '../../web/inbox.js';

test('major-unit text becomes exact minor units', () => {
  const cases = [
    ['12.50', 'EUR', 1250], ['12.5', 'EUR', 1250], ['0.29', 'EUR', 29], ['0.01', 'USD', 1],
    ['1,234.56', 'USD', 123456], ['12,50', 'EUR', 1250], ['1,000', 'EUR', 100000],
    ['12.500', 'EUR', 1250], ['.5', 'EUR', 50], [' 7 ', 'EUR', 700], ['500', 'JPY', 500],
    ['1.005', 'KWD', 1005], ['100000000000', 'EUR', 10 ** 13], ['4503599627.37', 'EUR', 450359962737],
  ];
  for (const [text, currency, minor] of cases) assert.equal(parseMajor(text, currency), minor, text);
});

test('bad amounts are refused with a message for people', () => {
  const cases = [
    ['12.505', 'EUR', /at most 2 decimal places/], ['5.5', 'JPY', /no minor unit/],
    ['', 'EUR', /Enter an amount/], ['0', 'EUR', /more than zero/], ['-3', 'EUR', /positive/],
    ['1e3', 'EUR', /digits/], ['100000000000.01', 'EUR', /too large/], ['1.2.3', 'EUR', /one decimal point/],
    ['12,5,0', 'EUR', /like 12\.50/],
  ];
  for (const [text, currency, message] of cases) assert.throws(() => parseMajor(text, currency), message, text);
});

test('minor units are shown exactly', () => {
  assert.equal(formatMoney(123456789, 'EUR'), '€1,234,567.89');
  assert.equal(formatMoney(5, 'USD'), '$0.05');
  assert.equal(formatMoney(1000, 'JPY'), '¥1,000');
  assert.equal(formatMoney(1000, 'KWD'), '1.000 KWD');
  assert.equal(toMajorText(1250, 'EUR'), '12.50');
  assert.equal(toMajorText(10 ** 13, 'EUR'), '100000000000.00');
  assert.equal(provisionalMinNext({ leaderId: null, startingPrice: 700, currentPrice: 700 }), 700);
  assert.equal(provisionalMinNext({ leaderId: 'a', currentPrice: 1250 }), 1300);
  assert.equal(provisionalMinNext({ leaderId: 'a', currentPrice: 99 }), 104);
});

test('the server clock comes from Date headers and event times, not the browser clock', () => {
  assert.equal(clock.serverNow(), null, 'unknown before any sample');
  const server = Date.parse('2030-01-01T00:00:00Z'); // far from this machine's clock
  const local = performance.now();
  // A Date header of a request sent and answered within 100 ms: [Date, Date + 1 s).
  clock.observeSecond(server, local - 50, local + 50);
  let now = clock.serverNow();
  assert.ok(Math.abs(now - (server + 500)) < 700, `estimate ${now - server} ms after the Date`);
  // An event time is a lower bound: it tightens the estimate.
  clock.observeBefore(server + 900, local + 50);
  now = clock.serverNow();
  assert.ok(now >= server + 900 && now <= server + 1100, `estimate ${now - server} ms`);
  assert.equal(clock.parseTime('2030-01-01T00:00:01.123456Z'), server + 1123);
});

// ---- web/inbox.js ------------------------------------------------------------------------------

const notice = (id, at, extra = {}) => ({
  id, kind: 'outbid', auctionId: 'a1', subject: `s ${id}`, text: `t ${id}`, html: '<b>x</b>', at, read: false, ...extra,
});

test('the inbox keeps notices newest first, once each, and counts the unread', () => {
  const inbox = new Inbox();
  assert.equal(inbox.unread, null, 'unknown before the first page');
  inbox.applyPage({
    notifications: [notice('n3', '2030-01-01T00:00:03Z'), notice('n2', '2030-01-01T00:00:02Z', { read: true })],
    unread: 1, next: 'n2',
  });
  assert.deepEqual(inbox.items.map((n) => n.id), ['n3', 'n2']);
  assert.equal(inbox.unread, 1);
  assert.equal(inbox.next, 'n2');
  assert.equal(inbox.loaded, true);
  assert.equal('html' in inbox.items[0], false, 'the HTML body is dropped: the page shows text only');

  // A pushed notice goes on top and raises the count; the same one again changes nothing.
  assert.equal(inbox.push(notice('n4', '2030-01-01T00:00:04.123456Z')).id, 'n4');
  assert.equal(inbox.push(notice('n4', '2030-01-01T00:00:04.123456Z')), null);
  assert.equal(inbox.push({ kind: 'outbid' }), null, 'a notice without an id is ignored');
  assert.deepEqual(inbox.items.map((n) => n.id), ['n4', 'n3', 'n2']);
  assert.equal(inbox.unread, 2);

  // The next page appends older notices, skipping any already shown; the cursor moves on.
  inbox.applyPage({ notifications: [notice('n2', '2030-01-01T00:00:02Z', { read: true }), notice('n1', '2030-01-01T00:00:01Z')], unread: 3, next: null }, { append: true });
  assert.deepEqual(inbox.items.map((n) => n.id), ['n4', 'n3', 'n2', 'n1']);
  assert.equal(inbox.next, null);
  assert.equal(inbox.unread, 3);
  assert.deepEqual(inbox.unreadIds(), ['n4', 'n3', 'n1']);

  // Marking read takes the server's count.
  inbox.markRead(['n3'], 2);
  assert.equal(inbox.items.find((n) => n.id === 'n3').read, true);
  assert.equal(inbox.unread, 2);
  inbox.markRead(null, 0);
  assert.deepEqual(inbox.unreadIds(), []);
  assert.equal(inbox.unread, 0);
});

test('a reload of the first page keeps notices pushed while it was on its way', () => {
  const inbox = new Inbox();
  inbox.applyPage({ notifications: [notice('n1', '2030-01-01T00:00:01Z')], unread: 1, next: null });
  inbox.push(notice('n3', '2030-01-01T00:00:03Z')); // arrived after the server answered
  inbox.push(notice('n0', '2029-12-31T00:00:00Z')); // old: a reload that lacks it has dropped it
  inbox.applyPage({ notifications: [notice('n2', '2030-01-01T00:00:02Z'), notice('n1', '2030-01-01T00:00:01Z')], unread: 2, next: 'n1' });
  assert.deepEqual(inbox.items.map((n) => n.id), ['n3', 'n2', 'n1']);
  assert.equal(inbox.unread, 3, 'the page counted two; the newer pushed one adds one');
  assert.equal(inbox.next, 'n1');
  inbox.reset();
  assert.deepEqual([inbox.items, inbox.unread, inbox.next, inbox.loaded], [[], null, null, false]);
});

test('notice fields from the server are data, never markup or class names', () => {
  const clean = cleanNotice({ id: 'x', kind: 'outbid', subject: 7, text: '<img src=x onerror=alert(1)>', at: null, read: 'yes' });
  assert.deepEqual(clean, { id: 'x', kind: 'outbid', auctionId: '', subject: '', text: '<img src=x onerror=alert(1)>', at: '', read: false });
  assert.equal(kindClass('outbid'), 'outbid');
  assert.equal(kindClass('ending_soon'), 'ending_soon');
  assert.equal(kindClass('x" onclick="y'), 'xonclicky');
  assert.equal(kindClass(''), 'other');
  assert.equal(kindLabel('ending_soon'), 'Ending soon');
  assert.equal(kindLabel('unsold'), 'Unsold');
  assert.equal(kindLabel('price_drop'), 'Price drop', 'an unknown kind still reads as words');
  assert.equal(kindLabel('toString'), 'ToString', 'not a property of Object.prototype');
});

test('preferences: the form values and the PUT body', () => {
  const values = preferencesToForm({
    channels: { inapp: true, webhook: true, email: false, sms: true },
    email: null, phone: '+34600111222', webhookUrl: 'https://example.com/hook', webhookSecretSet: true,
  });
  assert.deepEqual(values, {
    emailOn: false, smsOn: true, webhookOn: true, email: '', phone: '+34600111222',
    webhookUrl: 'https://example.com/hook', webhookSecret: '', webhookSecretSet: true,
  });
  assert.deepEqual(preferencesBody({ ...values, email: '  alice@example.com ', phone: '+34 600-111 222' }), {
    channels: { inapp: true, email: false, sms: true, webhook: true },
    email: 'alice@example.com', phone: '+34600111222', webhookUrl: 'https://example.com/hook',
  }, 'no webhookSecret: the current one is kept');
  const cleared = preferencesBody({ emailOn: true, email: '', phone: '   ', webhookUrl: '', webhookSecret: ' a secret of 16+ chars ' });
  assert.equal(cleared.email, null, 'an emptied address clears it');
  assert.equal(cleared.phone, null);
  assert.equal(cleared.webhookSecret, ' a secret of 16+ chars ', 'the secret is sent as typed');
  assert.deepEqual(preferencesToForm(null).emailOn, false);

  assert.equal(formFieldFor('email'), 'email');
  assert.equal(formFieldFor('channels.sms'), 'smsOn');
  assert.equal(formFieldFor('webhookSecret'), 'webhookSecret');
  assert.equal(formFieldFor('channels.inapp'), null);
  assert.equal(formFieldFor('constructor'), null);
  assert.equal(sentence('email must be an e-mail address'), 'Email must be an e-mail address.');
  assert.equal(sentence('Done!'), 'Done!');
  assert.equal(sentence(undefined), '');
});
