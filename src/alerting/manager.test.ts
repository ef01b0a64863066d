import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openStateDb, type StateDb } from '../store/state/db.ts';
import { AlertStore } from '../store/state/alerts.ts';
import type { LogRow, MetricRow, SpanRow, TelemetryBatch } from '../model/telemetry.ts';
import { ERROR_RETRY_MS, nextEvaluation, relevanceOf, RuleManager, type EvaluateFn, MONITOR_STATE_CHANGE_EVENT } from './manager.ts';
import { fingerprint, type AlertInstance, type NotifyAlert, type RuleGroupSpec, type RuleSpec } from './types.ts';

const T0 = Date.UTC(2026, 11, 3, 12, 0, 0);

function rule(name: string, over: Partial<RuleSpec> = {}): RuleSpec {
  return {
    id: `r.yml:g:${name}`,
    name,
    group: 'g',
    intervalMs: 15_000,
    source: { kind: 'query', expr: `from spans service.name=${name}`, query: `from spans service.name=${name} | stats count() as value` },
    rangeMs: 60_000,
    forMs: 0,
    keepFiringForMs: 0,
    condition: 'value > 10',
    resolveWhen: null,
    baseline: null,
    labels: {},
    annotations: {},
    position: { file: 'r.yml', groupIndex: 0, ruleIndex: 0, line: 1 },
    ...over,
  };
}

function group(rules: RuleSpec[], over: Partial<RuleGroupSpec> = {}): RuleGroupSpec {
  return { name: 'g', file: 'r.yml', intervalMs: 15_000, rules, ...over };
}

/** A tiny evaluator: each rule's value comes from `values`; above 10 fires at once, else resolves. */
function fakeEvaluator(values: Map<string, number>, calls: string[] = []): EvaluateFn {
  return async (r, now, previous) => {
    calls.push(r.id);
    const value = values.get(r.id) ?? 0;
    const labels = { alertname: r.name, service_name: r.name };
    const fp = fingerprint(labels);
    const prev = previous.find((a) => a.fingerprint === fp);
    const holds = value > 10;
    const transitions = [];
    let next: AlertInstance | undefined;
    if (holds) {
      next = prev?.state === 'firing' ? { ...prev, value, lastEvalAt: now, lastSeenAt: now } : { ruleId: r.id, fingerprint: fp, labels, annotations: {}, state: 'firing', value, activeAt: now, firedAt: now, resolvedAt: null, lastSeenAt: now, lastEvalAt: now, flap: { changes: [], flapping: false } };
      if (prev?.state !== 'firing') transitions.push({ ruleId: r.id, fingerprint: fp, labels, from: prev?.state ?? 'inactive', to: 'firing' as const, at: now, value });
    } else if (prev?.state === 'firing') {
      next = { ...prev, state: 'resolved', resolvedAt: now, lastEvalAt: now, value };
      transitions.push({ ruleId: r.id, fingerprint: fp, labels, from: 'firing' as const, to: 'resolved' as const, at: now, value });
    } else if (prev?.state === 'resolved') next = prev;
    return { instances: next ? [next] : [], transitions, health: { health: 'ok', lastError: null, lastEvaluation: now, evaluationMs: 1 } };
  };
}

const resource = (service: string) => ({ serviceName: service, serviceNamespace: '', serviceVersion: '', hostName: '', attributes: {} });
const span = (service: string) => ({ resource: resource(service) }) as unknown as SpanRow;
const spans = (...services: string[]): TelemetryBatch => ({ spans: services.map(span), logs: [], metrics: [] });
const metric = (name: string): TelemetryBatch => ({ spans: [], logs: [], metrics: [{ name, resource: resource('host') } as unknown as MetricRow] });
const log = (attributes: Record<string, string>): TelemetryBatch => ({ spans: [], metrics: [], logs: [{ resource: resource('vigil-monitors'), attributes } as unknown as LogRow] });

let dir: string;
let db: StateDb;
let store: AlertStore;
let sent: NotifyAlert[][];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-manager-'));
  db = await openStateDb(join(dir, 'state.sqlite'));
  store = new AlertStore(db);
  sent = [];
});

afterEach(async () => {
  vi.useRealTimers();
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
});

function manager(evaluate: EvaluateFn, over: { maxConcurrent?: number } = {}) {
  return new RuleManager({
    evaluate,
    store,
    notifier: { update: (alerts) => sent.push(alerts) },
    maxConcurrent: over.maxConcurrent ?? 4,
    resolvedRetentionMs: 15 * 60_000,
    externalUrl: () => 'http://vigil.test/',
    now: () => Date.now(),
  });
}

