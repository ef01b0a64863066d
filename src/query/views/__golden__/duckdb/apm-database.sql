WITH d AS (
      SELECT ServiceName AS service, coalesce(DbSystem, '') AS db_system, coalesce(nullif(DbStatement, ''), SpanName) AS raw,
        DbStatementNormalized AS norm, Duration, (StatusCode = 'Error' OR coalesce(HttpStatusCode, 0) >= 500) AS err
      FROM otel_traces
      WHERE Timestamp >= make_timestamp_ns(CAST($1 AS BIGINT)) AND Timestamp < make_timestamp_ns(CAST($2 AS BIGINT)) AND (coalesce(DbStatement, '') <> '' OR coalesce(DbSystem, '') <> '')),
    -- Statements are normalised at ingest (DbStatementNormalized). Rows without it (stored before the column
    -- existed, or spans named by their span name) are normalised here in two stages: one regex pass per
    -- distinct raw text, the remaining passes per distinct literal-free text (far fewer).
    l AS (SELECT raw, regexp_replace(raw, '''(?:[^'']|'''')*''|\$\d+|\b\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\b', '?', 'g') AS stripped FROM (SELECT DISTINCT raw FROM d WHERE norm IS NULL)),
    shapes AS (SELECT stripped, trim(regexp_replace(regexp_replace(regexp_replace(stripped, '(?i)\bIN\s*\(\s*\?(?:\s*,\s*\?)*\s*\)', 'IN (?)', 'g'), '(?i)(VALUES\s*\([^)]*\))(?:\s*,\s*\([^)]*\))+', '\1', 'g'), '\s+', ' ', 'g')) AS statement FROM (SELECT DISTINCT stripped FROM l)),
    n AS (SELECT l.raw, shapes.statement FROM l JOIN shapes ON l.stripped = shapes.stripped),
    svc AS (
      SELECT ServiceName AS service, sum(Duration) AS request_ns FROM otel_traces
      WHERE Timestamp >= make_timestamp_ns(CAST($1 AS BIGINT)) AND Timestamp < make_timestamp_ns(CAST($2 AS BIGINT)) AND SpanKind = 'Server'
      GROUP BY ServiceName),
    g AS MATERIALIZED (
      SELECT d.service, d.db_system, coalesce(d.norm, n.statement) AS statement, count(*) AS calls, count(*) FILTER (WHERE err) AS errors,
        sum(Duration) AS total_ns, avg(Duration) AS avg_ns, quantile_cont(Duration, 0.95) AS p95_ns,
        -- Distinct raw texts of a statement, estimated (HyperLogLog): an exact count over millions of
        -- inlined-literal variants cost as much as the rest of the query (4.1 s → 2.0 s on 10M spans).
        approx_count_distinct(d.raw) AS variants, any_value(d.raw) AS example
      FROM d LEFT JOIN n ON d.norm IS NULL AND d.raw = n.raw GROUP BY 1, 2, 3)
    SELECT g.*, sum(g.total_ns) OVER (PARTITION BY g.service) AS service_db_ns, svc.request_ns AS service_request_ns
    FROM g LEFT JOIN svc ON svc.service = g.service
    ORDER BY total_ns DESC, g.service, g.statement LIMIT CAST($3 AS BIGINT)
-- $1 = 1700000000000000000n
-- $2 = 1700003600000000000n
-- $3 = 20n
