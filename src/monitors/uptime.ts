/**
 * Uptime math over rollups, pure. A rollup bucket counts the checks of one monitor in one hour or day;
 * degraded counts as available (the service answered, slowly). Windows are measured at bucket
 * granularity: a bucket counts when it overlaps the window.
 */
import type { DayBar, Downtime, UptimeSummary } from '../api/contract.ts';
import type { CheckStatus } from './result.ts';
import type { MonitorState } from './state.ts';

/** Bucket sizes of the rollup tables. */
export const HOUR_MS = 3_600_000;
/** One day in ms. */
export const DAY_MS = 86_400_000;

/** Check counts of one monitor in one bucket. */
export interface Rollup {
  monitorId: string;
  /** Bucket start, Unix ms. */
  start: number;
  checks: number;
  up: number;
  down: number;
  degraded: number;
  latencySum: number;
  latencyMax: number;
}

/** The bucket a time falls in. */
export function bucketStart(t: number, size: number): number {
  return Math.floor(t / size) * size;
}

/** Adds one result to the rollup map (keyed `monitorId|start`); returns the map for chaining. */
export function addResult(map: Map<string, Rollup>, monitorId: string, at: number, size: number, status: CheckStatus, latencyMs: number): Map<string, Rollup> {
  const start = bucketStart(at, size);
  const key = `${monitorId}|${start}`;
  const r = map.get(key) ?? { monitorId, start, checks: 0, up: 0, down: 0, degraded: 0, latencySum: 0, latencyMax: 0 };
  map.set(key, {
    ...r,
    checks: r.checks + 1,
    up: r.up + (status === 'up' ? 1 : 0),
    down: r.down + (status === 'down' ? 1 : 0),
    degraded: r.degraded + (status === 'degraded' ? 1 : 0),
    latencySum: r.latencySum + latencyMs,
    latencyMax: Math.max(r.latencyMax, latencyMs),
  });
  return map;
}

/** Uptime over one window: the API contract's shape. */
export type { UptimeSummary };

/** Uptime of the buckets of size `size` that overlap [from, to). */
export function uptimeOf(rollups: readonly Rollup[], size: number, from: number, to: number): UptimeSummary {
  let checks = 0;
  let downs = 0;
  let degraded = 0;
  let latencySum = 0;
  let latencyMax = 0;
  for (const r of rollups) {
    if (r.start + size <= from || r.start >= to) continue;
    checks += r.checks;
    downs += r.down;
    degraded += r.degraded;
    latencySum += r.latencySum;
    latencyMax = Math.max(latencyMax, r.latencyMax);
  }
  return {
    uptime: checks === 0 ? null : (checks - downs) / checks,
    checks,
    down: downs,
    degraded,
    avgLatencyMs: checks === 0 ? null : Math.round((latencySum / checks) * 10) / 10,
    maxLatencyMs: checks === 0 ? null : latencyMax,
  };
}

/** The standard windows and which bucket size answers them. */
export const WINDOWS = [
  { name: '24h', ms: DAY_MS, size: HOUR_MS },
  { name: '7d', ms: 7 * DAY_MS, size: HOUR_MS },
  { name: '30d', ms: 30 * DAY_MS, size: DAY_MS },
  { name: '90d', ms: 90 * DAY_MS, size: DAY_MS },
] as const;

/** Uptime of a group of monitors (a system): the mean of the monitors' uptimes, each monitor weighing the same. */
export function systemUptime(perMonitor: readonly (number | null)[]): number | null {
  const known = perMonitor.filter((u): u is number => u !== null);
  return known.length === 0 ? null : known.reduce((a, b) => a + b, 0) / known.length;
}

/** One day of a status page component (the API contract's shape). */
export type { DayBar };

/** `days` daily bars ending with the day of `now`, oldest first; days without checks have null uptime. */
export function dailyBars(daily: readonly Rollup[], days: number, now: number): DayBar[] {
  const today = bucketStart(now, DAY_MS);
  const byDay = new Map<number, { checks: number; down: number }>();
  for (const r of daily) {
    const d = byDay.get(r.start) ?? { checks: 0, down: 0 };
    byDay.set(r.start, { checks: d.checks + r.checks, down: d.down + r.down });
  }
  const out: DayBar[] = [];
  for (let i = days - 1; i >= 0; i--) {
    const start = today - i * DAY_MS;
    const d = byDay.get(start);
    out.push({ date: new Date(start).toISOString().slice(0, 10), uptime: d && d.checks > 0 ? (d.checks - d.down) / d.checks : null, checks: d?.checks ?? 0, down: d?.down ?? 0 });
  }
  return out;
}

/** A recorded state change. */
export interface StateChange {
  at: number;
  from: MonitorState;
  to: MonitorState;
  error?: string | null;
}

/** One down period: the API contract's shape. */
export type { Downtime };

/**
 * Down periods overlapping [from, to), newest first, from the state changes sorted oldest first.
 * Pass the last change before `from` too, so a period that began earlier is seen.
 */
export function downtimes(changes: readonly StateChange[], from: number, to: number, now: number): Downtime[] {
  const out: Downtime[] = [];
  let openAt: number | null = null;
  let openError: string | null = null;
  const close = (end: number | null) => {
    if (openAt === null) return;
    const endMs = end ?? Math.min(now, to);
    if (endMs > from) {
      out.push({ start: new Date(openAt).toISOString(), end: end === null ? null : new Date(end).toISOString(), durationMs: Math.max(0, endMs - Math.max(openAt, 0)), error: openError });
    }
    openAt = null;
  };
  for (const c of changes) {
    if (c.at >= to) break;
    if (c.to === 'down' && openAt === null) {
      openAt = c.at;
      openError = c.error ?? null;
    } else if (c.to !== 'down') close(c.at);
  }
  close(null);
  return out.reverse();
}
