// Gavel's web UI: plain ES modules, no build step. Hash routes:
//   #/                 open auctions, live prices and countdowns
//   #/auction/<id>     one auction: live state, bid form, buy-now, bid history
//   #/my-bids          the bids placed in this browser session, with their outcome
//   #/notifications    the user's inbox (GET /v1/me/notifications), live from the socket
//   #/preferences      notification channels: e-mail, SMS, webhook (GET/PUT /v1/me/preferences)
//   #/sell             the seller's form
//   #/signin           dev sign-in (a name and roles → a dev token)
import { api, ApiError, configureApi, newKey } from './api.js';
import { isSynced, observeSecond, onClockChange, parseTime, serverNow } from './clock.js';
import { formFieldFor, Inbox, kindClass, kindLabel, preferencesBody, preferencesToForm, sentence } from './inbox.js';
import { Live } from './live.js';
import { formatMoney, MoneyError, parseMajor, provisionalMinNext, toMajorText } from './money.js';

// ---- small DOM helpers ----------------------------------------------------------------------

/** Builds an element; children may be strings, nodes, arrays, null or false. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  appendAll(el, children);
  return el;
}

function appendAll(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

let uid = 0;
const nextId = (prefix) => `${prefix}-${++uid}`;

// ---- session and per-session records -------------------------------------------------------

const SESSION_KEY = 'gavel.session';

function loadJson(key, fallback) {
  try {
    const text = sessionStorage.getItem(key);
    return text ? JSON.parse(text) : fallback;
  } catch {
    return fallback;
  }
}

function saveJson(key, value) {
  try {
    sessionStorage.setItem(key, JSON.stringify(value));
  } catch {
    // storage full or disabled: the records live in memory only
  }
}

const state = {
  session: loadJson(SESSION_KEY, null), // {sub, roles, token}
  auctions: new Map(), // id → public view (kept live)
  list: { status: 'open', ids: [], next: null, loading: false, error: null },
  myBids: [],
  standing: {}, // auction id → leading | outbid | won | lost | cancelled
  inbox: new Inbox(), // the server's inbox: notices newest first, unread count, next page
  inboxError: null,
  route: null,
};

function me() {
  return state.session?.sub ?? null;
}

function hasRole(role) {
  return Boolean(state.session?.roles?.includes(role));
}

function recordsKey(kind) {
  return `gavel.${kind}.${me() ?? '-'}`;
}

function loadRecords() {
  state.myBids = loadJson(recordsKey('bids'), []);
  state.standing = loadJson(recordsKey('standing'), {});
}

function saveRecords() {
  saveJson(recordsKey('bids'), state.myBids.slice(-200));
  saveJson(recordsKey('standing'), state.standing);
  updateCounts();
}

configureApi({
  token: () => state.session?.token ?? null,
  onUnauthorized: () => {
    notice('info', 'Your session has expired. Sign in again.');
    signOut({ quiet: true });
  },
});

// ---- the live socket -------------------------------------------------------------------------

const live = new Live();

let socketWasDown = false;

live.addEventListener('status', ({ detail }) => {
  // Back after a break: notices may have arrived meanwhile; the inbox tells.
  if (detail === 'live' && socketWasDown) refreshInbox();
  if (detail === 'offline') socketWasDown = true;
  else if (detail === 'live') socketWasDown = false;
  const text = { connecting: 'Connecting to live updates…', live: '', offline: 'Live updates lost — reconnecting…' }[detail] ?? '';
  const el = $('#connection');
  el.textContent = text;
  el.dataset.state = detail;
  document.body.dataset.live = detail;
});

live.addEventListener('snapshot', ({ detail: auction }) => {
  mergeAuction(auction, { authoritative: true });
});

live.addEventListener('auction-event', ({ detail: { event, fresh } }) => applyEvent(event, fresh));

live.addEventListener('missing', ({ detail }) => {
  if (state.route?.name === 'auction' && state.route.id === detail.auctionId && !state.auctions.has(detail.auctionId)) {
    renderRoute();
  }
});

live.addEventListener('inbox-notice', ({ detail }) => receiveInboxNotice(detail));

live.addEventListener('socket-error', ({ detail }) => {
  console.warn('live updates:', detail?.code, detail?.message);
});

// ---- auction state ----------------------------------------------------------------------------

/** Merges a public view (from GET, a bid answer or a snapshot) unless it is older than ours. */
function mergeAuction(auction, { authoritative = false } = {}) {
  if (!auction?.id) return;
  const old = state.auctions.get(auction.id);
  if (old && auction.seq < old.seq) return;
  const merged = { ...old, ...auction, minNextProvisional: false };
  if (old && !authoritative && auction.seq === old.seq) merged.minNextProvisional = old.minNextProvisional;
  state.auctions.set(auction.id, merged);
  updateStandingFromAuction(merged);
  auctionChanged(merged, old);
}

function applyEvent(event, fresh) {
  const old = state.auctions.get(event.auctionId);
  if (!old) return; // the snapshot that follows the subscription fills it in
  const next = { ...old, seq: Math.max(old.seq ?? 0, event.seq) };
  if ('price' in event) next.currentPrice = event.price;
  if ('leaderId' in event) next.leaderId = event.leaderId;
  if (event.endsAt) next.endsAt = event.endsAt;
  switch (event.type) {
    case 'bid.accepted':
      if (fresh) next.bidCount = (old.bidCount ?? 0) + 1;
      next.buyNowPrice = null; // buy-now ends with the first accepted bid
      next.minNextBid = provisionalMinNext(next);
      next.minNextProvisional = true;
      break;
    case 'bid.voided':
      next.minNextProvisional = true;
      break;
    case 'auction.extended':
      next.extendedAt = event.at;
      break;
    case 'auction.opened':
      next.status = 'open';
      break;
    case 'auction.closed':
      next.status = 'closed';
      next.result = event.result;
      next.winnerId = event.winnerId ?? null;
      next.finalPrice = event.result === 'sold' ? event.price : null;
      next.buyNowPrice = null;
      next.closedVia = event.via;
      break;
    case 'auction.cancelled':
      next.status = 'cancelled';
      next.buyNowPrice = null;
      break;
    default:
      break;
  }
  state.auctions.set(next.id, next);
  updateStandingFromAuction(next);
  auctionChanged(next, old, event);
  // The minimum next bid depends on the auction's increment policy: learn the real value.
  if (next.minNextProvisional && state.route?.name === 'auction' && state.route.id === next.id) {
    live.refresh(next.id);
  }
}

function updateStandingFromAuction(auction) {
  const user = me();
  if (!user) return;
  const bid = state.myBids.some((b) => b.auctionId === auction.id && b.status === 'accepted');
  if (!bid) return;
  let standing = auction.leaderId === user ? 'leading' : 'outbid';
  if (auction.status === 'closed') standing = auction.winnerId === user ? 'won' : 'lost';
  if (auction.status === 'cancelled') standing = 'cancelled';
  if (state.standing[auction.id] !== standing) {
    state.standing[auction.id] = standing;
    saveRecords();
    if (state.route?.name === 'my-bids') renderRoute();
  }
}

/** Patches every element showing this auction, and announces price changes. */
function auctionChanged(auction, old, event) {
  for (const el of $$(`[data-auction="${CSS.escape(auction.id)}"]`)) fillField(el, auction);
  const priceMoved = old && (old.currentPrice !== auction.currentPrice || old.leaderId !== auction.leaderId);
  if (priceMoved) {
    for (const el of $$(`[data-auction="${CSS.escape(auction.id)}"][data-field="price"]`)) flash(el);
    const onPage = state.route?.name === 'auction' && state.route.id === auction.id;
    if (!onPage) announce(`${auction.title || auction.id}: now ${formatMoney(auction.currentPrice, auction.currency)}`);
  }
  if (state.route?.name === 'auction' && state.route.id === auction.id) {
    updateAuctionPage(auction, old, event);
  }
}

