SELECT SpanId AS span_id, ParentSpanId AS parent_span_id, SpanName AS name, SpanKind AS kind, ServiceName AS service,
      ServiceVersion AS service_version, HostName AS host, epoch_ns(Timestamp) AS start_ns, Duration AS duration_ns,
      StatusCode AS status, StatusMessage AS status_message, HttpMethod AS http_method, HttpRoute AS http_route,
      HttpStatusCode AS http_status_code, DbSystem AS db_system, DbStatement AS db_statement,
      SpanAttributes AS attributes, ResourceAttributes AS resource_attributes, Events AS events, Links AS links
      FROM otel_traces WHERE TraceId = $1 ORDER BY Timestamp, SpanId LIMIT 10000
-- $1 = "0123456789abcdef0123456789abcdef"
