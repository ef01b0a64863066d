SELECT epoch_ns(Timestamp) AS time_ns, SpanId AS span_id, ServiceName AS service, SeverityText AS severity_text,
      SeverityNumber AS severity_number, Body AS body, LogAttributes AS attributes
      FROM otel_logs WHERE TraceId = $1 ORDER BY Timestamp LIMIT 5000
-- $1 = "0123456789abcdef0123456789abcdef"