function leaderText(auction) {
  if (!auction.leaderId) return 'No bids yet';
  return auction.leaderId === me() ? `${auction.leaderId} (you)` : auction.leaderId;
}

function statusText(auction) {
  if (auction.status === 'closed') {
    if (auction.result === 'sold') return `Sold${auction.winnerId ? ` to ${auction.winnerId === me() ? 'you' : auction.winnerId}` : ''}`;
    return 'Closed — not sold';
  }
  return { open: 'Open', scheduled: 'Starts soon', cancelled: 'Cancelled' }[auction.status] ?? auction.status;
}

function fillField(el, auction) {
  const field = el.dataset.field;
  switch (field) {
    case 'price':
      el.textContent = formatMoney(auction.status === 'closed' && auction.finalPrice != null ? auction.finalPrice : auction.currentPrice, auction.currency);
      break;
    case 'leader':
      el.textContent = leaderText(auction);
      break;
    case 'bids':
      el.textContent = String(auction.bidCount ?? 0);
      break;
    case 'status':
      el.textContent = statusText(auction);
      el.dataset.status = auction.status;
      break;
    case 'min-next':
      el.textContent = formatMoney(auction.minNextBid, auction.currency);
      break;
    case 'ends-at':
      el.textContent = formatTime(auction.endsAt);
      el.setAttribute('datetime', auction.endsAt);
      break;
    case 'countdown':
      el.dataset.endsAt = String(parseTime(auction.endsAt));
      el.dataset.startsAt = String(parseTime(auction.startsAt));
      el.dataset.status = auction.status;
      tickOne(el);
      break;
    case 'reserve':
      el.textContent = auction.reserveMet ? 'Reserve met' : 'Reserve not met yet';
      break;
    default:
      break;
  }
}

function flash(el) {
  el.classList.remove('flash');
  void el.offsetWidth; // restart the animation
  el.classList.add('flash');
}

function liveField(auction, field, tag = 'span', attrs = {}) {
  const el = h(tag, { ...attrs, dataset: { auction: auction.id, field } });
  fillField(el, auction);
  return el;
}

// ---- time display: the server's clock only ----------------------------------------------------

const timeFormat = new Intl.DateTimeFormat(undefined, {
  month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
});

function formatTime(text) {
  const ms = parseTime(text);
  return Number.isFinite(ms) ? timeFormat.format(new Date(ms)) : '—';
}

function formatRemaining(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(total / 86400);
  const hh = Math.floor((total % 86400) / 3600);
  const mm = Math.floor((total % 3600) / 60);
  const ss = total % 60;
  const pad = (n) => String(n).padStart(2, '0');
  if (d) return `${d}d ${hh}h`;
  if (hh) return `${hh}h ${pad(mm)}m`;
  return `${mm}m ${pad(ss)}s`;
}

function tickOne(el) {
  const status = el.dataset.status;
  if (status === 'closed' || status === 'cancelled') {
    el.textContent = status === 'closed' ? 'Ended' : 'Cancelled';
    el.dataset.urgency = 'over';
    return;
  }
  const now = serverNow();
  if (now === null) {
    el.textContent = 'Syncing clock…';
    el.dataset.urgency = '';
    return;
  }
  const startsAt = Number(el.dataset.startsAt);
  if (status === 'scheduled' && now < startsAt) {
    el.textContent = `Starts in ${formatRemaining(startsAt - now)}`;
    el.dataset.urgency = '';
    return;
  }
  const left = Number(el.dataset.endsAt) - now;
  if (left <= 0) {
    el.textContent = 'Closing…';
    el.dataset.urgency = 'over';
    return;
  }
  el.textContent = `${formatRemaining(left)} left`;
  el.dataset.urgency = left < 60000 ? 'soon' : '';
}

setInterval(() => $$('[data-field="countdown"]').forEach(tickOne), 250);
onClockChange(() => $$('[data-field="countdown"]').forEach(tickOne));

// ---- announcements and notices -----------------------------------------------------------------

function announce(text) {
  const el = $('#announcer');
  el.textContent = '';
  setTimeout(() => {
    el.textContent = text;
  }, 30);
}

/** A visible notice in the assertive live region; stays until dismissed (at most 4 kept). */
function notice(kind, text, link, auctionId = null) {
  const region = $('#notices');
  // A newer notice about the same auction replaces the older one.
  if (auctionId) for (const old of $$('.notice', region)) if (old.dataset.auctionId === auctionId) old.remove();
  const item = h('div', { class: `notice notice-${kind}`, dataset: { kind, auctionId: auctionId ?? '' } },
    h('p', {}, text, link ? [' ', h('a', { href: link.href }, link.text)] : null),
    h('button', { type: 'button', class: 'dismiss', 'aria-label': 'Dismiss notice', onclick: () => item.remove() }, '×'));
  region.append(item);
  while (region.children.length > 4) region.firstElementChild.remove();
  if (kind !== 'outbid' && kind !== 'error') setTimeout(() => item.remove(), 15000);
}

function updateCounts() {
  const bids = $('#bid-count');
  const notes = $('#note-count');
  bids.hidden = state.myBids.length === 0;
  bids.textContent = String(state.myBids.length);
  const unread = me() ? state.inbox.unread ?? 0 : 0;
  notes.hidden = unread === 0;
  notes.textContent = String(unread);
  const link = $('[data-nav="notifications"]');
  if (unread) link.setAttribute('aria-label', `Notifications, ${unread} unread`);
  else link.removeAttribute('aria-label');
}

// ---- sign in and out ---------------------------------------------------------------------------

function renderSession() {
  const el = $('#session');
  el.replaceChildren();
  if (state.session) {
    el.append(
      h('span', { class: 'who' }, 'Signed in as ', h('strong', { 'data-testid': 'user' }, state.session.sub),
        h('span', { class: 'roles' }, ` (${state.session.roles.join(', ')})`)),
      h('button', { type: 'button', class: 'link-button', onclick: () => signOut() }, 'Sign out'),
    );
  } else {
    el.append(h('a', { href: '#/signin', class: 'button small' }, 'Sign in'));
  }
  for (const item of $$('[data-requires]')) item.hidden = !hasRole(item.dataset.requires);
}

async function mintDevToken(sub, roles) {
  const sentAt = performance.now();
  const { body } = await api('POST', '/v1/auth/dev-token', { body: { sub, roles }, auth: false });
  const receivedAt = performance.now();
  // The token's issue time is the server's clock (whole seconds), like a Date header.
  const claims = decodeClaims(body.token);
  if (Number.isInteger(claims?.iat)) observeSecond(claims.iat * 1000, sentAt, receivedAt);
  return body.token;
}

function decodeClaims(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), '=')));
  } catch {
    return null;
  }
}

async function signIn(sub, roles) {
  const token = await mintDevToken(sub, roles);
  state.session = { sub, roles, token, mode: 'dev' };
  saveJson(SESSION_KEY, state.session);
  loadRecords();
  state.inbox.reset();
  renderSession();
  updateCounts();
  live.start(token);
  refreshInbox();
}

