WITH p AS (
      SELECT coalesce(HostName, '') AS grp, ServiceName || chr(31) || coalesce(HostName, '') || chr(31) || CAST(ResourceAttributes AS VARCHAR) || chr(31) || CAST(Attributes AS VARCHAR) AS series, TimeUnix, StartTimeUnix, Value, AggregationTemporality AS temporality,
        lag(Value) OVER w AS prev, lag(StartTimeUnix) OVER w AS prev_start
      FROM otel_metrics_sum WHERE MetricName = $2 AND TimeUnix >= make_timestamp_ns(CAST($3 AS BIGINT)) AND TimeUnix < make_timestamp_ns(CAST($4 AS BIGINT)) AND ServiceName = $5 AND coalesce(json_extract_string(Attributes, $6), json_extract_string(ResourceAttributes, $6)) = $7
      WINDOW w AS (PARTITION BY ServiceName || chr(31) || coalesce(HostName, '') || chr(31) || CAST(ResourceAttributes AS VARCHAR) || chr(31) || CAST(Attributes AS VARCHAR) ORDER BY TimeUnix)),
    d AS (
      SELECT (epoch_ns(TimeUnix) // CAST($1 AS BIGINT)) * CAST($1 AS BIGINT) AS bucket_ns, grp, series,
        CASE WHEN temporality = 'delta' THEN Value
          WHEN prev IS NULL THEN CASE WHEN StartTimeUnix >= make_timestamp_ns(CAST($8 AS BIGINT)) THEN Value END
          WHEN Value < prev OR StartTimeUnix > prev_start THEN Value
          ELSE Value - prev END AS increase,
        CASE WHEN prev IS NOT NULL AND temporality <> 'delta' AND (Value < prev OR StartTimeUnix > prev_start) THEN 1 ELSE 0 END AS reset
      FROM p WHERE TimeUnix >= make_timestamp_ns(CAST($9 AS BIGINT)))
    SELECT bucket_ns, grp, sum(increase) AS increase, sum(reset) AS resets, count(DISTINCT series) AS series
    FROM d GROUP BY bucket_ns, grp ORDER BY grp, bucket_ns
-- $1 = 60000000000n
-- $2 = "http.server.duration"
-- $3 = 1699999940000000000n
-- $4 = 1700003600000000000n
-- $5 = "rms-api"
-- $6 = "$.\"http.route\""
-- $7 = "/api/works"
-- $8 = 1699999940000000000n
-- $9 = 1700000000000000000n
