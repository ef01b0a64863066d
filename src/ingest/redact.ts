/**
 * The redaction processor: runs on every batch before it is queued for storage, so sensitive data
 * never lands in the store. It visits every string a row stores — bodies, names, messages, the
 * promoted resource columns, scope names, event and link attributes — and every attribute value at
 * any depth. Two kinds of rules:
 * - key rules: an attribute whose key names a secret (`password`, `accessToken`, `X-Api-Key`,
 *   `session_id`, `credit_card`…, compared lowercased without `_ - .` separators) loses its whole value;
 * - text rules: secrets inside text — `key=value` / `key: value` / `"key":"value"` pairs with a
 *   secret-naming key, authorization and cookie headers, URL credentials, vendor token formats
 *   (Vigil, GitHub, GitLab, Slack, Stripe, Google, AWS, npm, SendGrid, OpenAI/Anthropic), JWTs, PEM
 *   private keys, e-mail addresses and payment card numbers (issuer prefix, length and Luhn checked,
 *   so order numbers and timestamps survive).
 * The redactor runs on the ingest hot path: every rule has a cheap `hint` that most strings fail,
 * and key verdicts are cached. Rules are configurable; every replacement is counted per rule.
 */
import type { Attributes, AttrValue, ResourceInfo, ScopeInfo, TelemetryBatch } from '../model/telemetry.ts';

/** Groups of a match (undefined for groups that did not take part). */
export type MatchGroups = (string | undefined)[];

/** A text rule: a regular expression and its replacement. */
export interface RedactionRule {
  name: string;
  pattern: RegExp;
  /** Replacement text (`$1`… refer to groups), or a function of the match's groups. */
  replacement: string | ((groups: MatchGroups) => string);
  /** Shortest text the pattern can match: shorter strings skip the rule without a look. */
  minLength?: number;
  /** Cheap test that must pass before the regex runs (most strings skip all rules). */
  hint?: (s: string) => boolean;
  /** Extra check of a match (with its groups, the whole text and the match's offset); when false the match is kept. */
  accept?: (match: string, groups: MatchGroups, input: string, offset: number) => boolean;
}

/** Luhn checksum, so 16-digit ids that are not card numbers stay. */
export function luhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * Whether a digit string can be a payment card number: an issuer prefix with its lengths (Visa,
 * Mastercard, Amex, Diners, Discover, JCB, UnionPay, Maestro) and the Luhn checksum. The prefix check
 * keeps epoch timestamps (which start with 1) and most counters from reading as cards.
 */
export function isCardNumber(digits: string): boolean {
  const n = digits.length;
  if (n < 13 || n > 19 || !luhn(digits)) return false;
  const p2 = Number(digits.slice(0, 2));
  const p4 = Number(digits.slice(0, 4));
  if (digits[0] === '4') return n === 13 || n === 16 || n === 19; // Visa
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return n === 16; // Mastercard
  if (p2 === 34 || p2 === 37) return n === 15; // Amex
  if ((p4 >= 3000 && p4 <= 3059) || p2 === 36 || p2 === 38 || p2 === 39) return n >= 14; // Diners
  if (p4 >= 3528 && p4 <= 3589) return n >= 16; // JCB
  if (p2 === 50 || (p2 >= 56 && p2 <= 69)) return n >= 16; // Discover, UnionPay, Maestro
  return false;
}

/**
 * What a key rule says about an attribute key: `keep` the value (its text still goes through the text
 * rules); `secret`: the value goes whatever its type (a PIN or password can be a number); `text`: a
 * plural such as `tokens`, whose strings go but numbers stay (`gen_ai.usage.input_tokens` is a count).
 */
export type KeyVerdict = 'keep' | 'secret' | 'text';

// Normalised key names (lowercase, no `_ - .` or spaces) that are secrets as they are …
const SECRET_KEY_NAMES = new Set(['pass', 'pwd', 'auth', 'session', 'jwt', 'ssn', 'cvv', 'cvc', 'otp', 'creditcard', 'ccnumber', 'phpsessid']);
// … or at their end (`userpassword`, `accesstoken`, `xapikey`, `proxyauthorization`, `jsessionid`).
const SECRET_KEY_SUFFIXES = [
  'password', 'passwd', 'passphrase', 'secret', 'secretkey', 'token', 'apikey', 'accesskey', 'privatekey',
  'credential', 'credentials', 'cookie', 'authorization', 'sessionid', 'signature', 'cardnumber', 'creditcard',
];
const SECRET_KEY_PLURALS = ['tokens', 'secrets', 'passwords', 'cookies', 'signatures'];
const KEY_SEPARATORS = /[\s_.-]/g;

