/**
 * The real rule sources (the evaluator's injected `RuleSource`), reading only through the query
 * service and the monitors' state:
 *
 * - `expr` (query rules): the query over the window; each result row is one label set. Labels are the
 *   row's text columns (for `stats … by a, b` exactly the `by` columns), fields all columns, the value
 *   the column `value`, else the last numeric column. A query without aggregation is run as
 *   `<query> | stats count() as value` (one row: how many events matched — "more than 10 errors in
 *   5m"), since one alert per raw event would be noise; a timechart is refused (one row per bucket).
 * - `metric:`: the metrics explorer's own answer (src/query/views/metric-answer.ts) with one bucket
 *   that is exactly the window, so an alert's value is what the explorer shows for that window.
 *   `predict_linear` fits a least-squares line through ~30 buckets of the window and answers its
 *   value `horizon` after the window's end (Prometheus `predict_linear`).
 * - `monitor:`: one row per monitor (by id or system) currently in one of the rule's states; a monitor
 *   in another state has no row, so it is clear. Windows that ended in the past (backtests) read the
 *   monitors' recorded state changes instead of their current state, when that history is given.
 */
import type { QueryService } from '../query/service.ts';
import { buildPlan } from '../query/planner.ts';
import { metricAnswer } from '../query/views/metric-answer.ts';
import type { MetricPoint } from '../query/views/metrics.ts';
import { sanitizeLabelName } from './evaluator.ts';
import type { Labels, MetricSourceSpec, MonitorSourceSpec, RuleSource, RuleSpec, SourceRow } from './types.ts';

/** A monitor and its state, as monitor rules read it. */
export interface MonitorStateRow {
  id: string;
  name: string;
  system: string;
  /** pending, up, degraded or down. */
  state: string;
}

/** What monitor rules read: current states, and optionally the states at a past time (backtests). */
export interface MonitorStates {
  statuses(): Promise<MonitorStateRow[]>;
  statesAt?(at: number): Promise<MonitorStateRow[]>;
}

/** What {@link createRuleSource} needs. */
export interface RuleSourceDeps {
  queries: QueryService;
  monitors: MonitorStates;
  /** The clock of this edge: decides whether a window is "now" or in the past (default Date.now). */
  now?: () => number;
}

/** Rows one rule may yield; the query asks for one more to tell when there are too many. */
const MAX_ROWS = 10_000;
/** Buckets `predict_linear` fits its line through. */
export const PREDICT_POINTS = 30;
/** A window ending this long before now reads monitor history rather than current state. */
const PAST_MS = 30_000;

/** The real RuleSource; see the module comment. */
export function createRuleSource(deps: RuleSourceDeps): RuleSource {
  const now = deps.now ?? Date.now;
  return async (rule, window) => {
    switch (rule.source.kind) {
      case 'query':
        return queryRows(deps.queries, rule.source.query, window);
      case 'metric':
        return metricRows(deps.queries, rule.source.metric, window);
      case 'monitor':
        return monitorRows(deps.monitors, rule.source.monitor, window.toMs < now() - PAST_MS ? window.toMs : null);
    }
  };
}

// ---- query rules ---------------------------------------------------------------------------------

const queryTexts = new Map<string, string | Error>();

/** The text a query rule runs: aggregating queries as written, raw listings counted; throws for timecharts. */
export function ruleQueryText(query: string): string {
  let t = queryTexts.get(query);
  if (t === undefined) {
    try {
      const plan = buildPlan(query);
      if (plan.timechart) t = new Error('a timechart answers one row per time bucket; alert on `stats … by …` instead');
      else t = plan.kind === 'events' ? `${query} | stats count() as value` : query;
    } catch (err) {
      t = err instanceof Error ? err : new Error(String(err));
    }
    if (queryTexts.size >= 10_000) queryTexts.delete(queryTexts.keys().next().value as string);
    queryTexts.set(query, t);
  }
  if (t instanceof Error) throw t;
  return t;
}

