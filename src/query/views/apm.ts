/**
 * APM views over server and client spans: the service overview time series, the operations table,
 * database statements and external calls. Fixed SQL built in the query layer (DESIGN.md §4); every
 * user value is a bind parameter and the few variable fragments (sort order, optional filters) are
 * chosen from fixed allow-lists, never taken from the request.
 *
 * Definitions shared by every view (docs/apm.md repeats them for users):
 * - a request is a span of kind Server; its operation is `METHOD route` when `http.route` is known,
 *   else the span name;
 * - a request failed when its status is Error or its HTTP status code is 5xx;
 * - a request was refused (a client error) when it answered 4xx without failing: counted apart, since a
 *   wave of 403s is an outage to its users even though the server did its job;
 * - a rate is a count divided by the covered time: from the start of the first bucket holding data (or
 *   the range start) to the range end or now, whichever comes first ({@link rateOver});
 * - Apdex with threshold T: satisfied = successful and ≤ T, tolerating = successful and ≤ 4T, failed
 *   requests are frustrated; Apdex = (satisfied + tolerating / 2) / requests.
 */
import type { DatabaseStatementRow, ExternalCallRow, OperationRow, OverviewGroup, OverviewPoint } from '../../api/contract.ts';
import type { Dialect, SqlParam, ViewSql } from '../dialect/dialect.ts';
import { chooseBucketSeconds } from '../dialect/dialect.ts';
import type { SqlQuery } from './traces.ts';

/** Collects bind parameters and hands out their `$n` placeholders, with the dialect's view fragments beside them. */
export class Binder {
  readonly params: SqlParam[] = [];
  /** The engine's fragments: views write SQL only through these. */
  readonly sql: ViewSql;
  constructor(dialect: Dialect) {
    this.sql = dialect.views;
  }
  /** Adds a value and returns its placeholder. */
  add(v: SqlParam): string {
    this.params.push(v);
    return `$${this.params.length}`;
  }
  /** A TIMESTAMP_NS placeholder for Unix nanoseconds. */
  ts(ns: bigint): string {
    return this.sql.timestampNs(this.big(ns));
  }
  /** A BIGINT placeholder. */
  big(v: bigint | number): string {
    return this.sql.bigint(this.add(typeof v === 'bigint' ? v : BigInt(Math.trunc(v))));
  }
}

/** A time range in Unix nanoseconds, `from` inclusive, `to` exclusive. */
export interface NsRange {
  fromNs: bigint;
  toNs: bigint;
}

/** SQL for the operation of a span: `METHOD route` when the route is known, else the span name. */
export function operationSql(alias = ''): string {
  const a = alias ? `${alias}.` : '';
  return `CASE WHEN coalesce(${a}HttpRoute, '') <> '' THEN ltrim(coalesce(${a}HttpMethod, '') || ' ' || ${a}HttpRoute) ELSE ${a}SpanName END`;
}

/** SQL that is true for a failed span: status Error or an HTTP 5xx answer. */
export function errorSql(alias = ''): string {
  const a = alias ? `${alias}.` : '';
  return `(${a}StatusCode = 'Error' OR coalesce(${a}HttpStatusCode, 0) >= 500)`;
}

/** SQL that is true for a refused span: an HTTP 4xx answer that did not also fail (see {@link errorSql}). */
export function clientErrorSql(alias = ''): string {
  const a = alias ? `${alias}.` : '';
  return `(coalesce(${a}HttpStatusCode, 0) BETWEEN 400 AND 499 AND NOT ${errorSql(alias)})`;
}

/** Attribute keys accepted in group-bys and filters (the query language's charset). */
export const ATTRIBUTE_KEY = /^[A-Za-z0-9_.\-:@/]{1,255}$/;

/** Span fields held in promoted columns: grouping by them reads no JSON. */
const SPAN_GROUP_COLUMNS: Readonly<Record<string, string>> = {
  'service.name': 'ServiceName',
  'service.namespace': 'ServiceNamespace',
  'service.version': 'ServiceVersion',
  'host.name': 'HostName',
};

