/**
 * Validation of a posted change (`POST /api/v1/changes`, `vigil change`): every problem names its
 * field, unknown fields are refused (a typo such as `verison` must not vanish silently), and every
 * text has a length limit. Pure: `now` is an argument.
 */
import type { ChangeAttributes, ChangeKind, ChangeSource } from '../api/contract.ts';
import type { NewChange } from '../store/state/changes.ts';

/** The kinds of change, in the order they are offered. */
export const CHANGE_KINDS: readonly ChangeKind[] = ['deploy', 'config', 'feature_flag', 'infrastructure', 'rollback', 'restart', 'other'];

/** A refused change: `field` names what is wrong. */
export class ChangeInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

const FIELDS = new Set(['service', 'namespace', 'kind', 'version', 'previousVersion', 'description', 'timestamp', 'source', 'author', 'commit', 'attributes']);
const LIMITS = { service: 256, namespace: 256, version: 128, previousVersion: 128, description: 4096, author: 256, commit: 128, source: 64 } as const;
const MAX_ATTRIBUTES = 50;
const MAX_ATTRIBUTE_KEY = 128;
const MAX_ATTRIBUTE_VALUE = 1024;
/** A change may be announced ahead of time a little (clock skew, a scheduled flag flip), not a day. */
const MAX_FUTURE_MS = 24 * 3_600_000;
const EARLIEST = Date.UTC(2000, 0, 1);
// Control characters would garble tables and terminals; newlines are fine in a description only.
const CONTROL = /[\u0000-\u001f\u007f]/;
const CONTROL_BUT_NEWLINES = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

function text(body: Record<string, unknown>, field: keyof typeof LIMITS, required: boolean): string | null {
  const v = body[field];
  if (v === undefined || v === null || v === '') {
    if (required) throw new ChangeInputError(field, 'is required');
    return null;
  }
  if (typeof v !== 'string') throw new ChangeInputError(field, `expected a string, got ${Array.isArray(v) ? 'an array' : typeof v}`);
  const t = v.trim();
  if (t === '' && required) throw new ChangeInputError(field, 'is required');
  if (t.length > LIMITS[field]) throw new ChangeInputError(field, `at most ${LIMITS[field]} characters (got ${t.length})`);
  if ((field === 'description' ? CONTROL_BUT_NEWLINES : CONTROL).test(t)) throw new ChangeInputError(field, 'must not hold control characters');
  return t === '' ? null : t;
}

/** Parses `timestamp`: ISO-8601 text or Unix milliseconds; absent means now. */
export function parseChangeTime(v: unknown, now: number): number {
  if (v === undefined || v === null || v === '') return now;
  let ms: number;
  if (typeof v === 'number') ms = v;
  else if (typeof v === 'string' && /^\d{12,16}$/.test(v.trim())) ms = Number(v.trim());
  else if (typeof v === 'string') ms = Date.parse(v);
  else throw new ChangeInputError('timestamp', 'expected an ISO-8601 time or Unix milliseconds');
  if (!Number.isFinite(ms)) throw new ChangeInputError('timestamp', `"${String(v).slice(0, 40)}" is not an ISO-8601 time or Unix milliseconds`);
  if (ms < EARLIEST) throw new ChangeInputError('timestamp', 'before 2000-01-01 (seconds instead of milliseconds?)');
  if (ms > now + MAX_FUTURE_MS) throw new ChangeInputError('timestamp', 'more than a day in the future');
  return Math.round(ms);
}

function attributes(v: unknown): ChangeAttributes {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new ChangeInputError('attributes', 'expected an object of names to strings, numbers or booleans');
  const entries = Object.entries(v);
  if (entries.length > MAX_ATTRIBUTES) throw new ChangeInputError('attributes', `at most ${MAX_ATTRIBUTES} attributes (got ${entries.length})`);
  const out: ChangeAttributes = {};
  for (const [k, x] of entries) {
    const field = `attributes.${k.slice(0, 40)}`;
    if (k === '' || k.length > MAX_ATTRIBUTE_KEY || CONTROL.test(k)) throw new ChangeInputError(field, `names are 1 to ${MAX_ATTRIBUTE_KEY} printable characters`);
    if (typeof x === 'string') {
      if (x.length > MAX_ATTRIBUTE_VALUE) throw new ChangeInputError(field, `at most ${MAX_ATTRIBUTE_VALUE} characters`);
      out[k] = x;
    } else if ((typeof x === 'number' && Number.isFinite(x)) || typeof x === 'boolean') {
      out[k] = x;
    } else {
      throw new ChangeInputError(field, 'expected a string, a finite number or a boolean');
    }
  }
  return out;
}

/**
 * A posted body as the change to record. `source` says how it came: `cli` from `vigil change`;
 * `detected` is Vigil's own and refused; any other name (the demo sends `vigil-demo`, a pipeline its
 * tool's name) is an `api` change that keeps the name as its `reporter` attribute.
 */
export function parseChangeInput(body: unknown, now: number): NewChange {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ChangeInputError('body', 'expected a JSON object');
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) if (!FIELDS.has(k)) throw new ChangeInputError(k.slice(0, 60), `unknown field; expected one of ${[...FIELDS].join(', ')}`);
  const service = text(b, 'service', true)!;
  const kindValue = b.kind;
  if (kindValue === undefined || kindValue === null || kindValue === '') throw new ChangeInputError('kind', `is required: one of ${CHANGE_KINDS.join(', ')}`);
  if (typeof kindValue !== 'string' || !(CHANGE_KINDS as readonly string[]).includes(kindValue)) {
    throw new ChangeInputError('kind', `"${String(kindValue).slice(0, 40)}" is not one of ${CHANGE_KINDS.join(', ')}`);
  }
  const kind = kindValue as ChangeKind;
  const attrs = attributes(b.attributes);
  const sender = text(b, 'source', false);
  let source: ChangeSource = 'api';
  if (sender === 'detected') throw new ChangeInputError('source', '"detected" is reserved for changes Vigil detects itself');
  if (sender === 'cli') source = 'cli';
  else if (sender && sender !== 'api' && attrs.reporter === undefined) attrs.reporter = sender;
  return {
    at: parseChangeTime(b.timestamp, now),
    service,
    namespace: text(b, 'namespace', false) ?? '',
    kind,
    version: text(b, 'version', false),
    previousVersion: text(b, 'previousVersion', false),
    description: text(b, 'description', false) ?? '',
    author: text(b, 'author', false),
    commit: text(b, 'commit', false),
    source,
    attributes: attrs,
    createdAt: now,
  };
}
