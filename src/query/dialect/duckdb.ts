/**
 * DuckDB dialect: compiles a logical plan to SQL over the otel_logs / otel_traces tables.
 * Each plan node either merges into the SELECT being built or wraps it as a sub-query; column
 * references are always qualified (`t0."ServiceName"`) so output aliases can never shadow them.
 */
import type { Dataset } from '../ast.ts';
import { QueryRejectedError, QueryResourceError } from '../errors.ts';
import { MAX_BUILT_STRING_CHARS, type LogicalPlan, type PlanExpr, type PlanNode, type PlanSortKey } from '../plan.ts';
import { isTextColumn, MAX_SQL_CHARS, MAX_SQL_EXPRESSIONS, MAX_SUBQUERIES, prepareCompile, type CompileOptions, type CompiledQuery, type Dialect, type SqlParam, type ViewSql } from './dialect.ts';

const TABLES: Record<Dataset, string> = { logs: 'otel_logs', spans: 'otel_traces' };
const SAFE_IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

interface Select {
  alias: string;
  from: string;
  /** null means `SELECT *`; otherwise the column list, which forbids merging further clauses. */
  columns: string[] | null;
  where: string[];
  groupBy: string[];
  orderBy: string[];
  limit: string | null;
}

interface Ctx {
  params: SqlParam[];
  rangeSeconds: number;
  bucketSeconds: number | null;
  fromNs: bigint;
  toNs: bigint;
  aliases: number;
  /** Expression nodes rendered so far, against {@link MAX_SQL_EXPRESSIONS}. */
  rendered: number;
}

const TOO_BIG = 'the query is too large to run: simplify its eval expressions or split it';

function ident(name: string): string {
  if (!SAFE_IDENT.test(name)) throw new Error(`unsafe identifier ${JSON.stringify(name)}`);
  return `"${name}"`;
}

/** Output names are user text: quote them with doubled quotes (they are also validated by the planner). */
function quoteAlias(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function bind(ctx: Ctx, v: SqlParam): string {
  if (typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v)) {
    // The driver binds whole JS numbers as BIGINT and fails past 2^63; as text cast to DOUBLE they keep their value.
    ctx.params.push(String(v));
    return `CAST($${ctx.params.length} AS DOUBLE)`;
  }
  ctx.params.push(v);
  return `$${ctx.params.length}`;
}

function render(s: Select): string {
  let sql = `SELECT ${s.columns === null ? '*' : s.columns.join(', ')} FROM ${s.from}`;
  if (s.where.length) sql += ` WHERE ${s.where.join(' AND ')}`;
  if (s.groupBy.length) sql += ` GROUP BY ${s.groupBy.join(', ')}`;
  if (s.orderBy.length) sql += ` ORDER BY ${s.orderBy.join(', ')}`;
  if (s.limit !== null) sql += ` LIMIT ${s.limit}`;
  return sql;
}

function isOpen(s: Select): boolean {
  return s.columns === null && s.groupBy.length === 0 && s.orderBy.length === 0 && s.limit === null;
}

function wrap(ctx: Ctx, s: Select): Select {
  if (ctx.aliases >= MAX_SUBQUERIES) throw new QueryRejectedError(`${TOO_BIG} (more than ${MAX_SUBQUERIES} nested steps)`);
  const alias = `t${ctx.aliases++}`;
  return { alias, from: `(${render(s)}) AS ${alias}`, columns: null, where: [], groupBy: [], orderBy: [], limit: null };
}

