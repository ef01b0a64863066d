/**
 * Pure helpers of the alerting pages: durations as people read them, Prometheus-style durations,
 * alert values with a unit guessed from the rule, label sets, and silence matchers. Matchers use the
 * server's own parser and matching (src/alerting/notify/matchers.ts), so the "would silence" preview
 * on the silences page agrees with what the notifier will silence.
 */
import type { AlertingFileError, AlertLabels, AmGettableSilence, AmMatcher, BacktestResponse } from '../../src/api/contract.ts';
import { formatMatcher, fromAmMatcher, matches, MatcherError, newMatcher, parseMatcher, toAmMatcher, type Matcher } from '../../src/alerting/notify/matchers.ts';
import { fmt, type Unit } from './format.ts';

export { MatcherError, type Matcher };

// ---- durations ----

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A duration as people read it, two units at most: `45s`, `12m`, `1h 5m`, `3d 2h` (rounded down). */
export function humanizeDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < MINUTE) return `${Math.floor(ms / SECOND)}s`;
  const parts: [number, string][] = [
    [Math.floor(ms / DAY), 'd'],
    [Math.floor((ms % DAY) / HOUR), 'h'],
    [Math.floor((ms % HOUR) / MINUTE), 'm'],
    [Math.floor((ms % MINUTE) / SECOND), 's'],
  ];
  const first = parts.findIndex(([n]) => n > 0);
  const shown = parts.slice(first, first + 2).filter(([n]) => n > 0);
  return shown.map(([n, u]) => `${n}${u}`).join(' ');
}

/** How long since an RFC 3339 time, humanised (`12m`); `—` when there is no time. */
export function since(iso: string | null | undefined, now: number): string {
  if (!iso) return '—';
  const t = Date.parse(iso);
  return Number.isNaN(t) ? '—' : humanizeDuration(Math.max(0, now - t));
}

const PROM_UNITS: [string, number][] = [
  ['y', 365 * DAY],
  ['w', 7 * DAY],
  ['d', DAY],
  ['h', HOUR],
  ['m', MINUTE],
  ['s', SECOND],
  ['ms', 1],
];

/**
 * Milliseconds of a Prometheus duration (`30s`, `5m`, `1h30m`, `2d`, `0s`, `0`); null when it is not
 * one. Units must go from largest to smallest, each at most once, as Prometheus requires.
 */
export function parsePromDuration(text: string): number | null {
  const s = text.trim();
  if (s === '0') return 0;
  if (!/^(\d+(y|w|d|h|ms|m|s))+$/.test(s)) return null;
  let total = 0;
  let last = -1;
  for (const m of s.matchAll(/(\d+)(y|w|d|h|ms|m|s)/g)) {
    const i = PROM_UNITS.findIndex(([u]) => u === m[2]);
    if (i <= last) return null;
    last = i;
    total += Number(m[1]) * PROM_UNITS[i]![1];
  }
  return total;
}

