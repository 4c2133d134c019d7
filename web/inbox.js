// The user's notifications (GET /v1/me/notifications, pushed on the socket) and notification
// preferences (GET/PUT /v1/me/preferences) as plain data: no DOM, no fetch, so Node tests it.

/** The notice kinds of RULES.md §Notifications, with the words the inbox shows. */
export const KIND_LABELS = {
  outbid: 'Outbid',
  leading: 'Leading',
  ending_soon: 'Ending soon',
  won: 'Won',
  lost: 'Lost',
  sold: 'Sold',
  unsold: 'Unsold',
  cancelled: 'Cancelled',
};

export function kindLabel(kind) {
  if (Object.hasOwn(KIND_LABELS, kind)) return KIND_LABELS[kind];
  const text = String(kind ?? '').replace(/_/g, ' ').trim();
  return text ? text[0].toUpperCase() + text.slice(1) : 'Notice';
}

/** A class-name-safe form of a kind (it comes from the server: never trusted as markup). */
export function kindClass(kind) {
  return String(kind ?? '').replace(/[^a-z0-9_-]/gi, '') || 'other';
}

function timeOf(notice) {
  const ms = Date.parse(String(notice?.at ?? '').replace(/(\.\d{3})\d+/, '$1'));
  return Number.isFinite(ms) ? ms : -Infinity;
}

/** Only the fields the inbox uses, as strings and a boolean; anything else is dropped. */
export function cleanNotice(raw) {
  if (!raw || typeof raw !== 'object' || typeof raw.id !== 'string' || raw.id === '') return null;
  const text = (value) => (typeof value === 'string' ? value : '');
  return {
    id: raw.id,
    kind: text(raw.kind),
    auctionId: text(raw.auctionId),
    subject: text(raw.subject),
    text: text(raw.text),
    at: text(raw.at),
    read: raw.read === true,
  };
}

/**
 * The inbox as the page knows it: notices newest first, without duplicates, the server's
 * unread count (null until known) and the cursor of the next (older) page.
 */
export class Inbox {
  constructor() {
    this.reset();
  }

  reset() {
    this.items = [];
    this.unread = null;
    this.next = null;
    this.loaded = false;
  }

  has(id) {
    return this.items.some((n) => n.id === id);
  }

  sort() {
    // Stable: notices of the same instant keep the server's order.
    this.items = this.items
      .map((notice, index) => ({ notice, index, at: timeOf(notice) }))
      .sort((a, b) => b.at - a.at || a.index - b.index)
      .map((entry) => entry.notice);
  }

  /**
   * An answer of GET /v1/me/notifications. The first page replaces the list, keeping notices
   * pushed while it was on its way (newer than the page and not in it, so not yet counted in
   * its `unread`); a later page (`append`) adds older notices.
   */
  applyPage(body, { append = false } = {}) {
    const page = (Array.isArray(body?.notifications) ? body.notifications : []).map(cleanNotice).filter(Boolean);
    const ids = new Set(page.map((n) => n.id));
    const unread = Number.isSafeInteger(body?.unread) && body.unread >= 0 ? body.unread : null;
    if (append) {
      for (const notice of page) if (!this.has(notice.id)) this.items.push(notice);
      if (unread !== null) this.unread = unread;
    } else {
      const newest = page.length ? Math.max(...page.map(timeOf)) : -Infinity;
      const pushed = this.items.filter((n) => !ids.has(n.id) && timeOf(n) >= newest);
      this.items = [...pushed, ...page];
      this.unread = unread === null ? null : unread + pushed.filter((n) => !n.read).length;
      this.loaded = true;
    }
    this.next = typeof body?.next === 'string' && body.next !== '' ? body.next : null;
    this.sort();
    return page.length;
  }

  /** A notice pushed on the socket. Answers the cleaned notice when it is new, else null. */
  push(raw) {
    const notice = cleanNotice(raw);
    if (!notice || this.has(notice.id)) return null;
    this.items.push(notice);
    this.sort();
    if (!notice.read && this.unread !== null) this.unread += 1;
    else if (!notice.read && this.unread === null) this.unread = 1;
    return notice;
  }

  /** After POST /v1/me/notifications/read: `ids` marked (null: all), `unread` from the answer. */
  markRead(ids, unread) {
    const set = ids ? new Set(ids) : null;
    for (const notice of this.items) if (!set || set.has(notice.id)) notice.read = true;
    if (Number.isSafeInteger(unread) && unread >= 0) this.unread = unread;
    else if (this.unread !== null) this.unread = this.items.filter((n) => !n.read).length;
  }

  unreadIds() {
    return this.items.filter((n) => !n.read).map((n) => n.id);
  }
}

// ---- preferences -------------------------------------------------------------------------------

/** The form's keys, and which one shows an error the server names by its field. */
const ERROR_FIELDS = {
  email: 'email',
  phone: 'phone',
  webhookUrl: 'webhookUrl',
  webhookSecret: 'webhookSecret',
  channels: 'emailOn',
  'channels.email': 'emailOn',
  'channels.sms': 'smsOn',
  'channels.webhook': 'webhookOn',
};

/** The form key for a server error's `field` (null: no field of the form). */
export function formFieldFor(field) {
  return Object.hasOwn(ERROR_FIELDS, field) ? ERROR_FIELDS[field] : null;
}

/** GET /v1/me/preferences → the form's values (the secret is never known, only whether set). */
export function preferencesToForm(body) {
  const channels = body?.channels ?? {};
  const text = (value) => (typeof value === 'string' ? value : '');
  return {
    emailOn: channels.email === true,
    smsOn: channels.sms === true,
    webhookOn: channels.webhook === true,
    email: text(body?.email),
    phone: text(body?.phone),
    webhookUrl: text(body?.webhookUrl),
    webhookSecret: '',
    webhookSecretSet: body?.webhookSecretSet === true,
  };
}

/**
 * The form's values → the body of PUT /v1/me/preferences. Addresses are trimmed and an empty
 * one clears the stored address (null); an empty secret is left out, which keeps the current one.
 */
export function preferencesBody(values) {
  const address = (value) => {
    const text = String(value ?? '').trim();
    return text === '' ? null : text;
  };
  const body = {
    channels: { inapp: true, email: Boolean(values.emailOn), sms: Boolean(values.smsOn), webhook: Boolean(values.webhookOn) },
    email: address(values.email),
    phone: address(values.phone)?.replace(/[\s().-]/g, '') ?? null,
    webhookUrl: address(values.webhookUrl),
  };
  // The secret is sent exactly as typed: spaces at its ends would be refused, not silently cut.
  if (values.webhookSecret) body.webhookSecret = String(values.webhookSecret);
  return body;
}

/** A server message as a sentence: "email must be …" → "Email must be ….". */
export function sentence(text) {
  const s = String(text ?? '').trim();
  if (!s) return '';
  return s[0].toUpperCase() + s.slice(1) + (/[.!?]$/.test(s) ? '' : '.');
}