function expr(ctx: Ctx, q: string, e: PlanExpr): string {
  // Counted before rendering, so a plan that would expand (one expression used in many places)
  // stops here long before its SQL text gets big.
  if (++ctx.rendered > MAX_SQL_EXPRESSIONS) throw new QueryRejectedError(`${TOO_BIG} (more than ${MAX_SQL_EXPRESSIONS} SQL expressions)`);
  const r = (x: PlanExpr): string => expr(ctx, q, x);
  switch (e.kind) {
    case 'param':
      return bind(ctx, e.value);
    case 'const':
      if (e.value === null) return 'NULL';
      if (typeof e.value === 'boolean') return e.value ? 'TRUE' : 'FALSE';
      if (typeof e.value === 'number') {
        if (!Number.isFinite(e.value)) throw new Error('non-finite constant');
        return Number.isInteger(e.value) && Math.abs(e.value) < 1e15 ? String(e.value) : e.value.toExponential();
      }
      return `'${e.value.replace(/'/g, "''")}'`;
    case 'column':
      return `${q}.${ident(e.column)}`;
    case 'attribute': {
      // The JSON path is a parameter; the key charset is validated by the planner as a second line.
      const parts = e.sources.map((s) => `json_extract_string(${q}.${ident(s)}, ${bind(ctx, `$."${e.key}"`)})`);
      return parts.length === 1 ? parts[0]! : `COALESCE(${parts.join(', ')})`;
    }
    case 'ref':
      return `${q}.${ident(e.id)}`;
    case 'not':
      // Splunk's NOT keeps events where the inner test is unknown (field missing).
      return `(NOT COALESCE(${r(e.arg)}, FALSE))`;
    case 'neg':
      return `(-${r(e.arg)})`;
    case 'logic':
      return `(${e.args.map(r).join(e.op === 'and' ? ' AND ' : ' OR ')})`;
    case 'compare':
      return `(${r(e.left)} ${e.op === '!=' ? '<>' : e.op} ${r(e.right)})`;
    case 'arith':
      return `(${r(e.left)} ${e.op} ${r(e.right)})`;
    case 'like':
      return `(${r(e.arg)} ${e.caseInsensitive ? 'ILIKE' : 'LIKE'} ${r(e.pattern)} ESCAPE '\\')`;
    case 'contains':
      return `contains(lower(${r(e.arg)}), ${r(e.needle)})`;
    case 'in':
      return `(${r(e.arg)} IN (${e.values.map(r).join(', ')}))`;
    case 'isNull':
      return `(${r(e.arg)} IS ${e.negated ? 'NOT ' : ''}NULL)`;
    case 'cast':
      return `TRY_CAST(${r(e.arg)} AS ${e.to === 'double' ? 'DOUBLE' : 'VARCHAR'})`;
    case 'call': {
      const args = e.args.map(r);
      switch (e.fn) {
        case 'round':
          return args.length === 2 ? `round(${args[0]}, CAST(${args[1]} AS INTEGER))` : `round(${args[0]})`;
        case 'substr':
          return args.length === 3 ? `substr(${args[0]}, CAST(${args[1]} AS BIGINT), CAST(${args[2]} AS BIGINT))` : `substr(${args[0]}, CAST(${args[1]} AS BIGINT))`;
        case 'concat':
          // Cut to the plan's bound so chained evals cannot double a value per step inside the engine.
          return `left(concat(${args.join(', ')}), ${MAX_BUILT_STRING_CHARS})`;
        case 'coalesce':
          return `COALESCE(${args.join(', ')})`;
        default:
          return `${e.fn}(${args.join(', ')})`;
      }
    }
    case 'case':
      return `CASE ${e.whens.map((w) => `WHEN ${r(w.when)} THEN ${r(w.then)}`).join(' ')} ELSE ${r(e.else)} END`;
    case 'agg': {
      if (e.fn === 'count') return e.arg === null ? 'count(*)' : `count(${r(e.arg)})`;
      if (e.fn === 'countDistinct') return `count(DISTINCT ${r(e.arg!)})`;
      if (e.fn === 'quantile') {
        const q2 = e.quantile ?? 0.5;
        if (!(q2 > 0 && q2 < 1)) throw new Error('quantile out of range');
        return `quantile_cont(${r(e.arg!)}, ${q2})`;
      }
      return `${e.fn}(${r(e.arg!)})`;
    }
    case 'window': {
      const parts: string[] = [];
      if (e.partitionBy.length) parts.push(`PARTITION BY ${e.partitionBy.map(r).join(', ')}`);
      if (e.orderBy.length) parts.push(`ORDER BY ${orderList(ctx, q, e.orderBy).join(', ')}`);
      const fn = e.fn === 'rowNumber' ? 'row_number()' : `sum(${r(e.arg!)})`;
      return `${fn} OVER (${parts.join(' ')})`;
    }
    case 'timeBucket':
      return `time_bucket(to_seconds(CAST(${bind(ctx, ctx.bucketSeconds ?? 60)} AS BIGINT)), ${r(e.arg)})`;
    case 'rangeSeconds':
      return `CAST(${bind(ctx, ctx.rangeSeconds)} AS DOUBLE)`;
    case 'bucketSeconds':
      return `CAST(${bind(ctx, ctx.bucketSeconds ?? 60)} AS DOUBLE)`;
  }
}

function orderList(ctx: Ctx, q: string, keys: PlanSortKey[]): string[] {
  // NULLs last either way, so empty groups never crowd the top of a sorted table.
  return keys.map((k) => `${expr(ctx, q, k.expr)} ${k.desc ? 'DESC' : 'ASC'} NULLS LAST`);
}

