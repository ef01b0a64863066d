/**
 * The contract between the logical plan and a SQL engine. A dialect turns a plan plus a time range
 * into SQL text and bind parameters; user values only ever travel in `params`.
 */
import type { QueryWarning } from '../errors.ts';
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
  /** What compilation changed or noticed (a timechart span widened to fit the range). */
  warnings: QueryWarning[];
  /**
   * Longest text value returned per cell; the SQL fetches one character more so the executor can
   * tell a cut value from one that fits.
   */
  cellChars: number;
}

/**
 * The engine-specific fragments the fixed views (src/query/views/) build their SQL from, so a view
 * holds no engine function name and a new engine is a new implementation of this, not a new view.
 * Arguments are SQL expressions (already rendered, placeholders included) unless named otherwise;
 * `text`, `pattern` and `key` arguments are plain strings that the fragment quotes itself.
 */
export interface ViewSql {
  /** A string literal (quoted and escaped for this engine); only for text fixed in code. */
  literal(text: string): string;
  /** A 64-bit integer from a placeholder or expression. */
  bigint(expr: string): string;
  /** A nanosecond timestamp from Unix nanoseconds (a BIGINT placeholder). */
  timestampNs(expr: string): string;
  /** Unix nanoseconds of a timestamp. */
  epochNs(expr: string): string;
  /** Unix milliseconds of a timestamp. */
  epochMs(expr: string): string;
  /** A timestamp plus whole hours. */
  plusHours(expr: string, hours: number): string;
  /** An integer rounded down to a multiple of `width` (a time bucket of nanoseconds). */
  floorTo(expr: string, width: string): string;
  /** The bind value naming attribute `key` for {@link ViewSql.jsonText} (a JSON path in DuckDB). */
  attributePath(key: string): string;
  /** The text at `path` of a JSON column: a placeholder from {@link ViewSql.attributePath}, or fixed segments. */
  jsonText(column: string, path: string | readonly string[]): string;
  /** A FROM item with one row per member of a JSON object column, its name in `alias.key` and its JSON value in `alias.value`. */
  jsonEntries(column: string, alias: string): string;
  /** A JSON list column as one row per element (a set-returning select item). */
  unnestJsonList(column: string): string;
  /** Text of any value (for a cheap substring test or a series key). */
  text(expr: string): string;
  /** A BIGINT from text, NULL when it is not one. */
  tryBigint(expr: string): string;
  /** Whether `needle` occurs in `haystack`. */
  contains(haystack: string, needle: string): string;
  /** The one-character string of a code point (a separator that cannot occur in names). */
  char(code: number): string;
  /** The first 16 hex digits of a hash of the text (a stable fingerprint). */
  hash16(expr: string): string;
  /** Every match of a regular expression (RE2 syntax) replaced. */
  regexpReplaceAll(expr: string, pattern: string, replacement: string): string;
  /** The text of capture group `group` of the first match, '' without one. */
  regexpExtract(expr: string, pattern: string, group: number): string;
  /** Counts the rows of a group where `condition` holds. */
  countIf(condition: string): string;
  /** An aggregate over only the rows where `condition` holds. */
  aggregateIf(aggregate: string, condition: string): string;
  /** An interpolated quantile, `q` in (0, 1). */
  quantile(expr: string, q: number): string;
  /** Several interpolated quantiles as one list (read with `list[1]`, 1-based). */
  quantiles(expr: string, qs: readonly number[]): string;
  /** Any one value of a group. */
  anyValue(expr: string): string;
  /** The value at the row where `by` is greatest. */
  argMax(value: string, by: string): string;
  /** Whether the condition holds on every row of a group. */
  every(condition: string): string;
  /** An estimated count of distinct values (HyperLogLog or the like). */
  approxCountDistinct(expr: string): string;
  /** The distinct values of a group as a list, sorted by value when `sorted`. */
  distinctList(expr: string, sorted: boolean): string;
  /** The values of a group as a list ordered by `orderBy`. */
  orderedList(expr: string, orderBy: string): string;
  /** The number of elements of a list. */
  listLength(list: string): string;
  /** A list of numbers with each element cast to a 64-bit integer. */
  bigintList(list: string): string;
  /** Element-wise `a[i] - b[i]` of two equally long lists of numbers, as 64-bit integers. */
  bigintListDifference(a: string, b: string): string;
  /** Select items giving one row per element of a list: the element as `valueAlias`, its 1-based position as `indexAlias`. */
  unnestWithIndex(list: string, valueAlias: string, indexAlias: string): string;
  /** A list cut to its first `n` elements. */
  listHead(list: string, n: number): string;
  /** A FROM item of literal rows (SQL expressions) named `alias` with the given column names. */
  valuesTable(rows: readonly (readonly string[])[], alias: string, columns: readonly string[]): string;
  /** `GROUP BY` over several grouping sets in one scan (each set a list of columns). */
  groupingSets(sets: readonly (readonly string[])[]): string;
  /** True on the rows of a grouping set that left `column` out (the totals rows). */
  isRolledUp(column: string): string;
  /** `GROUP BY` every non-aggregate select item. */
  readonly groupByAll: string;
  /** Written between a CTE's name and its body to compute it once (`AS MATERIALIZED (…)`). */
  readonly materialized: string;
}

