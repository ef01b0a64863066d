/**
 * Monitor secrets are write-only (as Grafana treats data-source secrets): once saved, a password, a
 * credential header, a workflow variable, a secret-looking body field or a credential inside a URL is
 * never returned again — to any role, for API and file monitors alike — but shown as
 * {@link SECRET_MASK}. A change that sends the mask back (or, for `password`, leaves the field out)
 * keeps the saved value; a new value replaces it. A kept secret only ever goes where it went before: a
 * change that keeps one while pointing the monitor at another origin or server is refused, or anyone
 * allowed to edit a monitor could send its secrets to a server of theirs.
 *
 * Check results get the same treatment ({@link scrubResult}): URL credentials and the definition's own
 * secrets never reach results, state history or the searchable `vigil-monitors` telemetry.
 */
import { isCredentialHeader } from '../net/outbound.ts';
import { parsePath } from './json-path.ts';
import type { Expectations, MonitorSpec } from './spec.ts';
import type { CheckResult } from './result.ts';

/** What a saved secret looks like in everything returned; sent back, it keeps the saved value. */
export const SECRET_MASK = '********';

/** A change that uses the mask where nothing is saved, or keeps a secret for a new destination; names the field. */
export class SecretFieldError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'SecretFieldError';
  }
}

/** Names (headers, query parameters, JSON keys and paths) whose values are treated as secrets. */
export function isSecretName(name: string): boolean {
  return isCredentialHeader(name) || /^(pass|pw|sig|jwt)$|signature|passphrase|private/i.test(name);
}

/** A JSON path with a secret-looking key anywhere along it (`data.token`, `session.id`, `users[0].password`). */
export function isSecretPath(path: string): boolean {
  try {
    return parsePath(path).some((seg) => ('key' in seg && isSecretName(seg.key)) || ('field' in seg && isSecretName(seg.field)));
  } catch {
    return false;
  }
}

// A value that only refers to variables (`{{token}}`, `Bearer {{token}}`) holds no secret itself, so
// workflow definitions stay readable.
const TEMPLATE_ONLY = /^\s*(?:[A-Za-z]+\s+)?\{\{\s*[\w.-]+\s*\}\}\s*$/;

function secretValue(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return false;
  return !(typeof value === 'string' && TEMPLATE_ONLY.test(value));
}

// `scheme://user:password@` or `scheme://token@`, and `?name=value` / `&name=value` query parameters.
const USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/)([^\s/?#@]*)@/gi;
const QUERY_PARAM = /([?&;])([^=&#\s;]+)=([^&#\s;]*)/g;

/**
 * Replaces each credential inside URLs in `text` — the password of the user-info (or the user-info
 * itself when it has no password) and values of secret-looking query parameters — by what `replace`
 * returns for its slot (`userinfo` or `query:<name>`).
 */
function replaceUrlSecrets(text: string, replace: (slot: string, value: string) => string): string {
  const withUserinfo = text.replace(USERINFO, (_m, scheme: string, info: string) => {
    const colon = info.indexOf(':');
    if (colon < 0) return `${scheme}${replace('userinfo', info)}@`;
    return `${scheme}${info.slice(0, colon)}:${replace('userinfo', info.slice(colon + 1))}@`;
  });
  return withUserinfo.replace(QUERY_PARAM, (m, sep: string, name: string, value: string) => (isSecretName(name) && value !== '' ? `${sep}${name}=${replace(`query:${name}`, value)}` : m));
}

/** Masks credentials inside URLs anywhere in a text (a URL, an error message). */
export function maskUrlSecrets(text: string): string {
  return replaceUrlSecrets(text, () => SECRET_MASK);
}

function maskHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, isCredentialHeader(k) && secretValue(v) ? SECRET_MASK : maskUrlSecrets(v)]));
}

/** Masks the values of secret-looking keys, at any depth of a JSON body. */
function maskJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskJson);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, isSecretName(k) && secretValue(v) ? SECRET_MASK : maskJson(v)]));
  return value;
}

function maskBody<B>(body: B): B {
  // A text body cannot be searched for secrets reliably (form fields, XML, templates): it is masked whole.
  if (typeof body === 'string') return (body === '' ? body : SECRET_MASK) as B;
  return maskJson(body) as B;
}

