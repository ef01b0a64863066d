SELECT 'gauge' AS type, count(*) AS points, any_value(MetricUnit) AS unit, any_value(MetricDescription) AS description, NULL AS temporality, NULL AS monotonic
     FROM otel_metrics_gauge WHERE MetricName = $1 AND TimeUnix >= make_timestamp_ns(CAST($2 AS BIGINT)) AND TimeUnix < make_timestamp_ns(CAST($3 AS BIGINT)) UNION ALL SELECT 'sum' AS type, count(*) AS points, any_value(MetricUnit) AS unit, any_value(MetricDescription) AS description, any_value(AggregationTemporality) AS temporality, bool_and(IsMonotonic) AS monotonic
     FROM otel_metrics_sum WHERE MetricName = $1 AND TimeUnix >= make_timestamp_ns(CAST($2 AS BIGINT)) AND TimeUnix < make_timestamp_ns(CAST($3 AS BIGINT)) UNION ALL SELECT 'histogram' AS type, count(*) AS points, any_value(MetricUnit) AS unit, any_value(MetricDescription) AS description, any_value(AggregationTemporality) AS temporality, NULL AS monotonic
     FROM otel_metrics_histogram WHERE MetricName = $1 AND TimeUnix >= make_timestamp_ns(CAST($2 AS BIGINT)) AND TimeUnix < make_timestamp_ns(CAST($3 AS BIGINT))
-- $1 = "http.server.duration"
-- $2 = 1700000000000000000n
-- $3 = 1700003600000000000n
