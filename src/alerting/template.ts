/**
 * Annotation templates as Prometheus users write them: `{{ $labels.name }}`, `{{ $value }}`,
 * `{{ $value | humanize }}`, `{{ humanizePercentage $value }}`, `{{ printf "%.2f" $value }}`,
 * `{{ $externalURL }}`. Only that subset of Go templates is understood; an action outside it is left
 * as written, so a template never fails an evaluation. Output is plain text: escaping is the UI's job.
 */
import type { Labels } from './types.ts';

/** What a template can read. */
export interface TemplateData {
  labels: Labels;
  value: number | null;
  externalURL?: string;
  /**
   * Further data reached by dotted fields, `{{ .Incident.ID }}` or `{{ .Input.service }}` (remediation
   * actions' templates); values are strings or numbers, and a missing field leaves the action unexpanded.
   */
  fields?: Record<string, unknown>;
}

type Val = string | number | null;

/** Thrown inside the expander for an action it does not understand; never escapes {@link expandTemplate}. */
class Unknown extends Error {}

const ACTION = /\{\{(-?)\s*([\s\S]*?)\s*(-?)\}\}/g;

/** Expands every `{{ … }}` action of `text`; unknown actions stay as written. Never throws. */
export function expandTemplate(text: string, data: TemplateData): string {
  let out = '';
  let last = 0;
  let trimNext = false;
  for (const m of text.matchAll(ACTION)) {
    let literal = text.slice(last, m.index);
    if (trimNext) literal = literal.trimStart();
    if (m[1] === '-') literal = literal.trimEnd();
    out += literal;
    trimNext = m[3] === '-';
    let rendered: string;
    try {
      rendered = format(evalPipeline(m[2]!, data));
    } catch {
      rendered = m[0];
    }
    out += rendered;
    last = m.index + m[0].length;
  }
  let tail = text.slice(last);
  if (trimNext) tail = tail.trimStart();
  return out + tail;
}

/** Expands each annotation; a template that cannot be read stays as written. */
export function expandAnnotations(annotations: Labels, data: TemplateData): Labels {
  const out: Labels = {};
  for (const [k, v] of Object.entries(annotations)) out[k] = expandTemplate(v, data);
  return out;
}

/** A value as `{{ $value }}` prints it (Go's %v of a float64: shortest form, +Inf/-Inf/NaN). */
function format(v: Val): string {
  if (v === null) return '';
  if (typeof v === 'string') return v;
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Splits an action into words: "quoted strings" (with escapes), $vars, .Fields, bare words. */
function words(text: string): string[] {
  const out: string[] = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|`[^`]*`|[^\s"`]+)/gy;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(text)) !== null) {
    out.push(m[1]!);
    end = re.lastIndex;
  }
  if (text.slice(end).trim() !== '') throw new Unknown();
  return out;
}

function evalPipeline(action: string, data: TemplateData): Val {
  if (action.startsWith('/*')) return '';
  const stages = splitPipes(action);
  let value: Val | undefined;
  for (const stage of stages) {
    const w = words(stage);
    if (w.length === 0) throw new Unknown();
    value = evalCommand(w, data, value);
  }
  if (value === undefined) throw new Unknown();
  return value;
}

