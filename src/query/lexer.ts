/**
 * Lexer of the query language. It runs in two modes because SPL has two sub-languages:
 * `search` mode (the leading search and pipe arguments), where values are bare words such as
 * `/api/order*` or `10.0.0.1`, and `expr` mode (`where`, `eval`), where `a-b` is arithmetic.
 */
import { QueryError } from './errors.ts';

/** Token kinds produced by {@link tokenize}. */
export type TokenKind =
  | 'word' // search mode: bare word; expr mode: identifier
  | 'number' // expr mode only (search mode keeps numbers as words so `500` can also be a string)
  | 'string' // "double quoted" literal (escapes \" and \\ resolved)
  | 'field' // 'single quoted' field name
  | 'op' // = == != < <= > >= + - * / %
  | 'lparen'
  | 'rparen'
  | 'comma'
  | 'pipe'
  | 'eof';

/** One token with its 0-based start offset in the whole query. */
export interface Token {
  kind: TokenKind;
  /** Token text; for strings and quoted fields the unescaped content. */
  text: string;
  pos: number;
  /** For `string` tokens: the raw content with backslash escapes kept, so `\*` can mean a literal star. */
  raw?: string;
}

/** Lexing mode: `search` for search terms and command arguments, `expr` for where/eval expressions. */
export type LexMode = 'search' | 'expr';

const SEARCH_BREAK = new Set([' ', '\t', '\n', '\r', '(', ')', ',', '=', '!', '<', '>', '"', "'", '|']);
const IDENT_START = /[A-Za-z_@]/;
const IDENT_PART = /[A-Za-z0-9_.@]/;
const NUMBER = /^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/;

/**
 * Tokenises `text` starting at `start` and stopping before the first top-level `|` (which is returned
 * as a `pipe` token) or the end (`eof`). Offsets are absolute positions in `text`.
 */
export function tokenize(text: string, start: number, mode: LexMode): Token[] {
  const out: Token[] = [];
  let i = start;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      i++;
      continue;
    }
    if (ch === '|') {
      out.push({ kind: 'pipe', text: '|', pos: i });
      return out;
    }
    if (ch === '(') out.push({ kind: 'lparen', text: ch, pos: i++ });
    else if (ch === ')') out.push({ kind: 'rparen', text: ch, pos: i++ });
    else if (ch === ',') out.push({ kind: 'comma', text: ch, pos: i++ });
    else if (ch === '"' || ch === "'") {
      const q = readQuoted(text, i, ch);
      out.push({ kind: ch === '"' ? 'string' : 'field', text: q.value, raw: q.raw, pos: i });
      i = q.end;
    } else if (ch === '=' || ch === '!' || ch === '<' || ch === '>') {
      const two = text.slice(i, i + 2);
      if (two === '!=' || two === '<=' || two === '>=' || two === '==') {
        out.push({ kind: 'op', text: two === '==' ? '=' : two, pos: i });
        i += 2;
      } else if (two === '<>') {
        out.push({ kind: 'op', text: '!=', pos: i });
        i += 2;
      } else if (ch === '!') {
        throw new QueryError(`expected '=' after '!'`, i + 1);
      } else {
        out.push({ kind: 'op', text: ch, pos: i++ });
      }
    } else if (mode === 'search') {
      let j = i;
      while (j < text.length && !SEARCH_BREAK.has(text[j]!)) j++;
      out.push({ kind: 'word', text: text.slice(i, j), pos: i });
      i = j;
    } else if ('+-*/%'.includes(ch)) {
      out.push({ kind: 'op', text: ch, pos: i++ });
    } else if (/[0-9.]/.test(ch) && NUMBER.test(text.slice(i, i + 64))) {
      const m = NUMBER.exec(text.slice(i, i + 64))!;
      out.push({ kind: 'number', text: m[0], pos: i });
      i += m[0].length;
    } else if (IDENT_START.test(ch)) {
      let j = i + 1;
      while (j < text.length && IDENT_PART.test(text[j]!)) j++;
      out.push({ kind: 'word', text: text.slice(i, j), pos: i });
      i = j;
    } else {
      throw new QueryError(`unexpected character '${ch}'`, i);
    }
  }
  out.push({ kind: 'eof', text: '', pos: text.length });
  return out;
}

function readQuoted(text: string, start: number, quote: string): { value: string; raw: string; end: number } {
  let value = '';
  let raw = '';
  let i = start + 1;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '\\' && i + 1 < text.length) {
      const next = text[i + 1]!;
      // Only the quote and the backslash are escapes; `\*` stays two characters so globbing can see it.
      if (next === quote || next === '\\') {
        value += next;
        raw += next === '\\' ? '\\\\' : next;
      } else {
        value += ch + next;
        raw += ch + next;
      }
      i += 2;
      continue;
    }
    if (ch === quote) return { value, raw, end: i + 1 };
    value += ch;
    raw += ch;
    i++;
  }
  throw new QueryError(`expected a closing ${quote === '"' ? 'double' : 'single'} quote for the text starting`, start);
}
