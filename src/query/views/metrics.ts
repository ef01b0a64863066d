/**
 * Metric queries over otel_metrics_gauge/sum/histogram: one metric by name, filtered by attributes,
 * grouped by one attribute, over time buckets. Counters become per-second rates (resets handled);
 * histograms become quantiles interpolated within buckets. Attribute keys travel as JSON-path
 * parameters after a charset check; values are parameters.
 */
import type { MetricAttribute, MetricPoint, MetricSeries } from '../../api/contract.ts';
import type { Dialect, ViewSql } from '../dialect/dialect.ts';
import { ATTRIBUTE_KEY, Binder, num, type NsRange } from './apm.ts';
import type { SqlQuery } from './traces.ts';

/** Metric point kinds, each with its table. */
export const METRIC_TABLES = { gauge: 'otel_metrics_gauge', sum: 'otel_metrics_sum', histogram: 'otel_metrics_histogram' } as const;
/** A metric point kind. */
export type MetricType = keyof typeof METRIC_TABLES;

export { ATTRIBUTE_KEY };

/** An `attr.key=value` filter. */
export interface AttributeFilter {
  key: string;
  value: string;
}

/** Aggregations of gauge-like values per bucket (gauges and non-rate sums). */
export const VALUE_AGGS = ['avg', 'min', 'max', 'sum', 'count'] as const;
/** An aggregation of gauge-like values. */
export type ValueAgg = (typeof VALUE_AGGS)[number];
/** Aggregations of counters. */
export const COUNTER_AGGS = ['rate', 'increase'] as const;
/** How a metric is aggregated per bucket. */
export type MetricAgg = ValueAgg | (typeof COUNTER_AGGS)[number];

/** Options shared by the metric queries. */
export interface MetricOptions extends NsRange {
  name: string;
  service?: string;
  filters: AttributeFilter[];
  groupBy?: string;
  bucketNs: bigint;
  /**
   * Where buckets start: at originNs + k·bucketNs (at most fromNs). Default: multiples of bucketNs, as
   * charts want; alert rules pass their window's start so one bucket is exactly their window.
   */
  originNs?: bigint;
}

/** SQL reading an attribute: a promoted column for service and host, else the point's then the resource's attribute. */
function attributeSql(b: Binder, key: string): string {
  if (!ATTRIBUTE_KEY.test(key)) throw new RangeError(`attribute key ${JSON.stringify(key.slice(0, 40))} has characters outside A-Z a-z 0-9 _ . - : @ /`);
  if (key === 'service.name') return 'ServiceName';
  if (key === 'host.name') return 'HostName';
  const path = b.add(b.sql.attributePath(key));
  return `coalesce(${b.sql.jsonText('Attributes', path)}, ${b.sql.jsonText('ResourceAttributes', path)})`;
}

/** WHERE clauses for name, range (with an optional look-back for counters), service and filters. */
function whereSql(b: Binder, o: MetricOptions, lookbackNs = 0n): string {
  const where = [`MetricName = ${b.add(o.name)}`, `TimeUnix >= ${b.ts(o.fromNs - lookbackNs)}`, `TimeUnix < ${b.ts(o.toNs)}`];
  if (o.service !== undefined) where.push(`ServiceName = ${b.add(o.service)}`);
  for (const f of o.filters) where.push(`${attributeSql(b, f.key)} = ${b.add(f.value)}`);
  return where.join(' AND ');
}

/** SQL of the start of a point's bucket (see {@link MetricOptions.originNs}). */
function bucketStartSql(b: Binder, o: MetricOptions, bucket: string): string {
  const v = b.sql;
  if (o.originNs === undefined) return v.floorTo(v.epochNs('TimeUnix'), bucket);
  const origin = b.big(o.originNs);
  return `(${v.floorTo(`(${v.epochNs('TimeUnix')} - ${origin})`, bucket)} + ${origin})`;
}

function groupSql(b: Binder, o: MetricOptions): string {
  return o.groupBy === undefined ? `''` : `coalesce(${attributeSql(b, o.groupBy)}, '')`;
}

