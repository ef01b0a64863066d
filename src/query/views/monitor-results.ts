/**
 * Monitor check results as the monitors write them to telemetry (`vigil.check.up` with its
 * `vigil.check.duration_ms` beside it, under `service.name=vigil-monitors`), newest first.
 */
import { MONITORS_SERVICE, RESERVED_METRIC_PREFIX } from '../../model/reserved.ts';
import type { ViewQuery } from '../service.ts';

const UP = `${RESERVED_METRIC_PREFIX}up`;
const DURATION = `${RESERVED_METRIC_PREFIX}duration_ms`;

/** One monitor's results in [fromMs, toMs), at most `limit` (1-10,000). Parameters only: the id never becomes SQL text. */
export function monitorResultsQuery(id: string, fromMs: number, toMs: number, limit: number): ViewQuery {
  return {
    sql: `SELECT epoch_ms(u.TimeUnix) AS t, u.Value AS up, json_extract_string(u.Attributes, '$."check.status"') AS status, d.Value AS duration
         FROM otel_metrics_gauge u
         LEFT JOIN otel_metrics_gauge d ON d.TimeUnix = u.TimeUnix AND d.ServiceName = $4 AND d.MetricName = $6
              AND json_extract_string(d.Attributes, '$."monitor.id"') = $1
        WHERE u.ServiceName = $4 AND u.MetricName = $5
          AND json_extract_string(u.Attributes, '$."monitor.id"') = $1
          AND u.TimeUnix >= make_timestamp_ns(CAST($2 AS BIGINT)) AND u.TimeUnix < make_timestamp_ns(CAST($3 AS BIGINT))
        ORDER BY u.TimeUnix DESC LIMIT ${Math.max(1, Math.min(10_000, Math.floor(limit)))}`,
    params: [id, String(BigInt(fromMs) * 1_000_000n), String(BigInt(toMs) * 1_000_000n), MONITORS_SERVICE, UP, DURATION],
  };
}
