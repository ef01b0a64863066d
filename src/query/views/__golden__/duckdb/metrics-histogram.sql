WITH p AS (
      SELECT '' AS grp, TimeUnix, StartTimeUnix, Count, Sum, BucketCounts, ExplicitBounds,
        AggregationTemporality AS temporality,
        lag(Count) OVER w AS prev_count, lag(StartTimeUnix) OVER w AS prev_start, lag(BucketCounts) OVER w AS prev_counts,
        lag(Sum) OVER w AS prev_sum
      FROM otel_metrics_histogram WHERE MetricName = $2 AND TimeUnix >= make_timestamp_ns(CAST($3 AS BIGINT)) AND TimeUnix < make_timestamp_ns(CAST($4 AS BIGINT)) AND ServiceName = $5 AND coalesce(json_extract_string(Attributes, $6), json_extract_string(ResourceAttributes, $6)) = $7
      WINDOW w AS (PARTITION BY ServiceName || chr(31) || coalesce(HostName, '') || chr(31) || CAST(ResourceAttributes AS VARCHAR) || chr(31) || CAST(Attributes AS VARCHAR) ORDER BY TimeUnix)),
    m AS (
      SELECT *, CASE WHEN temporality = 'delta' THEN 'raw'
          WHEN prev_count IS NULL THEN CASE WHEN StartTimeUnix >= make_timestamp_ns(CAST($8 AS BIGINT)) THEN 'raw' ELSE 'skip' END
          WHEN Count < prev_count OR StartTimeUnix > prev_start OR len(BucketCounts) <> len(prev_counts) THEN 'raw'
          ELSE 'diff' END AS mode
      FROM p WHERE TimeUnix >= make_timestamp_ns(CAST($9 AS BIGINT))),
    d AS (
      SELECT (epoch_ns(TimeUnix) // CAST($1 AS BIGINT)) * CAST($1 AS BIGINT) AS bucket_ns, grp, ExplicitBounds AS bounds,
        CASE WHEN mode = 'raw' THEN list_transform(BucketCounts, x -> CAST(x AS BIGINT))
          ELSE list_transform(list_zip(BucketCounts, prev_counts), x -> CAST(x[1] AS BIGINT) - CAST(x[2] AS BIGINT)) END AS counts,
        CASE WHEN mode = 'raw' THEN CAST(Count AS BIGINT) ELSE CAST(Count AS BIGINT) - CAST(prev_count AS BIGINT) END AS n,
        CASE WHEN mode = 'raw' THEN Sum ELSE Sum - prev_sum END AS total
      FROM m WHERE mode <> 'skip'),
    u AS (SELECT bucket_ns, grp, bounds, unnest(counts) AS c, generate_subscripts(counts, 1) AS i FROM d),
    per_bound AS (SELECT bucket_ns, grp, i, any_value(bounds) AS bounds, sum(c) AS c FROM u GROUP BY bucket_ns, grp, i),
    lists AS (SELECT bucket_ns, grp, any_value(bounds) AS bounds, list(c ORDER BY i) AS counts FROM per_bound GROUP BY bucket_ns, grp),
    totals AS (SELECT bucket_ns, grp, sum(n) AS n, sum(total) AS total FROM d GROUP BY bucket_ns, grp)
    SELECT t.bucket_ns, t.grp, t.n, t.total, l.bounds, l.counts
    FROM totals t LEFT JOIN lists l ON l.bucket_ns = t.bucket_ns AND l.grp = t.grp ORDER BY t.grp, t.bucket_ns
-- $1 = 60000000000n
-- $2 = "http.server.duration"
-- $3 = 1699999940000000000n
-- $4 = 1700003600000000000n
-- $5 = "rms-api"
-- $6 = "$.\"http.route\""
-- $7 = "/api/works"
-- $8 = 1699999940000000000n
-- $9 = 1700000000000000000n
