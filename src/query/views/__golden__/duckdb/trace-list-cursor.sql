SELECT t0."Timestamp" AS "timestamp", left(CAST(t0."TraceId" AS VARCHAR), 65537) AS "trace_id", left(CAST(t0."SpanId" AS VARCHAR), 65537) AS "span_id", left(CAST(t0."ParentSpanId" AS VARCHAR), 65537) AS "parent_span_id", left(CAST(t0."ServiceName" AS VARCHAR), 65537) AS "service.name", left(CAST(t0."SpanName" AS VARCHAR), 65537) AS "name", left(CAST(t0."SpanKind" AS VARCHAR), 65537) AS "kind", (t0."Duration" / 1000000) AS "duration_ms", left(CAST(t0."StatusCode" AS VARCHAR), 65537) AS "status", left(CAST(t0."StatusMessage" AS VARCHAR), 65537) AS "status.message", left(CAST(t0."HttpMethod" AS VARCHAR), 65537) AS "http.request.method", left(CAST(t0."HttpRoute" AS VARCHAR), 65537) AS "http.route", t0."HttpStatusCode" AS "http.response.status_code", left(CAST(t0."SpanAttributes" AS VARCHAR), 65537) AS "attributes", left(CAST(t0."ResourceAttributes" AS VARCHAR), 65537) AS "resource_attributes", left(CAST(TRY_CAST(t0."Timestamp" AS VARCHAR) AS VARCHAR), 65537) AS "_cursor_value", left(CAST(t0."SpanId" AS VARCHAR), 65537) AS "_cursor_span" FROM "otel_traces" AS t0 WHERE t0."Timestamp" >= make_timestamp_ns(CAST($1 AS BIGINT)) AND t0."Timestamp" < make_timestamp_ns(CAST($2 AS BIGINT)) AND (t0."ServiceName" = $3) AND ((t0."Timestamp" < $4) OR ((t0."Timestamp" = $5) AND (t0."SpanId" < $6))) ORDER BY t0."Timestamp" DESC NULLS LAST, t0."SpanId" DESC NULLS LAST LIMIT $7
-- $1 = 1700000000000000000n
-- $2 = 1700003600000000000n
-- $3 = "rms-api"
-- $4 = "2023-11-14 22:13:20.123456789"
-- $5 = "2023-11-14 22:13:20.123456789"
-- $6 = "abcdef0123456789"
-- $7 = 51