/** Splits on `|` outside quotes. */
function splitPipes(action: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let quote: string | null = null;
  for (let i = 0; i < action.length; i++) {
    const c = action[i]!;
    if (quote) {
      cur += c;
      if (c === '\\' && quote === '"' && i + 1 < action.length) cur += action[++i];
      else if (c === quote) quote = null;
    } else if (c === '"' || c === '`') {
      quote = c;
      cur += c;
    } else if (c === '|') {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

function evalArg(word: string, data: TemplateData): Val {
  if (word.startsWith('"')) return JSON.parse(word) as string;
  if (word.startsWith('`')) return word.slice(1, -1);
  if (word === '$value' || word === '.Value') return data.value;
  if (word === '$externalURL' || word === '.ExternalURL') return data.externalURL ?? '';
  const label = /^(?:\$labels|\.Labels)\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(word);
  // A missing label prints as Go's missing map key in Prometheus: an empty string.
  if (label) return data.labels[label[1]!] ?? '';
  const path = /^\.([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)$/.exec(word);
  if (path && data.fields) return field(data.fields, path[1]!.split('.'));
  if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(word)) return Number(word);
  throw new Unknown();
}

/** A dotted field of `fields`: a string or number; anything else (a missing field too) is unknown. */
function field(fields: Record<string, unknown>, path: string[]): Val {
  let cur: unknown = fields;
  for (const key of path) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur) || !Object.hasOwn(cur, key)) throw new Unknown();
    cur = (cur as Record<string, unknown>)[key];
  }
  if (typeof cur === 'string' || typeof cur === 'number') return cur;
  throw new Unknown();
}

function toNumber(v: Val): number {
  if (typeof v === 'number') return v;
  if (v === null) return NaN;
  const n = Number(v.trim());
  if (v.trim() === '' || Number.isNaN(n)) throw new Unknown();
  return n;
}

const FUNCS: Record<string, (args: Val[]) => Val> = {
  humanize: ([v]) => humanize(toNumber(v!)),
  humanize1024: ([v]) => humanize1024(toNumber(v!)),
  humanizePercentage: ([v]) => `${goG(toNumber(v!) * 100, 4)}%`,
  humanizeDuration: ([v]) => humanizeDuration(toNumber(v!)),
  toUpper: ([v]) => format(v!).toUpperCase(),
  toLower: ([v]) => format(v!).toLowerCase(),
  title: ([v]) => format(v!).replace(/\b\w/g, (c) => c.toUpperCase()),
  printf: ([f, ...rest]) => printf(format(f!), rest),
  // Go's urlquery, and Helm's toJson (a quoted JSON string), for values put into URLs and JSON bodies.
  urlquery: ([v]) => encodeURIComponent(format(v!)),
  toJson: ([v]) => JSON.stringify(v),
};
const ARITY: Record<string, number> = { humanize: 1, humanize1024: 1, humanizePercentage: 1, humanizeDuration: 1, toUpper: 1, toLower: 1, title: 1, urlquery: 1, toJson: 1 };

function evalCommand(w: string[], data: TemplateData, piped: Val | undefined): Val {
  const [head, ...rest] = w;
  // `index $labels "name"`: Prometheus's spelling for label names that are not identifiers.
  if (head === 'index' && (rest[0] === '$labels' || rest[0] === '.Labels') && rest.length === 2 && piped === undefined) {
    const key = evalArg(rest[1]!, data);
    return data.labels[format(key)] ?? '';
  }
  const fn = FUNCS[head!];
  if (!fn) {
    if (w.length !== 1 || piped !== undefined) throw new Unknown();
    return evalArg(head!, data);
  }
  const args = rest.map((a) => evalArg(a, data));
  if (piped !== undefined) args.push(piped);
  const arity = ARITY[head!];
  if (arity !== undefined && args.length !== arity) throw new Unknown();
  if (head === 'printf' && args.length === 0) throw new Unknown();
  return fn(args);
}

