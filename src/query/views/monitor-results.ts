/**
 * Monitor check results as the monitors write them to telemetry (`vigil.check.up` with its
 * `vigil.check.duration_ms` beside it, under `service.name=vigil-monitors`), newest first.
 */
import { MONITORS_SERVICE, RESERVED_METRIC_PREFIX } from '../../model/reserved.ts';
import type { Dialect } from '../dialect/dialect.ts';
import type { ViewQuery } from '../service.ts';

const UP = `${RESERVED_METRIC_PREFIX}up`;
const DURATION = `${RESERVED_METRIC_PREFIX}duration_ms`;

/** One monitor's results in [fromMs, toMs), at most `limit` (1-10,000). Parameters only: the id never becomes SQL text. */
export function monitorResultsQuery(dialect: Dialect, id: string, fromMs: number, toMs: number, limit: number): ViewQuery {
  const v = dialect.views;
  const monitorId = (alias: string) => v.jsonText(`${alias}.Attributes`, ['monitor.id']);
  return {
    sql: `SELECT ${v.epochMs('u.TimeUnix')} AS t, u.Value AS up, ${v.jsonText('u.Attributes', ['check.status'])} AS status, d.Value AS duration
         FROM otel_metrics_gauge u
         LEFT JOIN otel_metrics_gauge d ON d.TimeUnix = u.TimeUnix AND d.ServiceName = $4 AND d.MetricName = $6
              AND ${monitorId('d')} = $1
        WHERE u.ServiceName = $4 AND u.MetricName = $5
          AND ${monitorId('u')} = $1
          AND u.TimeUnix >= ${v.timestampNs(v.bigint('$2'))} AND u.TimeUnix < ${v.timestampNs(v.bigint('$3'))}
        ORDER BY u.TimeUnix DESC LIMIT ${Math.max(1, Math.min(10_000, Math.floor(limit)))}`,
    params: [id, String(BigInt(fromMs) * 1_000_000n), String(BigInt(toMs) * 1_000_000n), MONITORS_SERVICE, UP, DURATION],
  };
}
