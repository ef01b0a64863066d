WITH span_events AS (
      SELECT ServiceName, ServiceVersion, TraceId, SpanId, Timestamp, unnest(CAST(Events AS JSON[])) AS e
      FROM otel_traces
      -- Cheap text test first: most spans have no exception event and skip the JSON parse.
      WHERE Timestamp >= make_timestamp_ns(CAST($1 AS BIGINT)) AND Timestamp < make_timestamp_ns(CAST($2 AS BIGINT)) AND contains(CAST(Events AS VARCHAR), '"exception"')),
    occ AS (
      SELECT ServiceName AS service, ServiceVersion AS version, TraceId AS trace_id, SpanId AS span_id,
        coalesce(TRY_CAST(json_extract_string(e, '$.Timestamp') AS BIGINT), epoch_ns(Timestamp)) AS time_ns, 'span' AS source,
        json_extract_string(e, '$.Attributes."exception.type"') AS type, json_extract_string(e, '$.Attributes."exception.message"') AS message, json_extract_string(e, '$.Attributes."exception.stacktrace"') AS stack
      FROM span_events WHERE json_extract_string(e, '$.Name') = 'exception'
      UNION ALL
      SELECT ServiceName, ServiceVersion, TraceId, SpanId, epoch_ns(Timestamp), 'log',
        json_extract_string(LogAttributes, '$."exception.type"'), coalesce(json_extract_string(LogAttributes, '$."exception.message"'), Body), json_extract_string(LogAttributes, '$."exception.stacktrace"')
      FROM otel_logs
      WHERE Timestamp >= make_timestamp_ns(CAST($1 AS BIGINT)) AND Timestamp < make_timestamp_ns(CAST($2 AS BIGINT)) AND SeverityNumber >= 17
        AND contains(CAST(LogAttributes AS VARCHAR), '"exception.')
        AND (json_extract_string(LogAttributes, '$."exception.type"') IS NOT NULL OR json_extract_string(LogAttributes, '$."exception.message"') IS NOT NULL)),
    fp AS (
      SELECT *, coalesce(type, '') AS t, trim(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(coalesce(message, ''), '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}', '<uuid>', 'g'), '\b(?:0x)?[0-9a-fA-F]{8,}\b', '<hex>', 'g'), '"[^"]*"|''[^'']*''', '<str>', 'g'), '\b\d+(?:\.\d+)?\b', '<n>', 'g'), '\s+', ' ', 'g')) AS normalized_message,
        trim(regexp_extract(coalesce(stack, ''), '(?m)^\s*(at .+|File ".+)$', 1)) AS top_frame
      FROM occ),
    keyed AS (SELECT *, substr(md5(t || chr(31) || normalized_message || chr(31) || top_frame), 1, 16) AS fingerprint FROM fp)
    SELECT fingerprint, any_value(t) AS type, any_value(normalized_message) AS normalized_message, any_value(top_frame) AS top_frame,
      arg_max(message, time_ns) AS last_message,
      count(DISTINCT CASE WHEN coalesce(trace_id, '') <> '' THEN trace_id || '/' || coalesce(span_id, '') END)
        + count(*) FILTER (WHERE coalesce(trace_id, '') = '') AS occurrences,
      count(*) FILTER (WHERE source = 'span') AS span_events, count(*) FILTER (WHERE source = 'log') AS logs,
      min(time_ns) AS first_seen_ns, max(time_ns) AS last_seen_ns,
      list(DISTINCT service ORDER BY service) AS services,
      list(DISTINCT service || '@' || coalesce(version, '') ORDER BY service || '@' || coalesce(version, '')) AS versions,
      arg_max(trace_id, time_ns) FILTER (WHERE coalesce(trace_id, '') <> '') AS sample_trace_id
    FROM keyed GROUP BY fingerprint ORDER BY occurrences DESC, last_seen_ns DESC LIMIT CAST($3 AS BIGINT)
-- $1 = 1700000000000000000n
-- $2 = 1700003600000000000n
-- $3 = 25n
