/**
 * Fixed analytical views over spans and logs that are not user queries: a trace with its logs, the
 * service list and the service map. Built here, in the query layer, so no module outside store/ and
 * query/ writes telemetry SQL; every value is a parameter.
 */
import type { SqlParam } from '../dialect/dialect.ts';

/** SQL with its parameters. */
export interface SqlQuery {
  sql: string;
  params: SqlParam[];
}

const ts = (n: number) => `make_timestamp_ns(CAST($${n} AS BIGINT))`;

/** Hex trace ids as OTLP writes them. */
export const TRACE_ID = /^[0-9a-f]{32}$/;

/** A time window that bounds a trace lookup (Unix ns), so DuckDB reads only the row groups in it. */
export interface TraceWindow {
  fromNs: bigint;
  toNs: bigint;
}

function windowed(q: SqlQuery, column: string, w: TraceWindow | undefined): SqlQuery {
  if (!w) return q;
  const n = q.params.length;
  return { sql: q.sql.replace(' WHERE TraceId = $1', ` WHERE TraceId = $1 AND ${column} >= ${ts(n + 1)} AND ${column} < ${ts(n + 2)}`), params: [...q.params, w.fromNs, w.toNs] };
}

/** All spans of one trace, in start order. */
export function traceSpansQuery(traceId: string, window?: TraceWindow): SqlQuery {
  return windowed(traceSpansQueryAll(traceId), 'Timestamp', window);
}

/** Log records correlated with one trace. */
export function traceLogsQuery(traceId: string, window?: TraceWindow): SqlQuery {
  return windowed(traceLogsQueryAll(traceId), 'Timestamp', window);
}

function traceSpansQueryAll(traceId: string): SqlQuery {
  return {
    sql: `SELECT SpanId AS span_id, ParentSpanId AS parent_span_id, SpanName AS name, SpanKind AS kind, ServiceName AS service,
      ServiceVersion AS service_version, HostName AS host, epoch_ns(Timestamp) AS start_ns, Duration AS duration_ns,
      StatusCode AS status, StatusMessage AS status_message, HttpMethod AS http_method, HttpRoute AS http_route,
      HttpStatusCode AS http_status_code, DbSystem AS db_system, DbStatement AS db_statement,
      SpanAttributes AS attributes, ResourceAttributes AS resource_attributes, Events AS events, Links AS links
      FROM otel_traces WHERE TraceId = $1 ORDER BY Timestamp, SpanId LIMIT 10000`,
    params: [traceId],
  };
}

function traceLogsQueryAll(traceId: string): SqlQuery {
  return {
    sql: `SELECT epoch_ns(Timestamp) AS time_ns, SpanId AS span_id, ServiceName AS service, SeverityText AS severity_text,
      SeverityNumber AS severity_number, Body AS body, LogAttributes AS attributes
      FROM otel_logs WHERE TraceId = $1 ORDER BY Timestamp LIMIT 5000`,
    params: [traceId],
  };
}

/** Services seen in spans or logs over a range, with request, error and latency figures from server spans. */
export function servicesQuery(fromNs: bigint, toNs: bigint): SqlQuery {
  return {
    sql: `WITH s AS (
        SELECT ServiceName AS service, any_value(ServiceNamespace) AS namespace, max(Timestamp) AS last_seen,
          count(*) FILTER (WHERE SpanKind = 'Server') AS requests,
          count(*) FILTER (WHERE SpanKind = 'Server' AND StatusCode = 'Error') AS errors,
          quantile_cont(Duration, 0.95) FILTER (WHERE SpanKind = 'Server') / 1e6 AS p95_ms
        FROM otel_traces WHERE Timestamp >= ${ts(1)} AND Timestamp < ${ts(2)} GROUP BY ServiceName),
      l AS (
        SELECT ServiceName AS service, any_value(ServiceNamespace) AS namespace, max(Timestamp) AS last_seen, count(*) AS logs,
          count(*) FILTER (WHERE SeverityNumber >= 17) AS error_logs
        FROM otel_logs WHERE Timestamp >= ${ts(1)} AND Timestamp < ${ts(2)} GROUP BY ServiceName)
      SELECT coalesce(s.service, l.service) AS service, coalesce(nullif(s.namespace, ''), l.namespace, '') AS namespace,
        epoch_ns(greatest(coalesce(s.last_seen, l.last_seen), coalesce(l.last_seen, s.last_seen))) AS last_seen_ns,
        coalesce(s.requests, 0) AS requests, coalesce(s.errors, 0) AS errors, s.p95_ms AS p95_ms,
        coalesce(l.logs, 0) AS logs, coalesce(l.error_logs, 0) AS error_logs
      FROM s FULL OUTER JOIN l ON s.service = l.service ORDER BY service`,
    params: [fromNs, toNs],
  };
}

/** The service map's edges live beside the external-calls view so a link has one p95 on both (docs/apm.md). */
export { serviceMapQuery } from './apm.ts';
