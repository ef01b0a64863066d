/**
 * Alert conditions (`condition:`, `resolve_when:`): an expression in the query language's `where`
 * syntax, evaluated in JavaScript over one source row's fields (plus its baseline fields).
 *
 * The text is parsed by the query parser itself (as `from logs | where <text>`), so a condition
 * accepts exactly what a `where` accepts, and errors point into the condition text. Evaluation follows
 * SQL's three-valued logic as the query engine does: a comparison with null is unknown (null), `and`,
 * `or` and `not` propagate unknown, and a row's condition holds only when it is true. So with no
 * baseline samples (`baseline` is null), `value > 3 * baseline` never holds, and neither does its `not`.
 */
import type { Expr } from '../query/ast.ts';
import { QueryError } from '../query/errors.ts';
import { tokenize } from '../query/lexer.ts';
import { parseQuery } from '../query/parser.ts';
import { EVAL_FUNCTIONS } from '../query/vocabulary.ts';

/** A field value of a source row. */
export type FieldValue = number | string | boolean | null;

/** A compiled condition. */
export interface Condition {
  /** The condition as written. */
  text: string;
  /** Whether the condition holds (is true; false and unknown are not) for one row's fields. */
  evaluate(fields: Readonly<Record<string, FieldValue>>): boolean;
  /** When the condition is `value <op> <number>` (possibly and-ed with other terms), that number: for chart threshold lines. */
  threshold: number | null;
  /** The fields the condition reads, each with its first position in the text (for checks against a rule's columns). */
  fields: readonly { name: string; position: number }[];
}

/** What the condition text is wrapped in to reuse the query parser; positions are shifted back by its length. */
const PREFIX = 'from logs | where ';
/** Longest text `concat` and `+` build, as in the query engine. */
const MAX_TEXT = 4096;

type Fields = Readonly<Record<string, FieldValue>>;
type Fn = (fields: Fields) => FieldValue;

/** Arity of each function (aliases resolved): the limits the query planner enforces. */
const ARITY: Record<string, [number, number]> = {
  if: [3, 3],
  case: [2, Infinity],
  round: [1, 2],
  abs: [1, 1],
  floor: [1, 1],
  ceil: [1, 1],
  sqrt: [1, 1],
  ln: [1, 1],
  log10: [1, 1],
  exp: [1, 1],
  pow: [2, 2],
  lower: [1, 1],
  upper: [1, 1],
  trim: [1, 1],
  len: [1, 1],
  substr: [2, 3],
  coalesce: [1, Infinity],
  concat: [1, Infinity],
  min: [1, Infinity],
  max: [1, Infinity],
  tonumber: [1, 1],
  tostring: [1, 1],
  isnull: [1, 1],
  isnotnull: [1, 1],
  like: [2, 2],
  contains: [2, 2],
};

/** Function name as written → the function it is (the language's aliases, from its vocabulary). */
const CANONICAL = new Map<string, string>(EVAL_FUNCTIONS.map((f) => [f.name, f.aliasOf ?? f.name]));
const FUNCTION_NAMES = EVAL_FUNCTIONS.filter((f) => !f.aliasOf).map((f) => f.name).join(', ');

/**
 * Compiles a condition; throws {@link QueryError} whose position is a 0-based offset into `text`
 * (syntax errors, unknown functions, wrong argument counts).
 */
export function compileCondition(text: string): Condition {
  if (text.trim() === '') throw new QueryError('expected a condition such as value > 0.05', 0);
  // Lex on its own first: a `|` would otherwise be read as a second pipe command of the wrapper query.
  const toks = tokenize(text, 0, 'expr');
  const last = toks[toks.length - 1]!;
  if (last.kind === 'pipe') throw new QueryError(`expected an operator or the end of the condition but found '|' (a condition has no pipes)`, last.pos);
  let expr: Expr;
  try {
    const q = parseQuery(PREFIX + text);
    const cmd = q.commands[0];
    if (!cmd || cmd.type !== 'where' || q.commands.length !== 1) throw new QueryError('expected a condition', PREFIX.length);
    expr = cmd.expr;
  } catch (err) {
    if (err instanceof QueryError) throw shifted(err);
    throw err;
  }
  const fn = compile(expr);
  return {
    text,
    evaluate: (fields) => fn(fields) === true,
    threshold: thresholdOf(expr),
    fields: fieldsOf(expr),
  };
}

