/**
 * The monitor form's model: a flat draft of strings the inputs edit, built from a definition and turned
 * back into one. Saved secrets are write-only (src/monitors/secrets.ts): the API shows each as
 * {@link MASK} and, sent the mask back, keeps the saved value. So the draft never holds a secret, only
 * that one is set: left alone, the mask goes back; typed over, the new value replaces it; removed, it
 * is left out (a password is sent as null, since a missing password also means "keep").
 */
import type { MonitorSpecInput } from './api.ts';

/** The mask the API shows in place of a saved secret, and that it reads back as "unchanged". */
export const MASK = '********';

/** Header names whose values are credentials: typed as passwords (the server's isCredentialHeader rule). */
export const SENSITIVE_HEADER = /^(proxy-authorization|cookie)$|token|key|secret|auth|session|passw|pwd|credential/i;

/**
 * A write-only value. What is typed replaces the saved value; with nothing typed the saved one stays,
 * unless the user removed it.
 */
export interface Secret {
  /** A value is saved (its text is never in the draft). */
  saved: boolean;
  removed: boolean;
  value: string;
}

/** A header or workflow variable row; `secret` when its saved value is write-only. */
export interface PairRow {
  name: string;
  value: Secret;
  secret: boolean;
}

/** The monitor types the form offers. */
export const MONITOR_TYPES = ['http', 'workflow', 'tcp', 'dns', 'postgres', 'mysql', 'redis', 'push'] as const;

/** Everything the form edits, as the inputs hold it. */
export interface Draft {
  type: string;
  id: string;
  name: string;
  system: string;
  description: string;
  enabled: boolean;
  interval: string;
  timeout: string;
  retries: string;
  url: string;
  method: string;
  headers: PairRow[];
  body: Secret;
  expectStatus: string;
  keyword: string;
  keywordAbsent: string;
  maxResponseTime: string;
  followRedirects: boolean;
  tlsInsecure: boolean;
  host: string;
  port: string;
  database: string;
  user: string;
  password: Secret;
  query: string;
  hostname: string;
  recordType: string;
  expected: string;
  server: string;
  grace: string;
  vars: PairRow[];
  /** Workflow steps as JSON, saved secrets in them shown as {@link MASK}. */
  steps: string;
  /** A JSON request body as text, saved secrets in it shown as {@link MASK}; bodies that are text are a {@link Secret}. */
  jsonBody: string;
}

const DEFAULT_PORT: Record<string, string> = { postgres: '5432', mysql: '3306', redis: '6379' };
const noSecret = (): Secret => ({ saved: false, removed: false, value: '' });
const plain = (value: string): Secret => ({ saved: false, removed: false, value });
const savedSecret = (v: unknown): Secret => ({ saved: isSet(v), removed: false, value: '' });
const isSet = (v: unknown) => v !== undefined && v !== null && v !== '';
const str = (v: unknown, fallback = '') => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : fallback);
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** A blank draft of a type, with the defaults the API would apply. */
export function emptyDraft(type = 'http'): Draft {
  return {
    type,
    id: '',
    name: '',
    system: 'default',
    description: '',
    enabled: true,
    interval: '60s',
    timeout: '10s',
    retries: '0',
    url: '',
    method: 'GET',
    headers: [],
    body: noSecret(),
    expectStatus: '',
    keyword: '',
    keywordAbsent: '',
    maxResponseTime: '',
    followRedirects: true,
    tlsInsecure: false,
    host: type === 'tcp' ? '' : '127.0.0.1',
    port: DEFAULT_PORT[type] ?? '',
    database: 'postgres',
    user: type === 'postgres' ? 'postgres' : '',
    password: noSecret(),
    query: 'SELECT 1',
    hostname: '',
    recordType: 'A',
    expected: '',
    server: '',
    grace: '30s',
    vars: [],
    steps: '[\n  { "name": "step 1", "url": "https://", "method": "GET" }\n]',
    jsonBody: '',
  };
}

/** Header rows of a saved header map: masked values become saved secrets. */
function headerRows(h: unknown): PairRow[] {
  return Object.entries(obj(h)).map(([name, v]) => (v === MASK ? { name, secret: true, value: savedSecret(v) } : { name, secret: false, value: plain(str(v)) }));
}

/** The draft of a saved definition. */
export function draftOf(spec: MonitorSpecInput): Draft {
  const d = emptyDraft(spec.type);
  const expect = obj(spec.expect);
  const tls = obj(spec.tls);
  return {
    ...d,
    id: spec.id,
    name: spec.name,
    system: str(spec.system, d.system),
    description: str(spec.description),
    enabled: spec.enabled !== false,
    interval: str(spec.interval, d.interval),
    timeout: str(spec.timeout, d.timeout),
    retries: str(spec.retries, d.retries),
    url: str(spec.url),
    method: str(spec.method, d.method),
    headers: headerRows(spec.headers),
    // A text body is masked whole; a JSON body only where its keys look secret, so it stays readable.
    body: typeof spec.body === 'string' ? savedSecret(spec.body) : noSecret(),
    jsonBody: spec.body !== undefined && typeof spec.body !== 'string' ? JSON.stringify(spec.body, null, 2) : '',
    expectStatus: Array.isArray(expect.status) ? expect.status.join(', ') : '',
    keyword: str(expect.keyword),
    keywordAbsent: str(expect.keywordAbsent),
    maxResponseTime: str(expect.maxResponseTime),
    followRedirects: spec.followRedirects !== false,
    tlsInsecure: tls.insecure === true,
    host: str(spec.host, d.host),
    port: str(spec.port, d.port),
    database: str(spec.database, d.database),
    user: str(spec.user, d.user),
    password: savedSecret(spec.password),
    query: str(spec.query, d.query),
    hostname: str(spec.hostname),
    recordType: str(spec.recordType, d.recordType),
    expected: str(spec.expected),
    server: str(spec.server),
    grace: str(spec.grace, d.grace),
    vars: Object.keys(obj(spec.vars)).map((name) => ({ name, secret: true, value: savedSecret(obj(spec.vars)[name]) })),
    steps: spec.type === 'workflow' ? JSON.stringify(spec.steps, null, 2) : d.steps,
  };
}