/** Lets timers and the promise chains they start run. */
async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
}

describe('relevanceOf', () => {
  it.each([
    ['from spans service.name=checkout kind=server | stats count()', 'spans', ['checkout']],
    ['from spans service=checkout | stats count()', 'spans', ['checkout']],
    ['service.name="billing api" severity>=ERROR | stats count()', 'logs', ['billing api']],
    ['from spans service.name IN (a, b) | stats count()', 'spans', ['a', 'b']],
    ['from spans service.name=check* | stats count()', 'spans', null],
    ['from spans service.name=a OR service.name=b | stats count()', 'spans', null],
    ['from spans NOT service.name=a | stats count()', 'spans', null],
    ['from spans service.name!=a | stats count()', 'spans', null],
    ['from spans | stats count() by service.name', 'spans', null],
  ])('%s → %s %j', (query, dataset, services) => {
    expect(relevanceOf(rule('x', { source: { kind: 'query', expr: query, query } }))).toEqual({ kind: 'query', dataset, services });
  });

  it('reads metric names and monitor changes', () => {
    expect(relevanceOf(rule('m', { source: { kind: 'metric', metric: { name: 'system.cpu.utilization', agg: 'avg' } } }))).toEqual({ kind: 'metric', name: 'system.cpu.utilization' });
    expect(relevanceOf(rule('d', { source: { kind: 'monitor', monitor: { states: ['down'] } } }))).toEqual({ kind: 'monitor' });
  });
});

describe('nextEvaluation', () => {
  it('is aligned to the interval with a stable offset per group, always in the future', () => {
    const a = nextEvaluation('f\u0000a', 15_000, T0);
    const b = nextEvaluation('f\u0000b', 15_000, T0);
    expect(a).toBeGreaterThan(T0);
    expect(a).toBeLessThanOrEqual(T0 + 15_000);
    expect(a).not.toBe(b);
    expect(nextEvaluation('f\u0000a', 15_000, a)).toBe(a + 15_000);
    expect(nextEvaluation('f\u0000a', 15_000, a - 1)).toBe(a);
  });
});

