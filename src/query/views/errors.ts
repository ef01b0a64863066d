/**
 * Error groups: exceptions recorded on spans (events named `exception`) and error logs carrying
 * `exception.*` attributes, grouped by a fingerprint of exception type + normalised message + top
 * stack frame. Fingerprinting runs in SQL so groups are exact over the stored rows.
 */
import type { ErrorGroupRow } from '../../api/contract.ts';
import type { Dialect, ViewSql } from '../dialect/dialect.ts';
import { Binder, num, type NsRange } from './apm.ts';
import type { SqlQuery } from './traces.ts';

/** Options of the error-groups view. */
export interface ErrorGroupsOptions extends NsRange {
  service?: string;
  limit: number;
}

/**
 * SQL normalising an exception message: UUIDs, long hex ids, quoted text and numbers become
 * placeholders so "order 42 not found" and "order 43 not found" group together.
 */
export function normalizeMessageSql(v: ViewSql, expr: string): string {
  let s = v.regexpReplaceAll(expr, '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}', '<uuid>');
  s = v.regexpReplaceAll(s, String.raw`\b(?:0x)?[0-9a-fA-F]{8,}\b`, '<hex>');
  s = v.regexpReplaceAll(s, `"[^"]*"|'[^']*'`, '<str>');
  s = v.regexpReplaceAll(s, String.raw`\b\d+(?:\.\d+)?\b`, '<n>');
  return `trim(${v.regexpReplaceAll(s, String.raw`\s+`, ' ')})`;
}

/** SQL extracting the top frame of a stack trace (`at …` for JS/Java/.NET, `File "…"` for Python). */
export function topFrameSql(v: ViewSql, expr: string): string {
  return `trim(${v.regexpExtract(`coalesce(${expr}, '')`, String.raw`(?m)^\s*(at .+|File ".+)$`, 1)})`;
}

/**
 * Error groups over a range: occurrences, first and last seen, affected services and versions, a
 * sample trace id. An exception seen both as a span event and as a log of the same span counts once
 * (occurrences are distinct trace+span pairs; records without a trace count one each).
 */
export function errorGroupsQuery(d: Dialect, o: ErrorGroupsOptions): SqlQuery {
  const b = new Binder(d);
  const v = b.sql;
  const from = b.ts(o.fromNs);
  const to = b.ts(o.toNs);
  const svc = o.service !== undefined ? ` AND ServiceName = ${b.add(o.service)}` : '';
  const ev = (k: string) => v.jsonText('e', ['Attributes', k]);
  const la = (k: string) => v.jsonText('LogAttributes', [k]);
  const sql = `WITH span_events AS (
      SELECT ServiceName, ServiceVersion, TraceId, SpanId, Timestamp, ${v.unnestJsonList('Events')} AS e
      FROM otel_traces
      -- Cheap text test first: most spans have no exception event and skip the JSON parse.
      WHERE Timestamp >= ${from} AND Timestamp < ${to}${svc} AND ${v.contains(v.text('Events'), v.literal('"exception"'))}),
    occ AS (
      SELECT ServiceName AS service, ServiceVersion AS version, TraceId AS trace_id, SpanId AS span_id,
        coalesce(${v.tryBigint(v.jsonText('e', ['Timestamp']))}, ${v.epochNs('Timestamp')}) AS time_ns, 'span' AS source,
        ${ev('exception.type')} AS type, ${ev('exception.message')} AS message, ${ev('exception.stacktrace')} AS stack
      FROM span_events WHERE ${v.jsonText('e', ['Name'])} = 'exception'
      UNION ALL
      SELECT ServiceName, ServiceVersion, TraceId, SpanId, ${v.epochNs('Timestamp')}, 'log',
        ${la('exception.type')}, coalesce(${la('exception.message')}, Body), ${la('exception.stacktrace')}
      FROM otel_logs
      WHERE Timestamp >= ${from} AND Timestamp < ${to}${svc} AND SeverityNumber >= 17
        AND ${v.contains(v.text('LogAttributes'), v.literal('"exception.'))}
        AND (${la('exception.type')} IS NOT NULL OR ${la('exception.message')} IS NOT NULL)),
    fp AS (
      SELECT *, coalesce(type, '') AS t, ${normalizeMessageSql(v, "coalesce(message, '')")} AS normalized_message,
        ${topFrameSql(v, 'stack')} AS top_frame
      FROM occ),
    keyed AS (SELECT *, ${v.hash16(`t || ${v.char(31)} || normalized_message || ${v.char(31)} || top_frame`)} AS fingerprint FROM fp)
    SELECT fingerprint, ${v.anyValue('t')} AS type, ${v.anyValue('normalized_message')} AS normalized_message, ${v.anyValue('top_frame')} AS top_frame,
      ${v.argMax('message', 'time_ns')} AS last_message,
      count(DISTINCT CASE WHEN coalesce(trace_id, '') <> '' THEN trace_id || '/' || coalesce(span_id, '') END)
        + ${v.countIf("coalesce(trace_id, '') = ''")} AS occurrences,
      ${v.countIf("source = 'span'")} AS span_events, ${v.countIf("source = 'log'")} AS logs,
      min(time_ns) AS first_seen_ns, max(time_ns) AS last_seen_ns,
      ${v.distinctList('service', true)} AS services,
      ${v.distinctList("service || '@' || coalesce(version, '')", true)} AS versions,
      ${v.aggregateIf(v.argMax('trace_id', 'time_ns'), "coalesce(trace_id, '') <> ''")} AS sample_trace_id
    FROM keyed GROUP BY fingerprint ORDER BY occurrences DESC, last_seen_ns DESC LIMIT ${b.big(o.limit)}`;
  return { sql, params: b.params };
}

function iso(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return new Date(Number(BigInt(String(v)) / 1_000_000n)).toISOString();
}

/** Shapes error-group rows for the API. */
export function shapeErrorGroups(rows: Record<string, unknown>[]): ErrorGroupRow[] {
  return rows.map((r) => ({
    fingerprint: String(r.fingerprint),
    type: String(r.type),
    normalized_message: String(r.normalized_message),
    top_frame: String(r.top_frame ?? ''),
    last_message: r.last_message === null || r.last_message === undefined ? null : String(r.last_message),
    occurrences: num(r.occurrences),
    span_events: num(r.span_events),
    logs: num(r.logs),
    first_seen: iso(r.first_seen_ns),
    last_seen: iso(r.last_seen_ns),
    services: Array.isArray(r.services) ? r.services.map(String) : [],
    versions: Array.isArray(r.versions) ? r.versions.map(String) : [],
    sample_trace_id: r.sample_trace_id === null || r.sample_trace_id === undefined ? null : String(r.sample_trace_id),
  }));
}