/** SQL for the value a span is grouped by: a promoted column, else the resource's then the span's attribute; '' when absent. */
export function spanGroupSql(b: Binder, key: string | undefined): string {
  if (key === undefined) return `''`;
  const column = SPAN_GROUP_COLUMNS[key];
  if (column) return `coalesce(${column}, '')`;
  if (!ATTRIBUTE_KEY.test(key)) throw new RangeError('group_by: attribute keys use A-Z a-z 0-9 _ . - : @ /');
  const path = b.add(b.sql.attributePath(key));
  return `coalesce(${b.sql.jsonText('ResourceAttributes', path)}, ${b.sql.jsonText('SpanAttributes', path)}, '')`;
}

/** Bucket width for a range: a round size giving at most 120 points (about 60 to 120 for usual ranges). */
export function bucketNsFor(range: NsRange, bucketSeconds?: number): bigint {
  const seconds = bucketSeconds ?? chooseBucketSeconds(Number(range.toNs - range.fromNs) / 1e9, 120);
  return BigInt(Math.round(seconds * 1e9));
}

/**
 * What a rate is taken over: the range, its bucket width and the server's clock (time after `now` has
 * not happened yet, so it cannot dilute a rate).
 */
export interface RateWindow extends NsRange {
  bucketNs: bigint;
  nowNs: bigint;
}

/** Seconds of [startNs, endNs) that lie inside the range and before now. */
export function coveredSeconds(startNs: bigint, endNs: bigint, w: RateWindow): number {
  const end = w.toNs < w.nowNs ? w.toNs : w.nowNs;
  const a = startNs > w.fromNs ? startNs : w.fromNs;
  const b = endNs < end ? endNs : end;
  return b > a ? Number(b - a) / 1e9 : 0;
}

/**
 * The one definition of a rate: `count` per second over the covered time, from the start of the bucket
 * of `firstNs` (the first data seen; clipped to the range start) to the range end or now. The same as
 * the mean of the chart's per-bucket rates from that bucket on, each bucket weighted by its covered
 * seconds, so a figure and its chart agree however late in the range a service started reporting.
 * 0 without data; null when no time is covered (a range wholly in the future).
 */
export function rateOver(count: number, firstNs: bigint | null, w: RateWindow): number | null {
  if (count === 0 || firstNs === null) return 0;
  const seconds = coveredSeconds((firstNs / w.bucketNs) * w.bucketNs, w.toNs, w);
  return seconds > 0 ? round4(count / seconds) : null;
}

function round4(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}

/** Options of the service overview. */
export interface OverviewOptions extends RateWindow {
  service?: string;
  operation?: string;
  /** A span field: one summary and series per value (`service.namespace`, `service.name`, `host.name`, an attribute). */
  groupBy?: string;
  /** Apdex threshold in milliseconds. */
  apdexTMs: number;
}

/** Apdex counts SQL over columns `Duration` and `err` (a boolean). */
function apdexCountsSql(b: Binder, apdexTMs: number): string {
  const t = b.big(BigInt(Math.round(apdexTMs * 1e6)));
  return `${b.sql.countIf(`NOT err AND Duration <= ${t}`)} AS satisfied,
      ${b.sql.countIf(`NOT err AND Duration > ${t} AND Duration <= 4 * ${t}`)} AS tolerating`;
}

/**
 * Requests, errors, refusals (4xx), latency quantiles and Apdex counts per group and time bucket of
 * server spans; the rows with a null `bucket_ns` hold each group's totals over the whole range and its
 * services (one scan, grouping sets). Without `groupBy` there is one group, ''.
 */
export function overviewQuery(d: Dialect, o: OverviewOptions): SqlQuery {
  const b = new Binder(d);
  const v = b.sql;
  const where = [`Timestamp >= ${b.ts(o.fromNs)}`, `Timestamp < ${b.ts(o.toNs)}`, `SpanKind = 'Server'`];
  if (o.service !== undefined) where.push(`ServiceName = ${b.add(o.service)}`);
  if (o.operation !== undefined) where.push(`${operationSql()} = ${b.add(o.operation)}`);
  const grp = spanGroupSql(b, o.groupBy);
  const bucket = b.big(o.bucketNs);
  const sql = `WITH s AS (
      SELECT ${grp} AS grp, ServiceName AS svc, ${v.floorTo(v.epochNs('Timestamp'), bucket)} AS bucket_ns, Duration,
        ${errorSql()} AS err, ${clientErrorSql()} AS refused
      FROM otel_traces WHERE ${where.join(' AND ')})
    SELECT grp, bucket_ns, ${requestFiguresSql(v)}, ${apdexCountsSql(b, o.apdexTMs)},
      CASE WHEN ${v.isRolledUp('bucket_ns')} THEN ${v.distinctList('svc', true)} END AS services
    FROM s ${v.groupingSets([['grp', 'bucket_ns'], ['grp']])} ORDER BY grp, bucket_ns NULLS FIRST`;
  return { sql, params: b.params };
}

