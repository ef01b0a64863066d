/**
 * Planner: syntax tree → {@link LogicalPlan}. Resolves field names against the dataset catalogue,
 * gives each comparison its type rules (severity ranges, enum spellings, numeric casts of JSON
 * attributes, wildcards) and turns every user value into a bind parameter.
 */
import type { AggCall, Command, CompareOp, Expr, FieldRef, Query, SearchNode, SearchValue, SortKey } from './ast.ts';
import { QueryError } from './errors.ts';
import { ATTRIBUTE_KEY, datasetDef, fieldHint, normaliseEnum, severityRange, type DatasetDef, type FieldDef } from './fields.ts';
import { parseQuery } from './parser.ts';
import { EVAL_FUNCTIONS } from './vocabulary.ts';
import { DEFAULT_LIMITS, type AttributeUse, type LogicalPlan, type OutputColumn, type PlanColumn, type PlanExpr, type PlanLimits, type PlanNode, type PlanSortKey, type ScalarFn, type ValueType } from './plan.ts';

/** Options of {@link planQuery}. */
export interface PlanOptions {
  /** Row guards; defaults to {@link DEFAULT_LIMITS}. */
  limits?: PlanLimits;
}

/** Parses and plans a query text in one step; throws {@link QueryError}. */
export function buildPlan(text: string, options: PlanOptions = {}): LogicalPlan {
  return planQuery(parseQuery(text), options);
}

/** Plans a parsed query; throws {@link QueryError} for unknown fields, bad values and misplaced commands. */
export function planQuery(query: Query, options: PlanOptions = {}): LogicalPlan {
  return new Planner(query, options.limits ?? DEFAULT_LIMITS).plan();
}

/** A name visible to the query with the expression that computes it. */
interface Binding {
  expr: PlanExpr;
  type: ValueType;
  def?: FieldDef;
}

interface Typed {
  expr: PlanExpr;
  type: ValueType;
  /** Set when the expression is a bare field reference, so comparisons can apply the field's rules. */
  binding?: Binding;
  name?: string;
  /** Set when the expression is a literal, so it can be re-read with a field's rules. */
  literal?: SearchValue;
}

/** The eval functions named in errors (aliases left out, as users need one spelling). */
const EVAL_FUNCTION_NAMES = EVAL_FUNCTIONS.filter((f) => !f.aliasOf).map((f) => f.name).join(', ');
const NUMERIC_LITERAL = /^-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const NAME_OK = /^[A-Za-z0-9_@][A-Za-z0-9_.\-:@/()]{0,254}$/;

const param = (value: string | number | boolean): PlanExpr => ({ kind: 'param', value });
const constant = (value: string | number | boolean | null): PlanExpr => ({ kind: 'const', value });
const and = (...args: PlanExpr[]): PlanExpr => (args.length === 1 ? args[0]! : { kind: 'logic', op: 'and', args });
const or = (...args: PlanExpr[]): PlanExpr => (args.length === 1 ? args[0]! : { kind: 'logic', op: 'or', args });
const not = (arg: PlanExpr): PlanExpr => ({ kind: 'not', arg });
const cmp = (op: CompareOp, left: PlanExpr, right: PlanExpr): PlanExpr => ({ kind: 'compare', op, left, right });
const TRUE: PlanExpr = { kind: 'const', value: true };

/** Splits a value into literal text and `*` wildcards; `\*` and `\\` are literal. */
function parseGlob(raw: string): { parts: (string | null)[]; wildcard: boolean; literal: string } {
  const parts: (string | null)[] = [];
  let cur = '';
  let literal = '';
  let wildcard = false;
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    if (ch === '\\' && (raw[i + 1] === '*' || raw[i + 1] === '\\')) {
      cur += raw[i + 1];
      literal += raw[i + 1];
      i++;
    } else if (ch === '*') {
      if (cur) parts.push(cur);
      cur = '';
      if (parts[parts.length - 1] !== null) parts.push(null);
      wildcard = true;
      literal += ch;
    } else {
      cur += ch;
      literal += ch;
    }
  }
  if (cur) parts.push(cur);
  return { parts, wildcard, literal };
}

/** LIKE pattern with `\` escaping `%`, `_` and `\` of the user's text; null parts are `%`. */
function likePattern(parts: (string | null)[]): string {
  return parts.map((p) => (p === null ? '%' : p.replace(/[\\%_]/g, (c) => '\\' + c))).join('');
}

