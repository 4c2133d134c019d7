// The server's clock, as seen from the browser. Countdowns never use the browser's wall
// clock: they use a monotonic local timer (performance.now) plus an offset learned from what
// the server says the time is: the Date header of each HTTP answer (second resolution: the
// server's time lies in [Date, Date + 1 s) somewhere between sending and receiving), the
// issue time of a dev token, and the times of WebSocket events (an event happened before it
// arrived, so its time is a lower bound).

let low = -Infinity; // offset = serverMs - performance.now()
let high = Infinity;
const listeners = new Set();

function changed() {
  for (const listener of listeners) listener();
}

function tighten(newLow, newHigh) {
  const nextLow = Math.max(low, newLow);
  const nextHigh = Math.min(high, newHigh);
  if (nextLow > nextHigh + 1500) {
    // The samples disagree (the machine slept, or the server's clock stepped): start over.
    low = newLow;
    high = newHigh;
  } else {
    low = nextLow;
    high = Math.max(nextHigh, nextLow);
  }
  changed();
}

/** The Date header (or any whole-second server time) seen between `sentAt` and `receivedAt`. */
export function observeSecond(serverSecondMs, sentAt, receivedAt) {
  if (!Number.isFinite(serverSecondMs)) return;
  tighten(serverSecondMs - receivedAt, serverSecondMs + 1000 - sentAt);
}

/** A server time known to be in the past when it was received (an event's `at`). */
export function observeBefore(serverMs, receivedAt = performance.now()) {
  if (!Number.isFinite(serverMs)) return;
  tighten(serverMs - receivedAt, Infinity);
}

/** Reads the Date header of a fetch Response. */
export function observeResponse(response, sentAt, receivedAt) {
  const date = response.headers.get('Date');
  if (date) observeSecond(Date.parse(date), sentAt, receivedAt);
}

export function isSynced() {
  return Number.isFinite(low) || Number.isFinite(high);
}

function offset() {
  if (Number.isFinite(low) && Number.isFinite(high)) return (low + high) / 2;
  if (Number.isFinite(low)) return low;
  if (Number.isFinite(high)) return high;
  return null;
}

/** The server's current time in ms since the epoch, or null before any sample. */
export function serverNow() {
  const o = offset();
  return o === null ? null : performance.now() + o;
}

/** How uncertain the estimate is, in ms (for diagnostics). */
export function uncertainty() {
  return Number.isFinite(low) && Number.isFinite(high) ? (high - low) / 2 : Infinity;
}

export function onClockChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Parses an RFC 3339 time with up to microseconds into ms since the epoch. */
export function parseTime(text) {
  if (typeof text !== 'string') return NaN;
  return Date.parse(text.replace(/(\.\d{3})\d+/, '$1'));
}
