WITH children AS (
      -- One row per calling span even if a retry produced several server spans.
      SELECT TraceId, ParentSpanId, any_value(ServiceName) AS service FROM otel_traces
      WHERE Timestamp >= make_timestamp_ns(CAST($1 AS BIGINT)) AND Timestamp < make_timestamp_ns(CAST($2 AS BIGINT)) + INTERVAL 1 HOUR AND SpanKind = 'Server' AND coalesce(ParentSpanId, '') <> ''
      GROUP BY TraceId, ParentSpanId),
    calls AS (
      SELECT c.ServiceName AS service,
        coalesce(nullif(json_extract_string(c.SpanAttributes, '$."peer.service"'), ''), ch.service) AS peer,
        coalesce(nullif(json_extract_string(c.SpanAttributes, '$."server.address"'), ''), nullif(json_extract_string(c.SpanAttributes, '$."net.peer.name"'), ''), nullif(json_extract_string(c.SpanAttributes, '$."http.host"'), '')) AS host,
        c.Duration, (c.StatusCode = 'Error' OR coalesce(c.HttpStatusCode, 0) >= 500) AS err
      FROM otel_traces c LEFT JOIN children ch ON ch.TraceId = c.TraceId AND ch.ParentSpanId = c.SpanId
      WHERE c.Timestamp >= make_timestamp_ns(CAST($1 AS BIGINT)) AND c.Timestamp < make_timestamp_ns(CAST($2 AS BIGINT)) AND c.SpanKind IN ('Client', 'Producer')
        AND coalesce(c.DbSystem, '') = '' AND coalesce(c.DbStatement, '') = ''),
    svc AS (
      SELECT service AS source, peer AS target, 'service' AS target_kind, count(*) AS calls, count(*) FILTER (WHERE err) AS errors, quantile_cont(Duration, [0.5, 0.95, 0.99]) AS q, sum(Duration) AS total_ns
      FROM calls WHERE peer IS NOT NULL GROUP BY 1, 2),
    db AS (
      SELECT ServiceName AS source, DbSystem AS target, 'database' AS target_kind, count(*) AS calls, count(*) FILTER (WHERE (StatusCode = 'Error' OR coalesce(HttpStatusCode, 0) >= 500)) AS errors, quantile_cont(Duration, [0.5, 0.95, 0.99]) AS q, sum(Duration) AS total_ns
      FROM otel_traces WHERE Timestamp >= make_timestamp_ns(CAST($3 AS BIGINT)) AND Timestamp < make_timestamp_ns(CAST($4 AS BIGINT)) AND coalesce(DbSystem, '') <> ''
      GROUP BY 1, 2)
    SELECT source, target, target_kind, calls, errors, round(q[2] / 1e3) / 1e3 AS p95_ms
    FROM (SELECT * FROM svc UNION ALL SELECT * FROM db) ORDER BY calls DESC, source, target LIMIT 1000
-- $1 = 1700000000000000000n
-- $2 = 1700003600000000000n
-- $3 = 1700000000000000000n
-- $4 = 1700003600000000000n
