SELECT t1."total" AS "total" FROM (SELECT count(*) AS "total" FROM "otel_traces" AS t0 WHERE t0."Timestamp" >= make_timestamp_ns(CAST($1 AS BIGINT)) AND t0."Timestamp" < make_timestamp_ns(CAST($2 AS BIGINT)) AND ((t0."ServiceName" = $3) AND (t0."HttpStatusCode" >= $4))) AS t1 LIMIT $5
-- $1 = 1700000000000000000n
-- $2 = 1700003600000000000n
-- $3 = "rms-api"
-- $4 = 500
-- $5 = 2
