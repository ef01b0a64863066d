/**
 * Baselines for anomaly rules: robust statistics (median, MAD, robust z-score), the earlier windows a
 * rule compares itself with, and a bounded cache of those windows' answers.
 *
 * Windows are aligned to multiples of the rule's range: at evaluation time t, with T = t rounded down
 * to a multiple of `range`, the baseline is
 *   - the `windows` windows [T-(k+1)·range, T-k·range) for k = 1…windows (the recent past, leaving out
 *     [T-range, T), which overlaps the current window [t-range, t)), and
 *   - for d = 1…days, [T-d·24h-range, T-d·24h) (the same time of day on previous days).
 * Because T only moves once per range, consecutive evaluations ask for the same windows, and a past
 * window's answer never changes: the cache answers all but the first evaluation of each range.
 */
import type { BaselineSpec, SourceRow } from './types.ts';

const DAY_MS = 86_400_000;

/** Scales a MAD into a standard deviation for normally distributed data. */
export const MAD_SCALE = 1.4826;
/** Relative floor of the spread: 5% of the median. */
export const RELATIVE_FLOOR = 0.05;
/** Absolute floor of the spread. */
export const ABSOLUTE_FLOOR = 0.01;

/** The median of the values (null for none). */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The median absolute deviation from `center` (default: the median). */
export function mad(values: readonly number[], center = median(values)): number | null {
  if (center === null || values.length === 0) return null;
  return median(values.map((v) => Math.abs(v - center)));
}

/**
 * Robust z-score `(value - median) / spread`, with spread = max(1.4826·MAD, 5% of |median|, 0.01).
 * The floors keep a flat baseline from dividing by zero and from turning noise into huge scores: a
 * series that was exactly 1000 every window needs a change of more than 50 (5%) per z unit, and a
 * share that was always 0 scores 90 when it reaches 0.9 (a 403 storm), 1 when it reaches 0.01. The
 * absolute floor suits shares and rates (values of order 0…1 and above); a rule on tiny values should
 * scale them first.
 */
export function robustZ(value: number, center: number, madValue: number): number {
  const spread = Math.max(MAD_SCALE * madValue, RELATIVE_FLOOR * Math.abs(center), ABSOLUTE_FLOOR);
  return (value - center) / spread;
}

/** A half-open window [fromMs, toMs). */
export interface TimeWindow {
  fromMs: number;
  toMs: number;
}

/** The baseline windows of a rule at time `now` (see the module comment), most recent first. */
export function baselineWindows(spec: Pick<BaselineSpec, 'windows' | 'days'>, rangeMs: number, now: number): TimeWindow[] {
  const aligned = Math.floor(now / rangeMs) * rangeMs;
  const out: TimeWindow[] = [];
  for (let k = 1; k <= spec.windows; k++) out.push({ fromMs: aligned - (k + 1) * rangeMs, toMs: aligned - k * rangeMs });
  for (let d = 1; d <= spec.days; d++) out.push({ fromMs: aligned - d * DAY_MS - rangeMs, toMs: aligned - d * DAY_MS });
  return out;
}

/** Statistics of one label set's values over the baseline windows. */
export interface BaselineStats {
  median: number | null;
  mad: number | null;
  samples: number;
}

/** Median, MAD and sample count of a list of window values. */
export function baselineStats(values: readonly number[]): BaselineStats {
  const m = median(values);
  return { median: m, mad: mad(values, m), samples: values.length };
}

/** The baseline fields a row gets: `baseline`, `baseline_mad`, `zscore`, `baseline_samples`. */
export function baselineFields(value: number | null, stats: BaselineStats): Record<string, number | null> {
  const z = value !== null && stats.median !== null && stats.mad !== null ? robustZ(value, stats.median, stats.mad) : null;
  return { baseline: stats.median, baseline_mad: stats.mad, zscore: z, baseline_samples: stats.samples };
}

/** Options of {@link BaselineCache}. */
export interface BaselineCacheOptions {
  /** Most windows kept (default 10,000). */
  maxEntries?: number;
  /** Most rows kept over all windows (default 500,000), so a few wide rules cannot hold all memory. */
  maxRows?: number;
}

/**
 * Answers of past windows, keyed by rule id, source text and window, least recently used evicted
 * first. The source text is part of the key so an edited rule never reads its old query's answers.
 */
export class BaselineCache {
  private readonly entries = new Map<string, SourceRow[]>();
  private rows = 0;
  private readonly maxEntries: number;
  private readonly maxRows: number;
  /** Lookups answered from the cache and lookups that ran the source, for tests and metrics. */
  hits = 0;
  misses = 0;

  constructor(options: BaselineCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.maxRows = options.maxRows ?? 500_000;
  }

  /** Number of windows held. */
  get size(): number {
    return this.entries.size;
  }

  /** The window's rows from the cache, else from `load` (then kept). */
  async get(ruleId: string, sourceText: string, window: TimeWindow, load: () => Promise<SourceRow[]>): Promise<SourceRow[]> {
    const key = `${ruleId}\u0000${sourceText}\u0000${window.fromMs}\u0000${window.toMs}`;
    const cached = this.entries.get(key);
    if (cached !== undefined) {
      this.hits++;
      // Re-insert: a Map iterates in insertion order, so the first key is the least recently used.
      this.entries.delete(key);
      this.entries.set(key, cached);
      return cached;
    }
    this.misses++;
    const rows = await load();
    this.entries.set(key, rows);
    this.rows += rows.length;
    while (this.entries.size > this.maxEntries || (this.rows > this.maxRows && this.entries.size > 1)) {
      const [oldest, value] = this.entries.entries().next().value as [string, SourceRow[]];
      this.entries.delete(oldest);
      this.rows -= value.length;
    }
    return rows;
  }

  /** Forgets every window of a rule (when it is removed). */
  forget(ruleId: string): void {
    const prefix = `${ruleId}\u0000`;
    for (const [key, value] of this.entries) {
      if (key.startsWith(prefix)) {
        this.entries.delete(key);
        this.rows -= value.length;
      }
    }
  }
}
