/**
 * Reading resource metrics for the `resources` detector, through `metricAnswer` (the same answer as
 * `GET /api/v1/apm/metrics`): per-minute series of host and process metrics over the baseline and the
 * window, normalised to one value per bucket whatever attributes the collector adds:
 *
 * - `system.cpu.utilization` per CPU state (`state` or `cpu.mode`): busy = 1 − idle; without states, the value;
 * - `system.memory.utilization` per state: the `used` share; without states, the value;
 * - `system.filesystem.utilization` per mountpoint, else `system.filesystem.usage` as used ÷ (used + free + reserved);
 * - `process.*`: each series' last value added up (states, instances), so process CPU reads in cores.
 */
import type { MetricSeries } from '../../api/contract.ts';
import { metricAnswer, type MetricAnswerParams } from '../../query/views/metric-answer.ts';
import type { AttributeFilter } from '../../query/views/metrics.ts';
import { ParamError } from '../../query/time-range.ts';
import { ns, timeMs, type Point } from '../stats.ts';
import type { DetectorContext, TimeWindow } from '../types.ts';

/** One series: its group value (host, service or mountpoint) and points in time order. */
export interface Series {
  group: string;
  points: Point[];
}

/** Widest bucket of the series the detector reads. */
export const BUCKET_MS = 60_000;

/**
 * The bucket width for a window: a minute, narrower (down to 10 s) when the incident window is short, so
 * a saturation that began a minute before the incident opened still spans the few points a judgement
 * needs to call it sustained.
 */
export function bucketMsFor(window: TimeWindow): number {
  const sixth = (window.toMs - window.fromMs) / 6;
  return Math.min(BUCKET_MS, Math.max(10_000, Math.floor(sixth / 10_000) * 10_000));
}

/** Reads one metric's series grouped by `groupBy`; none when the metric is missing or takes no such aggregation. */
export async function readSeries(ctx: DetectorContext, range: TimeWindow, p: { name: string; groupBy: string; filters?: AttributeFilter[]; agg?: string; service?: string }): Promise<Series[]> {
  const bucketMs = bucketMsFor(ctx.scope.window);
  const params: MetricAnswerParams = {
    fromNs: ns(Math.floor(range.fromMs / bucketMs) * bucketMs),
    toNs: ns(range.toMs),
    name: p.name,
    service: p.service,
    filters: p.filters ?? [],
    groupBy: p.groupBy,
    bucketNs: ns(bucketMs),
    agg: p.agg,
  };
  let series: MetricSeries[];
  try {
    const answer = await metricAnswer(ctx.queries, params);
    if (answer.type === 'histogram') return [];
    series = answer.series;
  } catch (err) {
    // A metric sent as a type that does not take the aggregation (a counter where a gauge was expected) is no data here.
    if (err instanceof ParamError) return [];
    throw err;
  }
  return series
    .map((s) => ({ group: s.group ?? '', points: s.points.map((pt) => ({ t: timeMs(pt.time) ?? 0, v: pt.value === null || !Number.isFinite(pt.value) ? null : pt.value })) }))
    .filter((s) => s.group !== '' && s.points.some((pt) => pt.v !== null));
}

/** The first non-empty of several readings, tried in order of preference (one at a time: the gate is shared). */
async function firstWithData(readings: (() => Promise<Series[]>)[]): Promise<{ index: number; series: Series[] }> {
  for (let index = 0; index < readings.length; index++) {
    const series = await readings[index]!();
    if (series.length) return { index, series };
  }
  return { index: -1, series: [] };
}

const invert = (list: Series[]): Series[] => list.map((s) => ({ group: s.group, points: s.points.map((p) => ({ t: p.t, v: p.v === null ? null : 1 - p.v })) }));

/** Busy CPU share per host, 0..1. */
export async function hostCpu(ctx: DetectorContext, range: TimeWindow): Promise<Series[]> {
  const name = 'system.cpu.utilization';
  const { index, series } = await firstWithData([
    () => readSeries(ctx, range, { name, groupBy: 'host.name', filters: [{ key: 'state', value: 'idle' }] }),
    () => readSeries(ctx, range, { name, groupBy: 'host.name', filters: [{ key: 'cpu.mode', value: 'idle' }] }),
    () => readSeries(ctx, range, { name, groupBy: 'host.name' }),
  ]);
  return index < 2 ? invert(series) : series;
}

/** Used memory share per host, 0..1. */
export async function hostMemory(ctx: DetectorContext, range: TimeWindow): Promise<Series[]> {
  const name = 'system.memory.utilization';
  const { series } = await firstWithData([
    () => readSeries(ctx, range, { name, groupBy: 'host.name', filters: [{ key: 'state', value: 'used' }] }),
    () => readSeries(ctx, range, { name, groupBy: 'host.name', filters: [{ key: 'system.memory.state', value: 'used' }] }),
    () => readSeries(ctx, range, { name, groupBy: 'host.name' }),
  ]);
  return series;
}

/** The hosts that report filesystem metrics (utilization or usage). */
export async function filesystemHosts(ctx: DetectorContext, range: TimeWindow): Promise<string[]> {
  const util = await readSeries(ctx, range, { name: 'system.filesystem.utilization', groupBy: 'host.name' });
  const usage = await readSeries(ctx, range, { name: 'system.filesystem.usage', groupBy: 'host.name' });
  return [...new Set([...util, ...usage].map((s) => s.group))];
}

/** Used share per mountpoint of one host, 0..1 (utilization, else usage used ÷ total). */
export async function hostFilesystems(ctx: DetectorContext, range: TimeWindow, host: string): Promise<Series[]> {
  const byHost: AttributeFilter = { key: 'host.name', value: host };
  const groupBy = 'system.filesystem.mountpoint';
  const util = await readSeries(ctx, range, { name: 'system.filesystem.utilization', groupBy, filters: [byHost] });
  if (util.length) return util;
  const states = ['used', 'free', 'reserved'] as const;
  // The state attribute is `system.filesystem.state` in current conventions, `state` in older collectors.
  const stateKey = (await readSeries(ctx, range, { name: 'system.filesystem.usage', groupBy, filters: [byHost, { key: 'system.filesystem.state', value: 'used' }] })).length ? 'system.filesystem.state' : 'state';
  const [used, free, reserved] = await Promise.all(states.map((state) => readSeries(ctx, range, { name: 'system.filesystem.usage', groupBy, filters: [byHost, { key: stateKey, value: state }] })));
  const total = (list: Series[], group: string, i: number) => list.find((s) => s.group === group)?.points[i]?.v ?? 0;
  return used!.map((u) => ({
    group: u.group,
    points: u.points.map((p, i) => {
      const sum = (p.v ?? 0) + total(free!, u.group, i) + total(reserved!, u.group, i);
      return { t: p.t, v: p.v === null || sum <= 0 ? null : p.v / sum };
    }),
  }));
}

/** A process metric per service (or per host of one service), each series' last value added up per bucket. */
export function processSeries(ctx: DetectorContext, range: TimeWindow, name: 'process.cpu.utilization' | 'process.memory.usage', service?: string): Promise<Series[]> {
  return readSeries(ctx, range, { name, groupBy: service ? 'host.name' : 'service.name', service, agg: 'sum' });
}
