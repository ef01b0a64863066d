WITH steps AS (SELECT * FROM (VALUES (1, $1, $2), (2, $3, $4)) AS v(idx, service, operation)),
    s AS (
      SELECT steps.idx, t.TraceId AS k, t.TraceId AS trace_id, epoch_ns(t.Timestamp) AS ts, t.Duration AS dur, (t.StatusCode = 'Error' OR coalesce(t.HttpStatusCode, 0) >= 500) AS err
      FROM otel_traces t JOIN steps ON t.ServiceName = steps.service AND CASE WHEN coalesce(t.HttpRoute, '') <> '' THEN ltrim(coalesce(t.HttpMethod, '') || ' ' || t.HttpRoute) ELSE t.SpanName END = steps.operation
      WHERE t.Timestamp >= make_timestamp_ns(CAST($5 AS BIGINT)) AND t.Timestamp < make_timestamp_ns(CAST($6 AS BIGINT) + CAST($7 AS BIGINT))
        AND t.SpanKind = 'Server' AND t.TraceId IS NOT NULL),
    i1 AS (
      SELECT * FROM (
        SELECT k, trace_id, ts AS t1, dur AS d1, err AS e1, lead(ts) OVER (PARTITION BY k ORDER BY ts) AS next_start
        FROM s WHERE idx = 1)
      WHERE t1 < CAST($6 AS BIGINT)),
    i2 AS (
      SELECT p.*, x.ts AS t2, x.dur AS d2, x.err AS e2
      FROM i1 p ASOF LEFT JOIN (SELECT k, ts, dur, err FROM s WHERE idx = 2) x ON p.k = x.k AND x.ts >= p.t1),
    g AS (SELECT *, TRUE AS r1, (r1 AND t2 IS NOT NULL AND t2 < t1 + CAST($7 AS BIGINT) AND (next_start IS NULL OR t2 < next_start)) AS r2 FROM i2),
    f AS (
      SELECT *, (t1 // CAST($8 AS BIGINT)) * CAST($8 AS BIGINT) AS bucket_ns, r2 AS completed, r2 AND NOT ((r1 AND e1) OR (r2 AND e2)) AS succeeded,
        CASE WHEN r2 THEN t2 + d2 - t1 END AS latency_ns
      FROM g)
    SELECT bucket_ns, count(*) AS instances, count(*) FILTER (WHERE completed) AS completed,
      count(*) FILTER (WHERE succeeded) AS succeeded, quantile_cont(latency_ns, [0.5, 0.95, 0.99]) AS q,
      count(*) FILTER (WHERE r1) AS reached_1, count(*) FILTER (WHERE r1 AND e1) AS errors_1,
      quantile_cont(d1, 0.95) FILTER (WHERE r1) AS p95_1,
      count(*) FILTER (WHERE r2) AS reached_2, count(*) FILTER (WHERE r2 AND e2) AS errors_2,
      quantile_cont(d2, 0.95) FILTER (WHERE r2) AS p95_2
    FROM f GROUP BY GROUPING SETS ((bucket_ns), ()) ORDER BY bucket_ns NULLS FIRST
-- $1 = "lms-api"
-- $2 = "POST /api/login"
-- $3 = "lms-api"
-- $4 = "POST /api/courses/:id/register"
-- $5 = 1700000000000000000n
-- $6 = 1700003600000000000n
-- $7 = 600000000000n
-- $8 = 60000000000n