/** Request figures over columns `err`, `refused` and `Duration`: the same on the overview and the operations table. */
function requestFiguresSql(v: ViewSql): string {
  return `count(*) AS requests, ${v.countIf('err')} AS errors, ${v.countIf('refused')} AS client_errors,
      ${v.quantiles('Duration', LATENCY_QUANTILES)} AS q, avg(Duration) AS avg_ns`;
}

/** The latency quantiles of every view, read by the shapers as `q[1..3]`. */
const LATENCY_QUANTILES = [0.5, 0.95, 0.99] as const;

/** Sort orders of the operations table (the allow-list: only these fragments reach SQL). */
export const OPERATION_SORTS = {
  requests: 'requests DESC',
  errors: 'errors DESC',
  error_rate: 'errors / requests DESC, requests DESC',
  p50: 'q[1] DESC',
  p95: 'q[2] DESC',
  p99: 'q[3] DESC',
  total_time: 'total_ns DESC',
  client_errors: 'client_errors DESC, requests DESC',
  apdex: '(satisfied + tolerating / 2) / requests ASC, requests DESC',
} as const;
/** A sort order of the operations table. */
export type OperationSort = keyof typeof OPERATION_SORTS;

/** Options of the operations table. */
export interface OperationsOptions extends NsRange {
  service?: string;
  apdexTMs: number;
  sort: OperationSort;
  limit: number;
  /** Leave out operations with fewer requests (slowest-operation lists ignore one-off outliers). */
  minRequests?: number;
}

/** Per service and operation: requests, errors, latency quantiles, Apdex counts and total time with the service's total. */
export function operationsQuery(d: Dialect, o: OperationsOptions): SqlQuery {
  const b = new Binder(d);
  const v = b.sql;
  const where = [`Timestamp >= ${b.ts(o.fromNs)}`, `Timestamp < ${b.ts(o.toNs)}`, `SpanKind = 'Server'`];
  if (o.service !== undefined) where.push(`ServiceName = ${b.add(o.service)}`);
  const having = o.minRequests && o.minRequests > 1 ? `HAVING count(*) >= ${b.big(o.minRequests)}` : '';
  // Group by the raw columns and build the operation label per group, not per row: string
  // concatenation on every span tripled the cost of this query on 10M spans.
  const sql = `WITH s AS (
      SELECT ServiceName AS service, HttpMethod AS m, HttpRoute AS r,
        CASE WHEN coalesce(HttpRoute, '') = '' THEN SpanName END AS n, Timestamp, Duration, ${errorSql()} AS err,
        ${clientErrorSql()} AS refused
      FROM otel_traces WHERE ${where.join(' AND ')}),
    -- MATERIALIZED: the optimizer turns the window below into a join with an aggregate of g, which
    -- otherwise scans and aggregates the spans twice.
    g AS ${v.materialized}(
      SELECT service, CASE WHEN coalesce(r, '') <> '' THEN ltrim(coalesce(m, '') || ' ' || r) ELSE n END AS operation,
        ${requestFiguresSql(v)}, sum(Duration) AS total_ns,
        ${v.epochNs('min(Timestamp)')} AS first_ns, ${apdexCountsSql(b, o.apdexTMs)}
      FROM s GROUP BY service, m, r, n ${having})
    SELECT *, sum(total_ns) OVER (PARTITION BY service) AS service_total_ns,
      sum(requests) OVER (PARTITION BY service) AS service_requests, sum(client_errors) OVER (PARTITION BY service) AS service_client_errors
    FROM g ORDER BY ${OPERATION_SORTS[o.sort]}, service, operation LIMIT ${b.big(o.limit)}`;
  return { sql, params: b.params };
}

/**
 * SQL that normalises a statement: quoted strings and numbers (and `$1` placeholders) become `?`,
 * `IN (?, ?, …)` becomes `IN (?)`, repeated `VALUES (…), (…)` tuples collapse to one, whitespace to
 * one space. In SQL so that it applies to stored rows and grouping happens in the engine.
 */
export function normalizeStatementSql(v: ViewSql, expr: string): string {
  return normalizeShapeSql(v, stripLiteralsSql(v, expr));
}

