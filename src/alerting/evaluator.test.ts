import { describe, expect, it } from 'vitest';
import { BaselineCache } from './baseline.ts';
import { evaluateRule, sanitizeLabelName, type EvaluatorDeps } from './evaluator.ts';
import { FLAP_DAMPING_MS } from './state.ts';
import type { AlertInstance, RuleSource, RuleSpec, SourceRow } from './types.ts';

const MIN = 60_000;
const T0 = 1_800_000_000_000; // a multiple of 5 minutes

function rule(o: Partial<RuleSpec> = {}): RuleSpec {
  return {
    id: 'rules.yml:rms:HighErrorRate',
    name: 'HighErrorRate',
    group: 'rms',
    intervalMs: 15_000,
    source: { kind: 'query', expr: 'q', query: 'q' },
    rangeMs: 5 * MIN,
    forMs: 0,
    keepFiringForMs: 0,
    condition: 'value > 0.05',
    resolveWhen: null,
    baseline: null,
    labels: { severity: 'critical' },
    annotations: { summary: '{{ $labels.service_name }} {{ $labels.http_route }} fails {{ $value | humanizePercentage }}' },
    position: { file: 'rules.yml', groupIndex: 0, ruleIndex: 0, line: 3 },
    ...o,
  };
}

const row = (service: string, route: string, value: number | null, extra: Record<string, number | string | null> = {}): SourceRow => ({
  labels: { 'service.name': service, 'http.route': route },
  fields: { 'service.name': service, 'http.route': route, value, ...extra },
  value,
});

/** A fake source: rows per window start (ms), recording each window asked for. */
function fakeSource(table: (w: { fromMs: number; toMs: number }) => SourceRow[] | Error): RuleSource & { calls: { fromMs: number; toMs: number }[] } {
  const calls: { fromMs: number; toMs: number }[] = [];
  const fn = async (_rule: RuleSpec, w: { fromMs: number; toMs: number }) => {
    calls.push(w);
    const r = table(w);
    if (r instanceof Error) throw r;
    return r;
  };
  return Object.assign(fn, { calls });
}

const deps: EvaluatorDeps = { timer: () => 0, externalURL: 'http://vigil' };

