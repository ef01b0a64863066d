/**
 * The monitor form's model: a flat draft of strings the inputs edit, built from a definition and turned
 * back into one. Secrets (passwords, credential headers, request bodies, workflow variables) are
 * write-only: the draft never holds a saved secret's value, only that one is set. A secret the user
 * leaves alone is sent back exactly as the API returned it (the API keeps the stored secret for its
 * mask); one the user types replaces it; one the user removes is left out.
 */
import type { MonitorSpecInput } from './api.ts';

/** The mask the API shows in place of a saved secret, and that it reads back as "unchanged". */
export const MASK = '********';

/** Header names whose values are credentials (the server masks the same ones). */
export const SENSITIVE_HEADER = /^(authorization|proxy-authorization|cookie|x-api-key|api-key|x-auth-token)$/i;

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

/** A header or workflow variable row; `orig` is its saved name, which finds its kept secret. */
export interface PairRow {
  name: string;
  value: Secret;
  secret: boolean;
  orig?: string;
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
  grace: string;
  vars: PairRow[];
  /** Workflow steps as JSON, secrets shown as {@link MASK}. */
  steps: string;
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
    grace: '30s',
    vars: [],
    steps: '[\n  { "name": "step 1", "url": "https://", "method": "GET" }\n]',
  };
}

/** Header rows of a saved header map: credential values become kept secrets. */
function headerRows(h: unknown): PairRow[] {
  return Object.entries(obj(h)).map(([name, v]) => {
    const secret = SENSITIVE_HEADER.test(name) || v === MASK;
    return { name, orig: name, secret, value: secret ? savedSecret(v) : plain(str(v)) };
  });
}

/** Steps as the form shows them: bodies and credential headers replaced by {@link MASK}. */
function maskSteps(steps: unknown): string {
  if (!Array.isArray(steps)) return '[]';
  const masked = steps.map((s) => {
    const st = obj(s);
    const headers = Object.fromEntries(Object.entries(obj(st.headers)).map(([k, v]) => [k, SENSITIVE_HEADER.test(k) ? MASK : v]));
    return { ...st, ...(st.headers ? { headers } : {}), ...(isSet(st.body) ? { body: MASK } : {}) };
  });
  return JSON.stringify(masked, null, 2);
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
    body: savedSecret(spec.body),
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
    grace: str(spec.grace, d.grace),
    vars: Object.keys(obj(spec.vars)).map((name) => ({ name, orig: name, secret: true, value: savedSecret(obj(spec.vars)[name]) })),
    steps: spec.type === 'workflow' ? maskSteps(spec.steps) : d.steps,
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

/** A secret's value to send: what was typed, else the saved one exactly as the API gave it, else nothing. */
function secretValue(s: Secret, saved: unknown): unknown {
  if (s.value !== '') return s.value;
  return s.saved && !s.removed ? saved : undefined;
}

/** A header or variable map from rows, kept secrets taken from the saved map by their saved name. */
function pairs(rows: PairRow[], saved: unknown): Record<string, string> {
  const old = obj(saved);
  const out: Record<string, string> = {};
  for (const r of rows) {
    const name = r.name.trim();
    if (!name) continue;
    const v = secretValue(r.value, r.orig === undefined ? undefined : old[r.orig]);
    if (typeof v === 'string') out[name] = v;
  }
  return out;
}

/** Workflow steps from the JSON text, each {@link MASK} left in place replaced by the saved step's value. */
function unmaskSteps(text: string, saved: unknown): unknown[] {
  let steps: unknown;
  try {
    steps = JSON.parse(text);
  } catch (err) {
    throw new DraftError('steps', `not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(steps)) throw new DraftError('steps', 'expected a JSON array of steps');
  const old = Array.isArray(saved) ? saved : [];
  return steps.map((s, i) => {
    const st = obj(s);
    const before = obj(old[i]);
    const headers = Object.fromEntries(Object.entries(obj(st.headers)).map(([k, v]) => [k, v === MASK ? obj(before.headers)[k] : v]).filter(([, v]) => v !== undefined));
    const out: Record<string, unknown> = { ...st, ...(st.headers ? { headers } : {}) };
    if (st.body === MASK) {
      if (before.body === undefined) delete out.body;
      else out.body = before.body;
    }
    return out;
  });
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
        headers: pairs(d.headers, base.headers),
        body: secretValue(d.body, base.body),
        followRedirects: d.followRedirects,
        expect: { ...obj(base.expect), status, keyword: optional(d.keyword), keywordAbsent: optional(d.keywordAbsent), maxResponseTime: optional(d.maxResponseTime) },
        tls: { ...obj(base.tls), insecure: d.tlsInsecure },
      };
      break;
    }
    case 'workflow':
      own = { vars: pairs(d.vars, base.vars), steps: unmaskSteps(d.steps, base.steps), tls: { ...obj(base.tls), insecure: d.tlsInsecure } };
      break;
    case 'tcp':
      own = { host: d.host.trim(), port: integer(d.port, 'port') };
      break;
    case 'dns':
      own = { hostname: d.hostname.trim(), recordType: d.recordType, expected: optional(d.expected) };
      break;
    case 'postgres':
      own = { host: optional(d.host), port: dbPort(), database: optional(d.database), user: optional(d.user), password: secretValue(d.password, base.password), query: optional(d.query) };
      break;
    case 'mysql':
      own = { host: optional(d.host), port: dbPort(), user: optional(d.user), password: secretValue(d.password, base.password) };
      break;
    case 'redis':
      own = { host: optional(d.host), port: dbPort(), password: secretValue(d.password, base.password) };
      break;
    case 'push':
      own = { grace: optional(d.grace) };
      break;
    default:
      throw new DraftError('type', `unknown monitor type "${d.type}"`);
  }
  return { ...base, ...common, ...own } as MonitorSpecInput;
}