/** First step of {@link normalizeStatementSql}: quoted strings, numbers and `$n` become `?` in one regex pass. */
export function stripLiteralsSql(v: ViewSql, expr: string): string {
  return v.regexpReplaceAll(expr, String.raw`'(?:[^']|'')*'|\$\d+|\b\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\b`, '?');
}

/** Second step of {@link normalizeStatementSql}: IN lists, VALUES tuples and whitespace, on literal-free text. */
export function normalizeShapeSql(v: ViewSql, expr: string): string {
  let s = v.regexpReplaceAll(expr, String.raw`(?i)\bIN\s*\(\s*\?(?:\s*,\s*\?)*\s*\)`, 'IN (?)');
  s = v.regexpReplaceAll(s, String.raw`(?i)(VALUES\s*\([^)]*\))(?:\s*,\s*\([^)]*\))+`, String.raw`\1`);
  return `trim(${v.regexpReplaceAll(s, String.raw`\s+`, ' ')})`;
}

/** Sort orders of the database table. */
export const DATABASE_SORTS = {
  total_time: 'total_ns DESC',
  calls: 'calls DESC',
  p95: 'p95_ns DESC',
  errors: 'errors DESC',
} as const;
/** A sort order of the database table. */
export type DatabaseSort = keyof typeof DATABASE_SORTS;

/** Options of the database view. */
export interface DatabaseOptions extends NsRange {
  service?: string;
  dbSystem?: string;
  sort: DatabaseSort;
  limit: number;
}

/**
 * Database calls grouped by service, database system and normalised statement: calls, errors, total
 * and p95 time, with the service's database time and request time for shares. Spans with a
 * `db.system` but no statement (Redis, …) group by span name. Raw statements are normalised once
 * per distinct text, then joined back, so repeated statements cost one regex pass.
 */
export function databaseQuery(d: Dialect, o: DatabaseOptions): SqlQuery {
  const b = new Binder(d);
  const v = b.sql;
  const from = b.ts(o.fromNs);
  const to = b.ts(o.toNs);
  const filters: string[] = [];
  const svcFilters: string[] = [];
  if (o.service !== undefined) {
    const p = b.add(o.service);
    filters.push(`ServiceName = ${p}`);
    svcFilters.push(`ServiceName = ${p}`);
  }
  if (o.dbSystem !== undefined) filters.push(`DbSystem = ${b.add(o.dbSystem)}`);
  const extra = filters.map((f) => ` AND ${f}`).join('');
  const sql = `WITH d AS (
      SELECT ServiceName AS service, coalesce(DbSystem, '') AS db_system, coalesce(nullif(DbStatement, ''), SpanName) AS raw,
        DbStatementNormalized AS norm, Duration, ${errorSql()} AS err
      FROM otel_traces
      WHERE Timestamp >= ${from} AND Timestamp < ${to} AND (coalesce(DbStatement, '') <> '' OR coalesce(DbSystem, '') <> '')${extra}),
    -- Statements are normalised at ingest (DbStatementNormalized). Rows without it (stored before the column
    -- existed, or spans named by their span name) are normalised here in two stages: one regex pass per
    -- distinct raw text, the remaining passes per distinct literal-free text (far fewer).
    l AS (SELECT raw, ${stripLiteralsSql(v, 'raw')} AS stripped FROM (SELECT DISTINCT raw FROM d WHERE norm IS NULL)),
    shapes AS (SELECT stripped, ${normalizeShapeSql(v, 'stripped')} AS statement FROM (SELECT DISTINCT stripped FROM l)),
    n AS (SELECT l.raw, shapes.statement FROM l JOIN shapes ON l.stripped = shapes.stripped),
    svc AS (
      SELECT ServiceName AS service, sum(Duration) AS request_ns FROM otel_traces
      WHERE Timestamp >= ${from} AND Timestamp < ${to} AND SpanKind = 'Server'${svcFilters.map((f) => ` AND ${f}`).join('')}
      GROUP BY ServiceName),
    g AS ${v.materialized}(
      SELECT d.service, d.db_system, coalesce(d.norm, n.statement) AS statement, count(*) AS calls, ${v.countIf('err')} AS errors,
        sum(Duration) AS total_ns, avg(Duration) AS avg_ns, ${v.quantile('Duration', 0.95)} AS p95_ns,
        -- Distinct raw texts of a statement, estimated (HyperLogLog): an exact count over millions of
        -- inlined-literal variants cost as much as the rest of the query (4.1 s → 2.0 s on 10M spans).
        ${v.approxCountDistinct('d.raw')} AS variants, ${v.anyValue('d.raw')} AS example
      FROM d LEFT JOIN n ON d.norm IS NULL AND d.raw = n.raw GROUP BY 1, 2, 3)
    SELECT g.*, sum(g.total_ns) OVER (PARTITION BY g.service) AS service_db_ns, svc.request_ns AS service_request_ns
    FROM g LEFT JOIN svc ON svc.service = g.service
    ORDER BY ${DATABASE_SORTS[o.sort]}, g.service, g.statement LIMIT ${b.big(o.limit)}`;
  return { sql, params: b.params };
}

