// Money in integer minor units, converted to and from major-unit text with string arithmetic
// only: no floating point ever touches an amount (RULES.md §Money).

/** ISO 4217 minor-unit exponents that differ from the usual 2. */
const EXPONENTS = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0,
  UYI: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
};

const SYMBOLS = { EUR: '€', USD: '$', GBP: '£', JPY: '¥', CHF: 'CHF ', INR: '₹' };

/** The largest amount the service accepts, in minor units (RULES.md: at most 10^13). */
export const MAX_MINOR = '10000000000000';

export function exponentOf(currency) {
  const code = String(currency || '').toUpperCase();
  return Object.hasOwn(EXPONENTS, code) ? EXPONENTS[code] : 2;
}

export class MoneyError extends Error {}

/**
 * Parses major-unit text ("12.50", "1,234.5", "12,50") into an integer count of minor units.
 * Throws MoneyError with a message fit for the user. Returns a Number that is a safe integer
 * (every value up to 10^13 is exact), built from the digits, never from a float.
 */
export function parseMajor(text, currency) {
  const exponent = exponentOf(currency);
  let s = String(text ?? '').trim().replace(/[\s\u00a0]/g, '');
  if (s === '') throw new MoneyError('Enter an amount.');
  if (s.startsWith('-')) throw new MoneyError('The amount must be positive.');
  if (s.startsWith('+')) s = s.slice(1);
  let whole;
  let fraction = '';
  const dots = s.split('.').length - 1;
  if (dots > 1) throw new MoneyError('Use at most one decimal point, e.g. 12.50.');
  if (dots === 1) {
    [whole, fraction] = s.split('.');
    // With a decimal point, commas may only group thousands: 1,234.50.
    if (whole.includes(',')) {
      if (!/^\d{1,3}(,\d{3})+$/.test(whole)) {
        throw new MoneyError('Commas may only separate thousands, e.g. 1,234.50.');
      }
      whole = whole.replaceAll(',', '');
    }
  } else if (s.includes(',')) {
    const parts = s.split(',');
    const last = parts[parts.length - 1];
    if (parts.length === 2 && last.length > 0 && last.length <= exponent && last.length !== 3) {
      [whole, fraction] = parts; // a decimal comma: 12,50
    } else if (/^\d{1,3}(,\d{3})+$/.test(s)) {
      whole = s.replaceAll(',', ''); // thousands: 1,000
    } else {
      throw new MoneyError('Write the amount like 12.50 (digits, one decimal point).');
    }
  } else {
    whole = s;
  }
  if (whole === '') whole = '0';
  if (!/^\d+$/.test(whole) || !/^\d*$/.test(fraction)) {
    throw new MoneyError('Write the amount with digits only, like 12.50.');
  }
  if (fraction.length > exponent) {
    const extra = fraction.slice(exponent);
    if (/[^0]/.test(extra)) {
      throw new MoneyError(
        exponent === 0
          ? `${currency} has no minor unit; enter a whole number.`
          : `${currency} amounts have at most ${exponent} decimal place${exponent === 1 ? '' : 's'}.`,
      );
    }
    fraction = fraction.slice(0, exponent);
  }
  const digits = (whole + fraction.padEnd(exponent, '0')).replace(/^0+(?=\d)/, '');
  if (digits === '0') throw new MoneyError('The amount must be more than zero.');
  if (compareDigits(digits, MAX_MINOR) > 0) throw new MoneyError('That amount is too large.');
  return Number(digits); // exact: at most 14 digits
}

/** Compares two non-negative integer strings without leading zeros. */
function compareDigits(a, b) {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function splitMinor(minor, currency) {
  if (!Number.isSafeInteger(minor)) throw new MoneyError('not an integer amount');
  const exponent = exponentOf(currency);
  const negative = minor < 0;
  const digits = String(Math.abs(minor)).padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = exponent ? digits.slice(digits.length - exponent) : '';
  return { negative, whole, fraction };
}

/** Minor units → major-unit text for an input field: 1250 → "12.50". */
export function toMajorText(minor, currency) {
  const { negative, whole, fraction } = splitMinor(minor, currency);
  return (negative ? '-' : '') + whole + (fraction ? '.' + fraction : '');
}

/** Minor units → display text with grouping and the currency: 123450 EUR → "€1,234.50". */
export function formatMoney(minor, currency) {
  if (minor === null || minor === undefined) return '—';
  const { negative, whole, fraction } = splitMinor(minor, currency);
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const number = grouped + (fraction ? '.' + fraction : '');
  const code = String(currency || '').toUpperCase();
  const text = Object.hasOwn(SYMBOLS, code) ? SYMBOLS[code] + number : `${number} ${code}`;
  return (negative ? '−' : '') + text;
}

/** The default increment table of RULES.md §Increments, in minor units. */
const DEFAULT_INCREMENTS = [
  [500000, 10000], [250000, 5000], [100000, 2500], [50000, 1000], [25000, 500],
  [10000, 250], [2500, 100], [500, 50], [100, 25], [0, 5],
];

/**
 * A provisional minimum next bid after an event (events carry price and leader, not
 * minNextBid); the next snapshot replaces it with the server's value, which also knows a
 * seller's own increment table.
 */
export function provisionalMinNext(auction) {
  if (!auction.leaderId) return auction.startingPrice;
  const price = auction.currentPrice;
  const step = DEFAULT_INCREMENTS.find(([from]) => price >= from)[1];
  return price + step;
}
