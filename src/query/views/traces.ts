/**
 * Fixed analytical views over spans and logs that are not user queries: a trace with its logs, the
 * service list, the service map, and the pages of the trace explorer's list. Built here, in the query layer, so no module outside store/ and
 * query/ writes telemetry SQL; every value is a parameter.
 */
import type { CompiledQuery, Dialect, SqlParam } from '../dialect/dialect.ts';
import { QueryError } from '../errors.ts';
import type { ResultValue } from '../executor.ts';
import type { LogicalPlan, PlanExpr } from '../plan.ts';
import { buildPlan } from '../planner.ts';
import { ParamError } from '../time-range.ts';
import { Binder } from './apm.ts';

/** SQL with its parameters. */
export interface SqlQuery {
  sql: string;
  params: SqlParam[];
}

/** Hex trace ids as OTLP writes them. */
export const TRACE_ID = /^[0-9a-f]{32}$/;

/** A time window that bounds a trace lookup (Unix ns), so the engine reads only the row groups in it. */
export interface TraceWindow {
  fromNs: bigint;
  toNs: bigint;
}

/** `TraceId = $1`, and the window's bounds on `Timestamp` when there is one. */
function traceWhere(b: Binder, traceId: string, w: TraceWindow | undefined): string {
  const id = `TraceId = ${b.add(traceId)}`;
  return w ? `${id} AND Timestamp >= ${b.ts(w.fromNs)} AND Timestamp < ${b.ts(w.toNs)}` : id;
}

/** All spans of one trace, in start order. */
export function traceSpansQuery(d: Dialect, traceId: string, window?: TraceWindow): SqlQuery {
  const b = new Binder(d);
  return {
    sql: `SELECT SpanId AS span_id, ParentSpanId AS parent_span_id, SpanName AS name, SpanKind AS kind, ServiceName AS service,
      ServiceVersion AS service_version, HostName AS host, ${b.sql.epochNs('Timestamp')} AS start_ns, Duration AS duration_ns,
      StatusCode AS status, StatusMessage AS status_message, HttpMethod AS http_method, HttpRoute AS http_route,
      HttpStatusCode AS http_status_code, DbSystem AS db_system, DbStatement AS db_statement,
      SpanAttributes AS attributes, ResourceAttributes AS resource_attributes, Events AS events, Links AS links
      FROM otel_traces WHERE ${traceWhere(b, traceId, window)} ORDER BY Timestamp, SpanId LIMIT 10000`,
    params: b.params,
  };
}

/** Log records correlated with one trace. */
export function traceLogsQuery(d: Dialect, traceId: string, window?: TraceWindow): SqlQuery {
  const b = new Binder(d);
  return {
    sql: `SELECT ${b.sql.epochNs('Timestamp')} AS time_ns, SpanId AS span_id, ServiceName AS service, SeverityText AS severity_text,
      SeverityNumber AS severity_number, Body AS body, LogAttributes AS attributes
      FROM otel_logs WHERE ${traceWhere(b, traceId, window)} ORDER BY Timestamp LIMIT 5000`,
    params: b.params,
  };
}

/** Services seen in spans or logs over a range, with request, error and latency figures from server spans. */
export function servicesQuery(d: Dialect, fromNs: bigint, toNs: bigint): SqlQuery {
  const b = new Binder(d);
  const v = b.sql;
  // Each bound is bound once and read by both scans.
  const range = `Timestamp >= ${b.ts(fromNs)} AND Timestamp < ${b.ts(toNs)}`;
  return {
    sql: `WITH s AS (
        SELECT ServiceName AS service, ${v.anyValue('ServiceNamespace')} AS namespace, max(Timestamp) AS last_seen,
          ${v.countIf(`SpanKind = 'Server'`)} AS requests,
          ${v.countIf(`SpanKind = 'Server' AND StatusCode = 'Error'`)} AS errors,
          ${v.aggregateIf(v.quantile('Duration', 0.95), `SpanKind = 'Server'`)} / 1e6 AS p95_ms
        FROM otel_traces WHERE ${range} GROUP BY ServiceName),
      l AS (
        SELECT ServiceName AS service, ${v.anyValue('ServiceNamespace')} AS namespace, max(Timestamp) AS last_seen, count(*) AS logs,
          ${v.countIf('SeverityNumber >= 17')} AS error_logs
        FROM otel_logs WHERE ${range} GROUP BY ServiceName)
      SELECT coalesce(s.service, l.service) AS service, coalesce(nullif(s.namespace, ''), l.namespace, '') AS namespace,
        ${v.epochNs('greatest(coalesce(s.last_seen, l.last_seen), coalesce(l.last_seen, s.last_seen))')} AS last_seen_ns,
        coalesce(s.requests, 0) AS requests, coalesce(s.errors, 0) AS errors, s.p95_ms AS p95_ms,
        coalesce(l.logs, 0) AS logs, coalesce(l.error_logs, 0) AS error_logs
      FROM s FULL OUTER JOIN l ON s.service = l.service ORDER BY service`,
    params: b.params,
  };
}

/** The service map's edges live beside the external-calls view so a link has one p95 on both (docs/apm.md). */
export { serviceMapQuery } from './apm.ts';

