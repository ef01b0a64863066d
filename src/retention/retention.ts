/**
 * Retention: deletes each signal's rows older than its configured age — and rows dated further ahead
 * than the accepted clock skew, which would otherwise outlive every retention run unseen — then
 * compacts so the space is reclaimed. Runs periodically from the server; `now` is an argument so tests
 * need no clock. The same policy bounds what ingest accepts ({@link recordLimits}).
 */
import { SIGNALS, type Signal } from '../model/telemetry.ts';
import type { RecordLimits } from '../ingest/validate.ts';
import type { TelemetryWriter } from '../store/telemetry/store.ts';

/** Maximum age per signal and the accepted clock skew, in milliseconds. */
export type RetentionPolicy = Record<Signal, number> & { maxClockSkew: number };

const NS_PER_MS = 1_000_000n;

/** The window ingest accepts under this policy. */
export function recordLimits(policy: RetentionPolicy): RecordLimits {
  return {
    maxAgeNs: { logs: BigInt(policy.logs) * NS_PER_MS, traces: BigInt(policy.traces) * NS_PER_MS, metrics: BigInt(policy.metrics) * NS_PER_MS },
    maxClockSkewNs: BigInt(policy.maxClockSkew) * NS_PER_MS,
  };
}

/** Deletes expired and far-future rows of every signal; returns the rows deleted per signal. */
export async function applyRetention(store: TelemetryWriter, policy: RetentionPolicy, now: Date): Promise<Record<Signal, number>> {
  const deleted = { logs: 0, traces: 0, metrics: 0 } as Record<Signal, number>;
  const nowNs = BigInt(now.getTime()) * NS_PER_MS;
  const newestNs = nowNs + BigInt(policy.maxClockSkew) * NS_PER_MS;
  for (const signal of SIGNALS) {
    deleted[signal] = await store.deleteOutside(signal, nowNs - BigInt(policy[signal]) * NS_PER_MS, newestNs);
  }
  if (Object.values(deleted).some((n) => n > 0)) await store.compact();
  return deleted;
}