/** A time series is one combination of resource and point attributes: their key. */
function seriesSql(v: ViewSql): string {
  const sep = ` || ${v.char(31)} || `;
  return ['ServiceName', "coalesce(HostName, '')", v.text('ResourceAttributes'), v.text('Attributes')].join(sep);
}

/** Which tables hold the metric, with its unit, temporality and monotonicity. */
export function metricInfoQuery(d: Dialect, name: string, range: NsRange): SqlQuery {
  const b = new Binder(d);
  const v = b.sql;
  const n = b.add(name);
  const from = b.ts(range.fromNs);
  const to = b.ts(range.toNs);
  const part = (type: MetricType, extra: string) =>
    `SELECT '${type}' AS type, count(*) AS points, ${v.anyValue('MetricUnit')} AS unit, ${v.anyValue('MetricDescription')} AS description, ${extra}
     FROM ${METRIC_TABLES[type]} WHERE MetricName = ${n} AND TimeUnix >= ${from} AND TimeUnix < ${to}`;
  return {
    sql: [
      part('gauge', 'NULL AS temporality, NULL AS monotonic'),
      part('sum', `${v.anyValue('AggregationTemporality')} AS temporality, ${v.every('IsMonotonic')} AS monotonic`),
      part('histogram', `${v.anyValue('AggregationTemporality')} AS temporality, NULL AS monotonic`),
    ].join(' UNION ALL '),
    params: b.params,
  };
}

/** The filter of the metric listings: the range, and the service when one is given. */
function listingWhere(b: Binder, range: NsRange, service?: string): string {
  const from = b.ts(range.fromNs);
  const to = b.ts(range.toNs);
  return `TimeUnix >= ${from} AND TimeUnix < ${to}${service !== undefined ? ` AND ServiceName = ${b.add(service)}` : ''}`;
}

/** Metric names seen over a range, with their type and unit. */
export function metricNamesQuery(d: Dialect, range: NsRange, service?: string): SqlQuery {
  const b = new Binder(d);
  const v = b.sql;
  const where = listingWhere(b, range, service);
  const part = (type: MetricType) =>
    `SELECT MetricName AS name, '${type}' AS type, ${v.anyValue('MetricUnit')} AS unit, count(*) AS points, ${v.distinctList('ServiceName', false)} AS services
     FROM ${METRIC_TABLES[type]} WHERE ${where} GROUP BY MetricName`;
  return { sql: `${(Object.keys(METRIC_TABLES) as MetricType[]).map(part).join(' UNION ALL ')} ORDER BY name, type LIMIT 5000`, params: b.params };
}

/** How many distinct values of an attribute key the metric listing shows as a sample. */
export const ATTRIBUTE_SAMPLE = 5;

/**
 * The attribute keys of each metric over a range, so grouping by one is discoverable: point
 * attributes (`scope` point) and resource attributes (`scope` resource), each with its number of
 * distinct values and the first {@link ATTRIBUTE_SAMPLE} of them. Keys are read from the distinct
 * attribute sets (one per series), not from every point.
 */
export function metricAttributesQuery(d: Dialect, range: NsRange, service?: string): SqlQuery {
  const b = new Binder(d);
  const v = b.sql;
  const where = listingWhere(b, range, service);
  const part = (type: MetricType) =>
    `SELECT DISTINCT MetricName AS name, '${type}' AS type, Attributes AS a, ResourceAttributes AS ra
     FROM ${METRIC_TABLES[type]} WHERE ${where}`;
  const sql = `WITH sets AS (${(Object.keys(METRIC_TABLES) as MetricType[]).map(part).join(' UNION ALL ')}),
    kv AS (
      SELECT sets.name, sets.type, 'point' AS scope, e.key, ${v.jsonText('e.value', [])} AS value FROM sets, ${v.jsonEntries('sets.a', 'e')}
      UNION ALL
      SELECT sets.name, sets.type, 'resource' AS scope, e.key, ${v.jsonText('e.value', [])} AS value FROM sets, ${v.jsonEntries('sets.ra', 'e')})
    SELECT name, type, scope, key, count(DISTINCT value) AS distinct_values, ${v.listHead(v.distinctList('value', true), ATTRIBUTE_SAMPLE)} AS sample
    FROM kv ${v.groupByAll} ORDER BY name, type, scope, key LIMIT 20000`;
  return { sql, params: b.params };
}