function verdictOf(normalised: string): KeyVerdict {
  if (SECRET_KEY_NAMES.has(normalised) || SECRET_KEY_SUFFIXES.some((s) => normalised.endsWith(s))) return 'secret';
  return SECRET_KEY_PLURALS.some((s) => normalised.endsWith(s)) ? 'text' : 'keep';
}

/**
 * The default key rule: the whole key and its last dotted segment, lowercased without separators,
 * against the secret names and suffixes. `token.count` and `max_tokens` are counts, not secrets:
 * neither form ends with a secret word (and plurals keep numbers).
 */
export function defaultKeyRule(key: string): KeyVerdict {
  const whole = verdictOf(key.toLowerCase().replace(KEY_SEPARATORS, ''));
  const dot = key.lastIndexOf('.');
  if (whole === 'secret' || dot < 0) return whole;
  const last = verdictOf(key.slice(dot + 1).toLowerCase().replace(KEY_SEPARATORS, ''));
  return last === 'keep' ? whole : last;
}

/** A key rule: what to do with the value of an attribute of this key. */
export type KeyRule = (key: string) => KeyVerdict;

const REDACTED = '[REDACTED]';
// One word of prose (`expired`, `Identifier`): after `token` or `Basic` it is a sentence, not a credential.
const PROSE_WORD = /^[A-Z]?[a-z]+[.!?]?$/;
/** Whether a value next to a word that is also prose (`token`, `auth`, `Basic`) looks like a credential. */
function looksSecret(v: string): boolean {
  return v.length >= 6 && !PROSE_WORD.test(v);
}
// SQL placeholders (`password = ?`, `= $1`, `= :pw`, `= %s`) are not secrets.
const PLACEHOLDER = /^(?:\?|\$\d+|:[A-Za-z_]\w*|%s|@\w+|null|true|false|undefined)$/i;

// Key words of `key=value` pairs. Strong words may end a longer key (`userPassword=`, `DB_SECRET=`,
// `X-Api-Key:`); bounded words are too short to stand inside another word (`bypass=`, `oauth=`).
const KV_STRONG = String.raw`password|passwd|passphrase|secret(?:[_.-]?key)?|token|api[_.-]?key|access[_.-]?key|private[_.-]?key|credentials?|signature`;
const KV_BOUNDED = String.raw`pass|pwd|auth|jwt|session(?:[_.-]?id)?|ssn|cvv|cvc|sig`;
// Words that also occur in prose (`unexpected token: punc`): after `key: ` their value must look like a credential.
const KV_PROSE = /^(?:token|auth|session|sig|signature|credentials?)$/i;
// After the key: its closing quote (maybe JSON-escaped), `=`, `:`, `=>` or `:=`.
const KV_SEPARATOR = String.raw`(\\?["']?[ \t]*(?:=>|:=|[:=])[ \t]*)`;
/** The value after a key: a JSON string (maybe escaped inside another), a single-quoted string, or `bare`. */
function kvValue(bare: string): string {
  return String.raw`(?:(\\?")((?:[^"\\\n]|\\[^"])*)\\?"|'([^'\n]*)'|(${bare}))`;
}
const AUTH_SCHEMES = String.raw`bearer|basic|token|digest|splunk|negotiate|aws4-hmac-sha256`;
const SCHEME_PREFIX = new RegExp(String.raw`^(?:${AUTH_SCHEMES})[ \t]+`, 'i');

/** The value of a `key=value` match (groups: key, separator, quote, quoted value, single-quoted value, bare value). */
function kvValueOf(g: MatchGroups): string {
  return g[3] ?? g[4] ?? g[5] ?? '';
}

/** The match with its value redacted, its quotes and a leading auth scheme (`Bearer `) kept for debugging. */
function redactKvValue(g: MatchGroups): string {
  const value = kvValueOf(g);
  const redacted = (SCHEME_PREFIX.exec(value)?.[0] ?? '') + REDACTED;
  return g[0]! + g[1]! + (g[2] !== undefined ? g[2] + redacted + g[2] : g[4] !== undefined ? `'${redacted}'` : redacted);
}

/** Whether a value is already redacted or empty (the redactor must be idempotent: shared resources come back). */
function emptyOrRedacted(value: string): boolean {
  const rest = value.replace(SCHEME_PREFIX, '');
  return rest === '' || rest.startsWith('[REDACTED');
}

function ci(words: string): (s: string) => boolean {
  const re = new RegExp(words, 'i');
  return (s) => re.test(s);
}

