import { describe, expect, it } from 'vitest';
import { BaselineCache } from './baseline.ts';
import { backtest, BacktestError, backtestStep, MAX_EVALUATIONS } from './backtest.ts';
import type { RuleSource, RuleSpec, SourceRow } from './types.ts';

const MIN = 60_000;
const T0 = 1_800_000_000_000;

function rule(o: Partial<RuleSpec> = {}): RuleSpec {
  return {
    id: 'r.yml:g:Slow',
    name: 'Slow',
    group: 'g',
    intervalMs: MIN,
    source: { kind: 'query', expr: 'q', query: 'q' },
    rangeMs: 5 * MIN,
    forMs: 2 * MIN,
    keepFiringForMs: 0,
    condition: 'value > 5',
    resolveWhen: null,
    baseline: null,
    labels: { severity: 'page' },
    annotations: {},
    position: { file: 'r.yml', groupIndex: 0, ruleIndex: 0, line: 1 },
    ...o,
  };
}

/** p95 per route by the window's end: /pay is slow (8 s) from minute 10 to 20 and 40 to 45; /list never. */
const slowPay = (toMs: number): number => {
  const m = (toMs - T0) / MIN;
  return (m >= 10 && m < 20) || (m >= 40 && m < 45) ? 8 : 1;
};
function source(f: (toMs: number) => SourceRow[]): RuleSource & { calls: number } {
  const s = Object.assign(
    async (_r: RuleSpec, w: { fromMs: number; toMs: number }) => {
      s.calls++;
      return f(w.toMs);
    },
    { calls: 0 },
  );
  return s;
}

const routes = (toMs: number): SourceRow[] => [
  { labels: { 'http.route': '/pay' }, fields: { value: slowPay(toMs) }, value: slowPay(toMs) },
  { labels: { 'http.route': '/list' }, fields: { value: 0.5 }, value: 0.5 },
];

describe('backtest', () => {
  it('replays each step with the live evaluator: firings with start, end and peak, notifications, firing time', async () => {
    const r = await backtest(rule(), { fromMs: T0, toMs: T0 + 60 * MIN, stepMs: MIN }, source(routes));
    expect(r).toMatchObject({ from: new Date(T0).toISOString(), to: new Date(T0 + 60 * MIN).toISOString(), step: 60, evaluations: 61, threshold: 5 });
    const labels = { alertname: 'Slow', severity: 'page', http_route: '/pay' };
    // Held from minute 10; `for: 2m` fires it at 12; clear at 20. Second period: 40 → fires 42 → 45.
    expect(r.firings).toEqual([
      { labels, start: new Date(T0 + 12 * MIN).toISOString(), end: new Date(T0 + 20 * MIN).toISOString(), peak: 8 },
      { labels, start: new Date(T0 + 42 * MIN).toISOString(), end: new Date(T0 + 45 * MIN).toISOString(), peak: 8 },
    ]);
    expect(r.notifications).toBe(4);
    expect(r.firingSeconds).toBe((8 + 3) * 60);
    // Every label set has a value at every evaluation; the one that fired is charted first.
    expect(r.series.map((s) => s.labels.http_route)).toEqual(['/pay', '/list']);
    expect(r.series[0]!.points).toHaveLength(61);
    expect(r.series[0]!.points[11]).toEqual([(T0 + 11 * MIN) / 1000, 8]);
    expect(r.series[1]!.points[0]).toEqual([T0 / 1000, 0.5]);
  });

  it('an alert still firing at the end has no end and counts until the last evaluation', async () => {
    const r = await backtest(rule({ forMs: 0 }), { fromMs: T0, toMs: T0 + 15 * MIN, stepMs: MIN }, source(routes));
    expect(r.firings).toEqual([expect.objectContaining({ start: new Date(T0 + 10 * MIN).toISOString(), end: null })]);
    expect(r.firingSeconds).toBe(5 * 60);
    expect(r.notifications).toBe(1);
  });

  it('label sets that come and go have null points where they had no row', async () => {
    const r = await backtest(rule({ condition: null }), { fromMs: T0, toMs: T0 + 3 * MIN, stepMs: MIN }, source((t) => (t === T0 + 2 * MIN ? [{ labels: { a: '1' }, fields: { value: 3 }, value: 3 }] : [])));
    expect(r.series).toEqual([{ labels: { alertname: 'Slow', severity: 'page', a: '1' }, points: [[T0 / 1000, null], [(T0 + MIN) / 1000, null], [(T0 + 2 * MIN) / 1000, 3], [(T0 + 3 * MIN) / 1000, null]] }]);
  });

  it('widens the step beyond 1,000 evaluations and says so', async () => {
    expect(backtestStep({ fromMs: 0, toMs: 7 * 86_400_000, stepMs: 15_000 })).toBe(606_000);
    const s = source(() => []);
    const r = await backtest(rule(), { fromMs: T0, toMs: T0 + 7 * 86_400_000, stepMs: 15_000 }, s);
    expect(r.evaluations).toBeLessThanOrEqual(MAX_EVALUATIONS);
    expect(r.step).toBe(606);
    expect(s.calls).toBe(r.evaluations);
  });

  it('an anomaly rule reads each past baseline window once across the replay', async () => {
    const s = source(() => [{ labels: { a: '1' }, fields: { value: 1 }, value: 1 }]);
    const anomaly = rule({ condition: 'zscore > 3', baseline: { windows: 4, days: 0, fillMissing: false } });
    const cache = new BaselineCache();
    const r = await backtest(anomaly, { fromMs: T0, toMs: T0 + 60 * MIN, stepMs: MIN }, s, { cache });
    // 61 current windows; baseline windows from T0-25m to T0+55m in 5-minute steps: 16 distinct.
    expect(r.evaluations).toBe(61);
    expect(s.calls).toBe(61 + 16);
  });

  it('fails with the evaluation that failed', async () => {
    const broken: RuleSource = async (_r, w) => {
      if (w.toMs >= T0 + 2 * MIN) throw new Error('boom');
      return [];
    };
    await expect(backtest(rule(), { fromMs: T0, toMs: T0 + 5 * MIN, stepMs: MIN }, broken)).rejects.toThrow(new BacktestError(`evaluation at ${new Date(T0 + 2 * MIN).toISOString()}: boom`));
  });
});