function signOut({ quiet = false } = {}) {
  state.session = null;
  sessionStorage.removeItem(SESSION_KEY);
  loadRecords();
  state.inbox.reset();
  inboxRequest++; // an answer on its way belongs to the old user
  renderSession();
  updateCounts();
  live.start(null);
  if (!quiet) announce('Signed out.');
  if (['my-bids', 'notifications', 'preferences', 'sell'].includes(state.route?.name)) location.hash = '#/';
  else renderRoute();
}

// ---- routing -------------------------------------------------------------------------------------

function parseRoute() {
  const hash = location.hash.replace(/^#\/?/, '').split('?')[0];
  const [first, ...rest] = hash.split('/');
  if (first === 'auction' && rest[0]) return { name: 'auction', id: decodeURIComponent(rest.join('/')) };
  if (['my-bids', 'notifications', 'preferences', 'sell', 'signin'].includes(first)) return { name: first };
  return { name: 'list' };
}

let renderToken = 0;

async function renderRoute({ focus = false } = {}) {
  const route = parseRoute();
  const changed = state.route?.name !== route.name || state.route?.id !== route.id;
  state.route = route;
  const token = ++renderToken;
  const section = route.name === 'preferences' ? 'notifications' : route.name;
  for (const link of $$('[data-nav]')) {
    if (link.dataset.nav === section) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const main = $('#main');
  const views = {
    list: listView, auction: auctionView, 'my-bids': myBidsView, notifications: inboxView, preferences: preferencesView, sell: sellView, signin: signInView,
  };
  const content = await views[route.name](route);
  if (token !== renderToken) return; // a newer route won
  main.replaceChildren(content);
  main.dataset.view = route.name;
  if (route.name !== 'list' && route.name !== 'auction') live.watch([]);
  if (route.name === 'notifications') renderInbox();
  if (focus && changed) {
    const heading = $('h1', main);
    if (heading) {
      heading.setAttribute('tabindex', '-1');
      heading.focus({ preventScroll: false });
    }
  }
}

window.addEventListener('hashchange', () => renderRoute({ focus: true }));

// ---- views: the list -----------------------------------------------------------------------------

async function loadList(status, after) {
  const query = new URLSearchParams({ status, limit: '50' });
  if (after) query.set('after', after);
  const { body } = await api('GET', `/v1/auctions?${query}`, { auth: false });
  for (const auction of body.auctions) mergeAuction(auction);
  return body;
}

async function listView() {
  const list = state.list;
  list.error = null;
  try {
    const body = await loadList(list.status);
    list.ids = body.auctions.map((a) => a.id);
    list.next = body.next;
  } catch (error) {
    list.error = error;
    list.ids = [];
  }
  live.watch(list.ids);

  const statusId = nextId('status');
  const select = h('select', { id: statusId, onchange: (e) => { list.status = e.target.value; renderRoute(); } },
    ['open', 'scheduled', 'closed', 'cancelled'].map((s) => h('option', { value: s, selected: s === list.status }, s[0].toUpperCase() + s.slice(1))));
  const heading = h('div', { class: 'view-head' },
    h('h1', {}, list.status === 'open' ? 'Open auctions' : `${select.selectedOptions[0].textContent} auctions`),
    h('div', { class: 'filter' }, h('label', { for: statusId }, 'Show'), select));

  const items = h('ul', { class: 'cards', 'aria-label': 'Auctions' });
  for (const id of list.ids) items.append(card(state.auctions.get(id)));
  const more = list.next
    ? h('button', { type: 'button', class: 'secondary', onclick: async (e) => {
      e.target.disabled = true;
      try {
        const body = await loadList(list.status, list.next);
        for (const a of body.auctions) {
          list.ids.push(a.id);
          items.append(card(state.auctions.get(a.id)));
        }
        list.next = body.next;
        live.watch(list.ids);
        if (!list.next) e.target.remove();
      } catch (error) {
        notice('error', explain(error));
      } finally {
        e.target.disabled = false;
      }
    } }, 'Load more')
    : null;

  return h('section', { 'aria-labelledby': 'list-title' },
    heading,
    list.error ? h('p', { class: 'error', role: 'alert' }, `Could not load the auctions: ${explain(list.error)}`) : null,
    !list.error && list.ids.length === 0 ? h('p', { class: 'empty' }, `No ${list.status} auctions right now.`, hasRole('seller') ? [' ', h('a', { href: '#/sell' }, 'Create one.')] : null) : null,
    items, more);
}

function card(auction) {
  const href = `#/auction/${encodeURIComponent(auction.id)}`;
  const titleId = nextId('card');
  return h('li', { class: 'card', dataset: { id: auction.id } },
    h('h2', { id: titleId }, h('a', { href }, auction.title || auction.id)),
    h('dl', { class: 'facts' },
      h('div', {}, h('dt', {}, 'Price'), h('dd', {}, liveField(auction, 'price', 'span', { class: 'price' }))),
      h('div', {}, h('dt', {}, 'Bids'), h('dd', {}, liveField(auction, 'bids'))),
      h('div', {}, h('dt', {}, 'Leader'), h('dd', {}, liveField(auction, 'leader'))),
      h('div', {}, h('dt', {}, 'Ends'), h('dd', {}, liveField(auction, 'countdown', 'span', { class: 'countdown' })))),
    h('p', { class: 'card-foot' }, liveField(auction, 'status', 'span', { class: 'badge' }),
      auction.buyNowPrice != null ? h('span', { class: 'badge buy' }, `Buy now ${formatMoney(auction.buyNowPrice, auction.currency)}`) : null));
}

// ---- views: one auction --------------------------------------------------------------------------

async function auctionView(route) {
  const id = route.id;
  let auction = state.auctions.get(id);
  try {
    const { body } = await api('GET', `/v1/auctions/${encodeURIComponent(id)}`, { auth: false });
    mergeAuction(body, { authoritative: true });
    auction = state.auctions.get(id);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status === 404 || !auction) {
      live.watch([]);
      return h('section', {}, h('h1', {}, 'Auction not found'),
        h('p', { class: 'error', role: 'alert' }, error.code === 'auction_not_found' ? `There is no auction “${id}”.` : explain(error)),
        h('p', {}, h('a', { href: '#/' }, 'Back to the auctions')));
    }
  }
  live.watch([id]);

  const user = me();
  const amountId = nextId('amount');
  const maxId = nextId('max');
  const amountHint = nextId('hint');
  const maxHint = nextId('hint');
  const resultId = nextId('result');

  const amountInput = h('input', { id: amountId, name: 'amount', type: 'text', inputmode: 'decimal', autocomplete: 'off', required: true, 'aria-describedby': amountHint, value: toMajorText(auction.minNextBid, auction.currency) });
  const maxInput = h('input', { id: maxId, name: 'maxAmount', type: 'text', inputmode: 'decimal', autocomplete: 'off', 'aria-describedby': maxHint });
  const result = h('div', { id: resultId, class: 'form-result', role: 'status', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit' }, 'Place bid');
  const form = h('form', { class: 'bid-form', novalidate: true, onsubmit: (e) => { e.preventDefault(); submitBid(id, form); } },
    h('h2', {}, 'Place a bid'),
    h('div', { class: 'field' },
      h('label', { for: amountId }, `Your bid (${auction.currency})`),
      amountInput,
      h('p', { class: 'hint', id: amountHint }, 'Minimum next bid: ', liveField(auction, 'min-next', 'strong', { 'data-testid': 'min-next' }), '. Enter the amount like 12.50.')),
    h('div', { class: 'field' },
      h('label', { for: maxId }, `Maximum for automatic bidding (${auction.currency}, optional)`),
      maxInput,
      h('p', { class: 'hint', id: maxHint }, 'We bid for you, one increment at a time, up to this amount. Nobody sees it.')),
    submit, result);
  form.amountInput = amountInput;
  form.maxInput = maxInput;
  form.result = result;
  form.submitButton = submit;

  const buyNow = h('div', { class: 'buy-now', 'data-buy-now': '' });
  const standing = h('p', { class: 'standing', role: 'status', 'aria-live': 'polite', 'data-standing': '' });
  const extended = h('p', { class: 'extended', 'aria-live': 'polite', 'data-extended': '' });
  const history = h('ol', { class: 'history', 'aria-label': 'Bid history', reversed: true });

  const page = h('article', { class: 'auction', dataset: { id } },
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, '← All auctions')),
    h('h1', {}, auction.title || auction.id),
    h('p', { class: 'meta' }, 'Sold by ', h('strong', {}, auction.sellerId), ' · ', liveField(auction, 'status', 'span', { class: 'badge' }),
      ' · ', liveField(auction, 'reserve', 'span', { class: 'reserve' })),
    h('div', { class: 'auction-grid' },
      h('section', { class: 'panel state', 'aria-label': 'Current state' },
        h('div', { class: 'price-block', 'aria-live': 'polite', 'aria-atomic': 'true' },
          h('span', { class: 'label' }, 'Current price'), ' ',
          liveField(auction, 'price', 'span', { class: 'big-price', 'data-testid': 'price' }),
          h('span', { class: 'leader-line' }, h('span', { class: 'label' }, 'Leader'), ' ', liveField(auction, 'leader', 'span', { 'data-testid': 'leader' }))),
        h('dl', { class: 'facts' },
          h('div', {}, h('dt', {}, 'Bids'), h('dd', {}, liveField(auction, 'bids', 'span', { 'data-testid': 'bid-count' }))),
          h('div', {}, h('dt', {}, 'Time left'), h('dd', {}, liveField(auction, 'countdown', 'span', { class: 'countdown', 'data-testid': 'countdown' }))),
          h('div', {}, h('dt', {}, 'Ends at'), h('dd', {}, liveField(auction, 'ends-at', 'time'))),
          h('div', {}, h('dt', {}, 'Starting price'), h('dd', {}, formatMoney(auction.startingPrice, auction.currency)))),
        extended, standing),
      h('section', { class: 'panel act', 'aria-label': 'Bid' },
        !user ? h('p', { class: 'signin-prompt' }, h('a', { href: `#/signin?next=${encodeURIComponent(location.hash)}` }, 'Sign in'), ' to bid.') : null,
        user && !hasRole('bidder') ? h('p', { class: 'signin-prompt' }, 'Your account has no bidder role; sign in again with “bidder” ticked to bid.') : null,
        user && hasRole('bidder') ? [form, buyNow] : null)),
    h('section', { class: 'panel' }, h('h2', {}, 'Bid history'), history));

  page.form = form;
  setTimeout(() => {
    updateAuctionPage(state.auctions.get(id), null, null, page);
    loadHistory(id, history);
  });
  return page;
}

/** Everything on the auction page that is not a simple field. */
function updateAuctionPage(auction, old, event, root = $('#main article.auction')) {
  if (!root || root.dataset.id !== auction.id) return;
  const form = root.form;
  const open = auction.status === 'open';
  if (form) {
    for (const el of form.elements) el.disabled = !open;
    // Keep the prefilled minimum current unless the user typed something of their own.
    const input = form.amountInput;
    const typed = input.dataset.userTyped === '1';
    if (!typed || (old && input.value === toMajorText(old.minNextBid, old.currency))) {
      input.value = toMajorText(auction.minNextBid, auction.currency);
      input.dataset.userTyped = '0';
    }
    if (!input.dataset.wired) {
      input.dataset.wired = '1';
      input.addEventListener('input', () => { input.dataset.userTyped = '1'; });
    }
    form.submitButton.textContent = open ? 'Place bid' : auction.status === 'scheduled' ? 'Not open yet' : 'Bidding closed';
  }
  const buy = $('[data-buy-now]', root);
  if (buy) {
    buy.replaceChildren();
    if (open && auction.buyNowPrice != null && auction.sellerId !== me()) {
      buy.append(h('button', { type: 'button', class: 'secondary', onclick: () => buyNow(auction.id) },
        `Buy now for ${formatMoney(auction.buyNowPrice, auction.currency)}`));
    }
  }
  updateStanding(auction, null, root);
  const ext = $('[data-extended]', root);
  if (ext && event?.type === 'auction.extended') {
    ext.textContent = `A late bid extended the auction: it now ends at ${formatTime(auction.endsAt)}.`;
    flash(ext);
  }
  if (event?.type === 'bid.accepted' || event?.type === 'bid.voided' || event?.type === 'auction.closed') {
    const history = $('ol.history', root);
    if (history) loadHistory(auction.id, history);
  }
  if (event?.type === 'auction.closed') announce(`The auction has closed: ${statusText(auction)}.`);
}

function updateStanding(auction, kind, root = $('#main article.auction')) {
  const el = root && $('[data-standing]', root);
  if (!el || root.dataset.id !== auction.id) return;
  const user = me();
  let text = '';
  let tone = '';
  const mine = user && state.myBids.some((b) => b.auctionId === auction.id && b.status === 'accepted');
  if (auction.status === 'closed') {
    if (user && auction.winnerId === user) { text = `You won this auction for ${formatMoney(auction.finalPrice ?? auction.currentPrice, auction.currency)}.`; tone = 'good'; }
    else if (mine) { text = 'This auction has closed; you did not win.'; tone = 'bad'; }
    else text = `This auction has closed. ${statusText(auction)}.`;
  } else if (auction.status === 'cancelled') {
    text = 'This auction was cancelled.';
  } else if (user && auction.leaderId === user) {
    text = 'You are the highest bidder.';
    tone = 'good';
  } else if (mine || kind === 'outbid') {
    text = `You have been outbid. The minimum next bid is ${formatMoney(auction.minNextBid, auction.currency)}.`;
    tone = 'bad';
  }
  if (el.textContent !== text) {
    el.textContent = text;
    el.dataset.tone = tone;
    if (text) flash(el);
  }
}

async function loadHistory(id, list) {
  try {
    const { body } = await api('GET', `/v1/auctions/${encodeURIComponent(id)}/bids?limit=100`, { auth: false });
    const auction = state.auctions.get(id);
    const accepted = body.bids.filter((b) => b.status === 'accepted').reverse();
    list.replaceChildren(...accepted.map((b) => h('li', {},
      h('span', { class: 'who' }, b.bidderId === me() ? `${b.bidderId} (you)` : b.bidderId),
      h('span', { class: 'amt' }, `bid ${formatMoney(b.amount, auction.currency)}`),
      h('span', { class: 'px' }, `price ${formatMoney(b.price, auction.currency)}`),
      h('time', { datetime: b.receivedAt }, formatTime(b.receivedAt)))));
    if (!accepted.length) list.replaceChildren(h('li', { class: 'empty' }, 'No bids yet.'));
    if (body.next) list.append(h('li', { class: 'empty' }, 'Older bids are not shown.'));
  } catch (error) {
    list.replaceChildren(h('li', { class: 'error' }, `Could not load the bids: ${explain(error)}`));
  }
}

// ---- bidding ---------------------------------------------------------------------------------------

const REASONS = {
  bid_too_low: (a, e) => `Your bid is too low. The minimum next bid is ${formatMoney(e.body.minNextBid ?? a?.minNextBid, a?.currency)}.`,
  auction_closed: () => 'This auction has closed; no more bids are taken.',
  auction_not_open: () => 'This auction is not open for bids yet.',
  auction_not_found: () => 'This auction does not exist (any more).',
  seller_cannot_bid: () => 'You cannot bid on your own auction.',
  currency_mismatch: (a) => `Bids on this auction must be in ${a?.currency}.`,
  invalid_amount: (a, e) => `That amount is not valid${e.message ? `: ${e.message}` : ''}.`,
  max_below_amount: () => 'Your maximum must be at least your bid.',
  not_raising_max: () => 'You are already the highest bidder. To bid more, enter a maximum above your current one.',
  rate_limited: () => 'Too many bids in a short time. Wait a moment and try again.',
  buy_now_unavailable: () => 'Buy-now is no longer available: someone has already bid.',
  auction_has_bids: () => 'The auction already has bids.',
  not_allowed: () => 'You are not allowed to do that.',
  forbidden: (a, e) => `Not allowed: ${e.message}.`,
  unauthenticated: () => 'Sign in first.',
  invalid_token: () => 'Your session has expired. Sign in again.',
  decision_timeout: () => 'The service is busy and did not answer in time. Check “My bids” before trying again.',
  queue_unavailable: () => 'The service cannot take bids right now. Try again in a moment.',
  draining: () => 'The service is restarting. Try again in a moment.',
  network: () => 'The service could not be reached. Check your connection and try again.',
};

function explain(error, auction) {
  if (error instanceof MoneyError) return error.message;
  const reason = REASONS[error?.code];
  if (reason) return reason(auction, error);
  return error?.message || 'Something went wrong.';
}

function showResult(form, tone, text) {
  form.result.replaceChildren(h('p', { class: `result-${tone}`, role: tone === 'error' ? 'alert' : null }, text));
}

async function submitBid(id, form) {
  const auction = state.auctions.get(id);
  const amountText = form.amountInput.value;
  const maxText = form.maxInput.value.trim();
  for (const input of [form.amountInput, form.maxInput]) input.removeAttribute('aria-invalid');
  let amount;
  let maxAmount;
  try {
    amount = parseMajor(amountText, auction.currency);
  } catch (error) {
    form.amountInput.setAttribute('aria-invalid', 'true');
    form.amountInput.focus();
    return showResult(form, 'error', `Bid: ${error.message}`);
  }
  if (maxText) {
    try {
      maxAmount = parseMajor(maxText, auction.currency);
    } catch (error) {
      form.maxInput.setAttribute('aria-invalid', 'true');
      form.maxInput.focus();
      return showResult(form, 'error', `Maximum: ${error.message}`);
    }
    if (maxAmount < amount) {
      form.maxInput.setAttribute('aria-invalid', 'true');
      form.maxInput.focus();
      return showResult(form, 'error', REASONS.max_below_amount());
    }
  }
  const body = { amount, currency: auction.currency };
  if (maxAmount !== undefined) body.maxAmount = maxAmount;
  const record = {
    auctionId: id, title: auction.title, currency: auction.currency, amount, maxAmount: maxAmount ?? null,
    placedAt: serverNow(), status: 'sending', reason: null, leading: false, price: null, bidId: null,
  };
  state.myBids.push(record);
  saveRecords();
  form.submitButton.disabled = true;
  form.setAttribute('aria-busy', 'true');
  showResult(form, 'info', `Placing your bid of ${formatMoney(amount, auction.currency)}…`);
  const key = newKey();
  try {
    let answer;
    for (let attempt = 0; ; attempt++) {
      try {
        answer = await api('POST', `/v1/auctions/${encodeURIComponent(id)}/bids?wait=3000`, { body, headers: { 'Idempotency-Key': key } });
        break;
      } catch (error) {
        // No answer: the same Idempotency-Key makes a retry safe.
        if (error.code !== 'network' || attempt >= 2) throw error;
        await new Promise((r) => setTimeout(r, 500 * (attempt + 1)));
      }
    }
    let decided = answer.body;
    record.bidId = decided.bidId ?? null;
    if (decided.status === 'queued') {
      record.status = 'queued';
      saveRecords();
      showResult(form, 'info', 'Your bid is queued; waiting for the decision…');
      decided = await pollBid(decided.bidId);
    }
    if (decided.status === 'accepted') {
      record.status = 'accepted';
      record.leading = Boolean(decided.leading);
      record.price = decided.price ?? null;
      if (decided.auction) mergeAuction(decided.auction, { authoritative: true });
      state.standing[id] = record.leading ? 'leading' : 'outbid';
      const a = state.auctions.get(id);
      showResult(form, record.leading ? 'good' : 'warn', record.leading
        ? `Bid accepted: you are the highest bidder at ${formatMoney(a.currentPrice, a.currency)}.`
        : `Bid accepted, but another bidder's maximum is higher: the price is now ${formatMoney(a.currentPrice, a.currency)}. You have been outbid.`);
      form.maxInput.value = '';
      form.amountInput.dataset.userTyped = '0';
      updateAuctionPage(a, null, null);
    } else {
      throw new ApiError(409, decided);
    }
  } catch (error) {
    record.status = record.status === 'queued' && error.code === 'network' ? 'queued' : 'rejected';
    record.reason = error.code ?? 'error';
    if (Number.isSafeInteger(error.body?.minNextBid)) record.minNextBid = error.body.minNextBid;
    if (error.code === 'bid_too_low' && Number.isSafeInteger(error.body?.minNextBid)) {
      const a = state.auctions.get(id);
      if (a) {
        a.minNextBid = error.body.minNextBid;
        form.amountInput.value = toMajorText(a.minNextBid, a.currency);
        form.amountInput.dataset.userTyped = '0';
        auctionChanged(a, a);
      }
      live.refresh(id);
    }
    showResult(form, 'error', explain(error, state.auctions.get(id)));
    if (error.code === 'max_below_amount') form.maxInput.setAttribute('aria-invalid', 'true');
    else if (['bid_too_low', 'invalid_amount'].includes(error.code)) form.amountInput.setAttribute('aria-invalid', 'true');
  } finally {
    saveRecords();
    form.submitButton.disabled = state.auctions.get(id)?.status !== 'open';
    form.removeAttribute('aria-busy');
  }
}

async function pollBid(bidId) {
  for (let i = 0; i < 30; i++) {
    await new Promise((r) => setTimeout(r, 500));
    const { body } = await api('GET', `/v1/bids/${encodeURIComponent(bidId)}`);
    if (body.status !== 'queued') return body;
  }
  throw new ApiError(503, { error: { code: 'decision_timeout' } });
}

async function buyNow(id) {
  const auction = state.auctions.get(id);
  if (!auction || auction.buyNowPrice == null) return;
  if (!window.confirm(`Buy “${auction.title}” now for ${formatMoney(auction.buyNowPrice, auction.currency)}? This ends the auction.`)) return;
  const root = $('#main article.auction');
  try {
    const { body } = await api('POST', `/v1/auctions/${encodeURIComponent(id)}/buy-now`, { body: {} });
    if (body.auction) mergeAuction(body.auction, { authoritative: true });
    state.myBids.push({ auctionId: id, title: auction.title, currency: auction.currency, amount: auction.buyNowPrice, maxAmount: null, placedAt: serverNow(), status: 'accepted', reason: 'buy_now', leading: true, price: auction.buyNowPrice, bidId: null });
    state.standing[id] = 'won';
    saveRecords();
    if (root?.form) showResult(root.form, 'good', `You bought it for ${formatMoney(auction.buyNowPrice, auction.currency)}.`);
  } catch (error) {
    if (root?.form) showResult(root.form, 'error', explain(error, auction));
    else notice('error', explain(error, auction));
  }
}

// ---- views: my bids, notifications -------------------------------------------------------------------

const STANDING_TEXT = { leading: 'Leading', outbid: 'Outbid', won: 'Won', lost: 'Lost', cancelled: 'Cancelled' };

function myBidsView() {
  if (!me()) return needSignIn('My bids');
  const rows = [...state.myBids].reverse();
  return h('section', {},
    h('h1', {}, 'My bids'),
    h('p', { class: 'hint' }, 'The bids you placed in this browser session, newest first.'),
    rows.length === 0 ? h('p', { class: 'empty' }, 'No bids yet. ', h('a', { href: '#/' }, 'Find an auction.')) : null,
    rows.length ? h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'My bids table' },
      h('table', { class: 'records' },
        h('thead', {}, h('tr', {}, ['Auction', 'Bid', 'Maximum', 'Decision', 'Standing'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, rows.map((b) => h('tr', {},
          h('td', { 'data-label': 'Auction' }, h('a', { href: `#/auction/${encodeURIComponent(b.auctionId)}` }, b.title || b.auctionId)),
          h('td', { 'data-label': 'Bid' }, formatMoney(b.amount, b.currency)),
          h('td', { 'data-label': 'Maximum' }, b.maxAmount != null ? formatMoney(b.maxAmount, b.currency) : '—'),
          h('td', { 'data-label': 'Decision' }, decisionText(b)),
          h('td', { 'data-label': 'Standing' }, b.status === 'accepted' ? h('span', { class: `standing-badge ${state.standing[b.auctionId] ?? ''}` }, STANDING_TEXT[state.standing[b.auctionId]] ?? '—') : '—')))))) : null);
}

function decisionText(bid) {
  switch (bid.status) {
    case 'accepted': return bid.reason === 'buy_now' ? 'Bought (buy-now)' : `Accepted${bid.price != null ? ` — price ${formatMoney(bid.price, bid.currency)}` : ''}`;
    case 'rejected': {
      const reason = REASONS[bid.reason];
      return `Rejected: ${reason ? reason({ currency: bid.currency }, { body: { minNextBid: bid.minNextBid }, message: '' }) : bid.reason}`;
    }
    case 'queued': return 'Queued (awaiting decision)';
    default: return 'Sending…';
  }
}

// ---- views: notifications (the server's inbox) ----------------------------------------------------

let inboxRequest = 0;

/** Loads the first page of the inbox (the unread count comes with it). */
async function refreshInbox() {
  if (!me()) return;
  const request = ++inboxRequest;
  try {
    const { body } = await api('GET', '/v1/me/notifications?limit=20');
    if (request !== inboxRequest) return; // a newer load, or another user
    state.inbox.applyPage(body);
    state.inboxError = null;
  } catch (error) {
    if (request !== inboxRequest) return;
    state.inboxError = error;
  }
  updateCounts();
  renderInbox();
}

async function loadMoreInbox(button) {
  const cursor = state.inbox.next;
  if (!cursor || !me()) return;
  const request = inboxRequest;
  button.disabled = true;
  const before = state.inbox.items.length;
  try {
    const { body } = await api('GET', `/v1/me/notifications?${new URLSearchParams({ limit: '20', before: cursor })}`);
    if (request !== inboxRequest) return;
    state.inbox.applyPage(body, { append: true });
    state.inboxError = null;
  } catch (error) {
    state.inboxError = error;
  } finally {
    button.disabled = false;
  }
  updateCounts();
  renderInbox();
  // Keyboard users continue at the first older notice.
  const first = state.inbox.items[before];
  const item = first && $(`[data-inbox-list] li[data-id="${CSS.escape(first.id)}"]`);
  if (item) item.focus();
  else if (!state.inbox.next) $('[data-inbox] h1')?.focus();
}

/** Marks notices read: `ids`, or all of them when null. */
async function markInboxRead(ids, trigger) {
  if (trigger) trigger.disabled = true;
  try {
    const { body } = await api('POST', '/v1/me/notifications/read', { body: ids ? { ids } : { all: true } });
    state.inbox.markRead(ids, body?.unread);
    state.inboxError = null;
    updateCounts();
    renderInbox();
    const left = state.inbox.unread ?? 0;
    announce(`${ids ? 'Marked as read' : 'All marked as read'}. ${left ? `${left} unread.` : 'No unread notifications.'}`);
    // The button is gone: keep the keyboard where it was.
    const item = ids?.length === 1 && $(`[data-inbox-list] li[data-id="${CSS.escape(ids[0])}"]`);
    if (item) item.focus();
    else if (!ids) $('[data-inbox] h1')?.focus();
  } catch (error) {
    if (trigger?.isConnected) trigger.disabled = false;
    state.inboxError = error;
    renderInbox();
  }
}

/** A notice pushed on the socket: into the inbox, the badge, and (for kinds the hub's own
 * notes do not cover) a visible notice. */
/**
 * A notice pushed by the notifier: into the inbox, and shown. On the auction's own page the
 * standing line shows it as well (an outbid bidder who watches nothing else still learns).
 */
function receiveInboxNotice(raw) {
  if (!me()) return;
  const n = state.inbox.push(raw);
  if (!n) return;
  updateCounts();
  renderInbox();
  const onPage = state.route?.name === 'auction' && state.route.id === n.auctionId;
  const link = n.auctionId && !onPage ? { href: `#/auction/${encodeURIComponent(n.auctionId)}`, text: 'Open auction' } : null;
  notice(kindClass(n.kind), n.text || n.subject || kindLabel(n.kind), link, n.auctionId || null);
  if (onPage && n.kind === 'outbid') {
    const auction = state.auctions.get(n.auctionId);
    if (auction) updateStanding(auction, n.kind);
  }
  if (state.route?.name === 'notifications') announce(`New notification: ${n.subject || kindLabel(n.kind)}`);
}

function inboxView() {
  if (!me()) return needSignIn('Notifications');
  const section = h('section', { class: 'inbox', 'data-inbox': '' },
    h('div', { class: 'view-head' },
      h('h1', { tabindex: '-1' }, 'Notifications'),
      h('p', { class: 'head-actions' },
        h('a', { href: '#/preferences', class: 'button small secondary' }, 'Preferences'),
        h('button', { type: 'button', class: 'small', 'data-mark-all': '', onclick: (e) => markInboxRead(null, e.currentTarget) }, 'Mark all read'))),
    h('p', { class: 'hint', 'data-inbox-status': '', role: 'status' }),
    h('p', { class: 'error', 'data-inbox-error': '', role: 'alert' }),
    h('ul', { class: 'note-list', 'aria-label': 'Notifications, newest first', 'data-inbox-list': '' }),
    h('button', { type: 'button', class: 'secondary', 'data-load-more': '', hidden: true, onclick: (e) => loadMoreInbox(e.currentTarget) }, 'Load more'));
  refreshInbox();
  renderInbox(section);
  return section;
}

/** Brings the inbox view (if shown) up to date; unchanged items keep their nodes (and focus). */
function renderInbox(root = $('#main [data-inbox]')) {
  if (!root) return;
  const inbox = state.inbox;
  const list = $('[data-inbox-list]', root);
  const old = new Map($$(':scope > li[data-id]', list).map((li) => [li.dataset.id, li]));
  const items = inbox.items.map((n) => {
    const li = old.get(n.id);
    return li && li.dataset.read === String(n.read) ? li : inboxItem(n);
  });
  if (inbox.loaded && !items.length) {
    items.push(h('li', { class: 'empty' }, 'No notifications yet. Outbid, leading, ending-soon, won and lost notices appear here.'));
  }
  list.replaceChildren(...items);
  const status = $('[data-inbox-status]', root);
  const unread = inbox.unread ?? 0;
  const text = !inbox.loaded ? (state.inboxError ? '' : 'Loading…') : unread ? `${unread} unread.` : 'All read.';
  if (status.textContent !== text) status.textContent = text;
  const error = $('[data-inbox-error]', root);
  const errorText = state.inboxError ? `Could not load or update your notifications: ${explain(state.inboxError)}` : '';
  if (error.textContent !== errorText) error.textContent = errorText;
  $('[data-mark-all]', root).disabled = !inbox.unreadIds().length && !unread;
  $('[data-load-more]', root).hidden = !inbox.next;
}

function inboxItem(n) {
  const subjectId = nextId('note');
  const subject = n.subject || kindLabel(n.kind);
  // Plain text only: the notice's HTML body is for e-mail, never inserted into the page.
  return h('li', { class: `note note-${kindClass(n.kind)}${n.read ? '' : ' unread'}`, tabindex: '-1', 'aria-labelledby': subjectId, dataset: { id: n.id, kind: n.kind, read: String(n.read) } },
    h('p', { class: 'note-meta' },
      h('span', { class: 'kind' }, kindLabel(n.kind)),
      n.read ? null : h('span', { class: 'new' }, 'Unread'),
      n.at ? h('time', { datetime: n.at }, formatTime(n.at)) : null),
    h('h2', { class: 'note-subject', id: subjectId }, subject),
    n.text ? h('p', { class: 'note-text' }, n.text) : null,
    h('p', { class: 'note-actions' },
      n.auctionId ? h('a', { href: `#/auction/${encodeURIComponent(n.auctionId)}` }, 'Open auction', h('span', { class: 'visually-hidden' }, `: ${subject}`)) : null,
      n.read ? null : h('button', { type: 'button', class: 'secondary small', onclick: (e) => markInboxRead([n.id], e.currentTarget) },
        'Mark read', h('span', { class: 'visually-hidden' }, `: ${subject}`))));
}

// ---- views: notification preferences ----------------------------------------------------------------

async function preferencesView() {
  const title = 'Notification preferences';
  if (!me()) return needSignIn(title);
  const crumbs = h('p', { class: 'crumbs' }, h('a', { href: '#/notifications' }, '← Notifications'));
  let values;
  try {
    const { body } = await api('GET', '/v1/me/preferences');
    values = preferencesToForm(body);
  } catch (error) {
    return h('section', {}, crumbs, h('h1', {}, title),
      h('p', { class: 'error', role: 'alert' }, `Could not load your preferences: ${explain(error)}`));
  }
  const inputs = {};
  const errors = {};
  const errorLine = (key) => {
    errors[key] = h('p', { class: 'field-error', id: nextId('error') });
    return errors[key];
  };
  const box = (key, label) => {
    const id = nextId(key);
    const error = errorLine(key);
    inputs[key] = h('input', { type: 'checkbox', id, name: key, checked: values[key], 'aria-describedby': error.id });
    return h('div', { class: 'field' }, h('div', { class: 'check' }, inputs[key], h('label', { for: id }, label)), error);
  };
  const field = (key, label, attrs, hint) => {
    const id = nextId(key);
    const hintEl = hint ? h('p', { class: 'hint', id: nextId('hint') }, hint) : null;
    const error = errorLine(key);
    inputs[key] = h('input', { id, name: key, 'aria-describedby': [hintEl?.id, error.id].filter(Boolean).join(' '), ...attrs });
    return h('div', { class: 'field' }, h('label', { for: id }, label), inputs[key], hintEl, error);
  };
  const secretState = h('span', { 'data-secret-state': '' });
  const result = h('div', { class: 'form-result', role: 'status', 'aria-live': 'polite' });
  const form = h('form', { class: 'panel narrow prefs-form', novalidate: true, onsubmit: (e) => { e.preventDefault(); savePreferences(form, inputs, errors, result, secretState); } },
    h('p', { class: 'hint' }, 'Every notice is always in your ', h('a', { href: '#/notifications' }, 'notifications'), '. Choose where else to get them.'),
    h('fieldset', {}, h('legend', {}, 'E-mail'),
      box('emailOn', 'Send notices by e-mail'),
      field('email', 'E-mail address', { type: 'email', autocomplete: 'email', spellcheck: 'false', maxlength: '254' })),
    h('fieldset', {}, h('legend', {}, 'SMS'),
      box('smsOn', 'Send notices by SMS'),
      field('phone', 'Phone number', { type: 'tel', autocomplete: 'tel', inputmode: 'tel' }, 'In international form, e.g. +34600111222.')),
    h('fieldset', {}, h('legend', {}, 'Webhook'),
      box('webhookOn', 'Send notices to a webhook'),
      field('webhookUrl', 'Webhook URL', { type: 'url', autocomplete: 'url', spellcheck: 'false', inputmode: 'url' }, 'An http:// or https:// address; each notice is POSTed to it as JSON.'),
      field('webhookSecret', 'Webhook secret', { type: 'password', autocomplete: 'new-password', spellcheck: 'false' },
        [secretState, ' 16 to 256 characters; each delivery is signed with it.'])),
    h('button', { type: 'submit' }, 'Save preferences'), result);
  fillPreferences(inputs, values, secretState);
  return h('section', {}, crumbs, h('h1', {}, title), form);
}

function fillPreferences(inputs, values, secretState) {
  for (const key of ['emailOn', 'smsOn', 'webhookOn']) inputs[key].checked = values[key];
  for (const key of ['email', 'phone', 'webhookUrl']) inputs[key].value = values[key];
  inputs.webhookSecret.value = ''; // never shown, never prefilled
  secretState.textContent = values.webhookSecretSet
    ? 'A secret is set: leave this empty to keep it, or type a new one.'
    : 'No secret is set.';
}

async function savePreferences(form, inputs, errors, result, secretState) {
  for (const key of Object.keys(inputs)) {
    inputs[key].removeAttribute('aria-invalid');
    errors[key].textContent = '';
  }
  result.replaceChildren();
  const values = {};
  for (const [key, input] of Object.entries(inputs)) values[key] = input.type === 'checkbox' ? input.checked : input.value;
  const button = $('button[type=submit]', form);
  button.disabled = true;
  form.setAttribute('aria-busy', 'true');
  try {
    const { body } = await api('PUT', '/v1/me/preferences', { body: preferencesBody(values) });
    fillPreferences(inputs, preferencesToForm(body), secretState);
    result.replaceChildren(h('p', { class: 'result-good' }, 'Preferences saved.'));
  } catch (error) {
    const key = formFieldFor(error.field);
    const message = error.status === 400 && error.message ? sentence(error.message) : explain(error);
    if (key && inputs[key]) {
      inputs[key].setAttribute('aria-invalid', 'true');
      errors[key].textContent = message;
      inputs[key].focus();
      result.replaceChildren(h('p', { class: 'result-error', role: 'alert' }, `Not saved: ${message}`));
    } else {
      result.replaceChildren(h('p', { class: 'result-error', role: 'alert' }, `Not saved: ${message}`));
    }
  } finally {
    button.disabled = false;
    form.removeAttribute('aria-busy');
  }
}

function needSignIn(title) {
  return h('section', {}, h('h1', {}, title), h('p', {}, h('a', { href: '#/signin' }, 'Sign in'), ' to see this.'));
}

// ---- views: sign in -----------------------------------------------------------------------------------

function signInView() {
  const nameId = nextId('name');
  const nameHint = nextId('hint');
  const errorId = nextId('error');
  const nameInput = h('input', { id: nameId, name: 'sub', type: 'text', required: true, autocomplete: 'username', maxlength: '64', 'aria-describedby': nameHint, value: state.session?.sub ?? '' });
  const roleBox = (role, checked) => {
    const id = nextId('role');
    return h('div', { class: 'check' }, h('input', { type: 'checkbox', id, name: 'roles', value: role, checked }), h('label', { for: id }, role[0].toUpperCase() + role.slice(1)));
  };
  const error = h('p', { id: errorId, class: 'form-result', role: 'alert' });
  const form = h('form', { class: 'panel narrow', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    const sub = nameInput.value.trim();
    const roles = $$('input[name=roles]:checked', form).map((i) => i.value);
    error.textContent = '';
    nameInput.removeAttribute('aria-invalid');
    if (!/^[\x21-\x7e]{1,64}$/.test(sub)) {
      nameInput.setAttribute('aria-invalid', 'true');
      nameInput.focus();
      error.textContent = 'Enter a name of 1–64 characters without spaces, e.g. alice.';
      return;
    }
    if (!roles.length) {
      error.textContent = 'Tick at least one role.';
      return;
    }
    const button = $('button[type=submit]', form);
    button.disabled = true;
    try {
      await signIn(sub, roles);
      const next = new URLSearchParams(location.hash.split('?')[1] ?? '').get('next');
      location.hash = next && next.startsWith('#/') ? next : '#/';
    } catch (err) {
      error.textContent = err.status === 404 ? 'Dev sign-in is not available on this server (it is not in dev auth mode).' : explain(err);
    } finally {
      button.disabled = false;
    }
  } },
  h('div', { class: 'field' }, h('label', { for: nameId }, 'Your name'), nameInput, h('p', { class: 'hint', id: nameHint }, 'Development sign-in: any name works; it becomes your user id.')),
  h('fieldset', {}, h('legend', {}, 'Roles'), roleBox('bidder', true), roleBox('seller', false), roleBox('admin', false)),
  h('button', { type: 'submit' }, 'Sign in'), error);
  return h('section', {}, h('h1', {}, 'Sign in'), form);
}

