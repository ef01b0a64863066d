SELECT MetricName AS name, 'gauge' AS type, any_value(MetricUnit) AS unit, count(*) AS points, list(DISTINCT ServiceName) AS services
     FROM otel_metrics_gauge WHERE TimeUnix >= make_timestamp_ns(CAST($1 AS BIGINT)) AND TimeUnix < make_timestamp_ns(CAST($2 AS BIGINT)) AND ServiceName = $3 GROUP BY MetricName UNION ALL SELECT MetricName AS name, 'sum' AS type, any_value(MetricUnit) AS unit, count(*) AS points, list(DISTINCT ServiceName) AS services
     FROM otel_metrics_sum WHERE TimeUnix >= make_timestamp_ns(CAST($1 AS BIGINT)) AND TimeUnix < make_timestamp_ns(CAST($2 AS BIGINT)) AND ServiceName = $3 GROUP BY MetricName UNION ALL SELECT MetricName AS name, 'histogram' AS type, any_value(MetricUnit) AS unit, count(*) AS points, list(DISTINCT ServiceName) AS services
     FROM otel_metrics_histogram WHERE TimeUnix >= make_timestamp_ns(CAST($1 AS BIGINT)) AND TimeUnix < make_timestamp_ns(CAST($2 AS BIGINT)) AND ServiceName = $3 GROUP BY MetricName ORDER BY name, type LIMIT 5000
-- $1 = 1700000000000000000n
-- $2 = 1700003600000000000n
-- $3 = "rms-api"