/** A draft that cannot become a definition; `field` names the input. */
export class DraftError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** A secret's value to send: what was typed, else the mask for "keep the saved one", else nothing. */
function secretValue(s: Secret): string | undefined {
  if (s.value !== '') return s.value;
  return s.saved && !s.removed ? MASK : undefined;
}

/** A password to send: as {@link secretValue}, but a removed one is null (left out, the API keeps it). */
function passwordValue(s: Secret): string | null | undefined {
  return s.saved && s.removed && s.value === '' ? null : secretValue(s);
}

/**
 * A header or variable map from rows. A kept secret goes back as the mask under its saved name: the
 * API finds the saved value by name, so a renamed credential header has to be typed again.
 */
function pairs(rows: PairRow[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of rows) {
    const name = r.name.trim();
    const v = secretValue(r.value);
    if (name && v !== undefined) out[name] = v;
  }
  return out;
}

/** Parses a JSON field of the form; `what` says what it must be. */
function json(text: string, field: string, what: 'array' | 'value'): unknown {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new DraftError(field, `not valid JSON: ${(err as Error).message}`);
  }
  if (what === 'array' && !Array.isArray(v)) throw new DraftError(field, 'expected a JSON array of steps');
  return v;
}

const optional = (v: string) => (v.trim() === '' ? undefined : v.trim());
const integer = (v: string, field: string): number | undefined => {
  if (v.trim() === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new DraftError(field, 'expected a whole number');
  return n;
};

/**
 * The definition to send. Fields the form does not show (JSON assertions, redirect limits…) are kept
 * from the saved definition when the type is unchanged; undefined values are left out when sent.
 */
export function specOf(d: Draft, saved?: MonitorSpecInput): MonitorSpecInput {
  const { source: _s, file: _f, createdAt: _c, updatedAt: _u, status: _st, pushToken: _p, pushPath: _pp, ...base } = saved && saved.type === d.type ? (saved as Record<string, unknown>) : ({} as Record<string, unknown>);
  const common = {
    id: d.id.trim(),
    name: d.name.trim(),
    type: d.type,
    system: optional(d.system),
    description: d.description,
    enabled: d.enabled,
    interval: optional(d.interval),
    timeout: optional(d.timeout),
    retries: integer(d.retries, 'retries'),
  };
  const dbPort = () => integer(d.port, 'port');
  let own: Record<string, unknown>;
  switch (d.type) {
    case 'http': {
      const status = d.expectStatus.trim() === '' ? undefined : d.expectStatus.split(/[\s,]+/).filter(Boolean).map((s) => integer(s, 'expect.status'));
      own = {
        url: d.url.trim(),
        method: d.method,
        headers: pairs(d.headers),
        body: d.jsonBody.trim() !== '' ? json(d.jsonBody, 'body', 'value') : secretValue(d.body),
        followRedirects: d.followRedirects,
        expect: { ...obj(base.expect), status, keyword: optional(d.keyword), keywordAbsent: optional(d.keywordAbsent), maxResponseTime: optional(d.maxResponseTime) },
        tls: { ...obj(base.tls), insecure: d.tlsInsecure },
      };
      break;
    }
    case 'workflow':
      own = { vars: pairs(d.vars), steps: json(d.steps, 'steps', 'array'), tls: { ...obj(base.tls), insecure: d.tlsInsecure } };
      break;
    case 'tcp':
      own = { host: d.host.trim(), port: integer(d.port, 'port') };
      break;
    case 'dns':
      own = { hostname: d.hostname.trim(), recordType: d.recordType, expected: optional(d.expected), server: optional(d.server) };
      break;
    case 'postgres':
      own = { host: optional(d.host), port: dbPort(), database: optional(d.database), user: optional(d.user), password: passwordValue(d.password), query: optional(d.query) };
      break;
    case 'mysql':
      own = { host: optional(d.host), port: dbPort(), user: optional(d.user), password: passwordValue(d.password) };
      break;
    case 'redis':
      own = { host: optional(d.host), port: dbPort(), password: passwordValue(d.password) };
      break;
    case 'push':
      own = { grace: optional(d.grace) };
      break;
    default:
      throw new DraftError('type', `unknown monitor type "${d.type}"`);
  }
  return { ...base, ...common, ...own } as MonitorSpecInput;
}