/** The default text rules, in order: specific formats first, so later rules see their `[REDACTED…]`. */
export const DEFAULT_RULES: RedactionRule[] = [
  {
    name: 'private_key',
    minLength: 27,
    // To the END line, or to the end of the base64 run when it is cut off. The body is one character
    // class, so a text of many BEGIN lines is one match, not one scan to the end per line.
    // (Backslashes too: inside JSON text the line breaks are `\n`.)
    pattern: /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----(?:[A-Za-z0-9+/=\s:,.\\-]*?-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----|[A-Za-z0-9+/=\s:,.\\-]*)/g,
    replacement: '[REDACTED:private_key]',
    hint: (s) => s.includes('PRIVATE KEY'),
  },
  // URL credentials before e-mail: `user:pass@host` would otherwise read as an address.
  {
    name: 'url_userinfo',
    minLength: 8,
    // Lookbehinds instead of \b throughout: a match starts only where a run of its characters starts,
    // so a long run (`a.a.a.…://`) is scanned once, not once per position (ingest senders are untrusted).
    pattern: /((?<![a-z0-9+.-])[a-z][a-z0-9+.-]{0,30}:\/\/)([^/\s:@]+:[^/\s@]+)@/gi,
    replacement: '$1[REDACTED]@',
    hint: (s) => s.includes('://'),
    accept: (_m, g) => !g[1]!.startsWith('[REDACTED'),
  },
  { name: 'slack_webhook', minLength: 26, pattern: /(hooks\.slack\.com\/(?:services|workflows)\/)[A-Za-z0-9/_-]+/g, replacement: '$1[REDACTED]', hint: (s) => s.includes('hooks.slack.com') },
  { name: 'jwt', minLength: 18, pattern: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, replacement: '[REDACTED:jwt]', hint: (s) => s.includes('eyJ') },
  {
    // Vendor token formats, recognisable by their prefix wherever they appear.
    name: 'known_token',
    minLength: 15,
    pattern:
      /\b(?:vgl_[A-Za-z0-9_-]{20,}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,}|glpat-[A-Za-z0-9_-]{20,}|xox[abeprs]-[A-Za-z0-9-]{10,}|[rs]k_(?:live|test)_[A-Za-z0-9]{16,}|AIza[A-Za-z0-9_-]{35}|A(?:KI|SI)A[A-Z0-9]{16}|npm_[A-Za-z0-9]{36}|SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}|sk-[A-Za-z0-9_-]{32,})/g,
    replacement: '[REDACTED:token]',
    hint: (s) => /_|-|SG\.|AIza|A[KS]IA/.test(s),
  },
  {
    // The whole header value (Digest carries several fields), to the end of the line when unquoted.
    name: 'authorization',
    minLength: 15,
    pattern: new RegExp(String.raw`((?<![A-Za-z0-9])(?:proxy[_-]?)?authorization)${KV_SEPARATOR}${kvValue(String.raw`[^\s"'][^\r\n]*`)}`, 'gi'),
    replacement: redactKvValue,
    hint: ci('authorization'),
    accept: (_m, g) => {
      const value = kvValueOf(g);
      return !emptyOrRedacted(value) && (SCHEME_PREFIX.test(value) || looksSecret(value.split(/[ \t]/)[0]!));
    },
  },
  {
    name: 'cookie',
    minLength: 8,
    // A cookie header value starts with `name=` (a bounded name, so `cookie: x` prose is rejected quickly).
    pattern: /(?<![A-Za-z0-9])((?:set-)?cookie)(\\?["']?[ \t]*[:=][ \t]*\\?["']?)([^\s=;,"'\\]{1,128}=[^\r\n"'\\]*)/gi,
    replacement: `$1$2${REDACTED}`,
    hint: ci('cookie'),
    accept: (_m, g) => !g[2]!.startsWith('[REDACTED'),
  },
  {
    name: 'secret_kv',
    minLength: 5,
    pattern: new RegExp(String.raw`((?<![A-Za-z0-9])(?:${KV_BOUNDED})|${KV_STRONG})${KV_SEPARATOR}${kvValue(String.raw`[^\s&"',;{}\[\]()<>]+`)}`, 'gi'),
    replacement: redactKvValue,
    hint: ci('pass|pwd|secret|token|key|auth|sess|jwt|sig|cred|ssn|cvv|cvc'),
    accept: (_m, g) => {
      const value = kvValueOf(g);
      if (emptyOrRedacted(value) || PLACEHOLDER.test(value)) return false;
      const word = g[0]!;
      // `PWD=/srv/app` is the working directory, not a password.
      if (/^pwd$/i.test(word) && (value[0] === '/' || value[0] === '~')) return false;
      // `key: value` without quotes is also how prose reads (`unexpected token: punc`).
      return g[5] === undefined || !g[1]!.includes(':') || !KV_PROSE.test(word) || looksSecret(value);
    },
  },
  {
    // `Bearer x`, `token x`, `Basic x` in any case; a prose word after them (`token expired`) stays.
    name: 'auth_header',
    minLength: 13,
    // The value is one token (base64 may end in `=`), not a `key=value` pair (`token grant_type=refresh_token`).
    pattern: new RegExp(String.raw`\b(${AUTH_SCHEMES})([ \t]+)([A-Za-z0-9._~+/-]{8,}=*)(?![A-Za-z0-9._~+/=-])`, 'gi'),
    replacement: `$1$2${REDACTED}`,
    hint: ci(AUTH_SCHEMES),
    accept: (_m, g) => looksSecret(g[2]!),
  },
  { name: 'email', minLength: 6, pattern: /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g, replacement: '[REDACTED:email]', hint: (s) => s.includes('@') },
  {
    // Contiguous digits (also glued to letters: `card4111…exp`), or groups of 4 (4-6-5 for Amex)
    // separated by one consistent space, dash or dot.
    name: 'card',
    minLength: 13,
    pattern: /(?<!\d)(?:\d{13,19}|\d{4}([ .-])\d{4}\1\d{4}\1\d{1,7}|\d{4}([ .-])\d{6}\2\d{4,5})(?!\d)/g,
    replacement: '[REDACTED:card]',
    accept: (m, _g, input, offset) => isCardNumber(m.replace(/[ .-]/g, '')) && !insideHexId(input, offset, m.length),
  },
];

const HEX = /^[0-9a-f]+$/;
function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}
// How far around a match to look for the rest of its word: bounded, so many matches in one long word
// cost linear time.
const HEX_SCAN = 64;
/** Whether digits at `offset` are part of a lowercase hex id (trace id, SHA, hash) rather than standalone. */
function insideHexId(input: string, offset: number, length: number): boolean {
  let start = offset;
  let end = offset + length;
  const min = Math.max(0, offset - HEX_SCAN);
  const max = Math.min(input.length, end + HEX_SCAN);
  while (start > min && isAlnum(input.charCodeAt(start - 1))) start--;
  while (end < max && isAlnum(input.charCodeAt(end))) end++;
  return end - start > length && end - start >= 24 && HEX.test(input.slice(start, end));
}

/** Counts replacements per rule name. */
export type RedactionCounter = (rule: string, n: number) => void;

// Keys repeat across rows (`http.route` on every span), and so do many short values (routes, methods,
// statements, user agents): each key's verdict, and each short string no rule changes, is worked out
// once. Both caches are bounded (cleared when full) since senders choose keys and values.
const CACHE_LIMIT = 8192;
const CACHED_TEXT_LENGTH = 256;

/** Applies redaction rules to batches in place (the batch is Vigil's own, freshly decoded). */
export class Redactor {
  private readonly keyCache = new Map<string, KeyVerdict>();
  private readonly clean = new Set<string>();
  private readonly minLength: number;

  constructor(
    private readonly rules: RedactionRule[],
    private readonly keyRule: KeyRule | undefined,
    private readonly count: RedactionCounter = () => undefined,
  ) {
    this.minLength = Math.min(...rules.map((r) => r.minLength ?? 1));
  }

  /** Redacts a string; returns it unchanged (same reference) when nothing matched. */
  text(s: string): string {
    if (s.length < this.minLength) return s;
    const cacheable = s.length <= CACHED_TEXT_LENGTH;
    if (cacheable && this.clean.has(s)) return s;
    let out = s;
    for (const rule of this.rules) {
      if ((rule.minLength !== undefined && out.length < rule.minLength) || (rule.hint && !rule.hint(out))) continue;
      let n = 0;
      const next = out.replace(rule.pattern, (match: string, ...args: unknown[]) => {
        // args: the groups, then the offset and the whole input (no named groups in these rules).
        const groups = args.slice(0, -2) as MatchGroups;
        if (rule.accept && !rule.accept(match, groups, args[args.length - 1] as string, args[args.length - 2] as number)) return match;
        n++;
        if (typeof rule.replacement === 'function') return rule.replacement(groups);
        return rule.replacement.replace(/\$(\d)/g, (_, i: string) => groups[Number(i) - 1] ?? '');
      });
      if (n) {
        out = next;
        this.count(rule.name, n);
      }
    }
    // Only unchanged strings are remembered, so every replacement is still counted each time.
    if (cacheable && out === s) {
      if (this.clean.size >= CACHE_LIMIT) this.clean.clear();
      this.clean.add(s);
    }
    return out;
  }

  private verdict(key: string): KeyVerdict {
    let v = this.keyCache.get(key);
    if (v === undefined) {
      v = this.keyRule ? this.keyRule(key) : 'keep';
      if (this.keyCache.size >= CACHE_LIMIT) this.keyCache.clear();
      this.keyCache.set(key, v);
    }
    return v;
  }

  private value(v: AttrValue): AttrValue {
    if (typeof v === 'string') return this.text(v);
    // A card number sent as a JSON number (13+ digits) is still a card number.
    if (typeof v === 'number') {
      if (v >= 1e12 && Number.isSafeInteger(v) && isCardNumber(String(v))) {
        this.count('card', 1);
        return '[REDACTED:card]';
      }
      return v;
    }
    if (Array.isArray(v)) return v.map((x) => this.value(x));
    if (v && typeof v === 'object') return this.attributes(v);
    return v;
  }

  /** Redacts attribute values at every depth; a key that names a secret loses its whole value. */
  attributes(a: Attributes): Attributes {
    let renamed: [string, string][] | undefined;
    for (const key of Object.keys(a)) {
      const v = a[key]!;
      const verdict = this.verdict(key);
      if (verdict !== 'keep' && v !== null && v !== '' && typeof v !== 'boolean' && v !== REDACTED && (verdict === 'secret' || typeof v !== 'number')) {
        a[key] = REDACTED;
        this.count('secret_key', 1);
      } else a[key] = this.value(v);
      // Keys are sender-chosen too (a HEC field named after an e-mail address); usually a cache hit.
      const k = this.text(key);
      if (k !== key) (renamed ??= []).push([key, k]);
    }
    for (const [from, to] of renamed ?? []) {
      a[to] = a[from]!;
      delete a[from];
    }
    return a;
  }

  private resource(r: ResourceInfo): void {
    this.attributes(r.attributes);
    // The promoted columns are copies of resource attributes: the same rules give the same result.
    r.serviceName = this.text(r.serviceName);
    r.serviceNamespace = this.text(r.serviceNamespace);
    r.serviceVersion = this.text(r.serviceVersion);
    r.hostName = this.text(r.hostName);
  }

  private scope(s: ScopeInfo): void {
    s.name = this.text(s.name);
    s.version = this.text(s.version);
  }

  /** Redacts every stored string of every record of a batch. */
  batch(b: TelemetryBatch): void {
    // Resources and scopes are shared by many records: each is redacted once.
    const seen = new Set<object>();
    const shared = (r: ResourceInfo, s: ScopeInfo) => {
      if (!seen.has(r)) {
        seen.add(r);
        this.resource(r);
      }
      if (!seen.has(s)) {
        seen.add(s);
        this.scope(s);
      }
    };
    for (const r of b.logs) {
      r.body = this.text(r.body);
      r.severityText = this.text(r.severityText);
      this.attributes(r.attributes);
      shared(r.resource, r.scope);
    }
    for (const s of b.spans) {
      s.name = this.text(s.name);
      s.statusMessage = this.text(s.statusMessage);
      s.traceState = this.text(s.traceState);
      this.attributes(s.attributes);
      for (const e of s.events) {
        e.name = this.text(e.name);
        this.attributes(e.attributes);
      }
      for (const l of s.links) {
        l.traceState = this.text(l.traceState);
        this.attributes(l.attributes);
      }
      shared(s.resource, s.scope);
    }
    for (const m of b.metrics) {
      m.name = this.text(m.name);
      m.description = this.text(m.description);
      m.unit = this.text(m.unit);
      this.attributes(m.attributes);
      shared(m.resource, m.scope);
    }
  }
}

/** Builds the redactor from configuration: the defaults (unless turned off) plus custom rules. */
export function buildRedactor(config: { defaults: boolean; rules: { name: string; pattern: string; replacement: string }[] }, count: RedactionCounter): Redactor {
  const custom: RedactionRule[] = config.rules.map((r) => ({ name: r.name, pattern: new RegExp(r.pattern, 'g'), replacement: r.replacement }));
  return new Redactor([...(config.defaults ? DEFAULT_RULES : []), ...custom], config.defaults ? defaultKeyRule : undefined, count);
}
