WITH s AS (
        SELECT ServiceName AS service, any_value(ServiceNamespace) AS namespace, max(Timestamp) AS last_seen,
          count(*) FILTER (WHERE SpanKind = 'Server') AS requests,
          count(*) FILTER (WHERE SpanKind = 'Server' AND StatusCode = 'Error') AS errors,
          quantile_cont(Duration, 0.95) FILTER (WHERE SpanKind = 'Server') / 1e6 AS p95_ms
        FROM otel_traces WHERE Timestamp >= make_timestamp_ns(CAST($1 AS BIGINT)) AND Timestamp < make_timestamp_ns(CAST($2 AS BIGINT)) GROUP BY ServiceName),
      l AS (
        SELECT ServiceName AS service, any_value(ServiceNamespace) AS namespace, max(Timestamp) AS last_seen, count(*) AS logs,
          count(*) FILTER (WHERE SeverityNumber >= 17) AS error_logs
        FROM otel_logs WHERE Timestamp >= make_timestamp_ns(CAST($1 AS BIGINT)) AND Timestamp < make_timestamp_ns(CAST($2 AS BIGINT)) GROUP BY ServiceName)
      SELECT coalesce(s.service, l.service) AS service, coalesce(nullif(s.namespace, ''), l.namespace, '') AS namespace,
        epoch_ns(greatest(coalesce(s.last_seen, l.last_seen), coalesce(l.last_seen, s.last_seen))) AS last_seen_ns,
        coalesce(s.requests, 0) AS requests, coalesce(s.errors, 0) AS errors, s.p95_ms AS p95_ms,
        coalesce(l.logs, 0) AS logs, coalesce(l.error_logs, 0) AS error_logs
      FROM s FULL OUTER JOIN l ON s.service = l.service ORDER BY service
-- $1 = 1700000000000000000n
-- $2 = 1700003600000000000n
