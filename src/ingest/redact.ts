/**
 * The redaction processor: runs on every batch before it is queued for storage, so sensitive data
 * never lands in the store. Default rules catch e-mail addresses, payment card numbers (Luhn-checked,
 * so order numbers survive), credentials in URLs and bearer/basic tokens in text, and replace the
 * whole value of attributes whose key names a secret (password, token, authorization, …). Rules are
 * configurable; every replacement is counted per rule.
 */
import type { Attributes, AttrValue, TelemetryBatch } from '../model/telemetry.ts';

/** A text rule: a regular expression and its replacement (`$1` etc. refer to groups). */
export interface RedactionRule {
  name: string;
  pattern: RegExp;
  replacement: string;
  /** Cheap test that must pass before the regex runs (most strings skip all rules). */
  hint?: (s: string) => boolean;
  /** Extra check of a match; when false the match is kept. */
  accept?: (match: string) => boolean;
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

const hasDigitRun = /\d{4}/;

/** The default text rules. */
export const DEFAULT_RULES: RedactionRule[] = [
  // URL credentials first: `user:pass@host` would otherwise read as an e-mail address.
  { name: 'url_userinfo', pattern: /(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+:[^/\s@]+@/gi, replacement: '$1[REDACTED]@', hint: (s) => s.includes('://') },
  {
    name: 'url_credentials',
    pattern: /([?&;](?:password|passwd|pwd|pass|token|access_token|refresh_token|id_token|api_key|apikey|secret|client_secret|auth|signature|sig)=)[^&#\s"']+/gi,
    replacement: '$1[REDACTED]',
    hint: (s) => s.includes('='),
  },
  { name: 'auth_header', pattern: /\b(Bearer|Basic|Splunk)\s+[A-Za-z0-9._~+/=-]{8,}/g, replacement: '$1 [REDACTED]', hint: (s) => /Bearer|Basic|Splunk/.test(s) },
  { name: 'email', pattern: /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g, replacement: '[REDACTED:email]', hint: (s) => s.includes('@') },
  {
    name: 'card',
    pattern: /\b(?:\d[ -]?){12,18}\d\b/g,
    replacement: '[REDACTED:card]',
    hint: (s) => hasDigitRun.test(s),
    accept: (m) => {
      const digits = m.replace(/[ -]/g, '');
      return digits.length >= 13 && digits.length <= 19 && luhn(digits);
    },
  },
];

/** Attribute keys whose values are secrets as a whole. */
export const DEFAULT_SECRET_KEYS = /(^|[._-])(password|passwd|pwd|secret|token|api[_-]?key|authorization|cookie|set-cookie|private[_-]?key|credentials?)($|[._-])/i;

/** Counts replacements per rule name. */
export type RedactionCounter = (rule: string, n: number) => void;

/** Applies redaction rules to batches in place (the batch is Vigil's own, freshly decoded). */
export class Redactor {
  constructor(
    private readonly rules: RedactionRule[],
    private readonly secretKeys: RegExp | undefined,
    private readonly count: RedactionCounter = () => undefined,
  ) {}

  /** Redacts a string; returns it unchanged (same reference) when nothing matched. */
  text(s: string): string {
    let out = s;
    for (const rule of this.rules) {
      if (rule.hint && !rule.hint(out)) continue;
      let n = 0;
      out = out.replace(rule.pattern, (match: string, ...groups: unknown[]) => {
        if (rule.accept && !rule.accept(match)) return match;
        n++;
        // Expand $1..$9 in the replacement from the match's groups.
        return rule.replacement.replace(/\$(\d)/g, (_, i: string) => String(groups[Number(i) - 1] ?? ''));
      });
      if (n) this.count(rule.name, n);
    }
    return out;
  }

  private value(v: AttrValue): AttrValue {
    if (typeof v === 'string') return this.text(v);
    if (Array.isArray(v)) return v.map((x) => this.value(x));
    if (v && typeof v === 'object') return this.attributes(v);
    return v;
  }

  /** Redacts attribute values; a key that names a secret loses its whole value. */
  attributes(a: Attributes): Attributes {
    for (const key of Object.keys(a)) {
      const v = a[key]!;
      if (this.secretKeys?.test(key) && v !== null && v !== '') {
        a[key] = '[REDACTED]';
        this.count('secret_key', 1);
      } else a[key] = this.value(v);
    }
    return a;
  }

  /** Redacts every record of a batch. */
  batch(b: TelemetryBatch): void {
    const seen = new Set<Attributes>();
    // Resources are shared by many records: each is redacted once.
    const resource = (a: Attributes) => {
      if (!seen.has(a)) {
        seen.add(a);
        this.attributes(a);
      }
    };
    for (const r of b.logs) {
      r.body = this.text(r.body);
      this.attributes(r.attributes);
      resource(r.resource.attributes);
    }
    for (const s of b.spans) {
      s.name = this.text(s.name);
      s.statusMessage = this.text(s.statusMessage);
      this.attributes(s.attributes);
      for (const e of s.events) this.attributes(e.attributes);
      resource(s.resource.attributes);
    }
    for (const m of b.metrics) {
      this.attributes(m.attributes);
      resource(m.resource.attributes);
    }
  }
}

/** Builds the redactor from configuration: the defaults (unless turned off) plus custom rules. */
export function buildRedactor(config: { defaults: boolean; rules: { name: string; pattern: string; replacement: string }[] }, count: RedactionCounter): Redactor {
  const custom: RedactionRule[] = config.rules.map((r) => ({ name: r.name, pattern: new RegExp(r.pattern, 'g'), replacement: r.replacement }));
  return new Redactor([...(config.defaults ? DEFAULT_RULES : []), ...custom], config.defaults ? DEFAULT_SECRET_KEYS : undefined, count);
}
