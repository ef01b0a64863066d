WITH s AS (
      SELECT coalesce(ServiceName, '') AS grp, ServiceName AS svc, (epoch_ns(Timestamp) // CAST($3 AS BIGINT)) * CAST($3 AS BIGINT) AS bucket_ns, Duration,
        (StatusCode = 'Error' OR coalesce(HttpStatusCode, 0) >= 500) AS err, (coalesce(HttpStatusCode, 0) BETWEEN 400 AND 499 AND NOT (StatusCode = 'Error' OR coalesce(HttpStatusCode, 0) >= 500)) AS refused
      FROM otel_traces WHERE Timestamp >= make_timestamp_ns(CAST($1 AS BIGINT)) AND Timestamp < make_timestamp_ns(CAST($2 AS BIGINT)) AND SpanKind = 'Server')
    SELECT grp, bucket_ns, count(*) AS requests, count(*) FILTER (WHERE err) AS errors, count(*) FILTER (WHERE refused) AS client_errors,
      quantile_cont(Duration, [0.5, 0.95, 0.99]) AS q, avg(Duration) AS avg_ns, count(*) FILTER (WHERE NOT err AND Duration <= CAST($4 AS BIGINT)) AS satisfied,
      count(*) FILTER (WHERE NOT err AND Duration > CAST($4 AS BIGINT) AND Duration <= 4 * CAST($4 AS BIGINT)) AS tolerating,
      CASE WHEN GROUPING(bucket_ns) = 1 THEN list(DISTINCT svc ORDER BY svc) END AS services
    FROM s GROUP BY GROUPING SETS ((grp, bucket_ns), (grp)) ORDER BY grp, bucket_ns NULLS FIRST
-- $1 = 1700000000000000000n
-- $2 = 1700003600000000000n
-- $3 = 60000000000n
-- $4 = 500000000n
