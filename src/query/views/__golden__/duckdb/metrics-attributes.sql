WITH sets AS (SELECT DISTINCT MetricName AS name, 'gauge' AS type, Attributes AS a, ResourceAttributes AS ra
     FROM otel_metrics_gauge WHERE TimeUnix >= make_timestamp_ns(CAST($1 AS BIGINT)) AND TimeUnix < make_timestamp_ns(CAST($2 AS BIGINT)) AND ServiceName = $3 UNION ALL SELECT DISTINCT MetricName AS name, 'sum' AS type, Attributes AS a, ResourceAttributes AS ra
     FROM otel_metrics_sum WHERE TimeUnix >= make_timestamp_ns(CAST($1 AS BIGINT)) AND TimeUnix < make_timestamp_ns(CAST($2 AS BIGINT)) AND ServiceName = $3 UNION ALL SELECT DISTINCT MetricName AS name, 'histogram' AS type, Attributes AS a, ResourceAttributes AS ra
     FROM otel_metrics_histogram WHERE TimeUnix >= make_timestamp_ns(CAST($1 AS BIGINT)) AND TimeUnix < make_timestamp_ns(CAST($2 AS BIGINT)) AND ServiceName = $3),
    kv AS (
      SELECT sets.name, sets.type, 'point' AS scope, e.key, json_extract_string(e.value, '$') AS value FROM sets, json_each(sets.a) e
      UNION ALL
      SELECT sets.name, sets.type, 'resource' AS scope, e.key, json_extract_string(e.value, '$') AS value FROM sets, json_each(sets.ra) e)
    SELECT name, type, scope, key, count(DISTINCT value) AS distinct_values, list(DISTINCT value ORDER BY value)[1:5] AS sample
    FROM kv GROUP BY ALL ORDER BY name, type, scope, key LIMIT 20000
-- $1 = 1700000000000000000n
-- $2 = 1700003600000000000n
-- $3 = "rms-api"