/** One attribute key of a metric, as the metric listing shows it (the API contract's shape). */
export type { MetricAttribute };
/** Metric points and series: the API contract's shapes. */
export type { MetricPoint, MetricSeries };

/** The key of a metric in {@link shapeMetricAttributes}' map: a name can come as two types. */
export function metricKey(name: string, type: string): string {
  return `${name}\u001f${type}`;
}

/** Groups attribute rows by metric ({@link metricKey}), point attributes first. */
export function shapeMetricAttributes(rows: Record<string, unknown>[]): Map<string, MetricAttribute[]> {
  const out = new Map<string, MetricAttribute[]>();
  for (const r of rows) {
    const id = metricKey(String(r.name), String(r.type));
    const list = out.get(id) ?? [];
    out.set(id, list);
    list.push({
      key: String(r.key),
      scope: r.scope === 'resource' ? 'resource' : 'point',
      distinct_values: num(r.distinct_values),
      sample: Array.isArray(r.sample) ? r.sample.map(String) : [],
    });
  }
  return out;
}

/**
 * Gauge-like values per bucket and group: avg/min/max/count over every point in the bucket; `sum`
 * adds each series' last value in the bucket (e.g. memory of all hosts together).
 */
export function valueQuery(d: Dialect, type: 'gauge' | 'sum', agg: ValueAgg, o: MetricOptions): SqlQuery {
  const b = new Binder(d);
  const v = b.sql;
  const bucket = b.big(o.bucketNs);
  const grp = groupSql(b, o);
  const where = whereSql(b, o);
  const outer = agg === 'sum' ? 'sum(last)' : agg === 'count' ? 'sum(points)' : agg === 'avg' ? 'sum(total) / sum(points)' : `${agg}(${agg})`;
  const sql = `WITH p AS (
      SELECT ${bucketStartSql(b, o, bucket)} AS bucket_ns, ${grp} AS grp, ${seriesSql(v)} AS series, TimeUnix, Value
      FROM ${METRIC_TABLES[type]} WHERE ${where}),
    s AS (
      SELECT bucket_ns, grp, series, ${v.argMax('Value', 'TimeUnix')} AS last, sum(Value) AS total, count(*) AS points,
        min(Value) AS min, max(Value) AS max
      FROM p ${v.groupByAll})
    SELECT bucket_ns, grp, ${outer} AS value, count(*) AS series FROM s GROUP BY bucket_ns, grp ORDER BY grp, bucket_ns`;
  return { sql, params: b.params };
}

/**
 * Increase of counters per bucket and group. Cumulative points subtract the previous point of the
 * same series; a drop in value or a later start time is a reset, after which the point's whole value
 * is the increase (the counter restarted from zero). The first point of a series counts only when the
 * series started inside the scanned window; points up to one bucket before the range are read so the
 * first bucket has a base. Delta points are their own increase.
 */
export function counterQuery(d: Dialect, o: MetricOptions): SqlQuery {
  const b = new Binder(d);
  const v = b.sql;
  const bucket = b.big(o.bucketNs);
  const grp = groupSql(b, o);
  const where = whereSql(b, o, o.bucketNs);
  const windowStart = b.ts(o.fromNs - o.bucketNs);
  const from = b.ts(o.fromNs);
  const sql = `WITH p AS (
      SELECT ${grp} AS grp, ${seriesSql(v)} AS series, TimeUnix, StartTimeUnix, Value, AggregationTemporality AS temporality,
        lag(Value) OVER w AS prev, lag(StartTimeUnix) OVER w AS prev_start
      FROM otel_metrics_sum WHERE ${where}
      WINDOW w AS (PARTITION BY ${seriesSql(v)} ORDER BY TimeUnix)),
    d AS (
      SELECT ${bucketStartSql(b, o, bucket)} AS bucket_ns, grp, series,
        CASE WHEN temporality = 'delta' THEN Value
          WHEN prev IS NULL THEN CASE WHEN StartTimeUnix >= ${windowStart} THEN Value END
          WHEN Value < prev OR StartTimeUnix > prev_start THEN Value
          ELSE Value - prev END AS increase,
        CASE WHEN prev IS NOT NULL AND temporality <> 'delta' AND (Value < prev OR StartTimeUnix > prev_start) THEN 1 ELSE 0 END AS reset
      FROM p WHERE TimeUnix >= ${from})
    SELECT bucket_ns, grp, sum(increase) AS increase, sum(reset) AS resets, count(DISTINCT series) AS series
    FROM d GROUP BY bucket_ns, grp ORDER BY grp, bucket_ns`;
  return { sql, params: b.params };
}