/** Go's `%.<p>g`: fixed or exponent notation with p significant digits, trailing zeros cut (exact ties round up, not to even). */
export function goG(v: number, p: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const exp = Number(v.toExponential(p - 1).split('e')[1]);
  if (exp < -4 || exp >= p) {
    const [mant, e] = v.toExponential(p - 1).split('e') as [string, string];
    const n = Number(e);
    return `${stripZeros(mant)}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  }
  return stripZeros(v.toFixed(Math.max(0, p - 1 - exp)));
}

function stripZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

const BIG = ['k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y'];
const SMALL = ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y'];

/** Prometheus `humanize`: SI prefixes, 4 significant digits (1234567 → 1.235M, 0.0012 → 1.2m). */
export function humanize(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return goG(v, 4);
  let prefix = '';
  if (Math.abs(v) >= 1) {
    for (const p of BIG) {
      if (Math.abs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
  } else {
    for (const p of SMALL) {
      if (Math.abs(v) >= 1) break;
      prefix = p;
      v *= 1000;
    }
  }
  return `${goG(v, 4)}${prefix}`;
}

/** Prometheus `humanize1024`: binary prefixes (1536 → 1.5ki). */
export function humanize1024(v: number): string {
  if (Math.abs(v) <= 1 || !Number.isFinite(v)) return goG(v, 4);
  let prefix = '';
  for (const p of ['ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'Zi', 'Yi']) {
    if (Math.abs(v) < 1024) break;
    prefix = p;
    v /= 1024;
  }
  return `${goG(v, 4)}${prefix}`;
}

/** Prometheus `humanizeDuration` of seconds: `1d 2h 3m 4s`, `1.5s`, `250ms`. */
export function humanizeDuration(v: number): string {
  if (!Number.isFinite(v)) return goG(v, 4);
  if (v === 0) return '0s';
  if (Math.abs(v) >= 1) {
    const sign = v < 0 ? '-' : '';
    const total = Math.trunc(Math.abs(v));
    const seconds = total % 60;
    const minutes = Math.trunc(total / 60) % 60;
    const hours = Math.trunc(total / 3600) % 24;
    const days = Math.trunc(total / 86400);
    if (days !== 0) return `${sign}${days}d ${hours}h ${minutes}m ${seconds}s`;
    if (hours !== 0) return `${sign}${hours}h ${minutes}m ${seconds}s`;
    if (minutes !== 0) return `${sign}${minutes}m ${seconds}s`;
    return `${sign}${goG(Math.abs(v), 4)}s`;
  }
  let prefix = '';
  for (const p of SMALL) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return `${goG(v, 4)}${prefix}s`;
}

/** A small `printf`: %d %f %e %g %s %v %q %x %% with width, precision and the `-`, `+`, `0` flags. */
export function printf(fmt: string, args: Val[]): string {
  let i = 0;
  return fmt.replace(/%([-+0 ]*)(\d+)?(?:\.(\d+))?([dfeEgGsvqx%])/g, (_all, flags: string, width: string | undefined, prec: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    if (i >= args.length) return `%!${verb}(MISSING)`;
    const a = args[i++]!;
    const p = prec === undefined ? undefined : Number(prec);
    let s: string;
    switch (verb) {
      case 'd':
        s = String(Math.trunc(toNumber(a)));
        break;
      case 'f':
        s = toNumber(a).toFixed(p ?? 6);
        break;
      case 'e':
      case 'E': {
        const [m, e] = toNumber(a).toExponential(p ?? 6).split('e') as [string, string];
        const n = Number(e);
        s = `${m}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
        if (verb === 'E') s = s.toUpperCase();
        break;
      }
      case 'g':
      case 'G':
        s = p === undefined ? format(toNumber(a)) : goG(toNumber(a), Math.max(1, p));
        if (verb === 'G') s = s.toUpperCase();
        break;
      case 'x':
        s = typeof a === 'number' ? Math.trunc(a).toString(16) : Buffer.from(format(a)).toString('hex');
        break;
      case 'q':
        s = JSON.stringify(format(a));
        break;
      default:
        s = format(a);
        if (p !== undefined && typeof a === 'string') s = s.slice(0, p);
    }
    if (flags.includes('+') && typeof a === 'number' && a >= 0 && 'dfeEgG'.includes(verb)) s = `+${s}`;
    const w = width === undefined ? 0 : Number(width);
    if (s.length < w) {
      if (flags.includes('-')) s = s.padEnd(w);
      else if (flags.includes('0') && 'dfeEgG'.includes(verb)) s = s.startsWith('-') || s.startsWith('+') ? s[0] + s.slice(1).padStart(w - 1, '0') : s.padStart(w, '0');
      else s = s.padStart(w);
    }
    return s;
  });
}
