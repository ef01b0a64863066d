/**
 * The one way the UI talks to Vigil: same-origin JSON requests with the session cookie, the CSRF token
 * on every state-changing request, and errors turned into {@link ApiError} with the server's message.
 * Response types come from the API contract the server also compiles against (src/api/contract.ts).
 */
import type { CheckOutcome, MonitorInfo, MonitorSpecInput, PublicStatusPage, SearchResult as ContractSearchResult, StatusPageDef, TokenInfo, UserInfo } from '../../src/api/contract.ts';

export type { CheckOutcome, MonitorInfo, MonitorSpecInput, PublicStatusPage, StatusPageDef, TokenInfo, UserInfo };

/** An API failure with the server's message (and, for query errors, the position in the query). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly position?: number,
    /** The answer's JSON body (e.g. alerting's `errors` with file and line). */
    readonly body?: unknown,
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
    // Alertmanager-compatible routes (`/api/v2/…`) answer errors as a bare JSON string, as Alertmanager does.
    const message = typeof body === 'string' && body ? body : b.error;
    throw new ApiError(message ?? fallback, res.status, typeof b.position === 'number' ? b.position : undefined, body);
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

/** A row of a search result (the UI reads cells as unknown and narrows them where it shows them). */
export type Row = Record<string, unknown>;

/** The answer of `/api/v1/search`, as the API contract declares it. */
export type SearchResult = Omit<ContractSearchResult, 'rows'> & { rows: Row[] };

/** Runs a query over a time range. */
export function search(q: string, range: Record<string, string>, limit?: number, signal?: AbortSignal): Promise<SearchResult> {
  return api<SearchResult>('/api/v1/search', { method: 'POST', body: { q, ...range, limit }, signal });
}

// ---- management (users, tokens, monitors, status pages) ----


/** The roles a user may have, weakest first. */
export const ROLES = ['viewer', 'responder', 'admin'] as const;

/** Lists users (admin). */
export const listUsers = (signal?: AbortSignal) => api<{ users: UserInfo[] }>('/api/v1/users', { signal });

/** Creates a user; without a password the server generates one and returns it once. */
export const createUser = (body: { username: string; role: string; password?: string }) =>
  api<{ user: UserInfo; password?: string }>('/api/v1/users', { method: 'POST', body });

/** Changes a user's role and/or password (admin). */
export const updateUser = (username: string, body: { role?: string; password?: string }) =>
  api<{ user: UserInfo }>(`/api/v1/users/${encodeURIComponent(username)}`, { method: 'PATCH', body });

/** Deletes a user (admin). */
export const deleteUser = (username: string) => api<void>(`/api/v1/users/${encodeURIComponent(username)}`, { method: 'DELETE' });


/** The token scopes. */
export const SCOPES = ['ingest', 'read', 'write', 'admin'] as const;

/** Lists tokens (admin). */
export const listTokens = (signal?: AbortSignal) => api<{ tokens: TokenInfo[] }>('/api/v1/tokens', { signal });

/** Creates a token; the answer holds its secret, which no later call can return. */
export const createToken = (body: { name: string; scope: string; rateLimit?: number }) =>
  api<{ name: string; scope: string; token: string }>('/api/v1/tokens', { method: 'POST', body });

/** Revokes a token by name (admin). */
export const revokeToken = (name: string) => api<void>(`/api/v1/tokens/${encodeURIComponent(name)}`, { method: 'DELETE' });


/** One monitor (writers get its definition with secrets as the server chooses to show them). */
export const getMonitor = (id: string, signal?: AbortSignal) => api<MonitorInfo>(`/api/v1/monitors/${encodeURIComponent(id)}`, { signal });

/** Lists monitors. */
export const listMonitors = (signal?: AbortSignal) => api<{ monitors: MonitorInfo[] }>('/api/v1/monitors', { signal });

/** Creates (no `existing` id) or replaces a monitor defined through the API. */
export const saveMonitor = (spec: MonitorSpecInput, existing?: string) =>
  existing
    ? api<MonitorInfo>(`/api/v1/monitors/${encodeURIComponent(existing)}`, { method: 'PUT', body: spec })
    : api<MonitorInfo>('/api/v1/monitors', { method: 'POST', body: spec });

/** Deletes a monitor defined through the API. */
export const deleteMonitor = (id: string) => api<void>(`/api/v1/monitors/${encodeURIComponent(id)}`, { method: 'DELETE' });


/** Runs a definition once, unsaved, through the same checker and outbound guard as scheduled checks. */
export const testMonitor = (spec: MonitorSpecInput) => api<{ result: CheckOutcome }>('/api/v1/monitors/test', { method: 'POST', body: spec });


/** Lists status pages (admin). */
export const listStatusPages = (signal?: AbortSignal) => api<{ statusPages: StatusPageDef[] }>('/api/v1/status-pages', { signal });

/** Creates (no `existing` slug) or replaces a status page (admin). */
export const saveStatusPage = (page: StatusPageDef, existing?: string) =>
  existing
    ? api<StatusPageDef>(`/api/v1/status-pages/${encodeURIComponent(existing)}`, { method: 'PUT', body: page })
    : api<StatusPageDef>('/api/v1/status-pages', { method: 'POST', body: page });

/** Deletes a status page (admin). */
export const deleteStatusPage = (slug: string) => api<void>(`/api/v1/status-pages/${encodeURIComponent(slug)}`, { method: 'DELETE' });

/** The public JSON of a saved status page. */
export const publicStatusPage = (slug: string, signal?: AbortSignal) => api<PublicStatusPage>(`/api/v1/public/status/${encodeURIComponent(slug)}`, { signal });