// ---- views: sell ---------------------------------------------------------------------------------------

const CURRENCIES = ['EUR', 'USD', 'GBP', 'CHF', 'JPY', 'SEK', 'PLN'];

function sellView() {
  if (!me()) return needSignIn('Sell an item');
  if (!hasRole('seller')) return h('section', {}, h('h1', {}, 'Sell an item'), h('p', {}, 'Creating auctions needs the seller role. ', h('a', { href: '#/signin' }, 'Sign in again'), ' with “seller” ticked.'));
  const fields = {};
  const field = (name, label, attrs = {}, hint = null) => {
    const id = nextId(name);
    const hintId = hint ? nextId('hint') : null;
    const input = attrs.tag === 'select'
      ? h('select', { id, name }, attrs.options.map((o) => h('option', { value: o, selected: o === attrs.value }, o)))
      : h('input', { id, name, type: 'text', autocomplete: 'off', 'aria-describedby': hintId, ...attrs });
    fields[name] = input;
    return h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('p', { class: 'hint', id: hintId }, hint) : null);
  };
  const result = h('div', { class: 'form-result', role: 'status', 'aria-live': 'polite' });
  const form = h('form', { class: 'panel sell-form', novalidate: true, onsubmit: (e) => { e.preventDefault(); createAuction(form, fields, result); } },
    field('title', 'Title', { required: true, maxlength: '200' }),
    h('div', { class: 'row' },
      field('currency', 'Currency', { tag: 'select', options: CURRENCIES, value: 'EUR' }),
      field('startingPrice', 'Starting price', { inputmode: 'decimal', required: true, placeholder: '10.00' })),
    h('div', { class: 'row' },
      field('durationMinutes', 'Duration (minutes)', { inputmode: 'numeric', required: true, value: '10' }),
      field('softCloseSeconds', 'Soft close (seconds)', { inputmode: 'numeric', value: '60' }, 'A bid this close to the end extends the auction.')),
    h('div', { class: 'row' },
      field('reservePrice', 'Reserve price (optional)', { inputmode: 'decimal' }, 'Hidden; unsold below it.'),
      field('buyNowPrice', 'Buy-now price (optional)', { inputmode: 'decimal' }, 'Until the first bid.')),
    h('button', { type: 'submit' }, 'Create auction'), result);
  return h('section', {}, h('h1', {}, 'Sell an item'), form);
}