/** Field names an expression reads, in order of first use. */
function fieldsOf(e: Expr): { name: string; position: number }[] {
  const out = new Map<string, number>();
  const walk = (x: Expr): void => {
    switch (x.type) {
      case 'field':
        if (!out.has(x.name)) out.set(x.name, at(x.pos));
        return;
      case 'unary':
        return walk(x.arg);
      case 'binary':
        walk(x.left);
        return walk(x.right);
      case 'in':
        walk(x.arg);
        return x.values.forEach(walk);
      case 'call':
        return x.args.forEach(walk);
      default:
        return;
    }
  };
  walk(e);
  return [...out].map(([name, position]) => ({ name, position }));
}

/** The parser's error with its position moved from the wrapper query into the condition text. */
function shifted(err: QueryError): QueryError {
  const detail = err.detail.replace(/the end of the query/g, 'the end of the condition');
  return new QueryError(detail, at(err.position));
}

/** Positions in the tree are offsets into the wrapper query; this maps one back into the condition text. */
const at = (pos: number): number => Math.max(0, pos - PREFIX.length);

// ---- threshold ---------------------------------------------------------------------------------

/** The number `value` is compared with in the top-level `and` chain, if any. */
function thresholdOf(e: Expr): number | null {
  if (e.type === 'binary' && e.op === 'and') return thresholdOf(e.left) ?? thresholdOf(e.right);
  if (e.type !== 'binary' || !['<', '<=', '>', '>=', '=', '!='].includes(e.op)) return null;
  const isValue = (x: Expr): boolean => x.type === 'field' && x.name === 'value';
  if (isValue(e.left)) return literalNumber(e.right);
  if (isValue(e.right)) return literalNumber(e.left);
  return null;
}

function literalNumber(e: Expr): number | null {
  if (e.type === 'number') return e.value;
  if (e.type === 'unary' && e.op === '-' && e.arg.type === 'number') return -e.arg.value;
  return null;
}

// ---- values --------------------------------------------------------------------------------------

const NUMERIC_TEXT = /^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/;

/** A value as a number (the engine's cast to double); text that is not a number is null, not an error. */
function toNum(v: FieldValue): number | null {
  if (v === null) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return NUMERIC_TEXT.test(v) ? Number(v) : null;
}