/** JSON assertions on secret-looking paths compare with a secret: the expected value is masked too. */
function maskExpect(expect: Expectations): Expectations {
  if (!expect.json.some((a) => isSecretPath(a.path))) return expect;
  return {
    ...expect,
    json: expect.json.map((a) => {
      if (!isSecretPath(a.path)) return a;
      return { ...a, ...(secretValue(a.equals) ? { equals: SECRET_MASK } : {}), ...(secretValue(a.contains) ? { contains: SECRET_MASK } : {}) };
    }),
  };
}

/** A definition as the API and the UI show it to every role: each saved secret replaced by the mask. */
export function maskSpec(spec: MonitorSpec): MonitorSpec {
  switch (spec.type) {
    case 'postgres':
    case 'redis':
    case 'mysql':
      return secretValue(spec.password) ? { ...spec, password: SECRET_MASK } : spec;
    case 'http':
      return { ...spec, url: maskUrlSecrets(spec.url), headers: maskHeaders(spec.headers), expect: maskExpect(spec.expect), ...(spec.body === undefined ? {} : { body: maskBody(spec.body) }) };
    case 'workflow':
      return {
        ...spec,
        // Variables are where workflows keep logins and keys: every value is write-only.
        vars: Object.fromEntries(Object.entries(spec.vars).map(([k, v]) => [k, v === '' ? v : SECRET_MASK])),
        steps: spec.steps.map((st) => ({ ...st, url: maskUrlSecrets(st.url), headers: maskHeaders(st.headers), expect: maskExpect(st.expect), ...(st.body === undefined ? {} : { body: maskBody(st.body) }) })),
      };
    default:
      return spec;
  }
}

/** Every secret text of a definition (what {@link maskSpec} hides), for scrubbing results. */
function secretsOf(spec: MonitorSpec): string[] {
  const out: string[] = [];
  const collect = (masked: unknown, plain: unknown) => {
    if (masked === SECRET_MASK && plain !== SECRET_MASK) {
      if (typeof plain === 'string' || typeof plain === 'number') out.push(String(plain));
      else if (plain && typeof plain === 'object') out.push(...leaves(plain));
    } else if (typeof masked === 'string' && typeof plain === 'string' && masked !== plain) {
      replaceUrlSecrets(plain, (_slot, value) => (out.push(value), value));
    } else if (masked && typeof masked === 'object' && plain && typeof plain === 'object') {
      for (const [k, v] of Object.entries(masked)) collect(v, (plain as Record<string, unknown>)[k]);
    }
  };
  collect(maskSpec(spec), spec);
  // Short values (a port in a variable, "prod") would blot out ordinary words of every message: only
  // values of six characters or more are scrubbed (the masking above hides the rest in definitions).
  return [...new Set(out)].filter((s) => s.length >= 6).sort((a, b) => b.length - a.length);
}

function leaves(value: unknown): string[] {
  if (typeof value === 'string' || typeof value === 'number') return [String(value)];
  if (value && typeof value === 'object') return Object.values(value).flatMap(leaves);
  return [];
}

/** A function that masks URL credentials and the definition's own secrets in a text. */
export function secretScrubber(spec: MonitorSpec): (text: string) => string {
  const secrets = secretsOf(spec);
  return (text) => secrets.reduce((t, s) => t.split(s).join(SECRET_MASK), maskUrlSecrets(text));
}

/** Applies a text scrubber to every string of a JSON-like value; returns a new value. */
export function scrubDeep<T>(value: T, scrub: (text: string) => string): T {
  if (typeof value === 'string') return scrub(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => scrubDeep(v, scrub)) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubDeep(v, scrub)])) as T;
  return value;
}

/** A check result with URL credentials and the definition's secrets masked in its error and details. */
export function scrubResult(spec: MonitorSpec, result: CheckResult): CheckResult {
  const scrub = secretScrubber(spec);
  return { ...result, ...(result.error === undefined ? {} : { error: scrub(result.error) }), details: scrubDeep(result.details, scrub) };
}

type Json = unknown;

/**
 * Puts saved secrets back where a change sent the mask (or left out `password`), and reports which
 * fields kept a saved value. Workflow steps are matched to saved ones by name, else by position.
 */