const ns = (ms: number): bigint => BigInt(Math.trunc(ms)) * 1_000_000n;

async function queryRows(queries: QueryService, query: string, window: { fromMs: number; toMs: number }): Promise<SourceRow[]> {
  const result = await queries.search(ruleQueryText(query), { fromNs: ns(window.fromMs), toNs: ns(window.toMs), limit: MAX_ROWS + 1, explainEmpty: false });
  if (result.truncated) throw new Error(`rule yields more than ${MAX_ROWS} series`);
  const numeric = result.columns.filter((c) => c.type === 'number').map((c) => c.name);
  const valueColumn = numeric.includes('value') ? 'value' : (numeric.at(-1) ?? null);
  return result.rows.map((r) => {
    const labels: Labels = {};
    const fields: SourceRow['fields'] = {};
    for (const c of result.columns) {
      const v = r[c.name] ?? null;
      if (c.type === 'number') {
        const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : null;
        fields[c.name] = n === null || Number.isNaN(n) ? null : n;
        continue;
      }
      fields[c.name] = v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : JSON.stringify(v);
      // Group-by columns are text; timestamps and maps would make every row its own alert.
      if (c.type !== 'json' && c.type !== 'time' && (typeof v === 'string' || typeof v === 'boolean')) labels[c.name] = String(v);
    }
    const value = valueColumn === null ? null : (fields[valueColumn] as number | null);
    return { labels, fields, value };
  });
}

// ---- metric rules --------------------------------------------------------------------------------

/** Reads `p95`, `p99.9` as a quantile (0.95, 0.999); null for other aggregations. */
export function quantileOf(agg: string): number | null {
  const m = /^p(\d{1,2}(?:\.\d+)?)$/.exec(agg);
  if (!m) return null;
  // Shift the decimal point as text, so p99.9 is exactly 0.999 (99.9 / 100 is not).
  const [whole, frac = ''] = m[1]!.split('.') as [string, string?];
  const q = Number(`0.${whole.padStart(2, '0')}${frac}`);
  return q > 0 && q < 1 ? q : null;
}

/** Least-squares line through (x, y) points, evaluated at `at`; null for fewer than two points. */
export function predictLinear(points: readonly [number, number][], at: number): number | null {
  if (points.length < 2) return null;
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) * (x - mx);
  }
  if (sxx === 0) return my;
  return my + (sxy / sxx) * (at - mx);
}

async function metricRows(queries: QueryService, m: MetricSourceSpec, window: { fromMs: number; toMs: number }): Promise<SourceRow[]> {
  const predict = m.agg === 'predict_linear';
  const quantile = quantileOf(m.agg);
  const rangeMs = window.toMs - window.fromMs;
  // One bucket that is exactly the window (origin = its start); predict_linear: ~30 buckets of it.
  const bucketMs = predict ? Math.max(1000, Math.ceil(rangeMs / PREDICT_POINTS)) : rangeMs;
  const answer = await metricAnswer(queries, {
    fromNs: ns(window.fromMs),
    toNs: ns(window.toMs),
    originNs: ns(window.fromMs),
    bucketNs: ns(bucketMs),
    name: m.name,
    service: m.service,
    filters: Object.entries(m.where ?? {}).map(([key, value]) => ({ key, value })),
    groupBy: m.groupBy,
    // Histograms answer quantiles; the other aggregations of a histogram are read from the point.
    agg: predict ? 'avg' : quantile !== null ? undefined : m.agg,
    quantiles: quantile !== null ? [quantile] : undefined,
  });
  if (answer.type === 'histogram' && quantile === null && m.agg !== 'avg' && m.agg !== 'count') {
    throw new Error(`metric ${m.name} is a histogram: use p50…p99, avg or count, not ${m.agg}`);
  }
  if (answer.type !== 'histogram' && answer.type !== null && quantile !== null) throw new Error(`metric ${m.name} is a ${answer.type}, not a histogram: ${m.agg} needs a histogram`);
  const out: SourceRow[] = [];
  for (const s of answer.series) {
    const labels: Labels = {};
    if (m.groupBy !== undefined && s.group !== null && s.group !== '') labels[sanitizeLabelName(m.groupBy)] = s.group;
    let value: number | null;
    const fields: SourceRow['fields'] = {};
    if (predict) {
      const points: [number, number][] = [];
      for (const p of s.points) if (p.value !== null && Number.isFinite(p.value)) points.push([Date.parse(p.time) + bucketMs / 2, p.value]);
      value = predictLinear(points, window.toMs + (m.horizonMs ?? 0));
      fields.points = points.length;
    } else {
      const last: MetricPoint | undefined = s.points.at(-1);
      value = pointValue(last, answer.type === 'histogram' ? m.agg : null);
      if (last?.count !== undefined) fields.count = last.count;
    }
    if (m.groupBy !== undefined && s.group !== null) fields[m.groupBy] = s.group;
    fields.value = value;
    out.push({ labels, fields, value });
  }
  return out;
}

