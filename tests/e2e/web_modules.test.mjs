// The web UI's pure modules (web/money.js, web/clock.js), run in Node: exact money text ↔
// minor units without floats, and the server clock learned from Date headers and event times.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatMoney, parseMajor, provisionalMinNext, toMajorText } from '../../web/money.js';
import * as clock from '../../web/clock.js';

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
