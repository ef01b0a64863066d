/**
 * DuckDB dialect: compiles a logical plan to SQL over the otel_logs / otel_traces tables.
 * Each plan node either merges into the SELECT being built or wraps it as a sub-query; column
 * references are always qualified (`t0."ServiceName"`) so output aliases can never shadow them.
 */
import type { Dataset } from '../ast.ts';
import type { LogicalPlan, PlanExpr, PlanNode, PlanSortKey } from '../plan.ts';
import { prepareCompile, type CompileOptions, type CompiledQuery, type Dialect, type SqlParam } from './dialect.ts';

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
}

function ident(name: string): string {
  if (!SAFE_IDENT.test(name)) throw new Error(`unsafe identifier ${JSON.stringify(name)}`);
  return `"${name}"`;
}

/** Output names are user text: quote them with doubled quotes (they are also validated by the planner). */
function quoteAlias(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function bind(ctx: Ctx, v: SqlParam): string {
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
  const alias = `t${ctx.aliases++}`;
  return { alias, from: `(${render(s)}) AS ${alias}`, columns: null, where: [], groupBy: [], orderBy: [], limit: null };
}

function expr(ctx: Ctx, q: string, e: PlanExpr): string {
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
          return `concat(${args.join(', ')})`;
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

/** Compiles plans to DuckDB SQL with `$n` parameters. */
export const duckdbDialect: Dialect = {
  name: 'duckdb',
  compile(plan: LogicalPlan, options: CompileOptions): CompiledQuery {
    const prep = prepareCompile(plan, options);
    const ctx: Ctx = { params: [], rangeSeconds: prep.rangeSeconds, bucketSeconds: prep.bucketSeconds, fromNs: prep.fromNs, toNs: prep.toNs, aliases: 0 };
    let s = node(ctx, plan.root);
    if (!isOpen(s)) s = wrap(ctx, s);
    const q = s.alias;
    s.columns = plan.output.map((c) => `${expr(ctx, q, c.expr)} AS ${quoteAlias(c.name)}`);
    s.orderBy = orderList(ctx, q, plan.order);
    s.limit = bind(ctx, prep.limit + 1);
    return {
      sql: render(s),
      params: ctx.params,
      columns: plan.output.map((c) => ({ name: c.name, type: c.type })),
      kind: plan.kind,
      limit: prep.limit,
      bucketSeconds: prep.bucketSeconds,
      fromNs: prep.fromNs,
      toNs: prep.toNs,
    };
  },
};