/** Options of the external-calls view. */
export interface ExternalOptions extends NsRange {
  service?: string;
  limit: number;
}

/** Attribute keys naming the other side of a client span, most specific first. */
const PEER_KEYS = ['peer.service'] as const;
const HOST_KEYS = ['server.address', 'net.peer.name', 'http.host'] as const;

/**
 * The outgoing calls CTEs (`children`, `calls`): client and producer spans that are not database calls,
 * each with its calling service, its target service (`peer.service`, else the service of the server
 * span it caused: same trace, parent = the client span), its host (`server.address` /
 * `net.peer.name` / `http.host`), its duration as the caller saw it, and whether it failed. The
 * external-calls table and the service map both read it, so a link has one p95 on both.
 */
function callsCtes(b: Binder, range: NsRange, service: string | undefined): string {
  const from = b.ts(range.fromNs);
  const to = b.ts(range.toNs);
  const svc = service !== undefined ? ` AND c.ServiceName = ${b.add(service)}` : '';
  const v = b.sql;
  const attr = (k: string) => `nullif(${v.jsonText('c.SpanAttributes', [k])}, '')`;
  return `children AS (
      -- One row per calling span even if a retry produced several server spans.
      SELECT TraceId, ParentSpanId, ${v.anyValue('ServiceName')} AS service FROM otel_traces
      WHERE Timestamp >= ${from} AND Timestamp < ${v.plusHours(to, 1)} AND SpanKind = 'Server' AND coalesce(ParentSpanId, '') <> ''
      GROUP BY TraceId, ParentSpanId),
    calls AS (
      SELECT c.ServiceName AS service,
        coalesce(${PEER_KEYS.map(attr).join(', ')}, ch.service) AS peer,
        coalesce(${HOST_KEYS.map(attr).join(', ')}) AS host,
        c.Duration, ${errorSql('c')} AS err
      FROM otel_traces c LEFT JOIN children ch ON ch.TraceId = c.TraceId AND ch.ParentSpanId = c.SpanId
      WHERE c.Timestamp >= ${from} AND c.Timestamp < ${to} AND c.SpanKind IN ('Client', 'Producer')
        AND coalesce(c.DbSystem, '') = '' AND coalesce(c.DbStatement, '') = ''${svc})`;
}

/** Call figures over a `Duration` column and a failure condition: calls, failures, p50/p95/p99 and total time (the same on every view of calls). */
function callFiguresSql(v: ViewSql, failed = 'err'): string {
  return `count(*) AS calls, ${v.countIf(failed)} AS errors, ${v.quantiles('Duration', LATENCY_QUANTILES)} AS q, sum(Duration) AS total_ns`;
}

/**
 * Outgoing calls grouped by calling service and target: the target is `peer.service`, else the
 * service of the server span it caused, else `server.address` / `net.peer.name` / `http.host`, else
 * "unknown" (see {@link callsCtes}).
 */
export function externalQuery(d: Dialect, o: ExternalOptions): SqlQuery {
  const b = new Binder(d);
  const sql = `WITH ${callsCtes(b, o, o.service)}
    SELECT service, coalesce(peer, host, 'unknown') AS target,
      CASE WHEN peer IS NOT NULL THEN 'service' WHEN host IS NOT NULL THEN 'host' ELSE 'unknown' END AS target_kind,
      ${callFiguresSql(b.sql)}
    FROM calls GROUP BY 1, 2, 3 ORDER BY calls DESC, service, target LIMIT ${b.big(o.limit)}`;
  return { sql, params: b.params };
}