function pointValue(p: MetricPoint | undefined, histogramAgg: string | null): number | null {
  if (p === undefined) return null;
  if (histogramAgg === 'avg') return p.avg ?? null;
  if (histogramAgg === 'count') return p.count ?? null;
  return p.value;
}

// ---- monitor rules -------------------------------------------------------------------------------

async function monitorRows(monitors: MonitorStates, spec: MonitorSourceSpec, pastAt: number | null): Promise<SourceRow[]> {
  const all = pastAt !== null && monitors.statesAt ? await monitors.statesAt(pastAt) : await monitors.statuses();
  const states: readonly string[] = spec.states.length ? spec.states : ['down'];
  return all
    .filter((m) => (spec.id === undefined || m.id === spec.id) && (spec.system === undefined || m.system === spec.system) && states.includes(m.state))
    .map((m) => ({ labels: { monitor: m.id, monitor_name: m.name, system: m.system }, fields: { value: 1, state: m.state, monitor: m.id, monitor_name: m.name, system: m.system }, value: 1 }));
}

/** The monitors service's list (and, for backtests, the store's state changes) as {@link MonitorStates}. */
export function monitorStatesOf(
  service: { list(): Promise<{ spec: { id: string; name: string; system: string }; state: { state: string } }[]> },
  history?: { stateChanges(id: string, from: number, to: number): Promise<{ at: number; to: string }[]> },
): MonitorStates {
  const statuses = async () => (await service.list()).map((m) => ({ id: m.spec.id, name: m.spec.name, system: m.spec.system, state: m.state.state }));
  if (!history) return { statuses };
  return {
    statuses,
    async statesAt(at) {
      const list = await service.list();
      return Promise.all(
        list.map(async (m) => {
          // The last change at or before `at` (the store returns the last one before `at`, then those in [at, at+1)).
          const changes = (await history.stateChanges(m.spec.id, at, at + 1)).filter((c) => c.at <= at);
          return { id: m.spec.id, name: m.spec.name, system: m.spec.system, state: changes.at(-1)?.to ?? 'pending' };
        }),
      );
    },
  };
}

/** A one-line rendering of a rule's source (Prometheus's `query` of a rule). */
export function describeSource(rule: Pick<RuleSpec, 'source'>): string {
  const s = rule.source;
  if (s.kind === 'query') return s.expr;
  if (s.kind === 'metric') {
    const m = s.metric;
    const where = Object.entries(m.where ?? {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
    if (m.service !== undefined) where.unshift(`service=${JSON.stringify(m.service)}`);
    return `metric ${m.agg}(${m.name}${where.length ? `{${where.join(', ')}}` : ''})${m.groupBy ? ` by ${m.groupBy}` : ''}${m.horizonMs ? ` horizon ${m.horizonMs / 1000}s` : ''}`;
  }
  const mon = s.monitor;
  return `monitor ${mon.id ?? `system=${mon.system ?? '*'}`} in ${(mon.states.length ? mon.states : ['down']).join('|')}`;
}