describe('RuleManager', () => {
  it('evaluates the rules a commit touches within the debounce, and only those', async () => {
    vi.useFakeTimers({ now: T0 });
    const calls: string[] = [];
    const cpu = rule('cpu', { id: 'r.yml:g:cpu', source: { kind: 'metric', metric: { name: 'system.cpu.utilization', agg: 'avg' } } });
    const down = rule('down', { id: 'r.yml:g:down', source: { kind: 'monitor', monitor: { states: ['down'] } } });
    const anySpans = rule('any', { id: 'r.yml:g:any', source: { kind: 'query', expr: 'from spans | stats count() as value by service.name', query: 'from spans | stats count() as value by service.name' } });
    const m = manager(fakeEvaluator(new Map(), calls));
    m.setGroups([group([rule('checkout'), rule('billing'), cpu, down, anySpans], { intervalMs: 3_600_000 })]);
    await m.start();
    m.onCommit([spans('checkout', 'search')]);
    expect(calls).toEqual([]);
    await advance(30);
    expect(calls.sort()).toEqual(['r.yml:g:any', 'r.yml:g:checkout']);
    calls.length = 0;
    await advance(1000);
    m.onCommit([metric('system.memory.utilization'), log({ 'event.name': 'something else' })]);
    await advance(30);
    expect(calls).toEqual([]);
    m.onCommit([metric('system.cpu.utilization'), log({ 'event.name': MONITOR_STATE_CHANGE_EVENT })]);
    await advance(30);
    expect(calls.sort()).toEqual(['r.yml:g:cpu', 'r.yml:g:down']);
    await m.stop();
  });

  it('coalesces a burst of commits and spaces push evaluations of one rule by 250 ms', async () => {
    vi.useFakeTimers({ now: T0 });
    const calls: string[] = [];
    const m = manager(fakeEvaluator(new Map(), calls));
    m.setGroups([group([rule('checkout')], { intervalMs: 3_600_000 })]);
    await m.start();
    for (let i = 0; i < 5; i++) m.onCommit([spans('checkout')]);
    await advance(30);
    expect(calls).toHaveLength(1);
    m.onCommit([spans('checkout')]);
    await advance(100);
    expect(calls).toHaveLength(1);
    await advance(150);
    expect(calls).toHaveLength(2);
    await m.stop();
  });

  it('never overlaps evaluations of one rule, runs a request made meanwhile once afterwards, and bounds concurrency', async () => {
    vi.useFakeTimers({ now: T0 });
    let inFlight = 0;
    let maxInFlight = 0;
    const perRule = new Map<string, number>();
    let overlap = false;
    const evaluate: EvaluateFn = async (r, now) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      perRule.set(r.id, (perRule.get(r.id) ?? 0) + 1);
      if ((perRule.get(`${r.id}:running`) ?? 0) > 0) overlap = true;
      perRule.set(`${r.id}:running`, 1);
      await new Promise((res) => setTimeout(res, 100));
      perRule.set(`${r.id}:running`, 0);
      inFlight--;
      return { instances: [], transitions: [], health: { health: 'ok', lastError: null, lastEvaluation: now, evaluationMs: 1 } };
    };
    const m = new RuleManager({ evaluate, store, notifier: { update: () => undefined }, maxConcurrent: 2, resolvedRetentionMs: 60_000, externalUrl: () => '', now: () => Date.now() });
    const rules = ['a', 'b', 'c', 'd', 'e'].map((n) => rule(n));
    m.setGroups([group(rules, { intervalMs: 3_600_000 })]);
    await m.start();
    const all = m.evaluateAll();
    void m.evaluateRule('r.yml:g:a');
    void m.evaluateRule('r.yml:g:a');
    await advance(1000);
    await all;
    expect(maxInFlight).toBe(2);
    expect(overlap).toBe(false);
    // One evaluation, plus one for the two requests made while it ran.
    expect(perRule.get('r.yml:g:a')).toBe(2);
    expect(perRule.get('r.yml:g:b')).toBe(1);
    await m.stop();
  });

  it('puts a rule pushed by new data ahead of interval evaluations already queued', async () => {
    vi.useFakeTimers({ now: T0 });
    const order: string[] = [];
    const evaluate: EvaluateFn = async (r, now) => {
      order.push(r.name);
      await new Promise((res) => setTimeout(res, 100));
      return { instances: [], transitions: [], health: { health: 'ok', lastError: null, lastEvaluation: now, evaluationMs: 1 } };
    };
    const m = new RuleManager({ evaluate, store, notifier: { update: () => undefined }, maxConcurrent: 1, resolvedRetentionMs: 60_000, externalUrl: () => '', now: () => Date.now() });
    const names = Array.from({ length: 20 }, (_, i) => `svc${i}`);
    m.setGroups([group(names.map((n) => rule(n)), { intervalMs: 3_600_000 })]);
    await m.start();
    // Twenty interval evaluations queue behind one slot; then data arrives for the last of them.
    const all = m.evaluateAll();
    await advance(10);
    m.onCommit([spans('svc19')]);
    await advance(150);
    // svc0 held the slot; the pushed svc19 goes next, before svc1…svc18.
    expect(order.slice(0, 2)).toEqual(['svc0', 'svc19']);
    await advance(5000);
    await all;
    expect(order.filter((n) => n === 'svc19')).toHaveLength(1);
    await m.stop();
  });

  it('tries a failed evaluation of a long-interval rule again after 15 s, not a whole interval later', async () => {
    vi.useFakeTimers({ now: T0 });
    const calls: string[] = [];
    const values = new Map([['r.yml:g:checkout', 42]]);
    const ok = fakeEvaluator(values, calls);
    let failing = true;
    const m = manager(async (r, now, previous) => {
      if (!failing) return ok(r, now, previous);
      calls.push(r.id);
      return { instances: previous, transitions: [], health: { health: 'err', lastError: 'query gate busy', lastEvaluation: now, evaluationMs: 1 } };
    });
    m.setGroups([group([rule('checkout', { intervalMs: 3_600_000 })], { intervalMs: 3_600_000 })]);
    await m.start();
    m.onCommit([spans('checkout')]);
    await advance(30);
    expect(calls).toHaveLength(1);
    await advance(ERROR_RETRY_MS - 100);
    expect(calls).toHaveLength(1);
    failing = false;
    await advance(200);
    expect(calls).toHaveLength(2);
    expect(sent.flat().some((a) => a.labels.alertname === 'checkout' && !a.resolved)).toBe(true);
    // Healthy again: no more early retries, only the hourly interval.
    await advance(5 * ERROR_RETRY_MS);
    expect(calls).toHaveLength(2);
    await m.stop();
  });

  it('evaluates each group on its interval', async () => {
    vi.useFakeTimers({ now: T0 });
    const calls: string[] = [];
    const m = manager(fakeEvaluator(new Map(), calls));
    m.setGroups([group([rule('checkout')], { intervalMs: 10_000 })]);
    await m.start();
    await advance(10_000);
    expect(calls).toHaveLength(1);
    await advance(30_000);
    expect(calls).toHaveLength(4);
    await m.stop();
  });

  it('persists instances and transitions, and notifies firing alerts with a validity of four intervals', async () => {
    vi.useFakeTimers({ now: T0 });
    const values = new Map([['r.yml:g:checkout', 42]]);
    const m = manager(fakeEvaluator(values));
    m.setGroups([group([rule('checkout')])]);
    await m.start();
    await m.evaluateRule('r.yml:g:checkout');
    const stored = await store.instances();
    expect(stored.map((a) => [a.ruleId, a.state, a.value])).toEqual([['r.yml:g:checkout', 'firing', 42]]);
    expect((await store.transitions({ from: 0, to: T0 + 1 })).map((t) => `${t.from}→${t.to}`)).toEqual(['inactive→firing']);
    const alert = sent.at(-1)![0]!;
    expect(alert).toMatchObject({ labels: { alertname: 'checkout', service_name: 'checkout' }, startsAt: T0, endsAt: T0 + 60_000, resolved: false, generatorURL: 'http://vigil.test/alerts/rules/r.yml%3Ag%3Acheckout' });
    values.set('r.yml:g:checkout', 0);
    await m.evaluateRule('r.yml:g:checkout');
    expect(sent.at(-1)![0]).toMatchObject({ resolved: true, endsAt: T0 });
    expect(m.ruleView('r.yml:g:checkout')!.health.health).toBe('ok');
    await m.stop();
  });

  it('on start hands persisted firing alerts to the notifier before evaluating, and resolves those of vanished rules', async () => {
    vi.useFakeTimers({ now: T0 });
    const values = new Map([['r.yml:g:checkout', 42], ['r.yml:g:gone', 42], ['r.yml:g:pending', 0]]);
    const first = manager(fakeEvaluator(values));
    first.setGroups([group([rule('checkout'), rule('gone')])]);
    await first.start();
    await first.evaluateAll();
    await first.stop();
    // A pending alert of a rule that will vanish too.
    await store.write({ ruleId: 'r.yml:g:pending', transitions: [], instances: [{ ruleId: 'r.yml:g:pending', fingerprint: 'p', labels: { alertname: 'pending' }, annotations: {}, state: 'pending', value: 1, activeAt: T0, firedAt: null, resolvedAt: null, lastSeenAt: T0, lastEvalAt: T0, flap: { changes: [], flapping: false } }] });
    sent = [];
    vi.setSystemTime(T0 + 5000);
    const calls: string[] = [];
    const second = manager(fakeEvaluator(values, calls));
    second.setGroups([group([rule('checkout')])]);
    await second.start();
    expect(calls).toEqual([]);
    const all = sent.flat();
    expect(all.find((a) => a.labels.alertname === 'checkout')).toMatchObject({ resolved: false, startsAt: T0 });
    expect(all.find((a) => a.labels.alertname === 'gone')).toMatchObject({ resolved: true, endsAt: T0 + 5000 });
    expect(all.some((a) => a.labels.alertname === 'pending')).toBe(false);
    const stored = await store.instances();
    expect(stored.map((a) => `${a.ruleId}:${a.state}`).sort()).toEqual(['r.yml:g:checkout:firing', 'r.yml:g:gone:resolved']);
    expect(m2transitions(await store.transitions({ from: 0, to: T0 + 10_000 }))).toContain('gone:firing→resolved');
    await second.stop();
  });

  it('keeps alerts of a rule across reloads and resolves those of a removed rule', async () => {
    vi.useFakeTimers({ now: T0 });
    const values = new Map([['r.yml:g:checkout', 42], ['r.yml:g:billing', 42]]);
    const m = manager(fakeEvaluator(values));
    m.setGroups([group([rule('checkout'), rule('billing')])]);
    await m.start();
    await m.evaluateAll();
    sent = [];
    m.setGroups([group([rule('checkout', { labels: { severity: 'page' } })])]);
    await advance(10);
    expect(m.ruleView('r.yml:g:checkout')!.instances.map((a) => a.state)).toEqual(['firing']);
    const resolved = sent.flat().filter((a) => a.labels.alertname === 'billing');
    expect(resolved).toHaveLength(1);
    expect(resolved[0]).toMatchObject({ resolved: true });
    expect(m.counts()).toMatchObject({ firing: 1, resolved: 1 });
    await m.stop();
  });
});

function m2transitions(ts: { ruleId: string; from: string; to: string }[]): string[] {
  return ts.map((t) => `${t.ruleId.split(':').at(-1)}:${t.from}→${t.to}`);
}