function restore(input: Json, saved: Json, field: string, kept: string[]): Json {
  if (input === SECRET_MASK) {
    if (saved === undefined || saved === null || saved === '' || saved === SECRET_MASK) throw new SecretFieldError(field, `"${SECRET_MASK}" stands for a saved secret, and none is saved here: type the value`);
    kept.push(field);
    return saved;
  }
  if (typeof input === 'string' && input.includes(SECRET_MASK)) {
    // A URL with masked credentials: each masked slot takes the saved URL's value for the same slot.
    const savedSlots = new Map<string, string>();
    if (typeof saved === 'string') replaceUrlSecrets(saved, (slot, value) => (savedSlots.has(slot) || savedSlots.set(slot, value), value));
    return replaceUrlSecrets(input, (slot, value) => {
      if (value !== SECRET_MASK) return value;
      const v = savedSlots.get(slot);
      if (v === undefined) throw new SecretFieldError(field, `"${SECRET_MASK}" stands for a saved secret (${slot.replace('query:', 'query parameter ')}), and none is saved here: type the value`);
      kept.push(field);
      return v;
    });
  }
  if (Array.isArray(input)) return input.map((v, i) => restore(v, Array.isArray(saved) ? saved[i] : undefined, `${field}[${i}]`, kept));
  if (input && typeof input === 'object') {
    const s = saved && typeof saved === 'object' && !Array.isArray(saved) ? (saved as Record<string, Json>) : {};
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(input)) {
      const sub = field ? `${field}.${k}` : k;
      if (k === 'steps' && Array.isArray(v) && Array.isArray(s.steps)) {
        const savedSteps = s.steps as Record<string, Json>[];
        out[k] = v.map((step: Json, i) => {
          const name = step && typeof step === 'object' ? (step as Record<string, Json>).name : undefined;
          return restore(step, savedSteps.find((st) => st.name === name) ?? savedSteps[i], `${sub}[${i}]`, kept);
        });
      } else out[k] = restore(v, s[k], sub, kept);
    }
    return out;
  }
  return input;
}

/** Where a definition sends its secrets: origins of its URLs (workflow templates rendered with its variables), or a server address. */
function destinations(spec: MonitorSpec): Set<string> {
  const origin = (url: string) => (/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(url)?.[0] ?? url.split('/')[0]!).toLowerCase();
  switch (spec.type) {
    case 'http':
      return new Set([origin(spec.url)]);
    case 'workflow':
      // Variables not defined in `vars` come from earlier steps' answers and stay as written.
      return new Set(spec.steps.map((st) => origin(st.url.replace(/\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}/g, (m, name: string) => spec.vars[name] ?? m))));
    case 'postgres':
    case 'mysql':
    case 'redis':
      return new Set([`${spec.host.toLowerCase()}:${spec.port}`]);
    default:
      return new Set();
  }
}

/**
 * Turns a create or replace body into a definition: puts saved secrets back where the body sent the
 * mask (or, for `password`, left it out; `password: null` clears it), validates with `parse`, and
 * refuses to keep a saved secret for a destination the saved definition did not have.
 */
export function applySavedSecrets(body: unknown, saved: MonitorSpec | undefined, parse: (body: unknown) => MonitorSpec): MonitorSpec {
  let input = body;
  if (input && typeof input === 'object' && !Array.isArray(input)) {
    const o = { ...(input as Record<string, unknown>) };
    if (o.password === null) delete o.password;
    else if (!('password' in o) && saved && 'password' in saved && secretValue(saved.password) && o.type === saved.type) o.password = SECRET_MASK;
    input = o;
  }
  const kept: string[] = [];
  const restored = restore(input, saved, '', kept);
  const spec = parse(restored);
  if (kept.length && saved) {
    const before = destinations(saved);
    const moved = [...destinations(spec)].filter((d) => !before.has(d));
    if (moved.length || spec.type !== saved.type) {
      throw new SecretFieldError(kept[0]!, `the saved secret cannot be kept while the monitor now connects to ${moved.join(', ') || `a ${spec.type} target`}: type the secret again`);
    }
  }
  return spec;
}
