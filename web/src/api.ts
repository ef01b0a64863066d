/**
 * The one way the UI talks to Vigil: same-origin JSON requests with the session cookie, the CSRF token
 * on every state-changing request, and errors turned into {@link ApiError} with the server's message.
 */

/** An API failure with the server's message (and, for query errors, the position in the query). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly position?: number,
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;

/** Remembers the CSRF token the server handed out with the session. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/**
 * Development only: an API token kept in localStorage (`vigil.devToken`) is sent as a bearer token, so
 * pages can be worked on against a server without users. The shipped login uses sessions.
 */
function devToken(): string | null {
  try {
    return localStorage.getItem('vigil.devToken');
  } catch {
    return null;
  }
}

type Listener = () => void;
const unauthorizedListeners = new Set<Listener>();

/** Called when the session has expired (any API call answered 401). */
export function onUnauthorized(fn: Listener): () => void {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
}

/** Options of {@link api}. */
export interface ApiOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  signal?: AbortSignal;
  /** Do not report a 401 as an expired session (the login and me calls). */
  quiet401?: boolean;
}

/** Sends a request to the API and returns its JSON answer (undefined for 204). */
export async function api<T>(path: string, opts: ApiOptions = {}): Promise<T> {
  const method = opts.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const token = devToken();
  if (token) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal,
      credentials: 'same-origin',
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError('Vigil did not answer: check that the server is running and reload.', 0);
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const b = (body ?? {}) as { error?: string; position?: number };
    if (res.status === 401 && !opts.quiet401) for (const fn of unauthorizedListeners) fn();
    const fallback =
      res.status === 429 ? 'Vigil is busy: too many queries are running. Try again in a moment.' : res.status === 503 ? 'The query took too long: narrow the time range or add filters.' : `request failed (${res.status})`;
    throw new ApiError(b.error ?? fallback, res.status, typeof b.position === 'number' ? b.position : undefined);
  }
  return body as T;
}

/** Builds a query string, leaving out undefined and empty values. */
export function qs(params: Record<string, string | number | undefined | null>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
}

/** A row of a search result. */
export type Row = Record<string, unknown>;

/** The answer of `/api/v1/search`. */
export interface SearchResult {
  kind: 'events' | 'aggregate';
  columns: { name: string; type: string }[];
  rows: Row[];
  truncated: boolean;
  elapsedMs: number;
  from: string;
  to: string;
}

/** Runs a query over a time range. */
export function search(q: string, range: Record<string, string>, limit?: number, signal?: AbortSignal): Promise<SearchResult> {
  return api<SearchResult>('/api/v1/search', { method: 'POST', body: { q, ...range, limit }, signal });
}
