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
        AND coalesce(c.DbSystem, '') = '' AND coalesce(c.DbStatement, '') = '' AND c.ServiceName = $3)
    SELECT service, coalesce(peer, host, 'unknown') AS target,
      CASE WHEN peer IS NOT NULL THEN 'service' WHEN host IS NOT NULL THEN 'host' ELSE 'unknown' END AS target_kind,
      count(*) AS calls, count(*) FILTER (WHERE err) AS errors, quantile_cont(Duration, [0.5, 0.95, 0.99]) AS q, sum(Duration) AS total_ns
    FROM calls GROUP BY 1, 2, 3 ORDER BY calls DESC, service, target LIMIT CAST($4 AS BIGINT)
-- $1 = 1700000000000000000n
-- $2 = 1700003600000000000n
-- $3 = "rms-api"
-- $4 = 30n
