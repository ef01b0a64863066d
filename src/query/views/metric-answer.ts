/**
 * One metric's answer over a range (the `/api/v1/apm/metrics` body, shared with alert rules so an
 * alert's value is what the metrics explorer shows): find the metric's type, then run the value,
 * counter or histogram view and shape its series. Parameters arrive parsed; the route validates text.
 */
import type { MetricAnswer } from '../../api/contract.ts';
import type { QueryService } from '../service.ts';
import { ParamError } from '../time-range.ts';
import {
  COUNTER_AGGS,
  counterQuery,
  histogramQuery,
  metricInfoQuery,
  shapeCounter,
  shapeHistogram,
  shapeValues,
  VALUE_AGGS,
  valueQuery,
  type AttributeFilter,
  type MetricAgg,
  type MetricOptions,
  type MetricType,
  type ValueAgg,
} from './metrics.ts';

/** Histogram quantiles answered when none are asked for. */
export const DEFAULT_QUANTILES: readonly number[] = [0.5, 0.95, 0.99];

/** What {@link metricAnswer} reads. */
export interface MetricAnswerParams extends MetricOptions {
  /** gauge, sum or histogram, when a name comes as several types (default: the first with points). */
  type?: MetricType;
  /** Aggregation for gauges and sums (default rate for counters, avg otherwise); histograms answer quantiles. */
  agg?: string;
  /** Histogram quantiles, the first being each point's `value` (default 0.5, 0.95, 0.99). */
  quantiles?: readonly number[];
}

function iso(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString();
}

/** Answers one metric's series; throws ParamError for an aggregation the metric's type does not take. */
export async function metricAnswer(queries: QueryService, p: MetricAnswerParams): Promise<MetricAnswer> {
  const d = queries.dialect;
  const o: MetricOptions = { fromNs: p.fromNs, toNs: p.toNs, name: p.name, service: p.service, filters: p.filters, groupBy: p.groupBy, bucketNs: p.bucketNs, originNs: p.originNs };
  const range = { fromNs: p.fromNs, toNs: p.toNs };
  const info = (await queries.rows(metricInfoQuery(d, p.name, range))).filter((r) => Number(r.points) > 0);
  const found = info.find((r) => p.type === undefined || r.type === p.type);
  const head = { from: iso(p.fromNs), to: iso(p.toNs), metric: p.name, bucket_seconds: Number(p.bucketNs) / 1e9, group_by: p.groupBy ?? null };
  if (!found) return { ...head, type: p.type ?? null, unit: null, agg: null, series: [] };
  const type = String(found.type) as MetricType;
  const unit = String(found.unit ?? '');
  if (type === 'histogram') {
    const qs = [...(p.quantiles ?? DEFAULT_QUANTILES)];
    return { ...head, type, unit, agg: 'quantiles', quantiles: qs, series: shapeHistogram(await queries.rows(histogramQuery(d, o)), o, qs) };
  }
  // Monotonic sums are counters: their rate is what users chart; other sums read like gauges.
  const counter = type === 'sum' && found.monotonic === true;
  const allowed: readonly MetricAgg[] = counter ? [...COUNTER_AGGS, ...VALUE_AGGS] : VALUE_AGGS;
  const agg = (p.agg ?? (counter ? 'rate' : 'avg')) as MetricAgg;
  if (!allowed.includes(agg)) throw new ParamError(`agg: expected one of ${allowed.join(', ')}`);
  if (agg === 'rate' || agg === 'increase') {
    const temporality = found.temporality === null || found.temporality === undefined ? null : String(found.temporality);
    return { ...head, type, unit, agg, temporality, series: shapeCounter(await queries.rows(counterQuery(d, o)), o, agg) };
  }
  return { ...head, type, unit, agg, series: shapeValues(await queries.rows(valueQuery(d, type, agg as ValueAgg, o)), o) };
}