describe('evaluateRule', () => {
  it('reads the window ending now, labels each row and fires those over the threshold', async () => {
    const source = fakeSource(() => [row('rms-api', '/pay', 0.2), row('rms-api', '/list', 0.01)]);
    const r = await evaluateRule(rule(), T0, [], source, deps);
    expect(source.calls).toEqual([{ fromMs: T0 - 5 * MIN, toMs: T0 }]);
    expect(r.health).toEqual({ health: 'ok', lastError: null, lastEvaluation: T0, evaluationMs: 0 });
    expect(r.instances).toHaveLength(1);
    expect(r.instances[0]).toMatchObject({
      state: 'firing',
      labels: { alertname: 'HighErrorRate', severity: 'critical', service_name: 'rms-api', http_route: '/pay' },
      annotations: { summary: 'rms-api /pay fails 20%' },
      value: 0.2,
      firedAt: T0,
    });
    expect(r.transitions).toEqual([expect.objectContaining({ from: 'inactive', to: 'firing', at: T0, value: 0.2 })]);
    expect(r.rows.map((x) => [x.labels.http_route, x.holds])).toEqual([['/pay', true], ['/list', false]]);
  });

  it('rule labels override series labels and alertname overrides both', async () => {
    const source = fakeSource(() => [{ labels: { severity: 'low', alertname: 'x', env: 'prod', blank: '' }, fields: { value: 1 }, value: 1 }]);
    const r = await evaluateRule(rule({ condition: null }), T0, [], source, deps);
    expect(r.instances[0]!.labels).toEqual({ alertname: 'HighErrorRate', severity: 'critical', env: 'prod' });
  });

  it('goes pending, fires after `for`, resolves when no row is left', async () => {
    let rows = [row('a', '/x', 0.5)];
    const source = fakeSource(() => rows);
    const r1 = await evaluateRule(rule({ forMs: MIN }), T0, [], source, deps);
    expect(r1.instances[0]!.state).toBe('pending');
    const r2 = await evaluateRule(rule({ forMs: MIN }), T0 + 30_000, r1.instances, source, deps);
    expect(r2.instances[0]!.state).toBe('pending');
    expect(r2.transitions).toEqual([]);
    const r3 = await evaluateRule(rule({ forMs: MIN }), T0 + MIN, r2.instances, source, deps);
    expect(r3.instances[0]).toMatchObject({ state: 'firing', activeAt: T0, firedAt: T0 + MIN });
    rows = [];
    const r4 = await evaluateRule(rule({ forMs: MIN }), T0 + 2 * MIN, r3.instances, source, deps);
    expect(r4.instances[0]).toMatchObject({ state: 'resolved', resolvedAt: T0 + 2 * MIN, value: 0.5 });
    expect(r4.transitions).toEqual([expect.objectContaining({ from: 'firing', to: 'resolved' })]);
  });

  it('drops a pending alert whose condition stops holding', async () => {
    let value = 0.5;
    const source = fakeSource(() => [row('a', '/x', value)]);
    const r1 = await evaluateRule(rule({ forMs: MIN }), T0, [], source, deps);
    value = 0.01;
    const r2 = await evaluateRule(rule({ forMs: MIN }), T0 + 15_000, r1.instances, source, deps);
    expect(r2.instances).toEqual([]);
    expect(r2.transitions).toEqual([expect.objectContaining({ from: 'pending', to: 'inactive' })]);
  });

  it('with resolve_when, a value between the thresholds keeps the alert firing (no flapping at the threshold)', async () => {
    let value = 0.08;
    const source = fakeSource(() => [row('a', '/x', value)]);
    const hysteresis = rule({ resolveWhen: 'value < 0.02' });
    let r = await evaluateRule(hysteresis, T0, [], source, deps);
    for (const [i, v] of [0.04, 0.06, 0.03, 0.049].entries()) {
      value = v;
      r = await evaluateRule(hysteresis, T0 + (i + 1) * 15_000, r.instances, source, deps);
      expect(r.instances[0]!.state).toBe('firing');
    }
    value = 0.01;
    r = await evaluateRule(hysteresis, T0 + 5 * 15_000, r.instances, source, deps);
    expect(r.instances[0]!.state).toBe('resolved');
    // Without resolve_when the same values flap.
    value = 0.08;
    let plain = await evaluateRule(rule(), T0, [], source, deps);
    value = 0.04;
    plain = await evaluateRule(rule(), T0 + 15_000, plain.instances, source, deps);
    expect(plain.instances[0]!.state).toBe('resolved');
  });

  it('a recovery condition overlapping the firing condition never resolves an alert that still holds', async () => {
    const source = fakeSource(() => [row('a', '/x', 0.5)]);
    const r1 = await evaluateRule(rule({ resolveWhen: 'value < 1' }), T0, [], source, deps);
    const r2 = await evaluateRule(rule({ resolveWhen: 'value < 1' }), T0 + 15_000, r1.instances, source, deps);
    expect(r2.instances[0]!.state).toBe('firing');
  });

  it('a failing source keeps every instance as it was and reports err health', async () => {
    const ok = fakeSource(() => [row('a', '/x', 0.5)]);
    const r1 = await evaluateRule(rule(), T0, [], ok, deps);
    const broken = fakeSource(() => new Error('query timed out after 10000 ms'));
    const r2 = await evaluateRule(rule(), T0 + 15_000, r1.instances, broken, deps);
    expect(r2.instances).toEqual(r1.instances);
    expect(r2.transitions).toEqual([]);
    expect(r2.health).toMatchObject({ health: 'err', lastError: 'query timed out after 10000 ms', lastEvaluation: T0 + 15_000 });
  });

  it('refuses more than 10,000 series, and duplicate label sets, as err health', async () => {
    const many = fakeSource(() => Array.from({ length: 10_001 }, (_, i) => row('s', `/r${i}`, 1)));
    expect((await evaluateRule(rule(), T0, [], many, deps)).health.lastError).toBe('rule yields more than 10000 series');
    const dup = fakeSource(() => [row('a', '/x', 1), { labels: { service_name: 'a', http_route: '/x' }, fields: { value: 2 }, value: 2 }]);
    expect((await evaluateRule(rule(), T0, [], dup, deps)).health.lastError).toMatch(/^two rows have the same labels/);
  });

  it('a condition that does not compile is err health naming the field', async () => {
    const source = fakeSource(() => [row('a', '/x', 1)]);
    expect((await evaluateRule(rule({ condition: 'value >' }), T0, [], source, deps)).health.lastError).toMatch(/^condition: /);
    expect((await evaluateRule(rule({ resolveWhen: '((' }), T0, [], source, deps)).health.lastError).toMatch(/^resolve_when: /);
  });

  it('keeps a resolved alert for its retention, then drops it', async () => {
    let rows = [row('a', '/x', 0.5)];
    const source = fakeSource(() => rows);
    const r1 = await evaluateRule(rule(), T0, [], source, deps);
    rows = [];
    const r2 = await evaluateRule(rule(), T0 + MIN, r1.instances, source, deps);
    expect(r2.instances[0]!.state).toBe('resolved');
    const r3 = await evaluateRule(rule(), T0 + 10 * MIN, r2.instances, source, { ...deps, resolvedRetentionMs: 15 * MIN });
    expect(r3.instances[0]!.state).toBe('resolved');
    const r4 = await evaluateRule(rule(), T0 + 16 * MIN, r3.instances, source, { ...deps, resolvedRetentionMs: 15 * MIN });
    // Past retention: no longer resolved (not re-sent); kept inactive only while its flap memory lasts.
    expect(r4.instances.map((i) => i.state)).toEqual(['inactive']);
    const r5 = await evaluateRule(rule(), T0 + 62 * MIN, r4.instances, source, deps);
    expect(r5.instances).toEqual([]);
  });

  it('an alert that fires and resolves every 10 minutes becomes flapping and stops notifying each change', async () => {
    let value = 0;
    const source = fakeSource(() => [row('a', '/x', value)]);
    let instances: AlertInstance[] = [];
    let notifications = 0;
    for (let m = 0; m <= 120; m += 5) {
      value = m % 10 === 0 ? 0.5 : 0.01;
      const r = await evaluateRule(rule(), T0 + m * MIN, instances, source, deps);
      notifications += r.transitions.filter((t) => t.to === 'firing' || t.to === 'resolved').length;
      instances = r.instances;
    }
    expect(instances[0]!.flap.flapping).toBe(true);
    // 25 evaluations alternate: 24 changes without damping; flapping after 6, then damped.
    expect(notifications).toBeLessThanOrEqual(8);
    expect(FLAP_DAMPING_MS).toBe(10 * MIN);
  });

  it('expands annotations with the current value, and keeps them when the row is gone', async () => {
    let rows = [row('a', '/x', 0.5)];
    const source = fakeSource(() => rows);
    const r1 = await evaluateRule(rule({ keepFiringForMs: 5 * MIN }), T0, [], source, deps);
    rows = [row('a', '/x', 0.25)];
    const r2 = await evaluateRule(rule({ keepFiringForMs: 5 * MIN }), T0 + 15_000, r1.instances, source, deps);
    expect(r2.instances[0]!.annotations.summary).toBe('a /x fails 25%');
    rows = [];
    const r3 = await evaluateRule(rule({ keepFiringForMs: 5 * MIN }), T0 + 30_000, r2.instances, source, deps);
    expect(r3.instances[0]).toMatchObject({ state: 'firing', annotations: { summary: 'a /x fails 25%' }, value: 0.25 });
  });

  it('adds the value as a field when the source names its value column otherwise', async () => {
    const source = fakeSource(() => [{ labels: { svc: 'a' }, fields: { svc: 'a', count: 12 }, value: 12 }]);
    const r = await evaluateRule(rule({ condition: 'value > 10 and count > 10' }), T0, [], source, deps);
    expect(r.instances[0]!.state).toBe('firing');
  });
});

