SELECT epoch_ms(u.TimeUnix) AS t, u.Value AS up, json_extract_string(u.Attributes, '$."check.status"') AS status, d.Value AS duration
         FROM otel_metrics_gauge u
         LEFT JOIN otel_metrics_gauge d ON d.TimeUnix = u.TimeUnix AND d.ServiceName = $4 AND d.MetricName = $6
              AND json_extract_string(d.Attributes, '$."monitor.id"') = $1
        WHERE u.ServiceName = $4 AND u.MetricName = $5
          AND json_extract_string(u.Attributes, '$."monitor.id"') = $1
          AND u.TimeUnix >= make_timestamp_ns(CAST($2 AS BIGINT)) AND u.TimeUnix < make_timestamp_ns(CAST($3 AS BIGINT))
        ORDER BY u.TimeUnix DESC LIMIT 500
-- $1 = "mon_42"
-- $2 = "1700000000000000000"
-- $3 = "1700003600000000000"
-- $4 = "vigil-monitors"
-- $5 = "vigil.check.up"
-- $6 = "vigil.check.duration_ms"
