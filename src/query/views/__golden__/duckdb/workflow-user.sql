WITH steps AS (SELECT * FROM (VALUES (1, $1, $2), (2, $3, $4), (3, $5, $6)) AS v(idx, service, operation)),
    s AS (
      SELECT steps.idx, coalesce(json_extract_string(t.SpanAttributes, '$."user.id"'), json_extract_string(t.SpanAttributes, '$."enduser.id"')) AS k, t.TraceId AS trace_id, epoch_ns(t.Timestamp) AS ts, t.Duration AS dur, (t.StatusCode = 'Error' OR coalesce(t.HttpStatusCode, 0) >= 500) AS err
      FROM otel_traces t JOIN steps ON t.ServiceName = steps.service AND CASE WHEN coalesce(t.HttpRoute, '') <> '' THEN ltrim(coalesce(t.HttpMethod, '') || ' ' || t.HttpRoute) ELSE t.SpanName END = steps.operation
      WHERE t.Timestamp >= make_timestamp_ns(CAST($7 AS BIGINT)) AND t.Timestamp < make_timestamp_ns(CAST($8 AS BIGINT) + CAST($9 AS BIGINT))
        AND t.SpanKind = 'Server' AND coalesce(json_extract_string(t.SpanAttributes, '$."user.id"'), json_extract_string(t.SpanAttributes, '$."enduser.id"')) IS NOT NULL),
    i1 AS (
      SELECT * FROM (
        SELECT k, trace_id, ts AS t1, dur AS d1, err AS e1, lead(ts) OVER (PARTITION BY k ORDER BY ts) AS next_start
        FROM s WHERE idx = 1)
      WHERE t1 < CAST($8 AS BIGINT)),
    i2 AS (
      SELECT p.*, x.ts AS t2, x.dur AS d2, x.err AS e2
      FROM i1 p ASOF LEFT JOIN (SELECT k, ts, dur, err FROM s WHERE idx = 2) x ON p.k = x.k AND x.ts >= p.t1),
    i3 AS (
      SELECT p.*, x.ts AS t3, x.dur AS d3, x.err AS e3
      FROM i2 p ASOF LEFT JOIN (SELECT k, ts, dur, err FROM s WHERE idx = 3) x ON p.k = x.k AND x.ts >= p.t2),
    g AS (SELECT *, TRUE AS r1, (r1 AND t2 IS NOT NULL AND t2 < t1 + CAST($9 AS BIGINT) AND (next_start IS NULL OR t2 < next_start)) AS r2, (r2 AND t3 IS NOT NULL AND t3 < t1 + CAST($9 AS BIGINT) AND (next_start IS NULL OR t3 < next_start)) AS r3 FROM i3),
    f AS (
      SELECT *, (t1 // CAST($10 AS BIGINT)) * CAST($10 AS BIGINT) AS bucket_ns, r3 AS completed, r3 AND NOT ((r1 AND e1) OR (r2 AND e2) OR (r3 AND e3)) AS succeeded,
        CASE WHEN r3 THEN t3 + d3 - t1 END AS latency_ns
      FROM g)
    SELECT bucket_ns, count(*) AS instances, count(*) FILTER (WHERE completed) AS completed,
      count(*) FILTER (WHERE succeeded) AS succeeded, quantile_cont(latency_ns, [0.5, 0.95, 0.99]) AS q,
      count(*) FILTER (WHERE r1) AS reached_1, count(*) FILTER (WHERE r1 AND e1) AS errors_1,
      quantile_cont(d1, 0.95) FILTER (WHERE r1) AS p95_1,
      count(*) FILTER (WHERE r2) AS reached_2, count(*) FILTER (WHERE r2 AND e2) AS errors_2,
      quantile_cont(d2, 0.95) FILTER (WHERE r2) AS p95_2,
      count(*) FILTER (WHERE r3) AS reached_3, count(*) FILTER (WHERE r3 AND e3) AS errors_3,
      quantile_cont(d3, 0.95) FILTER (WHERE r3) AS p95_3
    FROM f GROUP BY GROUPING SETS ((bucket_ns), ()) ORDER BY bucket_ns NULLS FIRST
-- $1 = "lms-web"
-- $2 = "GET /login"
-- $3 = "lms-api"
-- $4 = "POST /api/login"
-- $5 = "lms-api"
-- $6 = "GET /api/courses"
-- $7 = 1700000000000000000n
-- $8 = 1700003600000000000n
-- $9 = 600000000000n
-- $10 = 300000000000n