/**
 * The service map's edges: calls from a service to another service, from the same calls as
 * {@link externalQuery} (the caller's client span, same quantile), and database calls per `db.system`.
 * `p95_ms` is rounded to microseconds in SQL exactly as {@link ms} rounds the external-calls table.
 */
export function serviceMapQuery(d: Dialect, fromNs: bigint, toNs: bigint): SqlQuery {
  const b = new Binder(d);
  const range = { fromNs, toNs };
  const p95 = (col: string) => `round(${col} / 1e3) / 1e3`;
  const sql = `WITH ${callsCtes(b, range, undefined)},
    svc AS (
      SELECT service AS source, peer AS target, 'service' AS target_kind, ${callFiguresSql(b.sql)}
      FROM calls WHERE peer IS NOT NULL GROUP BY 1, 2),
    db AS (
      SELECT ServiceName AS source, DbSystem AS target, 'database' AS target_kind, ${callFiguresSql(b.sql, errorSql())}
      FROM otel_traces WHERE Timestamp >= ${b.ts(fromNs)} AND Timestamp < ${b.ts(toNs)} AND coalesce(DbSystem, '') <> ''
      GROUP BY 1, 2)
    SELECT source, target, target_kind, calls, errors, ${p95('q[2]')} AS p95_ms
    FROM (SELECT * FROM svc UNION ALL SELECT * FROM db) ORDER BY calls DESC, source, target LIMIT 1000`;
  return { sql, params: b.params };
}

// ---------------------------------------------------------------------------------------------
// Shaping: pure functions from rows to what the API returns.

/** Converts a count-like engine value to a number. */
export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && v !== '') return Number(v);
  return 0;
}

/** Nanoseconds → milliseconds rounded to microseconds, or null. */
export function ms(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  return Math.round(num(v) / 1e3) / 1e3;
}

/** The three latency quantiles of a `q` list column in milliseconds. */
function quantiles(q: unknown): { p50_ms: number | null; p95_ms: number | null; p99_ms: number | null } {
  const list = Array.isArray(q) ? q : [];
  return { p50_ms: ms(list[0]), p95_ms: ms(list[1]), p99_ms: ms(list[2]) };
}

function ratio(a: number, n: number, digits = 4): number | null {
  return n > 0 ? Math.round((a / n) * 10 ** digits) / 10 ** digits : null;
}

/** Apdex from its counts: (satisfied + tolerating / 2) / requests, null without requests. */
export function apdex(satisfied: number, tolerating: number, requests: number): number | null {
  return ratio(satisfied + tolerating / 2, requests, 3);
}

// The shapes of these answers are the API contract's (src/api/contract.ts), which the web UI shares.
export type { OverviewGroup, OverviewPoint, OverviewSummary } from '../../api/contract.ts';

function nsToIso(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString();
}

/** Request, error and refusal counts with their shares and latency figures of one row. */
function requestFigures(r: Record<string, unknown> | undefined) {
  const requests = num(r?.requests);
  const errors = num(r?.errors);
  const clientErrors = num(r?.client_errors);
  return {
    requests,
    errors,
    error_rate: ratio(errors, requests),
    client_errors: clientErrors,
    client_error_rate: ratio(clientErrors, requests),
    ...quantiles(r?.q),
    apdex: apdex(num(r?.satisfied), num(r?.tolerating), requests),
  };
}

/** Shapes overview rows: per group, totals and a gap-free series (buckets without requests have zeros and nulls). */
export function shapeOverview(rows: Record<string, unknown>[], o: OverviewOptions): OverviewGroup[] {
  type Acc = { total?: Record<string, unknown>; buckets: Map<bigint, Record<string, unknown>> };
  const groups = new Map<string, Acc>();
  for (const r of rows) {
    const key = String(r.grp ?? '');
    const g: Acc = groups.get(key) ?? { buckets: new Map() };
    groups.set(key, g);
    if (r.bucket_ns === null || r.bucket_ns === undefined) g.total = r;
    else g.buckets.set(BigInt(String(r.bucket_ns)), r);
  }
  if (groups.size === 0 && o.groupBy === undefined) groups.set('', { buckets: new Map() });
  const first = (o.fromNs / o.bucketNs) * o.bucketNs;
  return [...groups.entries()].map(([group, g]) => {
    const series: OverviewPoint[] = [];
    for (let t = first; t < o.toNs; t += o.bucketNs) {
      const r = g.buckets.get(t);
      const seconds = coveredSeconds(t, t + o.bucketNs, o);
      series.push({ time: nsToIso(t), ...requestFigures(r), throughput_rps: seconds > 0 ? round4(num(r?.requests) / seconds) : null });
    }
    const firstNs = g.buckets.size ? [...g.buckets.keys()].reduce((a, c) => (c < a ? c : a)) : null;
    const figures = requestFigures(g.total);
    return {
      group,
      services: Array.isArray(g.total?.services) ? g.total.services.map(String) : [],
      summary: { ...figures, throughput_rps: rateOver(figures.requests, firstNs, o), avg_ms: ms(g.total?.avg_ns), first_seen: firstNs === null ? null : nsToIso(firstNs > o.fromNs ? firstNs : o.fromNs) },
      series,
    };
  });
}