/** Structural equality that stops at shared sub-trees, so comparing big shared expressions stays cheap. */
function sameExpr(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => sameExpr((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Most terms one eval expression may have with the eval names it uses written out. */
export const MAX_EVAL_TERMS = 1000;

const terms = new WeakMap<object, number>();

/**
 * Terms of a plan expression as the SQL will spell it out. Shared sub-trees (an eval name used
 * twice) count each time, but are measured once, so this stays linear while the answer may not.
 */
function termCount(e: unknown): number {
  if (typeof e !== 'object' || e === null) return 0;
  const known = terms.get(e);
  if (known !== undefined) return known;
  let n = Array.isArray(e) ? 0 : 1;
  for (const v of Object.values(e)) n += termCount(v);
  terms.set(e, n);
  return n;
}

class Planner {
  private readonly ds: DatasetDef;
  private root: PlanNode;
  private phase: 'events' | 'aggregate' = 'events';
  /** Names bound by eval or by an aggregation (which then are the only names). */
  private names = new Map<string, Binding>();
  /** Output column names in order (null = the dataset's raw columns plus evals). */
  private output: string[] | null = null;
  private evalNames: string[] = [];
  private order: PlanSortKey[];
  private nextId = 1;
  private timechart = false;
  private bucketSeconds: number | null = null;
  private attributes = new Map<string, AttributeUse>();

  constructor(
    private readonly query: Query,
    private readonly limits: PlanLimits,
  ) {
    this.ds = datasetDef(query.dataset);
    this.root = { op: 'scan', dataset: query.dataset };
    this.order = [{ expr: this.ds.timestamp, desc: true }];
  }

  plan(): LogicalPlan {
    if (this.query.search.type !== 'all') this.root = { op: 'filter', input: this.root, predicate: this.search(this.query.search) };
    for (const c of this.query.commands) this.command(c);
    // Raw listings keep a stable column set; evals that reuse a raw name replace it in place.
    const raw = this.ds.rawColumns.map(([n]) => n);
    const names = this.output ?? [...raw, ...this.evalNames.filter((n) => !raw.includes(n))];
    const output: OutputColumn[] = names.map((n) => {
      const field = this.output === null ? (this.ds.rawColumns.find(([o]) => o === n)?.[1] ?? n) : n;
      const b = this.resolve(field, 0);
      return { name: n, expr: b.expr, type: b.type };
    });
    return {
      dataset: this.query.dataset,
      kind: this.phase === 'events' ? 'events' : 'aggregate',
      root: this.root,
      output,
      order: this.order,
      bucketSeconds: this.bucketSeconds,
      timechart: this.timechart,
      limits: this.limits,
      attributes: [...this.attributes.values()],
    };
  }

  private id(prefix: string): string {
    return `__${prefix}${this.nextId++}`;
  }

  // ---- names ----------------------------------------------------------------------------------

  private resolve(name: string, pos: number): Binding {
    const bound = this.names.get(name);
    if (bound) return bound;
    if (this.phase === 'aggregate') {
      const known = [...this.names.keys()].join(', ');
      throw new QueryError(`expected one of the fields ${known} (the fields after the aggregation) but found '${name}'`, pos);
    }
    const def = this.ds.fields[name];
    if (def) return { expr: def.expr, type: def.type, def };
    if (!ATTRIBUTE_KEY.test(name)) {
      throw new QueryError(`expected a field name made of letters, digits and _ . - : @ / but found '${name}'`, pos);
    }
    if (!this.attributes.has(name)) this.attributes.set(name, { name, position: pos, ...fieldHint(name, this.query.dataset) });
    return { expr: { kind: 'attribute', key: name, sources: [...this.ds.attributeSources] }, type: 'string' };
  }

  private checkNewName(name: string, pos: number): void {
    if (name.startsWith('__') || !NAME_OK.test(name)) {
      throw new QueryError(`expected a column name made of letters, digits and _ . - : @ / (not starting with __) but found '${name}'`, pos);
    }
  }

  // ---- commands -------------------------------------------------------------------------------

  private command(c: Command): void {
    switch (c.type) {
      case 'search':
        if (c.search.type !== 'all') this.root = { op: 'filter', input: this.root, predicate: this.search(c.search) };
        return;
      case 'where':
        this.root = { op: 'filter', input: this.root, predicate: this.expr(c.expr).expr };
        return;
      case 'eval':
        for (const a of c.assignments) {
          this.checkNewName(a.name, a.namePos);
          const t = this.expr(a.expr);
          // Evals are substituted into later uses rather than materialised: cheap in SQL, lets the
          // engine compute them only for the rows returned, and keeps every table column reachable.
          // Each use copies the expression, so chained evals (a2 = concat(a1, a1), …) grow
          // exponentially; the bound stops that at the assignment. (Materialising would not help:
          // DuckDB's optimiser inlines projections again when pushing filters down.)
          const terms = termCount(t.expr);
          if (terms > MAX_EVAL_TERMS) {
            throw new QueryError(`expected a smaller expression: '${a.name}' grows to more than ${MAX_EVAL_TERMS} terms once the eval names it uses are written out (it has ${terms > 1e9 ? 'billions of' : terms})`, a.namePos);
          }
          this.names.set(a.name, { expr: t.expr, type: t.type });
          if (this.output !== null) {
            if (!this.output.includes(a.name)) this.output.push(a.name);
          } else if (!this.evalNames.includes(a.name)) this.evalNames.push(a.name);
        }
        return;
      case 'stats':
        this.aggregate(c.aggs, c.by, null, c.pos);
        return;
      case 'timechart':
        if (this.phase === 'aggregate') throw new QueryError(`expected timechart before any stats, top or rare`, c.pos);
        this.timechart = true;
        this.bucketSeconds = c.spanSeconds;
        this.aggregate(c.aggs, c.by, { kind: 'timeBucket', arg: this.ds.timestamp }, c.pos);
        return;
      case 'top':
      case 'rare':
        this.top(c.type, c.limit, c.field, c.by);
        return;
      case 'sort':
        this.order = c.keys.map((k: SortKey) => ({ expr: this.resolve(k.field, k.pos).expr, desc: k.desc }));
        return;
      case 'head':
        this.root = { op: 'limit', input: this.root, order: this.order, count: c.count };
        return;
      case 'tail':
        // As in Splunk, tail returns the last rows in reverse order.
        this.order = this.order.map((k) => ({ expr: k.expr, desc: !k.desc }));
        this.root = { op: 'limit', input: this.root, order: this.order, count: c.count };
        return;
      case 'fields':
        for (const f of c.fields) this.resolve(f.name, f.pos);
        this.output = c.fields.map((f) => f.name);
        return;
    }
  }

  private aggregate(aggs: AggCall[], by: FieldRef[], timeBucket: PlanExpr | null, pos: number): void {
    const groupBy: PlanColumn[] = [];
    const bindings: [string, Binding][] = [];
    if (timeBucket) {
      const id = this.id('g');
      groupBy.push({ id, expr: timeBucket });
      bindings.push(['_time', { expr: { kind: 'ref', id }, type: 'time' }]);
    }
    for (const f of by) {
      const b = this.resolve(f.name, f.pos);
      const id = this.id('g');
      groupBy.push({ id, expr: b.expr });
      bindings.push([f.name, { expr: { kind: 'ref', id }, type: b.type }]);
    }
    const aggregates: PlanColumn[] = [];
    for (const a of aggs) {
      const name = a.alias ?? a.label;
      this.checkNewName(name, a.pos);
      const t = this.aggExpr(a, timeBucket !== null);
      const id = this.id('a');
      aggregates.push({ id, expr: t.expr });
      bindings.push([name, { expr: { kind: 'ref', id }, type: t.type }]);
    }
    const seen = new Set<string>();
    for (const [n] of bindings) {
      if (seen.has(n)) throw new QueryError(`expected distinct output names but '${n}' appears twice; rename one with 'as'`, pos);
      seen.add(n);
    }
    this.root = { op: 'aggregate', input: this.root, groupBy, aggregates };
    this.phase = 'aggregate';
    this.names = new Map(bindings);
    this.output = bindings.map(([n]) => n);
    this.order = groupBy.map((g) => ({ expr: { kind: 'ref', id: g.id }, desc: false }));
  }

  private aggExpr(a: AggCall, timechart: boolean): Typed {
    const arg = (): Typed => {
      if (a.field === null) throw new QueryError(`expected a field name inside ${a.fn}()`, a.fieldPos);
      const b = this.resolve(a.field, a.fieldPos);
      return { expr: b.expr, type: b.type };
    };
    const numeric = (): PlanExpr => this.numeric(arg());
    const per = timechart ? ({ kind: 'bucketSeconds' } as const) : ({ kind: 'rangeSeconds' } as const);
    switch (a.fn) {
      case 'count':
        return { expr: { kind: 'agg', fn: 'count', arg: a.field === null ? null : arg().expr }, type: 'number' };
      case 'dc':
      case 'distinct_count':
        return { expr: { kind: 'agg', fn: 'countDistinct', arg: arg().expr }, type: 'number' };
      case 'sum':
        return { expr: { kind: 'agg', fn: 'sum', arg: numeric() }, type: 'number' };
      case 'avg':
      case 'mean':
        return { expr: { kind: 'agg', fn: 'avg', arg: numeric() }, type: 'number' };
      case 'min':
      case 'max': {
        const t = arg();
        const e = t.type === 'time' || t.type === 'number' ? t.expr : this.numeric(t);
        return { expr: { kind: 'agg', fn: a.fn, arg: e }, type: t.type === 'time' ? 'time' : 'number' };
      }
      case 'median':
        return { expr: { kind: 'agg', fn: 'quantile', arg: numeric(), quantile: 0.5 }, type: 'number' };
      case 'rate': {
        // Per second over the query's time range (stats) or over each bucket (timechart).
        const base: PlanExpr = a.field === null ? { kind: 'agg', fn: 'count', arg: null } : { kind: 'agg', fn: 'sum', arg: numeric() };
        return { expr: { kind: 'arith', op: '/', left: base, right: per }, type: 'number' };
      }
      default: {
        const m = /^p(\d+)$/.exec(a.fn);
        if (!m) throw new QueryError(`expected an aggregate function`, a.pos);
        const q = m[1] === '999' ? 0.999 : Number(m[1]) / 100;
        return { expr: { kind: 'agg', fn: 'quantile', arg: numeric(), quantile: q }, type: 'number' };
      }
    }
  }

  private top(kind: 'top' | 'rare', n: number, field: FieldRef, by: FieldRef[]): void {
    this.aggregate([{ fn: 'count', field: null, fieldPos: field.pos, alias: 'count', pos: field.pos, label: 'count' }], [...by, field], null, field.pos);
    const countRef: PlanExpr = this.names.get('count')!.expr;
    const partition = by.map((f) => this.names.get(f.name)!.expr);
    const fieldRef = this.names.get(field.name)!.expr;
    const rank = this.id('w');
    const total = this.id('w');
    const desc = kind === 'top';
    this.root = {
      op: 'extend',
      input: this.root,
      columns: [
        { id: rank, expr: { kind: 'window', fn: 'rowNumber', arg: null, partitionBy: partition, orderBy: [{ expr: countRef, desc }, { expr: fieldRef, desc: false }] } },
        { id: total, expr: { kind: 'window', fn: 'sum', arg: countRef, partitionBy: partition, orderBy: [] } },
      ],
    };
    this.root = { op: 'filter', input: this.root, predicate: cmp('<=', { kind: 'ref', id: rank }, param(n)) };
    const percent: PlanExpr = { kind: 'arith', op: '/', left: { kind: 'arith', op: '*', left: countRef, right: constant(100.0) }, right: { kind: 'ref', id: total } };
    this.names.set('percent', { expr: percent, type: 'number' });
    this.output = [...by.map((f) => f.name), field.name, 'count', 'percent'];
    this.order = [...partition.map((e) => ({ expr: e, desc: false })), { expr: countRef, desc }, { expr: fieldRef, desc: false }];
  }

  // ---- search terms ---------------------------------------------------------------------------

  private search(n: SearchNode): PlanExpr {
    switch (n.type) {
      case 'all':
        return TRUE;
      case 'and':
        return and(...n.items.map((i) => this.search(i)));
      case 'or':
        return or(...n.items.map((i) => this.search(i)));
      case 'not':
        return not(this.search(n.item));
      case 'text': {
        if (this.phase === 'aggregate') throw new QueryError(`expected field=value after an aggregation; free text only searches events`, n.pos);
        const g = parseGlob(n.value.raw);
        if (g.parts.every((p) => p === null)) return TRUE;
        // Free text is a case-insensitive substring match on the body (logs) or span name (spans);
        // without wildcards it is a plain substring test (5-10x faster than ILIKE on 10M rows here).
        if (g.parts.length === 1 && g.parts[0] !== null) return { kind: 'contains', arg: this.ds.text, needle: param(g.parts[0]!.toLowerCase()) };
        return { kind: 'like', arg: this.ds.text, pattern: param(likePattern([null, ...g.parts, null].filter((p, i, a) => !(p === null && a[i - 1] === null)))), caseInsensitive: true };
      }
      case 'compare':
        return this.compareField(this.resolve(n.field, n.fieldPos), n.field, n.op, n.value);
      case 'in': {
        const b = this.resolve(n.field, n.fieldPos);
        return this.mergeIn(n.values.map((v) => this.compareField(b, n.field, '=', v)));
      }
    }
  }

  /** `x = a OR x = b` over the same left side becomes `x IN (a, b)`. */
  private mergeIn(items: PlanExpr[]): PlanExpr {
    const first = items[0]!;
    if (items.length > 1 && first.kind === 'compare' && first.op === '=' && items.every((i) => i.kind === 'compare' && i.op === '=' && sameExpr(i.left, first.left))) {
      return { kind: 'in', arg: first.left, values: items.map((i) => (i.kind === 'compare' ? i.right : i)) };
    }
    return or(...items);
  }

  /** The typing rules of `field OP value`, shared by searches and where-expressions. */
  private compareField(b: Binding, field: string, op: CompareOp, v: SearchValue): PlanExpr {
    const g = parseGlob(v.raw);
    if ((op === '=' || op === '!=') && g.wildcard && g.parts.every((p) => p === null)) {
      // field=* : the field is present.
      return { kind: 'isNull', arg: b.expr, negated: op === '=' };
    }
    if (b.def?.special === 'severity' && !g.wildcard) {
      const r = severityRange(g.literal);
      if (!r) throw new QueryError(`expected a severity (TRACE, DEBUG, INFO, WARN, ERROR, FATAL or 1-24) after '${op}' but found '${v.text}'`, v.pos);
      const num: PlanExpr = { kind: 'column', column: 'SeverityNumber' };
      switch (op) {
        case '=':
          return r.min === r.max ? cmp('=', num, param(r.min)) : and(cmp('>=', num, param(r.min)), cmp('<=', num, param(r.max)));
        case '!=':
          return r.min === r.max ? cmp('!=', num, param(r.min)) : or(cmp('<', num, param(r.min)), cmp('>', num, param(r.max)));
        case '<':
          return cmp('<', num, param(r.min));
        case '<=':
          return cmp('<=', num, param(r.max));
        case '>':
          return cmp('>', num, param(r.max));
        case '>=':
          return cmp('>=', num, param(r.min));
      }
    }
    if (g.wildcard) {
      if (op !== '=' && op !== '!=') throw new QueryError(`expected a value without '*' after '${op}' (wildcards work with = and !=)`, v.pos);
      const arg = b.type === 'string' ? b.expr : ({ kind: 'cast', arg: b.expr, to: 'string' } as const);
      const like: PlanExpr = { kind: 'like', arg, pattern: param(likePattern(g.parts)), caseInsensitive: false };
      // != keeps Splunk's meaning: the field exists and does not match.
      return op === '=' ? like : and({ kind: 'isNull', arg, negated: true }, not(like));
    }
    const text = g.literal;
    if (b.def?.special === 'enum') {
      const canon = normaliseEnum(text, b.def.values ?? []);
      if (canon === null) throw new QueryError(`expected one of ${(b.def.values ?? []).join(', ')} for '${field}' but found '${v.text}'`, v.pos);
      return cmp(op, b.expr, param(canon));
    }
    const numericText = NUMERIC_LITERAL.test(text);
    switch (b.type) {
      case 'number':
        if (!numericText) throw new QueryError(`expected a number for the numeric field '${field}' but found '${v.text}'`, v.pos);
        return cmp(op, b.expr, param(Number(text)));
      case 'time':
        throw new QueryError(`expected a field other than '${field}': filter time with the query's time range`, v.pos);
      case 'json':
        throw new QueryError(`expected a single attribute name instead of '${field}' (for example http.route)`, v.pos);
      case 'boolean':
        if (!/^(true|false)$/i.test(text)) throw new QueryError(`expected true or false for '${field}' but found '${v.text}'`, v.pos);
        return cmp(op, b.expr, param(text.toLowerCase() === 'true'));
      default: {
        const isAttribute = b.expr.kind === 'attribute';
        // Unquoted numbers compare numerically on JSON attributes (and for <, > on string columns).
        if (!v.quoted && numericText && (isAttribute || (op !== '=' && op !== '!='))) {
          return cmp(op, { kind: 'cast', arg: b.expr, to: 'double' }, param(Number(text)));
        }
        return cmp(op, b.expr, param(text));
      }
    }
  }

  // ---- expressions ----------------------------------------------------------------------------

  private numeric(t: Typed): PlanExpr {
    if (t.type === 'number' || t.type === 'unknown') return t.expr;
    if (t.literal && NUMERIC_LITERAL.test(t.literal.text)) return param(Number(t.literal.text));
    return { kind: 'cast', arg: t.expr, to: 'double' };
  }

  private expr(e: Expr): Typed {
    switch (e.type) {
      case 'field': {
        const b = this.resolve(e.name, e.pos);
        return { expr: b.expr, type: b.type, binding: b, name: e.name };
      }
      case 'string':
        // Stars are escaped: in expressions `=` is exact; wildcards are spelled like("/api/%").
        return { expr: param(e.value), type: 'string', literal: { text: e.value, raw: e.value.replace(/[\\*]/g, '\\$&'), quoted: true, pos: e.pos } };
      case 'number':
        return { expr: param(e.value), type: 'number', literal: { text: e.text, raw: e.text, quoted: false, pos: e.pos } };
      case 'bool':
        return { expr: param(e.value), type: 'boolean' };
      case 'null':
        return { expr: constant(null), type: 'unknown' };
      case 'unary':
        return e.op === 'not' ? { expr: not(this.expr(e.arg).expr), type: 'boolean' } : { expr: { kind: 'neg', arg: this.numeric(this.expr(e.arg)) }, type: 'number' };
      case 'in': {
        const arg = this.expr(e.arg);
        const items = e.values.map((v) => this.comparison('=', arg, this.expr(v), v.pos));
        const merged = this.mergeIn(items);
        return { expr: e.negated ? not(merged) : merged, type: 'boolean' };
      }
      case 'binary': {
        if (e.op === 'and' || e.op === 'or') {
          const l = this.expr(e.left).expr;
          const r = this.expr(e.right).expr;
          return { expr: e.op === 'and' ? and(l, r) : or(l, r), type: 'boolean' };
        }
        const l = this.expr(e.left);
        const r = this.expr(e.right);
        if (e.op === '+' || e.op === '-' || e.op === '*' || e.op === '/' || e.op === '%') {
          if (e.op === '+' && (l.literal?.quoted || r.literal?.quoted)) {
            // SPL concatenates with + when a side is a string literal.
            return { expr: { kind: 'call', fn: 'concat', args: [l.expr, r.expr] }, type: 'string' };
          }
          return { expr: { kind: 'arith', op: e.op, left: this.numeric(l), right: this.numeric(r) }, type: 'number' };
        }
        return { expr: this.comparison(e.op, l, r, e.pos), type: 'boolean' };
      }
      case 'call':
        return this.call(e.name, e.args, e.pos);
    }
  }

  private comparison(op: CompareOp, l: Typed, r: Typed, pos: number): PlanExpr {
    // A field compared with a literal follows the search rules (severity names, enums, casts).
    if (l.binding && r.literal) return this.compareField(l.binding, l.name ?? '', op, r.literal);
    if (r.binding && l.literal) {
      const flipped: Record<CompareOp, CompareOp> = { '=': '=', '!=': '!=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };
      return this.compareField(r.binding, r.name ?? '', flipped[op], l.literal);
    }
    if (l.type === 'time' || r.type === 'time') {
      if (l.type !== r.type) throw new QueryError(`expected both sides of '${op}' to be times`, pos);
    }
    if (l.type === 'number' && r.type !== 'number') return cmp(op, l.expr, this.numeric(r));
    if (r.type === 'number' && l.type !== 'number') return cmp(op, this.numeric(l), r.expr);
    return cmp(op, l.expr, r.expr);
  }

  private call(name: string, args: Expr[], pos: number): Typed {
    const arity = (min: number, max: number): void => {
      if (args.length < min || args.length > max) {
        const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
        throw new QueryError(`expected ${want} argument${max === 1 ? '' : 's'} for ${name}() but found ${args.length}`, pos);
      }
    };
    const typed = args.map((a) => this.expr(a));
    const num = (i: number): PlanExpr => this.numeric(typed[i]!);
    const str = (i: number): PlanExpr => (typed[i]!.type === 'string' ? typed[i]!.expr : { kind: 'cast', arg: typed[i]!.expr, to: 'string' });
    const scalar = (fn: ScalarFn, parts: PlanExpr[], type: ValueType): Typed => ({ expr: { kind: 'call', fn, args: parts }, type });
    switch (name) {
      case 'if':
        arity(3, 3);
        return { expr: { kind: 'case', whens: [{ when: typed[0]!.expr, then: typed[1]!.expr }], else: typed[2]!.expr }, type: typed[1]!.type };
      case 'case': {
        arity(2, Infinity);
        const whens: { when: PlanExpr; then: PlanExpr }[] = [];
        for (let i = 0; i + 1 < typed.length; i += 2) whens.push({ when: typed[i]!.expr, then: typed[i + 1]!.expr });
        const otherwise = typed.length % 2 === 1 ? typed[typed.length - 1]!.expr : constant(null);
        return { expr: { kind: 'case', whens, else: otherwise }, type: typed[1]!.type };
      }
      case 'round': {
        arity(1, 2);
        const digits = args[1];
        if (digits && (digits.type !== 'number' || !Number.isInteger(digits.value) || digits.value < 0 || digits.value > 12)) {
          throw new QueryError(`expected a whole number of digits from 0 to 12 for round()`, digits.pos);
        }
        return scalar('round', digits ? [num(0), param(digits.value)] : [num(0)], 'number');
      }
      case 'abs':
      case 'floor':
      case 'ceil':
      case 'sqrt':
      case 'ln':
      case 'log10':
      case 'exp':
        arity(1, 1);
        return scalar(name, [num(0)], 'number');
      case 'ceiling':
        arity(1, 1);
        return scalar('ceil', [num(0)], 'number');
      case 'pow':
        arity(2, 2);
        return scalar('pow', [num(0), num(1)], 'number');
      case 'lower':
      case 'upper':
      case 'trim':
        arity(1, 1);
        return scalar(name, [str(0)], 'string');
      case 'len':
      case 'length':
        arity(1, 1);
        return scalar('length', [str(0)], 'number');
      case 'substr':
        arity(2, 3);
        return scalar('substr', typed.length === 3 ? [str(0), num(1), num(2)] : [str(0), num(1)], 'string');
      case 'coalesce':
        arity(1, Infinity);
        return scalar('coalesce', typed.map((t) => t.expr), typed[0]!.type);
      case 'concat':
        arity(1, Infinity);
        return scalar('concat', typed.map((_, i) => str(i)), 'string');
      case 'greatest':
      case 'least':
      case 'max':
      case 'min':
        arity(1, Infinity);
        return scalar(name === 'max' || name === 'greatest' ? 'greatest' : 'least', typed.map((_, i) => num(i)), 'number');
      case 'tonumber':
        arity(1, 1);
        return { expr: { kind: 'cast', arg: typed[0]!.expr, to: 'double' }, type: 'number' };
      case 'tostring':
        arity(1, 1);
        return { expr: str(0), type: 'string' };
      case 'isnull':
      case 'isnotnull':
        arity(1, 1);
        return { expr: { kind: 'isNull', arg: typed[0]!.expr, negated: name === 'isnotnull' }, type: 'boolean' };
      case 'like':
        arity(2, 2);
        return { expr: { kind: 'like', arg: str(0), pattern: typed[1]!.expr, caseInsensitive: false }, type: 'boolean' };
      case 'contains': {
        arity(2, 2);
        const lit = typed[1]!.literal;
        if (!lit) throw new QueryError(`expected a quoted text as the second argument of contains()`, args[1]!.pos);
        return { expr: { kind: 'like', arg: str(0), pattern: param(likePattern([null, lit.text, null])), caseInsensitive: true }, type: 'boolean' };
      }
      default:
        throw new QueryError(`expected a function (${EVAL_FUNCTION_NAMES}) but found '${name}'`, pos);
    }
  }
}
