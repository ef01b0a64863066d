/**
 * Record validation between decode and the pipeline: every record that reaches the store must fit its
 * columns, so that one bad record can never fail a group commit that other senders share.
 *
 * Time window: records are accepted from `now - maxAge` (the signal's retention: anything older would be
 * deleted at once and never shown) to `now + maxClockSkew`. Outside it:
 * - log records keep their content and take the time Vigil received them, the original time kept in the
 *   attribute `vigil.original_time_unix_nano` (as Splunk indexes an event whose timestamp lies beyond
 *   MAX_DAYS_AGO/MAX_DAYS_HENCE at its receipt time);
 * - spans and metric points are rejected, each counted in the reply (`partial_success`), because their
 *   time is what they measure.
 * Records under a name that only Vigil writes (its monitors' history) are rejected too.
 */
import type { MetricRow, ResourceInfo, Signal, SpanRow, TelemetryBatch } from '../model/telemetry.ts';
import { RESERVED_METRIC_PREFIX, RESERVED_SERVICE_NAMES, VIGIL_NAMESPACE } from '../model/reserved.ts';

/** The accepted time window, relative to now, in nanoseconds. */
export interface RecordLimits {
  /** Oldest accepted record age per signal (its retention). */
  maxAgeNs: Record<Signal, bigint>;
  /** How far ahead of the server's clock a record may be. */
  maxClockSkewNs: bigint;
}

/** What validation did to a batch: records removed and records whose time was replaced. */
export interface Verdict {
  rejected: number;
  /** Up to a few distinct reasons of the rejections, for the reply. */
  reasons: string[];
  clamped: number;
  /** Says what happened to the clamped records, when there are any. */
  warning: string;
}

/** Attribute that keeps a log record's own time when it was replaced by the receive time. */
export const ORIGINAL_TIME_ATTRIBUTE = 'vigil.original_time_unix_nano';

const MAX_REASONS = 5;
// Histogram counts are stored as UBIGINT; beyond 2^53 a JS number is no longer an exact count anyway.
const MAX_COUNT = Number.MAX_SAFE_INTEGER;

/** Checks every record of a freshly decoded batch in place (the batch is the receiver's own). */
export function validateBatch(batch: TelemetryBatch, nowNs: bigint, limits: RecordLimits): Verdict {
  const verdict: Verdict = { rejected: 0, reasons: [], clamped: 0, warning: '' };
  const note = (reason: string) => {
    if (verdict.reasons.length < MAX_REASONS && !verdict.reasons.includes(reason)) verdict.reasons.push(reason);
  };
  const newest = nowNs + limits.maxClockSkewNs;
  const window = (signal: Signal) => ({ oldest: nowNs - limits.maxAgeNs[signal], newest });
  const describe = (signal: Signal) => `outside the accepted window (${limits.maxAgeNs[signal] / 86_400_000_000_000n} days back to ${limits.maxClockSkewNs / 1_000_000_000n} s ahead of the server clock)`;

  const logs = window('logs');
  batch.logs = batch.logs.filter((r) => {
    const reserved = reservedName(r.resource);
    if (reserved) return reject(reserved);
    if (!within(r.observedTimeNs, logs.oldest, newest)) r.observedTimeNs = nowNs;
    if (!within(r.timeNs, logs.oldest, newest)) {
      r.attributes[ORIGINAL_TIME_ATTRIBUTE] = r.timeNs.toString();
      r.timeNs = r.observedTimeNs;
      verdict.clamped++;
      verdict.warning = `${verdict.clamped} log record(s) with a time ${describe('logs')} were stored at their receive time`;
    }
    return true;
  });

  const traces = window('traces');
  batch.spans = batch.spans.filter((s) => {
    const problem = reservedName(s.resource) ?? spanProblem(s, traces.oldest, newest);
    if (problem) return reject(problem === 'window' ? `span time ${describe('traces')}` : problem);
    for (const e of s.events) if (!within(e.timeNs, traces.oldest, newest)) e.timeNs = s.startTimeNs;
    return true;
  });

  const metrics = window('metrics');
  batch.metrics = batch.metrics.filter((m) => {
    const problem = reservedMetric(m) ?? metricProblem(m, metrics.oldest, newest);
    if (problem) return reject(problem === 'window' ? `metric point time ${describe('metrics')}` : problem);
    if (!within(m.startTimeNs, 0n, m.timeNs)) m.startTimeNs = 0n;
    return true;
  });
  return verdict;

  function reject(reason: string): false {
    verdict.rejected++;
    note(reason);
    return false;
  }
}

function within(ns: bigint, oldest: bigint, newest: bigint): boolean {
  return ns >= oldest && ns <= newest;
}

function spanProblem(s: SpanRow, oldest: bigint, newest: bigint): string | undefined {
  if (!within(s.startTimeNs, oldest, newest)) return 'window';
  if (s.durationNs < 0n || s.startTimeNs + s.durationNs > newest) return 'span end lies beyond the accepted window';
  return undefined;
}

function metricProblem(m: MetricRow, oldest: bigint, newest: bigint): string | undefined {
  if (m.timeNs === 0n) return 'metric point without timeUnixNano';
  if (!within(m.timeNs, oldest, newest)) return 'window';
  if (m.kind === 'histogram') {
    const counts = [m.count, ...m.bucketCounts];
    if (counts.some((c) => !Number.isFinite(c) || c < 0 || c > MAX_COUNT)) return `histogram ${m.name}: counts must be whole numbers from 0 to 2^53`;
    if (m.explicitBounds.some((b) => Number.isNaN(b))) return `histogram ${m.name}: bucket bounds must be numbers`;
  }
  return undefined;
}

function reservedName(r: ResourceInfo): string | undefined {
  if (RESERVED_SERVICE_NAMES.has(r.serviceName) || r.serviceNamespace === VIGIL_NAMESPACE) {
    return `service "${r.serviceName}" (namespace "${r.serviceNamespace}") is reserved for Vigil's own records`;
  }
  return undefined;
}

function reservedMetric(m: MetricRow): string | undefined {
  if (m.name.startsWith(RESERVED_METRIC_PREFIX)) return `metric names starting "${RESERVED_METRIC_PREFIX}" are reserved for Vigil's own records`;
  return reservedName(m.resource);
}