/** An operation is flagged when at least this share of its requests were refused (4xx)… */
export const CLIENT_ERROR_ALERT_SHARE = 0.2;
/** …at least this many times… */
export const CLIENT_ERROR_ALERT_MIN = 5;
/** …and that share is at least this multiple of the rest of its service's. */
export const CLIENT_ERROR_ALERT_FACTOR = 2;

/**
 * Whether an operation's share of 4xx answers is unusual: at least {@link CLIENT_ERROR_ALERT_SHARE} of
 * its requests and {@link CLIENT_ERROR_ALERT_MIN} answers, and at least {@link CLIENT_ERROR_ALERT_FACTOR}
 * times the share among the service's other requests (an API that always answers many 404s is not flagged
 * for it; one route refusing most users is).
 */
export function unusualClientErrors(requests: number, clientErrors: number, serviceRequests: number, serviceClientErrors: number): boolean {
  if (requests <= 0 || clientErrors < CLIENT_ERROR_ALERT_MIN) return false;
  const share = clientErrors / requests;
  const restRequests = serviceRequests - requests;
  const restShare = restRequests > 0 ? (serviceClientErrors - clientErrors) / restRequests : 0;
  return share >= CLIENT_ERROR_ALERT_SHARE && share >= CLIENT_ERROR_ALERT_FACTOR * restShare;
}

/** Shapes operation rows with rates ({@link rateOver} from each operation's first request), quantiles in ms, Apdex, 4xx and time share. */
export function shapeOperations(rows: Record<string, unknown>[], w: RateWindow): OperationRow[] {
  return rows.map((r) => {
    const figures = requestFigures(r);
    return {
      service: String(r.service),
      operation: String(r.operation),
      ...figures,
      throughput_rps: rateOver(figures.requests, r.first_ns === null || r.first_ns === undefined ? null : BigInt(String(r.first_ns)), w),
      client_error_alert: unusualClientErrors(figures.requests, figures.client_errors, num(r.service_requests), num(r.service_client_errors)),
      avg_ms: ms(r.avg_ns),
      total_time_ms: ms(r.total_ns),
      time_share: ratio(num(r.total_ns), num(r.service_total_ns)),
    };
  });
}

/** Shapes database rows: times in ms and shares of the service's database and request time. */
export function shapeDatabase(rows: Record<string, unknown>[]): DatabaseStatementRow[] {
  return rows.map((r) => {
    const calls = num(r.calls);
    return {
      service: String(r.service),
      db_system: String(r.db_system),
      statement: String(r.statement),
      calls,
      errors: num(r.errors),
      total_time_ms: ms(r.total_ns),
      avg_ms: ms(r.avg_ns),
      p95_ms: ms(r.p95_ns),
      variants: num(r.variants),
      example: String(r.example),
      db_time_share: ratio(num(r.total_ns), num(r.service_db_ns)),
      service_time_share: r.service_request_ns === null || r.service_request_ns === undefined ? null : ratio(num(r.total_ns), num(r.service_request_ns)),
    };
  });
}

/** Shapes external-call rows. */
export function shapeExternal(rows: Record<string, unknown>[]): ExternalCallRow[] {
  return rows.map((r) => {
    const calls = num(r.calls);
    const errors = num(r.errors);
    return {
      service: String(r.service),
      target: String(r.target),
      target_kind: String(r.target_kind),
      calls,
      errors,
      error_rate: ratio(errors, calls),
      ...quantiles(r.q),
      total_time_ms: ms(r.total_ns),
    };
  });
}
