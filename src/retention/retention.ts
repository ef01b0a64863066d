/**
 * Retention: deletes each signal's rows older than its configured age, then compacts so the space
 * is reclaimed. Runs periodically from the server; `now` is an argument so tests need no clock.
 */
import { SIGNALS, type Signal } from '../model/telemetry.ts';
import type { TelemetryStore } from '../store/telemetry/store.ts';

/** Maximum age per signal in milliseconds. */
export type RetentionPolicy = Record<Signal, number>;

/** Deletes expired rows of every signal; returns the rows deleted per signal. */
export async function applyRetention(store: TelemetryStore, policy: RetentionPolicy, now: Date): Promise<Record<Signal, number>> {
  const deleted = { logs: 0, traces: 0, metrics: 0 } as Record<Signal, number>;
  for (const signal of SIGNALS) {
    const cutoffNs = BigInt(now.getTime() - policy[signal]) * 1_000_000n;
    deleted[signal] = await store.deleteOlderThan(signal, cutoffNs);
  }
  if (Object.values(deleted).some((n) => n > 0)) await store.compact();
  return deleted;
}