describe('baselines in the evaluator', () => {
  const anomaly = (o: Partial<RuleSpec> = {}) =>
    rule({ name: 'RefusalJump', condition: 'zscore > 4 and n >= 20', baseline: { windows: 6, days: 2, fillMissing: false }, labels: {}, annotations: { summary: 'z={{ $value }}' }, ...o });

  it('adds baseline, baseline_mad, zscore and baseline_samples from the aligned earlier windows', async () => {
    const t = T0 + 2 * MIN; // T = T0
    const source = fakeSource((w) => {
      if (w.toMs === t) return [row('lms', '/register', 0.9, { n: 100 }), row('lms', '/login', 0.02, { n: 100 })];
      // The past: 2-4% refused on both routes.
      const k = Math.round((T0 - w.toMs) / (5 * MIN));
      return [row('lms', '/register', 0.02 + (k % 3) / 100, { n: 100 }), row('lms', '/login', 0.02 + (k % 3) / 100, { n: 100 })];
    });
    const r = await evaluateRule(anomaly(), t, [], source, deps);
    expect(r.health.health).toBe('ok');
    // The current window, then 6 windows before T - 5m, then 2 days.
    expect(source.calls).toHaveLength(1 + 6 + 2);
    expect(source.calls[1]).toEqual({ fromMs: T0 - 10 * MIN, toMs: T0 - 5 * MIN });
    expect(source.calls.at(-1)).toEqual({ fromMs: T0 - 2 * 86_400_000 - 5 * MIN, toMs: T0 - 2 * 86_400_000 });
    expect(r.instances.map((i) => i.labels.http_route)).toEqual(['/register']);
  });

  it('reads each past window once across evaluations (the cache)', async () => {
    const cache = new BaselineCache();
    const source = fakeSource(() => [row('lms', '/register', 0.02, { n: 100 })]);
    await evaluateRule(anomaly(), T0 + 1000, [], source, { ...deps, cache });
    await evaluateRule(anomaly(), T0 + 16_000, [], source, { ...deps, cache });
    await evaluateRule(anomaly(), T0 + 31_000, [], source, { ...deps, cache });
    // 9 windows the first time; afterwards only the current window.
    expect(source.calls).toHaveLength(9 + 1 + 1);
    // The next range moves the windows by one: the current one, one recent window and each day's window are new.
    await evaluateRule(anomaly(), T0 + 5 * MIN + 1000, [], source, { ...deps, cache });
    expect(source.calls).toHaveLength(11 + 1 + 1 + 2);
  });

  it('a quiet series with no baseline samples never fires on z (comparison with null is false)', async () => {
    const source = fakeSource((w) => (w.toMs === T0 ? [row('lms', '/new', 0.9, { n: 100 })] : []));
    const r = await evaluateRule(anomaly(), T0, [], source, deps);
    expect(r.instances).toEqual([]);
  });

  it('with fill_missing, a label set the baseline knows but that is absent now gets a row of zeros', async () => {
    const source = fakeSource((w) => (w.toMs === T0 ? [] : [{ labels: { 'service.name': 'rms-api' }, fields: { 'service.name': 'rms-api', value: 500 }, value: 500 }]));
    const noData = rule({ name: 'NoData', condition: 'baseline > 100 and value == 0', baseline: { windows: 3, days: 0, fillMissing: true }, labels: {}, annotations: {} });
    const r = await evaluateRule(noData, T0, [], source, deps);
    expect(r.instances).toHaveLength(1);
    expect(r.instances[0]).toMatchObject({ state: 'firing', value: 0, labels: { alertname: 'NoData', service_name: 'rms-api' } });
  });

  it('a failing baseline window is err health and keeps the instances', async () => {
    const source = fakeSource((w) => (w.toMs === T0 ? [row('lms', '/register', 0.9, { n: 100 })] : new Error('busy')));
    const r = await evaluateRule(anomaly(), T0, [], source, deps);
    expect(r.health.lastError).toBe('baseline: busy');
  });
});

describe('sanitizeLabelName', () => {
  it('maps attribute names to Prometheus label names', () => {
    expect(['service.name', 'http.route', '5xx', 'a-b/c', 'ok_1'].map(sanitizeLabelName)).toEqual(['service_name', 'http_route', '_5xx', 'a_b_c', 'ok_1']);
  });
});
