WITH s AS (
      SELECT ServiceName AS service, HttpMethod AS m, HttpRoute AS r,
        CASE WHEN coalesce(HttpRoute, '') = '' THEN SpanName END AS n, Timestamp, Duration, (StatusCode = 'Error' OR coalesce(HttpStatusCode, 0) >= 500) AS err,
        (coalesce(HttpStatusCode, 0) BETWEEN 400 AND 499 AND NOT (StatusCode = 'Error' OR coalesce(HttpStatusCode, 0) >= 500)) AS refused
      FROM otel_traces WHERE Timestamp >= make_timestamp_ns(CAST($1 AS BIGINT)) AND Timestamp < make_timestamp_ns(CAST($2 AS BIGINT)) AND SpanKind = 'Server'),
    -- MATERIALIZED: the optimizer turns the window below into a join with an aggregate of g, which
    -- otherwise scans and aggregates the spans twice.
    g AS MATERIALIZED (
      SELECT service, CASE WHEN coalesce(r, '') <> '' THEN ltrim(coalesce(m, '') || ' ' || r) ELSE n END AS operation,
        count(*) AS requests, count(*) FILTER (WHERE err) AS errors, count(*) FILTER (WHERE refused) AS client_errors,
      quantile_cont(Duration, [0.5, 0.95, 0.99]) AS q, avg(Duration) AS avg_ns, sum(Duration) AS total_ns,
        epoch_ns(min(Timestamp)) AS first_ns, count(*) FILTER (WHERE NOT err AND Duration <= CAST($3 AS BIGINT)) AS satisfied,
      count(*) FILTER (WHERE NOT err AND Duration > CAST($3 AS BIGINT) AND Duration <= 4 * CAST($3 AS BIGINT)) AS tolerating
      FROM s GROUP BY service, m, r, n )
    SELECT *, sum(total_ns) OVER (PARTITION BY service) AS service_total_ns,
      sum(requests) OVER (PARTITION BY service) AS service_requests, sum(client_errors) OVER (PARTITION BY service) AS service_client_errors
    FROM g ORDER BY q[2] DESC, service, operation LIMIT CAST($4 AS BIGINT)
-- $1 = 1700000000000000000n
-- $2 = 1700003600000000000n
-- $3 = 500000000n
-- $4 = 50n
