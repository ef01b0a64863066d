WITH p AS (
      SELECT (epoch_ns(TimeUnix) // CAST($1 AS BIGINT)) * CAST($1 AS BIGINT) AS bucket_ns, coalesce(HostName, '') AS grp, ServiceName || chr(31) || coalesce(HostName, '') || chr(31) || CAST(ResourceAttributes AS VARCHAR) || chr(31) || CAST(Attributes AS VARCHAR) AS series, TimeUnix, Value
      FROM otel_metrics_gauge WHERE MetricName = $2 AND TimeUnix >= make_timestamp_ns(CAST($3 AS BIGINT)) AND TimeUnix < make_timestamp_ns(CAST($4 AS BIGINT)) AND ServiceName = $5 AND coalesce(json_extract_string(Attributes, $6), json_extract_string(ResourceAttributes, $6)) = $7),
    s AS (
      SELECT bucket_ns, grp, series, arg_max(Value, TimeUnix) AS last, sum(Value) AS total, count(*) AS points,
        min(Value) AS min, max(Value) AS max
      FROM p GROUP BY ALL)
    SELECT bucket_ns, grp, sum(total) / sum(points) AS value, count(*) AS series FROM s GROUP BY bucket_ns, grp ORDER BY grp, bucket_ns
-- $1 = 60000000000n
-- $2 = "http.server.duration"
-- $3 = 1700000000000000000n
-- $4 = 1700003600000000000n
-- $5 = "rms-api"
-- $6 = "$.\"http.route\""
-- $7 = "/api/works"
