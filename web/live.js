// One WebSocket for the whole page: subscriptions, per-auction seq tracking (a gap asks for a
// fresh snapshot), the user's notifications, and reconnection with back-off.
import { observeBefore, parseTime } from './clock.js';

const MAX_PER_MESSAGE = 100; // the hub's limit of auctions per socket (and per message)

export class Live extends EventTarget {
  constructor() {
    super();
    this.token = null;
    this.socket = null;
    this.wanted = new Set(); // auction ids to watch
    this.seq = new Map(); // auction id → last seq applied
    this.pendingSnapshot = new Map(); // auction id → attempts (a gap is being repaired)
    this.state = 'idle';
    this.retry = 0;
    this.retryTimer = null;
    this.pingTimer = null;
  }

  get status() {
    return this.state;
  }

  setStatus(state) {
    if (this.state === state) return;
    this.state = state;
    this.dispatchEvent(new CustomEvent('status', { detail: state }));
  }

  /** (Re)connects with the given token (null: an anonymous watcher). */
  start(token) {
    this.token = token;
    this.stop();
    this.connect();
  }

  stop() {
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    if (this.socket) {
      this.socket.onclose = null;
      this.socket.onmessage = null;
      this.socket.close(1000, 'bye');
      this.socket = null;
    }
  }

  connect() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const query = this.token ? `?access_token=${encodeURIComponent(this.token)}` : '';
    this.setStatus('connecting');
    const socket = new WebSocket(`${scheme}//${location.host}/v1/ws${query}`);
    this.socket = socket;
    socket.onopen = () => {
      this.retry = 0;
      this.setStatus('live');
      // Everything watched is resubscribed; the snapshots that come first repair the state.
      this.seq.clear();
      this.send('subscribe', [...this.wanted]);
      this.pingTimer = setInterval(() => this.raw({ op: 'ping' }), 25000);
    };
    socket.onmessage = (message) => this.receive(message.data);
    socket.onclose = () => {
      clearInterval(this.pingTimer);
      if (this.socket !== socket) return;
      this.socket = null;
      this.setStatus('offline');
      const delay = Math.min(15000, 500 * 2 ** this.retry++) + Math.random() * 300;
      this.retryTimer = setTimeout(() => this.connect(), delay);
    };
  }

  raw(message) {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  send(op, ids) {
    for (let i = 0; i < ids.length; i += MAX_PER_MESSAGE) {
      this.raw({ op, auctions: ids.slice(i, i + MAX_PER_MESSAGE) });
    }
  }

  /** Watches exactly these auctions (plus `keep`), subscribing and unsubscribing the difference. */
  watch(ids) {
    const next = new Set(ids.slice(0, MAX_PER_MESSAGE));
    const added = [...next].filter((id) => !this.wanted.has(id));
    const removed = [...this.wanted].filter((id) => !next.has(id));
    this.wanted = next;
    for (const id of removed) this.seq.delete(id);
    if (removed.length) this.send('unsubscribe', removed);
    if (added.length) this.send('subscribe', added);
  }

  /** Asks for a fresh snapshot of one auction (after a gap, or to learn minNextBid). */
  refresh(id, tries = 0) {
    this.pendingSnapshot.set(id, tries);
    this.send('snapshot', [id]);
  }

  receive(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    const receivedAt = performance.now();
    switch (message.type) {
      case 'pong':
        return;
      case 'error':
        this.dispatchEvent(new CustomEvent('socket-error', { detail: message.error }));
        return;
      case 'notification':
        // {"notification": {...}}: a notice from the notifier, in GET /v1/me/notifications' shape.
        if (message.notification && typeof message.notification === 'object') {
          this.dispatchEvent(new CustomEvent('inbox-notice', { detail: message.notification }));
        }
        return;
      case 'snapshot':
        this.snapshot(message);
        return;
      default:
        if (message.auctionId) this.event(message, receivedAt);
    }
  }

  snapshot(message) {
    const id = message.auctionId;
    if (!message.auction) {
      this.dispatchEvent(new CustomEvent('missing', { detail: { auctionId: id, error: message.error } }));
      return;
    }
    const last = this.seq.get(id) ?? -1;
    if (message.seq < last) {
      // Older than what the events already told us: ask again shortly.
      const tries = this.pendingSnapshot.get(id);
      if (tries !== undefined && tries < 5) setTimeout(() => this.refresh(id, tries + 1), 300);
      return;
    }
    this.pendingSnapshot.delete(id);
    this.seq.set(id, message.seq);
    this.dispatchEvent(new CustomEvent('snapshot', { detail: message.auction }));
  }

  event(event, receivedAt) {
    const id = event.auctionId;
    if (!this.wanted.has(id)) return;
    observeBefore(parseTime(event.at), receivedAt);
    const last = this.seq.get(id);
    if (last !== undefined && event.seq < last) return; // already covered by a snapshot
    const fresh = last === undefined || event.seq > last;
    const gap = last !== undefined && event.seq > last + 1;
    this.seq.set(id, Math.max(last ?? 0, event.seq));
    // Events carry absolute values (price, leader, endsAt), so applying one is always safe;
    // a gap means other fields (bid count, minimum next bid) may be stale: ask for a snapshot.
    this.dispatchEvent(new CustomEvent('auction-event', { detail: { event, fresh } }));
    if (gap || last === undefined) this.refresh(id);
  }
}
