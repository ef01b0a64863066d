/**
 * Backtest: replays a rule over stored data with the live evaluator (same code path, fresh instance
 * state), one evaluation per step, and reports when it would have fired, for how long, how many
 * notifications it would have sent (each firing and each resolution, before grouping) and the value
 * of each label set at each evaluation, for the chart under the rule editor.
 *
 * At most {@link MAX_EVALUATIONS} evaluations: a longer range widens the step (whole seconds), and the
 * answer's `step` says which step was used. Baseline windows go through the baseline cache, so
 * consecutive evaluations of an anomaly rule read each past window once.
 */
import type { BacktestFiring, BacktestResponse } from '../api/contract.ts';
import { BaselineCache } from './baseline.ts';
import { conditionOf, evaluateRule, type EvaluatorDeps } from './evaluator.ts';
import type { AlertInstance, Labels, RuleSource, RuleSpec } from './types.ts';

/** Evaluations one backtest replays at most. */
export const MAX_EVALUATIONS = 1000;
/** Label sets whose values the answer charts (those that fired first, then the highest). */
export const MAX_CHARTED_SERIES = 100;
/** Label sets whose values are followed during the replay. */
const MAX_TRACKED_SERIES = 1000;

/** A replayed evaluation failed: the rule would not have evaluated there either. */
export class BacktestError extends Error {}

/** The range replayed and the wished step (the group interval), all in ms. */
export interface BacktestRange {
  fromMs: number;
  toMs: number;
  stepMs: number;
}

/** The step actually used: the wished one, widened (to whole seconds) so at most MAX_EVALUATIONS fit. */
export function backtestStep(range: BacktestRange): number {
  const span = Math.max(0, range.toMs - range.fromMs);
  const minimum = Math.ceil(span / (MAX_EVALUATIONS - 1) / 1000) * 1000;
  return Math.max(range.stepMs, minimum, 1000);
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Replays `rule` over the range; see the module comment. Throws BacktestError when an evaluation fails. */
export async function backtest(rule: RuleSpec, range: BacktestRange, source: RuleSource, deps: EvaluatorDeps = {}): Promise<BacktestResponse> {
  if (!(range.toMs > range.fromMs)) throw new BacktestError('to: must be after from');
  const step = backtestStep(range);
  const evalDeps: EvaluatorDeps = { ...deps, cache: deps.cache ?? new BaselineCache() };
  const times: number[] = [];
  for (let t = range.fromMs; t <= range.toMs && times.length < MAX_EVALUATIONS; t += step) times.push(t);

  let instances: AlertInstance[] = [];
  let notifications = 0;
  const open = new Map<string, { labels: Labels; start: number; peak: number | null }>();
  const firings: { labels: Labels; start: number; end: number | null; peak: number | null }[] = [];
  const series = new Map<string, { labels: Labels; points: [number, number | null][]; fired: boolean; max: number }>();

  for (let i = 0; i < times.length; i++) {
    const t = times[i]!;
    const r = await evaluateRule(rule, t, instances, source, evalDeps);
    if (r.health.health === 'err') throw new BacktestError(`evaluation at ${iso(t)}: ${r.health.lastError ?? 'failed'}`);
    instances = r.instances;
    for (const tr of r.transitions) {
      if (tr.to === 'firing' || tr.to === 'resolved') notifications++;
      if (tr.to === 'firing') {
        open.set(tr.fingerprint, { labels: tr.labels, start: t, peak: tr.value });
        const s = series.get(tr.fingerprint);
        if (s) s.fired = true;
      } else if (tr.from === 'firing') {
        const o = open.get(tr.fingerprint);
        if (o) firings.push({ ...o, end: t });
        open.delete(tr.fingerprint);
      }
    }
    for (const a of instances) {
      const o = open.get(a.fingerprint);
      if (o && a.state === 'firing' && a.value !== null && (o.peak === null || a.value > o.peak)) o.peak = a.value;
    }
    const seen = new Set<string>();
    for (const row of r.rows) {
      let s = series.get(row.fingerprint);
      if (!s) {
        if (series.size >= MAX_TRACKED_SERIES) continue;
        // Earlier evaluations had no row for this label set.
        s = { labels: row.labels, points: times.slice(0, i).map((x): [number, number | null] => [x / 1000, null]), fired: open.has(row.fingerprint), max: -Infinity };
        series.set(row.fingerprint, s);
      }
      s.points.push([t / 1000, row.value]);
      if (row.value !== null && row.value > s.max) s.max = row.value;
      if (open.has(row.fingerprint)) s.fired = true;
      seen.add(row.fingerprint);
    }
    for (const [fp, s] of series) if (!seen.has(fp)) s.points.push([t / 1000, null]);
  }
  for (const o of open.values()) firings.push({ ...o, end: null });
  firings.sort((a, b) => a.start - b.start);

  const end = times.at(-1) ?? range.toMs;
  const firingSeconds = firings.reduce((sum, f) => sum + ((f.end ?? end) - f.start) / 1000, 0);
  let threshold: number | null = null;
  try {
    threshold = rule.condition === null ? null : conditionOf(rule.condition).threshold;
  } catch {
    // A condition that does not compile already failed the first evaluation.
  }
  const charted = [...series.values()].sort((a, b) => Number(b.fired) - Number(a.fired) || b.max - a.max).slice(0, MAX_CHARTED_SERIES);
  return {
    from: iso(range.fromMs),
    to: iso(range.toMs),
    step: step / 1000,
    evaluations: times.length,
    firings: firings.map((f): BacktestFiring => ({ labels: f.labels, start: iso(f.start), end: f.end === null ? null : iso(f.end), peak: f.peak })),
    notifications,
    firingSeconds,
    series: charted.map((s) => ({ labels: s.labels, points: s.points })),
    threshold,
  };
}