/**
 * Histogram bucket counts added up per time bucket and group, ready for quantile interpolation.
 * Cumulative points become deltas against the previous point of the series (resets as for counters).
 * Points of one metric are assumed to share their bucket bounds (the first bounds seen are used).
 */
export function histogramQuery(d: Dialect, o: MetricOptions): SqlQuery {
  const b = new Binder(d);
  const v = b.sql;
  const bucket = b.big(o.bucketNs);
  const grp = groupSql(b, o);
  const where = whereSql(b, o, o.bucketNs);
  const windowStart = b.ts(o.fromNs - o.bucketNs);
  const from = b.ts(o.fromNs);
  const sql = `WITH p AS (
      SELECT ${grp} AS grp, TimeUnix, StartTimeUnix, Count, Sum, BucketCounts, ExplicitBounds,
        AggregationTemporality AS temporality,
        lag(Count) OVER w AS prev_count, lag(StartTimeUnix) OVER w AS prev_start, lag(BucketCounts) OVER w AS prev_counts,
        lag(Sum) OVER w AS prev_sum
      FROM otel_metrics_histogram WHERE ${where}
      WINDOW w AS (PARTITION BY ${seriesSql(v)} ORDER BY TimeUnix)),
    m AS (
      SELECT *, CASE WHEN temporality = 'delta' THEN 'raw'
          WHEN prev_count IS NULL THEN CASE WHEN StartTimeUnix >= ${windowStart} THEN 'raw' ELSE 'skip' END
          WHEN Count < prev_count OR StartTimeUnix > prev_start OR ${v.listLength('BucketCounts')} <> ${v.listLength('prev_counts')} THEN 'raw'
          ELSE 'diff' END AS mode
      FROM p WHERE TimeUnix >= ${from}),
    d AS (
      SELECT ${bucketStartSql(b, o, bucket)} AS bucket_ns, grp, ExplicitBounds AS bounds,
        CASE WHEN mode = 'raw' THEN ${v.bigintList('BucketCounts')}
          ELSE ${v.bigintListDifference('BucketCounts', 'prev_counts')} END AS counts,
        CASE WHEN mode = 'raw' THEN ${v.bigint('Count')} ELSE ${v.bigint('Count')} - ${v.bigint('prev_count')} END AS n,
        CASE WHEN mode = 'raw' THEN Sum ELSE Sum - prev_sum END AS total
      FROM m WHERE mode <> 'skip'),
    u AS (SELECT bucket_ns, grp, bounds, ${v.unnestWithIndex('counts', 'c', 'i')} FROM d),
    per_bound AS (SELECT bucket_ns, grp, i, ${v.anyValue('bounds')} AS bounds, sum(c) AS c FROM u GROUP BY bucket_ns, grp, i),
    lists AS (SELECT bucket_ns, grp, ${v.anyValue('bounds')} AS bounds, ${v.orderedList('c', 'i')} AS counts FROM per_bound GROUP BY bucket_ns, grp),
    totals AS (SELECT bucket_ns, grp, sum(n) AS n, sum(total) AS total FROM d GROUP BY bucket_ns, grp)
    SELECT t.bucket_ns, t.grp, t.n, t.total, l.bounds, l.counts
    FROM totals t LEFT JOIN lists l ON l.bucket_ns = t.bucket_ns AND l.grp = t.grp ORDER BY t.grp, t.bucket_ns`;
  return { sql, params: b.params };
}