function node(ctx: Ctx, n: PlanNode): Select {
  switch (n.op) {
    case 'scan': {
      const alias = `t${ctx.aliases++}`;
      const ts = `${alias}."Timestamp"`;
      return {
        alias,
        from: `${ident(TABLES[n.dataset])} AS ${alias}`,
        columns: null,
        where: [`${ts} >= make_timestamp_ns(CAST(${bind(ctx, ctx.fromNs)} AS BIGINT))`, `${ts} < make_timestamp_ns(CAST(${bind(ctx, ctx.toNs)} AS BIGINT))`],
        groupBy: [],
        orderBy: [],
        limit: null,
      };
    }
    case 'filter': {
      let s = node(ctx, n.input);
      if (!isOpen(s)) s = wrap(ctx, s);
      s.where.push(expr(ctx, s.alias, n.predicate));
      return s;
    }
    case 'extend': {
      let s = node(ctx, n.input);
      if (!isOpen(s)) s = wrap(ctx, s);
      s.columns = ['*', ...n.columns.map((c) => `${expr(ctx, s.alias, c.expr)} AS ${ident(c.id)}`)];
      return s;
    }
    case 'aggregate': {
      let s = node(ctx, n.input);
      if (!isOpen(s)) s = wrap(ctx, s);
      s.columns = [...n.groupBy, ...n.aggregates].map((c) => `${expr(ctx, s.alias, c.expr)} AS ${ident(c.id)}`);
      // Ordinals, because the same expression rendered twice would carry different parameter numbers.
      s.groupBy = n.groupBy.map((_, i) => String(i + 1));
      return s;
    }
    case 'limit': {
      let s = node(ctx, n.input);
      if (!isOpen(s)) s = wrap(ctx, s);
      s.orderBy = orderList(ctx, s.alias, n.order);
      s.limit = bind(ctx, n.count);
      return s;
    }
  }
}

const SIMPLE_SEGMENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const literal = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/** DuckDB's view fragments: JSON paths over the VARCHAR/JSON attribute columns, FILTER clauses, lists. */
export const duckdbViewSql: ViewSql = {
  literal,
  bigint: (e) => `CAST(${e} AS BIGINT)`,
  timestampNs: (e) => `make_timestamp_ns(${e})`,
  epochNs: (e) => `epoch_ns(${e})`,
  epochMs: (e) => `epoch_ms(${e})`,
  plusHours: (e, hours) => `${e} + INTERVAL ${Math.trunc(hours)} HOUR`,
  floorTo: (e, width) => `(${e} // ${width}) * ${width}`,
  attributePath: (key) => `$."${key}"`,
  jsonText: (column, path) =>
    // Fixed segments are code constants: quoted as a JSON path member when not a plain identifier.
    `json_extract_string(${column}, ${typeof path === 'string' ? path : literal(`$${path.map((p) => (SIMPLE_SEGMENT.test(p) ? `.${p}` : `."${p}"`)).join('')}`)})`,
  jsonEntries: (column, alias) => `json_each(${column}) ${alias}`,
  unnestJsonList: (column) => `unnest(CAST(${column} AS JSON[]))`,
  text: (e) => `CAST(${e} AS VARCHAR)`,
  tryBigint: (e) => `TRY_CAST(${e} AS BIGINT)`,
  contains: (haystack, needle) => `contains(${haystack}, ${needle})`,
  char: (code) => `chr(${Math.trunc(code)})`,
  hash16: (e) => `substr(md5(${e}), 1, 16)`,
  regexpReplaceAll: (e, pattern, replacement) => `regexp_replace(${e}, ${literal(pattern)}, ${literal(replacement)}, 'g')`,
  regexpExtract: (e, pattern, group) => `regexp_extract(${e}, ${literal(pattern)}, ${Math.trunc(group)})`,
  countIf: (condition) => `count(*) FILTER (WHERE ${condition})`,
  aggregateIf: (aggregate, condition) => `${aggregate} FILTER (WHERE ${condition})`,
  quantile: (e, q) => `quantile_cont(${e}, ${quantileLiteral(q)})`,
  quantiles: (e, qs) => `quantile_cont(${e}, [${qs.map(quantileLiteral).join(', ')}])`,
  anyValue: (e) => `any_value(${e})`,
  argMax: (value, by) => `arg_max(${value}, ${by})`,
  every: (condition) => `bool_and(${condition})`,
  approxCountDistinct: (e) => `approx_count_distinct(${e})`,
  distinctList: (e, sorted) => `list(DISTINCT ${e}${sorted ? ` ORDER BY ${e}` : ''})`,
  orderedList: (e, orderBy) => `list(${e} ORDER BY ${orderBy})`,
  listLength: (list) => `len(${list})`,
  bigintList: (list) => `list_transform(${list}, x -> CAST(x AS BIGINT))`,
  bigintListDifference: (a, b) => `list_transform(list_zip(${a}, ${b}), x -> CAST(x[1] AS BIGINT) - CAST(x[2] AS BIGINT))`,
  unnestWithIndex: (list, valueAlias, indexAlias) => `unnest(${list}) AS ${valueAlias}, generate_subscripts(${list}, 1) AS ${indexAlias}`,
  listHead: (list, n) => `${list}[1:${Math.trunc(n)}]`,
  valuesTable: (rows, alias, columns) => `(VALUES ${rows.map((r) => `(${r.join(', ')})`).join(', ')}) AS ${alias}(${columns.join(', ')})`,
  groupingSets: (sets) => `GROUP BY GROUPING SETS (${sets.map((set) => `(${set.join(', ')})`).join(', ')})`,
  isRolledUp: (column) => `GROUPING(${column}) = 1`,
  groupByAll: 'GROUP BY ALL',
  materialized: 'MATERIALIZED ',
};