/** Orders of the trace explorer's list: newest first (default), oldest, slowest or fastest first. */
export const TRACE_LIST_SORTS = ['-timestamp', 'timestamp', '-duration_ms', 'duration_ms'] as const;

/** One of {@link TRACE_LIST_SORTS}. */
export type TraceListSort = (typeof TRACE_LIST_SORTS)[number];

/** A page of the trace list: its span search, range, order, the cursor of the previous page and a size. */
export interface TraceListRequest {
  /** A span search (`from spans …`) without aggregations. */
  text: string;
  fromNs: bigint;
  toNs: bigint;
  sort: TraceListSort;
  /** From {@link nextTraceCursor} of the previous page; absent for the first page. */
  cursor?: string;
  limit: number;
}

/** The queries of one page: the rows, and on the first page the count of every matching span. */
export interface TraceListQueries {
  list: CompiledQuery;
  count: CompiledQuery | null;
}

// Hidden output columns the next cursor is read from (dropped before rows reach the caller).
const CURSOR_VALUE = '_cursor_value';
const CURSOR_SPAN = '_cursor_span';
const SPAN_ID: PlanExpr = { kind: 'column', column: 'SpanId' };

/**
 * Compiles one page of matching spans, ordered by time or duration with the span id breaking ties, so
 * that the cursor `(value, span id)` of the last row resumes exactly after it however many spans share
 * a timestamp. The user's search plans as any other query; only ordering, the cursor predicate and the
 * count are added here, with every value a parameter.
 */
export function traceListQueries(d: Dialect, req: TraceListRequest): TraceListQueries {
  const plan = buildPlan(req.text);
  if (plan.dataset !== 'spans' || plan.kind !== 'events') throw new QueryError('expected a span search (from spans …) without stats, timechart, top or rare', 0);
  const byTime = req.sort.endsWith('timestamp');
  const desc = req.sort.startsWith('-');
  const key: PlanExpr = { kind: 'column', column: byTime ? 'Timestamp' : 'Duration' };
  let root = plan.root;
  if (req.cursor) {
    const [value, spanId] = decodeCursor(req.cursor, byTime);
    const op = desc ? '<' : '>';
    // A timestamp travels as text with nanoseconds; the engine casts the parameter to the column's type.
    const v: PlanExpr = { kind: 'param', value };
    const predicate: PlanExpr = {
      kind: 'logic',
      op: 'or',
      args: [
        { kind: 'compare', op, left: key, right: v },
        { kind: 'logic', op: 'and', args: [{ kind: 'compare', op: '=', left: key, right: v }, { kind: 'compare', op, left: SPAN_ID, right: { kind: 'param', value: spanId } }] },
      ],
    };
    root = { op: 'filter', input: root, predicate };
  }
  const list: LogicalPlan = {
    ...plan,
    root,
    // The time as DuckDB's own text keeps its nanoseconds (a timestamp read into JS keeps only ms).
    output: [...plan.output, { name: CURSOR_VALUE, expr: byTime ? { kind: 'cast', arg: key, to: 'string' } : key, type: byTime ? 'string' : 'number' }, { name: CURSOR_SPAN, expr: SPAN_ID, type: 'string' }],
    order: [
      { expr: key, desc },
      { expr: SPAN_ID, desc },
    ],
  };
  const range = { from: req.fromNs, to: req.toNs };
  const count: LogicalPlan | null = req.cursor
    ? null
    : {
        ...plan,
        kind: 'aggregate',
        root: { op: 'aggregate', input: plan.root, groupBy: [], aggregates: [{ id: 'total', expr: { kind: 'agg', fn: 'count', arg: null } }] },
        output: [{ name: 'total', expr: { kind: 'ref', id: 'total' }, type: 'number' }],
        order: [],
      };
  return { list: d.compile(list, { ...range, limit: req.limit }), count: count && d.compile(count, { ...range, limit: 1 }) };
}

/** The cursor after the last of `rows` (null when there is none), and the rows without the cursor columns. */
export function nextTraceCursor(rows: Record<string, ResultValue>[], more: boolean): { rows: Record<string, ResultValue>[]; cursor: string | null } {
  const last = rows[rows.length - 1];
  const cursor = more && last ? Buffer.from(JSON.stringify([last[CURSOR_VALUE], last[CURSOR_SPAN]])).toString('base64url') : null;
  return {
    rows: rows.map((r) => {
      const { [CURSOR_VALUE]: _v, [CURSOR_SPAN]: _s, ...rest } = r;
      return rest;
    }),
    cursor,
  };
}

function decodeCursor(cursor: string, byTime: boolean): [string | number, string] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = null;
  }
  const ok =
    Array.isArray(parsed) &&
    parsed.length === 2 &&
    typeof parsed[1] === 'string' &&
    /^[0-9a-f]{1,32}$/.test(parsed[1]) &&
    (byTime ? typeof parsed[0] === 'string' && /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,9})?$/.test(parsed[0]) : Number.isSafeInteger(parsed[0]));
  if (!ok) throw new ParamError('cursor: not a cursor of this list and order; start again from the first page');
  return parsed as [string | number, string];
}