/** A value as a truth value; null (unknown) stays null. */
function toBool(v: FieldValue): boolean | null {
  if (v === null || typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  const s = v.toLowerCase();
  return s === 'true' ? true : s === 'false' ? false : null;
}

function toStr(v: FieldValue): string | null {
  if (v === null) return null;
  return typeof v === 'string' ? v : String(v);
}

/** A number result; NaN and infinities (0/0, overflow) are unknown rather than errors mid-evaluation. */
const num = (n: number): FieldValue => (Number.isFinite(n) ? n : null);

/** Text compares with text; anything else compares as numbers (text that is no number: unknown). */
function compare(op: string, a: FieldValue, b: FieldValue): boolean | null {
  if (a === null || b === null) return null;
  let c: number;
  if (typeof a === 'string' && typeof b === 'string') c = a < b ? -1 : a > b ? 1 : 0;
  else {
    const x = toNum(a);
    const y = toNum(b);
    if (x === null || y === null) return null;
    c = x < y ? -1 : x > y ? 1 : 0;
  }
  switch (op) {
    case '=':
      return c === 0;
    case '!=':
      return c !== 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    default:
      return c >= 0;
  }
}

/** SQL LIKE: `%` any run, `_` one character, case-sensitive. */
function likeRegex(pattern: string): RegExp {
  let re = '';
  for (const ch of pattern) re += ch === '%' ? '[\\s\\S]*' : ch === '_' ? '[\\s\\S]' : ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${re}$`);
}

// ---- compilation to closures (evaluated once per row and rule, so no tree walk per call) -----------

function compile(e: Expr): Fn {
  switch (e.type) {
    case 'field': {
      const name = e.name;
      return (f) => (Object.prototype.hasOwnProperty.call(f, name) ? (f[name] ?? null) : null);
    }
    case 'string': {
      const v = e.value;
      return () => v;
    }
    case 'number': {
      const v = e.value;
      return () => v;
    }
    case 'bool': {
      const v = e.value;
      return () => v;
    }
    case 'null':
      return () => null;
    case 'unary': {
      const arg = compile(e.arg);
      if (e.op === 'not') {
        return (f) => {
          const b = toBool(arg(f));
          return b === null ? null : !b;
        };
      }
      return (f) => {
        const n = toNum(arg(f));
        return n === null ? null : -n;
      };
    }
    case 'in': {
      const arg = compile(e.arg);
      const values = e.values.map(compile);
      const negated = e.negated;
      return (f) => {
        const a = arg(f);
        // SQL: x IN (…) is true on a match, else unknown when x or any item is null, else false.
        let unknown = a === null;
        for (const v of values) {
          const r = compare('=', a, v(f));
          if (r === true) return !negated;
          if (r === null) unknown = true;
        }
        return unknown ? null : negated;
      };
    }
    case 'binary':
      return compileBinary(e);
    case 'call':
      return compileCall(e.name, e.args, e.pos);
  }
}

function compileBinary(e: Extract<Expr, { type: 'binary' }>): Fn {
  const l = compile(e.left);
  const r = compile(e.right);
  switch (e.op) {
    case 'and':
      return (f) => {
        const a = toBool(l(f));
        if (a === false) return false;
        const b = toBool(r(f));
        if (b === false) return false;
        return a === null || b === null ? null : true;
      };
    case 'or':
      return (f) => {
        const a = toBool(l(f));
        if (a === true) return true;
        const b = toBool(r(f));
        if (b === true) return true;
        return a === null || b === null ? null : false;
      };
    case '+': {
      // As in the query language: `+` concatenates when one side is a quoted string.
      if (e.left.type === 'string' || e.right.type === 'string') {
        return (f) => {
          const a = toStr(l(f));
          const b = toStr(r(f));
          return a === null || b === null ? null : (a + b).slice(0, MAX_TEXT);
        };
      }
      return arith(l, r, (a, b) => a + b);
    }
    case '-':
      return arith(l, r, (a, b) => a - b);
    case '*':
      return arith(l, r, (a, b) => a * b);
    case '/':
      // Division by zero is unknown, so `errors / n > 0.1` with n = 0 does not hold (and does not throw).
      return arith(l, r, (a, b) => (b === 0 ? Number.NaN : a / b));
    case '%':
      return arith(l, r, (a, b) => (b === 0 ? Number.NaN : a % b));
    default: {
      const op = e.op;
      return (f) => compare(op, l(f), r(f));
    }
  }
}

function arith(l: Fn, r: Fn, op: (a: number, b: number) => number): Fn {
  return (f) => {
    const a = toNum(l(f));
    if (a === null) return null;
    const b = toNum(r(f));
    return b === null ? null : num(op(a, b));
  };
}

/** Applies `op` to a number argument; null in, null out. */
function unaryNum(arg: Fn, op: (x: number) => number): Fn {
  return (f) => {
    const x = toNum(arg(f));
    return x === null ? null : num(op(x));
  };
}

function unaryStr(arg: Fn, op: (s: string) => FieldValue): Fn {
  return (f) => {
    const s = toStr(arg(f));
    return s === null ? null : op(s);
  };
}

/** SQL's ROUND: half away from zero. */
function round(x: number, digits: number): number {
  const m = 10 ** digits;
  return (Math.sign(x) * Math.round(Math.abs(x) * m)) / m;
}

function compileCall(name: string, argExprs: Expr[], pos: number): Fn {
  const fn = CANONICAL.get(name);
  const arity = fn === undefined ? undefined : ARITY[fn];
  if (fn === undefined || arity === undefined) throw new QueryError(`expected a function (${FUNCTION_NAMES}) but found '${name}'`, at(pos));
  const [min, max] = arity;
  if (argExprs.length < min || argExprs.length > max) {
    const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    throw new QueryError(`expected ${want} argument${max === 1 ? '' : 's'} for ${name}() but found ${argExprs.length}`, at(pos));
  }
  const args = argExprs.map(compile);
  const a0 = args[0]!;
  switch (fn) {
    case 'if': {
      const [c, t, e] = args as [Fn, Fn, Fn];
      return (f) => (toBool(c(f)) === true ? t(f) : e(f));
    }
    case 'case':
      return (f) => {
        for (let i = 0; i + 1 < args.length; i += 2) if (toBool(args[i]!(f)) === true) return args[i + 1]!(f);
        return args.length % 2 === 1 ? args[args.length - 1]!(f) : null;
      };
    case 'round': {
      const d = argExprs[1];
      if (d && (d.type !== 'number' || !Number.isInteger(d.value) || d.value < 0 || d.value > 12)) {
        throw new QueryError('expected a whole number of digits from 0 to 12 for round()', at(d.pos));
      }
      const digits = d?.type === 'number' ? d.value : 0;
      return unaryNum(a0, (x) => round(x, digits));
    }
    case 'abs':
      return unaryNum(a0, Math.abs);
    case 'floor':
      return unaryNum(a0, Math.floor);
    case 'ceil':
      return unaryNum(a0, Math.ceil);
    case 'sqrt':
      return unaryNum(a0, Math.sqrt);
    case 'ln':
      return unaryNum(a0, (x) => (x > 0 ? Math.log(x) : Number.NaN));
    case 'log10':
      return unaryNum(a0, (x) => (x > 0 ? Math.log10(x) : Number.NaN));
    case 'exp':
      return unaryNum(a0, Math.exp);
    case 'pow':
      return arith(a0, args[1]!, (x, y) => x ** y);
    case 'lower':
      return unaryStr(a0, (s) => s.toLowerCase());
    case 'upper':
      return unaryStr(a0, (s) => s.toUpperCase());
    case 'trim':
      return unaryStr(a0, (s) => s.trim());
    case 'len':
      return unaryStr(a0, (s) => [...s].length);
    case 'substr':
      return (f) => {
        const s = toStr(a0(f));
        const start = toNum(args[1]!(f));
        const len = args[2] ? toNum(args[2](f)) : Infinity;
        if (s === null || start === null || len === null) return null;
        // 1-based as in SQL; start 0 behaves like 1.
        const chars = [...s];
        const from = Math.max(0, Math.trunc(start) - 1);
        return chars.slice(from, len === Infinity ? undefined : from + Math.max(0, Math.trunc(len))).join('');
      };
    case 'coalesce':
      return (f) => {
        for (const a of args) {
          const v = a(f);
          if (v !== null) return v;
        }
        return null;
      };
    case 'concat':
      // The engine's concat skips nulls.
      return (f) => args.map((a) => toStr(a(f)) ?? '').join('').slice(0, MAX_TEXT);
    case 'min':
    case 'max': {
      const pick = fn === 'min' ? Math.min : Math.max;
      // Like the engine's least/greatest: null arguments are skipped; all null → null.
      return (f) => {
        let out: number | null = null;
        for (const a of args) {
          const v = toNum(a(f));
          if (v !== null) out = out === null ? v : pick(out, v);
        }
        return out;
      };
    }
    case 'tonumber':
      return (f) => toNum(a0(f));
    case 'tostring':
      return (f) => toStr(a0(f));
    case 'isnull':
      return (f) => a0(f) === null;
    case 'isnotnull':
      return (f) => a0(f) !== null;
    case 'like': {
      const pat = args[1]!;
      const cache = new Map<string, RegExp>();
      return (f) => {
        const s = toStr(a0(f));
        const p = toStr(pat(f));
        if (s === null || p === null) return null;
        let re = cache.get(p);
        if (!re) {
          re = likeRegex(p);
          // Bounded: a pattern built from row values must not grow the cache without limit.
          if (cache.size < 100) cache.set(p, re);
        }
        return re.test(s);
      };
    }
    case 'contains': {
      const needle = args[1]!;
      return (f) => {
        const s = toStr(a0(f));
        const p = toStr(needle(f));
        return s === null || p === null ? null : s.toLowerCase().includes(p.toLowerCase());
      };
    }
  }
  throw new QueryError(`expected a function (${FUNCTION_NAMES}) but found '${name}'`, at(pos));
}
