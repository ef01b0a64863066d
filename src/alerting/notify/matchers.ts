/**
 * Alertmanager's label matchers (pkg/labels: matcher.go and the classic parser of parse.go):
 * `name="value"`, `name!="value"`, `name=~"regex"`, `name!~"regex"`, unquoted values, `{a="b", c=~"d"}`
 * lists, `\"`, `\\` and `\n` escapes. Regexes are fully anchored (`^(?:re)$`) as in Alertmanager.
 *
 * JavaScript has no RE2: a regex can backtrack exponentially. Patterns are limited to
 * {@link MAX_REGEX_LENGTH} characters; configuration and silences are written by signed-in users only.
 */
import type { AmMatcher } from '../../api/contract.ts';
import type { Labels } from '../types.ts';

/** The four match operators. */
export type MatchType = '=' | '!=' | '=~' | '!~';

/** One label matcher; `re` is the compiled, anchored regex of `=~`/`!~` matchers. */
export interface Matcher {
  readonly name: string;
  readonly type: MatchType;
  readonly value: string;
  readonly re: RegExp | null;
}

/** A matcher that cannot be parsed or compiled; the message says why. */
export class MatcherError extends Error {}

/** Longest regex a matcher may hold (JS regexes backtrack; RE2 would not). */
export const MAX_REGEX_LENGTH = 1000;

// The classic parser's matcher syntax: '=~' before '=' so that '~' is not taken as part of the value.
const MATCHER_RE = /^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)\s*([\s\S]*?)\s*$/;

/** Go's RE2 inline flags that JavaScript takes as flags instead (`(?i)`, `(?s)`, `(?is)` at the start). */
const LEADING_FLAGS = /^\(\?([is]+)\)/;

/** Compiles a matcher regex anchored at both ends, as Alertmanager does. */
export function compileMatcherRegex(value: string): RegExp {
  if (value.length > MAX_REGEX_LENGTH) throw new MatcherError(`regex is longer than ${MAX_REGEX_LENGTH} characters`);
  let source = value;
  let flags = '';
  const lead = LEADING_FLAGS.exec(source);
  if (lead) {
    // Go applies a leading flag group to the whole pattern; JavaScript takes flags separately.
    flags = [...new Set(lead[1]!)].join('');
    source = source.slice(lead[0].length);
  }
  try {
    return new RegExp(`^(?:${source})$`, flags);
  } catch (err) {
    throw new MatcherError(`invalid regex ${JSON.stringify(value)}: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`);
  }
}

/** Builds a matcher, compiling its regex (Alertmanager's `NewMatcher`). */
export function newMatcher(type: MatchType, name: string, value: string): Matcher {
  const re = type === '=~' || type === '!~' ? compileMatcherRegex(value) : null;
  return { name, type, value, re };
}

/** Whether a matcher accepts a label value (a missing label is the empty string). */
export function matchesValue(m: Matcher, value: string): boolean {
  switch (m.type) {
    case '=':
      return value === m.value;
    case '!=':
      return value !== m.value;
    case '=~':
      return m.re!.test(value);
    case '!~':
      return !m.re!.test(value);
  }
}

/** Whether a label set satisfies every matcher (missing labels count as empty). */
export function matches(matchers: readonly Matcher[], labels: Labels): boolean {
  for (const m of matchers) if (!matchesValue(m, labels[m.name] ?? '')) return false;
  return true;
}

/** Parses one matcher such as `severity=~"critical|page"` (Alertmanager's `ParseMatcher`). */
export function parseMatcher(text: string): Matcher {
  const ms = MATCHER_RE.exec(text);
  if (!ms) throw new MatcherError(`bad matcher format: ${text}`);
  const raw = ms[3]!;
  let rawValue = raw;
  let expectTrailingQuote = false;
  if (rawValue.startsWith('"')) {
    rawValue = rawValue.slice(1);
    expectTrailingQuote = true;
  }
  let value = '';
  let escaped = false;
  const chars = [...rawValue];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (escaped) {
      escaped = false;
      if (c === 'n') value += '\n';
      else if (c === '"' || c === '\\') value += c;
      // A spurious escape keeps its backslash (Alertmanager does the same).
      else value += `\\${c}`;
      continue;
    }
    if (c === '\\') {
      if (i < chars.length - 1) {
        escaped = true;
        continue;
      }
      value += '\\';
    } else if (c === '"') {
      if (!expectTrailingQuote || i < chars.length - 1) throw new MatcherError(`matcher value contains unescaped double quote: ${raw}`);
      expectTrailingQuote = false;
    } else value += c;
  }
  if (expectTrailingQuote) throw new MatcherError(`matcher value contains unescaped double quote: ${raw}`);
  return newMatcher(ms[2] as MatchType, ms[1]!, value);
}

/** Parses a matcher list such as `{alertname="Down", severity=~"crit.*"}` (braces optional; Alertmanager's `ParseMatchers`). */
export function parseMatchers(text: string): Matcher[] {
  let s = text;
  if (s.startsWith('{')) s = s.slice(1);
  if (s.endsWith('}')) s = s.slice(0, -1);
  const tokens: string[] = [];
  let insideQuotes = false;
  let escaped = false;
  let token = '';
  for (const c of s) {
    if (c === ',' && !insideQuotes) {
      tokens.push(token);
      token = '';
      continue;
    }
    if (c === '"') {
      if (!escaped) insideQuotes = !insideQuotes;
      else escaped = false;
    } else if (c === '\\') escaped = !escaped;
    else escaped = false;
    token += c;
  }
  // A trailing comma leaves an empty last token, which Alertmanager drops (an empty one in the middle is an error).
  if (token.trim() !== '') tokens.push(token.trim());
  return tokens.map(parseMatcher);
}

/** Escapes a value the way Alertmanager prints matchers (OpenMetrics escaping: `\\`, `\n`, `\"`). */
function openMetricsEscape(s: string): string {
  return s.replace(/[\\\n"]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** A matcher as Alertmanager prints it: `name=~"value"`. */
export function formatMatcher(m: Matcher): string {
  return `${m.name}${m.type}"${openMetricsEscape(m.value)}"`;
}

/** A matcher list as Alertmanager prints it: `{a="b",c=~"d"}`. */
export function formatMatchers(ms: readonly Matcher[]): string {
  return `{${ms.map(formatMatcher).join(',')}}`;
}

const TYPE_ORDER: Record<MatchType, number> = { '=': 0, '!=': 1, '=~': 2, '!~': 3 };

/** Alertmanager's matcher order (by name, then value, then type): routes sort their matchers this way. */
export function compareMatchers(a: Matcher, b: Matcher): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  if (a.value !== b.value) return a.value < b.value ? -1 : 1;
  return TYPE_ORDER[a.type] - TYPE_ORDER[b.type];
}

/** A matcher from the API v2 shape (`isEqual` defaults to true). */
export function fromAmMatcher(m: AmMatcher): Matcher {
  const equal = m.isEqual ?? true;
  const type: MatchType = m.isRegex ? (equal ? '=~' : '!~') : equal ? '=' : '!=';
  return newMatcher(type, m.name, m.value);
}

/** A matcher in the API v2 shape. */
export function toAmMatcher(m: Matcher): AmMatcher {
  return { name: m.name, value: m.value, isRegex: m.type === '=~' || m.type === '!~', isEqual: m.type === '=' || m.type === '=~' };
}
