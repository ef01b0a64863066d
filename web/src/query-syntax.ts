/**
 * Client-side reading of the query language: tokens for highlighting, and the context for autocomplete.
 * The language's words come from the parser's own tables (src/query/vocabulary.ts), so hints never miss
 * a function the server accepts.
 */
import { AGGREGATE_FUNCTIONS, COMMANDS as LANGUAGE_COMMANDS, KEYWORDS as LANGUAGE_KEYWORDS } from '../../src/query/vocabulary.ts';

/** A highlighted piece of the query text. */
export interface Token {
  text: string;
  kind: 'ws' | 'string' | 'pipe' | 'op' | 'paren' | 'keyword' | 'command' | 'field' | 'value' | 'number' | 'word' | 'func';
  start: number;
}

const KEYWORDS = new Set(LANGUAGE_KEYWORDS);
/** Pipe commands. */
export const COMMANDS: readonly string[] = LANGUAGE_COMMANDS;
/** Aggregate functions as completions: `count()` where a field is optional, `sum(` where one is needed. */
export const AGGREGATES: readonly string[] = AGGREGATE_FUNCTIONS.map((a) => (a.fieldOptional ? `${a.name}()` : `${a.name}(`));

/** Splits a query into tokens, classifying each well enough to colour it. */
export function tokenize(q: string): Token[] {
  const re = /(\s+)|("(?:[^"\\]|\\.)*"?)|('(?:[^'\\]|\\.)*'?)|(\|)|(!=|<=|>=|==|<>|=|<|>)|([(),])|([^\s()=!<>"'|,]+)/g;
  const out: Token[] = [];
  let m: RegExpExecArray | null;
  let afterPipe = false;
  while ((m = re.exec(q))) {
    const start = m.index;
    if (m[1]) {
      // Whitespace between '|' and the command keeps the command a command.
      out.push({ text: m[1], kind: 'ws', start });
      continue;
    } else if (m[2]) out.push({ text: m[2], kind: out.at(-1)?.kind === 'op' ? 'value' : 'string', start });
    else if (m[3]) out.push({ text: m[3], kind: 'field', start });
    else if (m[4]) {
      out.push({ text: m[4], kind: 'pipe', start });
      afterPipe = true;
      continue;
    } else if (m[5]) {
      const prev = [...out].reverse().find((t) => t.kind !== 'ws');
      if (prev && (prev.kind === 'word' || prev.kind === 'field')) prev.kind = 'field';
      out.push({ text: m[5], kind: 'op', start });
    } else if (m[6]) out.push({ text: m[6], kind: 'paren', start });
    else if (m[7]) {
      const w = m[7];
      const prev = [...out].reverse().find((t) => t.kind !== 'ws');
      let kind: Token['kind'] = 'word';
      if (afterPipe && COMMANDS.includes(w)) kind = 'command';
      else if (KEYWORDS.has(w)) kind = 'keyword';
      else if (prev?.kind === 'op') kind = /^-?\d+(\.\d+)?$/.test(w) ? 'number' : 'value';
      else if (q[start + w.length] === '(') kind = 'func';
      else if (/^-?\d+(\.\d+)?$/.test(w)) kind = 'number';
      out.push({ text: w, kind, start });
    }
    afterPipe = false;
  }
  return out;
}

/** What the caret is on, for autocomplete. */
export type CaretContext =
  | { kind: 'field'; prefix: string; start: number }
  | { kind: 'value'; field: string; prefix: string; start: number }
  | { kind: 'command'; prefix: string; start: number }
  | { kind: 'none' };

/** Finds what to complete at `caret`. */
export function caretContext(q: string, caret: number): CaretContext {
  const before = q.slice(0, caret);
  // Inside an unfinished quoted value: complete the value.
  const lastPipe = before.lastIndexOf('|');
  const segment = before.slice(lastPipe + 1);
  if (lastPipe >= 0 && /^\s*[A-Za-z]*$/.test(segment)) {
    const prefix = segment.trim();
    return { kind: 'command', prefix, start: caret - prefix.length };
  }
  const value = /(?:^|[\s(])('(?:[^'\\]|\\.)*'|[^\s()=!<>"'|,]+)\s*(?:!=|>=|<=|=|<|>)\s*("?[^\s()"|,]*)$/.exec(before);
  if (value) {
    const field = value[1]!.startsWith("'") ? value[1]!.slice(1, -1) : value[1]!;
    const prefix = value[2]!;
    return { kind: 'value', field, prefix: prefix.replace(/^"/, ''), start: caret - prefix.length };
  }
  const word = /(?:^|[\s(])([A-Za-z_@][^\s()=!<>"'|,]*)$/.exec(before);
  if (word) return { kind: 'field', prefix: word[1]!, start: caret - word[1]!.length };
  if (/(^|\s)$/.test(before)) return { kind: 'field', prefix: '', start: caret };
  return { kind: 'none' };
}

/** Quotes a value for the query language when it is not a bare word. */
export function quoteValue(v: string): string {
  return /^[^\s()=!<>"'|,*\\]+$/.test(v) && !['AND', 'OR', 'NOT', 'IN'].includes(v) ? v : `"${v.replace(/["\\]/g, '\\$&')}"`;
}

/** Quotes a field name when it has characters field names cannot have bare. */
export function quoteField(f: string): string {
  return /^[A-Za-z_@][A-Za-z0-9_.:@/-]*$/.test(f) ? f : `'${f.replace(/['\\]/g, '\\$&')}'`;
}

/** Well-known log fields. */
export const LOG_FIELDS = ['service.name', 'service.namespace', 'service.version', 'host.name', 'severity', 'body', 'trace_id', 'span_id', 'scope.name', 'severity_text', 'severity_number'];
/** Well-known span fields. */
export const SPAN_FIELDS = ['service.name', 'service.namespace', 'service.version', 'host.name', 'name', 'kind', 'status', 'duration_ms', 'http.route', 'http.request.method', 'http.response.status_code', 'db.system', 'db.statement', 'trace_id', 'span_id', 'parent_span_id', 'status.message'];

/** Whether a query reads spans. */
export function isSpanQuery(q: string): boolean {
  return /^\s*(from\s+(spans|traces)|index\s*=\s*(spans|traces))\b/i.test(q);
}

/** The search part of a query (before the first pipe outside quotes). */
export function searchPart(q: string): string {
  let inQ: string | null = null;
  for (let i = 0; i < q.length; i++) {
    const c = q[i]!;
    if (inQ) {
      if (c === '\\') i++;
      else if (c === inQ) inQ = null;
    } else if (c === '"' || c === "'") inQ = c;
    else if (c === '|') return q.slice(0, i).trim();
  }
  return q.trim();
}
