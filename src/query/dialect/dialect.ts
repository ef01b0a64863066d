/**
 * The contract between the logical plan and a SQL engine. A dialect turns a plan plus a time range
 * into SQL text and bind parameters; user values only ever travel in `params`.
 */
import type { LogicalPlan, ValueType } from '../plan.ts';

/** A bind parameter value. */
export type SqlParam = string | number | boolean | bigint;

/** Time range and row limit of one execution. */
export interface CompileOptions {
  /** Inclusive start (Date or Unix nanoseconds). */
  from: Date | bigint;
  /** Exclusive end (Date or Unix nanoseconds). */
  to: Date | bigint;
  /** Rows wanted; defaults to the plan's default and is clamped to its maximum. */
  limit?: number;
}

/** An output column of a compiled query. */
export interface CompiledColumn {
  name: string;
  type: ValueType;
}

/** SQL ready to run, with what it returns. */
export interface CompiledQuery {
  sql: string;
  params: SqlParam[];
  columns: CompiledColumn[];
  /** `events` for a raw record listing, `aggregate` for stats/timechart/top/rare results. */
  kind: 'events' | 'aggregate';
  /** Rows the caller may show; the SQL fetches one more so truncation can be detected. */
  limit: number;
  /** Timechart bucket width in seconds (null when not a timechart). */
  bucketSeconds: number | null;
  fromNs: bigint;
  toNs: bigint;
}

/** A SQL dialect (DuckDB today, ClickHouse later). */
export interface Dialect {
  readonly name: string;
  /** Compiles a plan for one time range; throws RangeError for an empty or inverted range. */
  compile(plan: LogicalPlan, options: CompileOptions): CompiledQuery;
}

/** Converts a Date or nanosecond bigint to Unix nanoseconds. */
export function toNanos(t: Date | bigint): bigint {
  if (typeof t === 'bigint') return t;
  const ms = t.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('invalid date in query time range');
  return BigInt(ms) * 1_000_000n;
}

const NICE_BUCKETS = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 604800];

/** Picks a round timechart bucket giving at most `maxBuckets` buckets over the range. */
export function chooseBucketSeconds(rangeSeconds: number, maxBuckets = 120): number {
  for (const b of NICE_BUCKETS) if (rangeSeconds / b <= maxBuckets) return b;
  return Math.ceil(rangeSeconds / maxBuckets / 86400) * 86400;
}

/** Resolves the effective row limit from the request and the plan's guards. */
export function effectiveLimit(plan: LogicalPlan, requested: number | undefined): number {
  const want = requested === undefined || !Number.isFinite(requested) ? plan.limits.defaultRows : Math.floor(requested);
  return Math.max(1, Math.min(want, plan.limits.maxRows));
}

/** Shared preparation of every dialect: nanosecond range, bucket width and limit. */
export function prepareCompile(plan: LogicalPlan, options: CompileOptions): { fromNs: bigint; toNs: bigint; rangeSeconds: number; bucketSeconds: number | null; limit: number } {
  const fromNs = toNanos(options.from);
  const toNs = toNanos(options.to);
  if (toNs <= fromNs) throw new RangeError('query time range is empty: "to" must be after "from"');
  const rangeSeconds = Number(toNs - fromNs) / 1e9;
  const bucketSeconds = plan.timechart ? (plan.bucketSeconds ?? chooseBucketSeconds(rangeSeconds)) : null;
  return { fromNs, toNs, rangeSeconds, bucketSeconds, limit: effectiveLimit(plan, options.limit) };
}