/** A SQL dialect (DuckDB today, ClickHouse later). */
export interface Dialect {
  readonly name: string;
  /**
   * Compiles a plan for one time range; throws RangeError for an empty or inverted range and
   * QueryRejectedError when the SQL would pass {@link MAX_SQL_CHARS} or its expression budget.
   */
  compile(plan: LogicalPlan, options: CompileOptions): CompiledQuery;
  /**
   * Translates an engine error caused by the query or its data (a conversion, an overflow, a
   * negative square root, memory) into a QueryRejectedError or QueryResourceError with a clean
   * message; returns null for anything else, which is a server fault.
   */
  engineError(err: unknown): Error | null;
  /** The fragments the fixed views build their SQL from. */
  readonly views: ViewSql;
}

/** Longest SQL text a query may compile to (256 KiB); beyond it the query is refused. */
export const MAX_SQL_CHARS = 256 * 1024;

/** Most expression nodes rendered for one query; stops compilation early, before any string gets big. */
export const MAX_SQL_EXPRESSIONS = 20_000;

/** Most nested sub-queries one query may compile to; engines recurse over them. */
export const MAX_SUBQUERIES = 200;

/** Most timechart buckets over a query's range; a finer `span=` is widened to fit. */
export const MAX_BUCKETS = 10_000;

/**
 * Characters of text values one answer may carry (64 Mi): shared between its rows and text columns,
 * so a wide or long answer gets shorter cells rather than exhausting memory.
 */
export const MAX_RESULT_CHARS = 64 * 1024 * 1024;

/** Bounds of the per-cell text cut: never below 1 KiB, never above 64 KiB. */
export const CELL_CHARS = { min: 1024, max: 64 * 1024 } as const;

/** Whether an output column carries text that is cut to {@link CompiledQuery.cellChars}. */
export function isTextColumn(type: ValueType): boolean {
  return type === 'string' || type === 'json';
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

/** Writes seconds the way `span=` reads them (`90s`, `5m`, `2h`, `1d`). */
export function formatSpan(seconds: number): string {
  for (const [unit, n] of [['d', 86400], ['h', 3600], ['m', 60]] as const) if (seconds % n === 0) return `${seconds / n}${unit}`;
  return `${seconds}s`;
}

/** Shared preparation of every dialect: nanosecond range, bucket width, limit and their warnings. */
export function prepareCompile(
  plan: LogicalPlan,
  options: CompileOptions,
): { fromNs: bigint; toNs: bigint; rangeSeconds: number; bucketSeconds: number | null; limit: number; warnings: QueryWarning[]; cellChars: number } {
  const fromNs = toNanos(options.from);
  const toNs = toNanos(options.to);
  if (toNs <= fromNs) throw new RangeError('query time range is empty: "to" must be after "from"');
  const rangeSeconds = Number(toNs - fromNs) / 1e9;
  const warnings: QueryWarning[] = [];
  let bucketSeconds = plan.timechart ? (plan.bucketSeconds ?? chooseBucketSeconds(rangeSeconds)) : null;
  if (bucketSeconds !== null && rangeSeconds / bucketSeconds > MAX_BUCKETS) {
    // Widen rather than refuse: a dashboard panel's span must keep working when its range grows.
    const wider = chooseBucketSeconds(rangeSeconds, MAX_BUCKETS);
    warnings.push({ message: `span=${formatSpan(bucketSeconds)} would make ${Math.ceil(rangeSeconds / bucketSeconds)} buckets over this time range (at most ${MAX_BUCKETS}); widened to span=${formatSpan(wider)}` });
    bucketSeconds = wider;
  }
  const limit = effectiveLimit(plan, options.limit);
  const textColumns = Math.max(1, plan.output.filter((c) => isTextColumn(c.type)).length);
  const cellChars = Math.max(CELL_CHARS.min, Math.min(CELL_CHARS.max, Math.floor(MAX_RESULT_CHARS / ((limit + 1) * textColumns))));
  return { fromNs, toNs, rangeSeconds, bucketSeconds, limit, warnings, cellChars };
}
