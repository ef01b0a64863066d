/**
 * Pure statistics the diagnosis detectors share: robust location and spread (median/MAD, as alerting's
 * anomaly baselines), a band a per-minute series is compared with, the onset of a departure from it,
 * a two-proportion test for "is this share really higher", and the volume factor that keeps a few
 * events from scoring like many. No I/O here: detectors feed it numbers read through the query service.
 */
import { mad, median, robustZ } from '../alerting/baseline.ts';

export { mad, median, robustZ };

/** `x` limited to `[lo, hi]`. */
export function clamp(x: number, lo = 0, hi = 1): number {
  return Math.min(hi, Math.max(lo, x));
}

/** `a / b`, or null when `b` is zero or either is not finite. */
export function ratio(a: number, b: number): number | null {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return a / b;
}

/** `x` rounded to `digits` decimals (figures read better without float noise). */
export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** The q-quantile (0..1) of the values, interpolated; null for none. */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const pos = clamp(q) * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/**
 * How much the volume behind a finding can be trusted, 0..1: `1 − e^(−n/scale)`. With the default scale
 * (20), 3 events give 0.14, 20 give 0.63, 60 give 0.95 — so "3 of 5 failed" scores well below "300 of 500".
 */
export function volumeFactor(n: number, scale = 20): number {
  return n <= 0 ? 0 : 1 - Math.exp(-n / scale);
}

/**
 * Two-proportion z statistic for `x1/n1` against `x2/n2` (pooled variance); positive when the first share
 * is higher. 0 when either side has no events or the pooled share is 0 or 1 (nothing to tell apart).
 */
export function proportionZ(x1: number, n1: number, x2: number, n2: number): number {
  if (n1 <= 0 || n2 <= 0) return 0;
  const p = (x1 + x2) / (n1 + n2);
  if (p <= 0 || p >= 1) return 0;
  const se = Math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2));
  return (x1 / n1 - x2 / n2) / se;
}

/** A robust normal band of a per-minute series: its median and spread (1.4826·MAD with floors, as {@link robustZ}). */
export interface Band {
  median: number;
  mad: number;
  samples: number;
}

/** The band of the values, null without values. */
export function band(values: readonly number[]): Band | null {
  const m = median(values);
  if (m === null) return null;
  return { median: m, mad: mad(values, m) ?? 0, samples: values.length };
}

/** Whether `value` is above the band by more than `z` robust deviations. */
export function aboveBand(value: number, b: Band, z = 3): boolean {
  return robustZ(value, b.median, b.mad) > z;
}

/** One bucket of a series: its start (epoch ms) and value (null when the bucket had no data). */
export interface Point {
  t: number;
  v: number | null;
}

/**
 * The onset of a departure: the start of the first bucket at or after `fromMs` where `isOff(v)` holds
 * and keeps holding for `sustain` buckets with data (or up to the end of the series), so one noisy
 * minute does not set the onset. Null when the series never leaves.
 */
export function firstSustained(points: readonly Point[], isOff: (v: number) => boolean, fromMs = -Infinity, sustain = 2): number | null {
  const pts = points.filter((p) => p.t >= fromMs && p.v !== null) as { t: number; v: number }[];
  for (let i = 0; i < pts.length; i++) {
    if (!isOff(pts[i]!.v)) continue;
    const run = pts.slice(i, i + sustain);
    if (run.every((p) => isOff(p.v))) return pts[i]!.t;
  }
  return null;
}

/** Epoch ms of an engine time value (ISO text, a Date, or a number of ms), null when unreadable. */
export function timeMs(v: unknown): number | null {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && v !== '') {
    const t = Date.parse(v.endsWith('Z') || /[+-]\d\d:?\d\d$/.test(v) ? v : `${v}Z`);
    return Number.isNaN(t) ? null : t;
  }
  return null;
}

/** A number from an answer cell (engines return counts as number, bigint or text), null when absent. */
export function num(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

/** Epoch ms → nanoseconds as the query service takes them. */
export function ns(ms: number): bigint {
  return BigInt(Math.floor(ms)) * 1_000_000n;
}

/** A duration in ms as a person reads it: `850 ms`, `2.3 s`. */
export function fmtMs(ms: number | null): string {
  if (ms === null) return 'n/a';
  if (ms >= 1000) return ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 1000).toFixed(1)} s`;
  return `${round(ms, ms >= 10 ? 0 : 1)} ms`;
}

/** A share 0..1 as a percentage: `0.1%`, `34%`. */
export function fmtPct(share: number | null): string {
  if (share === null) return 'n/a';
  const p = share * 100;
  return `${p === 0 ? 0 : p < 1 ? round(p, 1) : Math.round(p)}%`;
}

/** A clock time (UTC, `HH:MM`) for summaries. */
export function fmtClock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 16);
}