function quantileLiteral(q: number): string {
  if (!(q > 0 && q < 1)) throw new RangeError('quantile out of range');
  return String(q);
}

/** Compiles plans to DuckDB SQL with `$n` parameters. */
export const duckdbDialect: Dialect = {
  name: 'duckdb',
  compile(plan: LogicalPlan, options: CompileOptions): CompiledQuery {
    const prep = prepareCompile(plan, options);
    const ctx: Ctx = { params: [], rangeSeconds: prep.rangeSeconds, bucketSeconds: prep.bucketSeconds, fromNs: prep.fromNs, toNs: prep.toNs, aliases: 0, rendered: 0 };
    let s = node(ctx, plan.root);
    if (!isOpen(s)) s = wrap(ctx, s);
    const q = s.alias;
    // Text is cut in the engine, so long values and many columns never reach Node whole.
    s.columns = plan.output.map((c) => {
      const e = expr(ctx, q, c.expr);
      return `${isTextColumn(c.type) ? `left(CAST(${e} AS VARCHAR), ${prep.cellChars + 1})` : e} AS ${quoteAlias(c.name)}`;
    });
    s.orderBy = orderList(ctx, q, plan.order);
    s.limit = bind(ctx, prep.limit + 1);
    const sql = render(s);
    if (sql.length > MAX_SQL_CHARS) throw new QueryRejectedError(`${TOO_BIG} (its SQL would be ${Math.ceil(sql.length / 1024)} KiB, at most ${MAX_SQL_CHARS / 1024} KiB)`);
    return {
      sql,
      params: ctx.params,
      columns: plan.output.map((c) => ({ name: c.name, type: c.type })),
      kind: plan.kind,
      limit: prep.limit,
      bucketSeconds: prep.bucketSeconds,
      fromNs: prep.fromNs,
      toNs: prep.toNs,
      warnings: prep.warnings,
      cellChars: prep.cellChars,
    };
  },
  engineError: duckdbEngineError,
  views: duckdbViewSql,
};

/** DuckDB error classes that the query or its data cause, never the server (`Out of Range Error: …`). */
const INPUT_ERRORS = /^(Out of Range|Conversion|Invalid Input|Binder|Type Mismatch|Not implemented) Error: /i;
const MEMORY_ERROR = /^Out of Memory Error: /i;

/**
 * Turns DuckDB errors caused by the query into clean user errors: the engine's first line without
 * its error class, SQL excerpt or internal column names; null for server faults.
 */
export function duckdbEngineError(err: unknown): Error | null {
  const message = err instanceof Error ? err.message : '';
  if (MEMORY_ERROR.test(message)) {
    return new QueryResourceError('the query needs more memory than Vigil allows: narrow the time range, add filters or simplify its eval expressions');
  }
  const m = INPUT_ERRORS.exec(message);
  if (!m) return null;
  const detail = message
    .slice(m[0].length)
    .split('\n')[0]!
    // Internal names (t3."__e2") mean nothing to users.
    .replace(/\bt\d+\."?__[a-z]\d+"?/g, 'a computed value')
    .replace(/\$\d+/g, 'a value')
    .trim()
    .slice(0, 300);
  return new QueryRejectedError(`the query cannot run on this data: ${detail || m[1]!.toLowerCase() + ' error'}`);
}
