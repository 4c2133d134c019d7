// The JSON API under /v1: one fetch wrapper that learns the server's clock from every answer
// and turns error bodies into ApiError (code, message, and the extra fields of a rejection).
import { observeResponse } from './clock.js';

export class ApiError extends Error {
  constructor(status, body, fallback) {
    const error = body?.error ?? {};
    super(error.message || fallback || `HTTP ${status}`);
    this.status = status;
    // A rejected bid names its reason at the top level; other errors in error.code.
    this.code = body?.reason || error.code || (status === 0 ? 'network' : `http_${status}`);
    this.field = error.field;
    this.body = body ?? {};
  }
}

let tokenProvider = () => null;
let unauthorizedHandler = () => {};

export function configureApi({ token, onUnauthorized }) {
  tokenProvider = token;
  unauthorizedHandler = onUnauthorized;
}

/** One request. Resolves {status, body, headers}; rejects with ApiError on >= 400 or no answer. */
export async function api(method, path, { body, headers = {}, auth = true, signal } = {}) {
  const init = { method, headers: { Accept: 'application/json', ...headers }, signal, cache: 'no-store' };
  const token = auth ? tokenProvider() : null;
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const sentAt = performance.now();
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error?.name === 'AbortError') throw error;
    throw new ApiError(0, null, 'The service could not be reached. Check your connection and try again.');
  }
  observeResponse(response, sentAt, performance.now());
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (response.status >= 400) {
    const error = new ApiError(response.status, parsed);
    if (response.status === 401 && token) unauthorizedHandler(error);
    throw error;
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

/** A random Idempotency-Key for one bid attempt (retries reuse it). */
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