async function createAuction(form, fields, result) {
  for (const input of Object.values(fields)) input.removeAttribute('aria-invalid');
  const fail = (name, text) => {
    if (fields[name]) {
      fields[name].setAttribute('aria-invalid', 'true');
      fields[name].focus();
    }
    result.replaceChildren(h('p', { class: 'result-error', role: 'alert' }, text));
  };
  const currency = fields.currency.value;
  const body = { title: fields.title.value.trim(), currency };
  if (!body.title) return fail('title', 'Enter a title.');
  const money = [['startingPrice', 'Starting price', true], ['reservePrice', 'Reserve price'], ['buyNowPrice', 'Buy-now price']];
  for (const [name, label, required] of money) {
    const text = fields[name].value.trim();
    if (!text && !required) continue;
    try {
      body[name] = parseMajor(text, currency);
    } catch (error) {
      return fail(name, `${label}: ${error.message}`);
    }
  }
  const minutes = fields.durationMinutes.value.trim();
  if (!/^\d{1,6}$/.test(minutes) || Number(minutes) < 1) return fail('durationMinutes', 'Duration: enter whole minutes, at least 1.');
  body.durationSeconds = Number(minutes) * 60;
  const soft = fields.softCloseSeconds.value.trim();
  if (soft) {
    if (!/^\d{1,5}$/.test(soft) || Number(soft) > 86400) return fail('softCloseSeconds', 'Soft close: enter whole seconds, 0 to 86400.');
    body.softCloseSeconds = Number(soft);
  }
  const button = $('button[type=submit]', form);
  button.disabled = true;
  try {
    const { body: auction } = await api('POST', '/v1/auctions', { body });
    mergeAuction(auction, { authoritative: true });
    location.hash = `#/auction/${encodeURIComponent(auction.id)}`;
    notice('info', `Your auction “${auction.title}” is live.`);
  } catch (error) {
    const name = { durationSeconds: 'durationMinutes' }[error.field] ?? error.field;
    fail(name, explain(error));
  } finally {
    button.disabled = false;
  }
}

// ---- start ------------------------------------------------------------------------------------------------

async function start() {
  loadRecords();
  if (state.session?.mode === 'dev') {
    // Dev tokens are cheap: renew on load (this also tells us the server's time).
    try {
      state.session.token = await mintDevToken(state.session.sub, state.session.roles);
      saveJson(SESSION_KEY, state.session);
    } catch {
      // keep the stored token; a 401 later signs out
    }
  }
  renderSession();
  updateCounts();
  live.start(state.session?.token ?? null);
  if (parseRoute().name !== 'notifications') refreshInbox(); // that view loads it itself
  await renderRoute();
}

start();

// Exposed for tests and debugging: the clock state, never used by the page itself.
window.gavel = { serverNow, isSynced, state };
