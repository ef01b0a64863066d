SELECT epoch_ns(Timestamp) AS time_ns, SpanId AS span_id, ServiceName AS service, SeverityText AS severity_text,
      SeverityNumber AS severity_number, Body AS body, LogAttributes AS attributes
      FROM otel_logs WHERE TraceId = $1 AND Timestamp >= make_timestamp_ns(CAST($2 AS BIGINT)) AND Timestamp < make_timestamp_ns(CAST($3 AS BIGINT)) ORDER BY Timestamp LIMIT 5000
-- $1 = "0123456789abcdef0123456789abcdef"
-- $2 = 1700000000000000000n
-- $3 = 1700003600000000000n