/** Milliseconds as a Prometheus duration: `1h30m`, `45s`, `0s`. */
export function promDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return '0s';
  let rest = Math.round(ms);
  let out = '';
  // Weeks and years read worse than days in rule files; Prometheus prints days too.
  for (const [u, size] of PROM_UNITS.filter(([u]) => u !== 'y' && u !== 'w')) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${u}`;
      rest -= n * size;
    }
  }
  return out || '0s';
}

// ---- values ----

/**
 * The unit of a rule's value, guessed from what it reads: a metric's name (utilization → %, usage
 * or bytes → bytes), a query whose value is a duration percentile (ms), or the mean of a 0/1 flag
 * (`eval e=if(…,1,0) | stats avg(e) as value`: a share). Anything else is a plain number.
 */
export function valueUnit(source: 'query' | 'metric' | 'monitor', query: string): Unit {
  if (source === 'monitor') return 'none';
  if (source === 'metric') {
    const name = /^\s*([\w.]+)/.exec(query)?.[1] ?? query;
    if (/utilization|ratio/.test(name)) return 'percent';
    if (/\.usage$|bytes|\.memory\b/.test(name) && !/utilization/.test(name)) return 'bytes';
    if (/duration|latency/.test(name)) return /\.ms$|_ms$/.test(name) ? 'ms' : 's';
    return 'none';
  }
  const value = valueExpression(query);
  if (!value) return 'none';
  if (/duration_ms\b/.test(value)) return 'ms';
  const flag = /^avg\(\s*([\w.]+)\s*\)$/.exec(value)?.[1];
  if (flag && new RegExp(`\\b${flag.replace(/\./g, '\\.')}\\s*=\\s*if\\(.*,\\s*1\\s*,\\s*0\\s*\\)`).test(query)) return 'percent';
  return 'none';
}

/** The aggregate that becomes a query's `value` column (`p95(duration_ms) as value` → `p95(duration_ms)`). */
function valueExpression(query: string): string | null {
  const named = /([a-z0-9_]+\([^()]*\))\s+as\s+value\b/i.exec(query);
  if (named) return named[1]!;
  // No `as value`: the last numeric column; the last aggregate of the last stats is the best guess.
  const stats = query.split('|').reverse().find((p) => /^\s*stats\b/.test(p));
  const aggs = stats ? [...stats.matchAll(/([a-z0-9_]+\([^()]*\))/gi)].map((m) => m[1]!) : [];
  return aggs.at(-1) ?? null;
}

/** An alert's value (Prometheus sends it as text) in its unit; `—` when there is none. */
export function fmtAlertValue(value: string | number | null | undefined, unit: Unit): string {
  if (value === null || value === undefined || value === '') return '—';
  const n = typeof value === 'number' ? value : Number(value);
  if (Number.isNaN(n)) return String(value);
  return fmt(n, unit);
}

// ---- labels ----

/** Label pairs in reading order: alertname first, then by name. */
export function labelPairs(labels: AlertLabels, omit: readonly string[] = []): [string, string][] {
  return Object.entries(labels)
    .filter(([k]) => !omit.includes(k))
    .sort(([a], [b]) => (a === 'alertname' ? -1 : b === 'alertname' ? 1 : a.localeCompare(b)));
}

/** A stable key of a label set, for joining Prometheus and Alertmanager views of the same alert. */
export function labelKey(labels: AlertLabels): string {
  return JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]));
}

/** A problem in a rule or notification file as `file:line: field: message`. */
export function fileErrorText(e: AlertingFileError): string {
  return [e.line === null ? e.file : `${e.file}:${e.line}`, e.field, e.message].filter((p) => p !== null && p !== '').join(': ');
}

// ---- silence matchers ----

/**
 * Parses silence matchers as amtool takes them: separated by spaces or commas, optionally in
 * braces (`alertname="X" service_name=~"rms.*"`, `{severity="critical"}`); a first bare word is the
 * alert name (`amtool silence add HighLatency`). Throws {@link MatcherError} naming the bad one.
 */
export function parseSilenceMatchers(text: string): Matcher[] {
  let s = text.trim();
  if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1);
  const tokens: string[] = [];
  let token = '';
  let quoted = false;
  let escaped = false;
  for (const c of s) {
    if (!quoted && (c === ',' || /\s/.test(c))) {
      if (token) tokens.push(token);
      token = '';
      continue;
    }
    if (escaped) escaped = false;
    else if (c === '\\') escaped = true;
    else if (c === '"') quoted = !quoted;
    token += c;
  }
  if (quoted) throw new MatcherError(`unterminated quote in ${token}`);
  if (token) tokens.push(token);
  // `name = "value"` with spaces: glue an operator and its value back onto the name.
  const glued: string[] = [];
  for (const t of tokens) {
    const prev = glued.at(-1);
    if (prev !== undefined && (/^(=~|!~|!=|=)/.test(t) || /(=~|!~|!=|=)$/.test(prev))) glued[glued.length - 1] = prev + t;
    else glued.push(t);
  }
  if (glued.length === 0) throw new MatcherError('add at least one matcher, e.g. alertname="HighErrorRate"');
  return glued.map((t, i) => {
    if (i === 0 && /^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(t)) return newMatcher('=', 'alertname', t);
    return parseMatcher(t);
  });
}

/** Matchers as text, the way Alertmanager prints them, separated by spaces. */
export function matchersText(ms: readonly Matcher[]): string {
  return ms.map(formatMatcher).join(' ');
}

/** API v2 matchers as text (`service_name=~"rms.*"`). */
export function amMatchersText(ms: readonly AmMatcher[]): string[] {
  return ms.map((m) => {
    try {
      return formatMatcher(fromAmMatcher(m));
    } catch {
      // An invalid regex stored by another tool still reads as written.
      return `${m.name}${m.isEqual === false ? '!' : '='}${m.isRegex ? '~' : ''}"${m.value}"`;
    }
  });
}

/** Equality matchers for every label of an alert, to prefill a silence. */
export function matchersForLabels(labels: AlertLabels): string {
  return matchersText(labelPairs(labels).map(([k, v]) => newMatcher('=', k, v)));
}

/** Matchers in the API v2 shape. */
export function toAmMatchers(ms: readonly Matcher[]): AmMatcher[] {
  return ms.map(toAmMatcher);
}

/** Whether a label set satisfies every matcher (a missing label is the empty string, as in Alertmanager). */
export function matchesLabels(ms: readonly Matcher[], labels: AlertLabels): boolean {
  return matches(ms, labels);
}

/** Whether a stored silence's matchers select a label set (false when a stored regex does not compile here). */
export function silenceSelects(s: Pick<AmGettableSilence, 'matchers'>, labels: AlertLabels): boolean {
  try {
    return matches(s.matchers.map(fromAmMatcher), labels);
  } catch {
    return false;
  }
}

// ---- backtest ----

/** The backtest in one sentence: "would have fired 3 times, for 42m in total, sending 6 notifications". */
export function backtestSummary(r: Pick<BacktestResponse, 'firings' | 'firingSeconds' | 'notifications' | 'evaluations'>): string {
  const n = r.firings.length;
  if (n === 0) return `would not have fired (${r.evaluations.toLocaleString('en-US')} evaluations replayed)`;
  const times = n === 1 ? 'once' : `${n} times`;
  const notes = `${r.notifications} notification${r.notifications === 1 ? '' : 's'}`;
  return `would have fired ${times}, for ${humanizeDuration(r.firingSeconds * 1000)} in total, sending ${notes}`;
}