/**
 * Quantile `q` of a histogram by linear interpolation inside the bucket holding the rank, as
 * Prometheus' histogram_quantile does: the first bucket starts at 0 (or its bound, if negative); a
 * rank in the overflow bucket returns the highest finite bound. Null for an empty histogram.
 */
export function histogramQuantile(q: number, bounds: readonly number[], counts: readonly number[]): number | null {
  const total = counts.reduce((a, c) => a + Math.max(0, c), 0);
  if (total <= 0 || bounds.length === 0) return null;
  const rank = q * total;
  let cumulative = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = Math.max(0, counts[i]!);
    if (c > 0 && cumulative + c >= rank) {
      if (i >= bounds.length) return bounds[bounds.length - 1]!;
      const upper = bounds[i]!;
      const lower = i === 0 ? Math.min(0, upper) : bounds[i - 1]!;
      return lower + (upper - lower) * ((rank - cumulative) / c);
    }
    cumulative += c;
  }
  return bounds[bounds.length - 1]!;
}



function isoNs(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString();
}

/** Groups rows by `grp` and fills every bucket of the range (missing buckets have null values). */
function toSeries(
  rows: Record<string, unknown>[],
  o: MetricOptions,
  pointOf: (r: Record<string, unknown> | undefined) => Omit<MetricPoint, 'time'>,
): MetricSeries[] {
  const groups = new Map<string, Map<bigint, Record<string, unknown>>>();
  for (const r of rows) {
    const g = String(r.grp ?? '');
    if (!groups.has(g)) groups.set(g, new Map());
    groups.get(g)!.set(BigInt(String(r.bucket_ns)), r);
  }
  const origin = o.originNs ?? 0n;
  const first = origin + ((o.fromNs - origin) / o.bucketNs) * o.bucketNs;
  return [...groups.entries()].map(([g, byBucket]) => {
    const points: MetricPoint[] = [];
    for (let t = first; t < o.toNs; t += o.bucketNs) points.push({ time: isoNs(t), ...pointOf(byBucket.get(t)) });
    return { group: o.groupBy === undefined ? null : g, points };
  });
}

/** Shapes value rows (gauges, non-rate sums). */
export function shapeValues(rows: Record<string, unknown>[], o: MetricOptions): MetricSeries[] {
  return toSeries(rows, o, (r) => ({ value: r === undefined || r.value === null ? null : num(r.value) }));
}

/** Shapes counter rows as per-second rates (`rate`) or increases per bucket (`increase`). */
export function shapeCounter(rows: Record<string, unknown>[], o: MetricOptions, agg: 'rate' | 'increase'): MetricSeries[] {
  const seconds = Number(o.bucketNs) / 1e9;
  return toSeries(rows, o, (r) => {
    if (r === undefined || r.increase === null || r.increase === undefined) return { value: null, resets: 0 };
    const inc = num(r.increase);
    return { value: agg === 'rate' ? inc / seconds : inc, resets: num(r.resets) };
  });
}

/** Shapes histogram rows: quantiles interpolated within buckets, count and average per bucket. */
export function shapeHistogram(rows: Record<string, unknown>[], o: MetricOptions, qs: readonly number[]): MetricSeries[] {
  return toSeries(rows, o, (r) => {
    const bounds = Array.isArray(r?.bounds) ? r.bounds.map(num) : [];
    const counts = Array.isArray(r?.counts) ? r.counts.map(num) : [];
    const quantiles: Record<string, number | null> = {};
    for (const q of qs) quantiles[`p${formatQuantile(q)}`] = histogramQuantile(q, bounds, counts);
    const n = num(r?.n);
    return {
      value: qs.length ? quantiles[`p${formatQuantile(qs[0]!)}`]! : null,
      quantiles,
      count: n,
      avg: n > 0 && r?.total !== null && r?.total !== undefined ? num(r.total) / n : null,
    };
  });
}

/** 0.95 → "95", 0.999 → "99.9". */
export function formatQuantile(q: number): string {
  return String(Math.round(q * 1e6) / 1e4);
}
