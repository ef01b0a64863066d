/**
 * The real rule sources against a real Vigil: spans and metrics sent through the OTLP receiver,
 * monitors checked against a loopback server, read back as rule rows through the query service.
 * Metric rule values are compared with what `/api/v1/apm/metrics` answers for the same window.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueryGate } from '../src/query/executor.ts';
import { QueryService } from '../src/query/service.ts';
import { duckdbDialect } from '../src/query/dialect/duckdb.ts';
import { backtest } from '../src/alerting/backtest.ts';
import { evaluateRule } from '../src/alerting/evaluator.ts';
import { createRuleSource, monitorStatesOf } from '../src/alerting/sources.ts';
import type { MetricSourceSpec, MonitorSourceSpec, RuleSource, RuleSpec } from '../src/alerting/types.ts';
import { startTestVigil, type TestVigil } from './helpers/vigil.ts';
import { postOtlp as postOtlpTo } from './helpers/otlp-send.ts';

const MIN = 60_000;
// Data sits in the ten minutes before T; T is a whole minute a little in the past.
const T = Math.floor((Date.now() - 2 * MIN) / MIN) * MIN;

let v: TestVigil;
let source: RuleSource;
let readToken: string;
let target: http.Server;
let targetUrl = '';

type Attr = string | number;
const kv = (key: string, value: Attr) => ({ key, value: typeof value === 'string' ? { stringValue: value } : Number.isInteger(value) ? { intValue: value } : { doubleValue: value } });
const attrs = (o: Record<string, Attr>) => Object.entries(o).map(([k, x]) => kv(k, x));
const ns = (ms: number) => (BigInt(Math.round(ms * 1000)) * 1000n).toString();
let idCounter = 1;
const newId = (bytes: number) => Buffer.from((idCounter++).toString(16).padStart(bytes * 2, '0'), 'hex');

const postOtlp = (type: 'traces' | 'metrics', message: Record<string, unknown>) => postOtlpTo(v.server.urls.otlp, v.ingestToken, type, message);

/** rms-api: /pay fails 10 of 40 requests, /list none of 20, inside [T-4m, T-1m). */
async function sendSpans(): Promise<void> {
  const spans: Record<string, unknown>[] = [];
  const span = (route: string, i: number, error: boolean) => ({
    traceId: newId(16),
    spanId: newId(8),
    name: `GET ${route}`,
    kind: 2,
    startTimeUnixNano: ns(T - 4 * MIN + i * 1000),
    endTimeUnixNano: ns(T - 4 * MIN + i * 1000 + 20),
    attributes: attrs({ 'http.request.method': 'GET', 'http.route': route, 'http.response.status_code': error ? 500 : 200 }),
    status: { code: error ? 2 : 1 },
  });
  for (let i = 0; i < 40; i++) spans.push(span('/pay', i, i % 4 === 0));
  for (let i = 0; i < 20; i++) spans.push(span('/list', 100 + i, false));
  await postOtlp('traces', { resourceSpans: [{ resource: { attributes: attrs({ 'service.name': 'rms-api' }) }, scopeSpans: [{ scope: { name: 't' }, spans }] }] });
}

/**
 * Metrics every 10 s over [T-10m, T): CPU per host (h1 steady 0.95, h2 0.2), disk usage growing by
 * 0.001 per second on h1, a cumulative request counter growing by 100 per 10 s, and delta
 * latency histograms.
 */
async function sendMetrics(): Promise<void> {
  const times = Array.from({ length: 60 }, (_, i) => T - 10 * MIN + i * 10_000);
  const gauge = (v: (t: number) => number, a: Record<string, Attr> = {}) => times.map((t) => ({ timeUnixNano: ns(t), asDouble: v(t), attributes: attrs(a) }));
  const host = (h: string, cpu: number, metrics: Record<string, unknown>[] = []) => ({
    resource: { attributes: attrs({ 'service.name': 'node-agent', 'host.name': h }) },
    scopeMetrics: [{ scope: { name: 't' }, metrics: [{ name: 'system.cpu.utilization', unit: '1', gauge: { dataPoints: gauge(() => cpu) } }, ...metrics] }],
  });
  const start = T - 3_600_000;
  const counter = times.map((t, i) => ({ timeUnixNano: ns(t), startTimeUnixNano: ns(start), asDouble: 5000 + 100 * i, attributes: attrs({ route: '/pay' }) }));
  const bounds = [100, 500, 1000, 5000];
  const hist = times.map((t) => ({ timeUnixNano: ns(t), startTimeUnixNano: ns(t - 10_000), count: '100', sum: 100 * 400, bucketCounts: ['10', '30', '40', '20', '0'], explicitBounds: bounds, attributes: [] }));
  await postOtlp('metrics', {
    resourceMetrics: [
      host('h1', 0.95, [{ name: 'system.filesystem.utilization', unit: '1', gauge: { dataPoints: gauge((t) => 0.5 + (t - (T - 10 * MIN)) / 1e6) } }]),
      host('h2', 0.2),
      {
        resource: { attributes: attrs({ 'service.name': 'rms-api' }) },
        scopeMetrics: [
          {
            scope: { name: 't' },
            metrics: [
              { name: 'http.server.requests', sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: counter } },
              { name: 'http.server.latency', unit: 'ms', histogram: { aggregationTemporality: 1, dataPoints: hist } },
            ],
          },
        ],
      },
    ],
  });
}

let healthy = true;

beforeAll(async () => {
  target = http.createServer((req, res) => {
    const ok = req.url === '/up' || healthy;
    res.writeHead(ok ? 200 : 503);
    res.end();
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
  v = await startTestVigil({ agent: { selfMonitor: false } });
  readToken = await v.server.tokens.create('reader', 'read');
  const queries = new QueryService(v.server.store, duckdbDialect, new QueryGate(2, 16), 10_000);
  source = createRuleSource({ queries, monitors: monitorStatesOf(v.server.monitoring.service, v.server.monitoring.store) });
  await sendSpans();
  await sendMetrics();
});

afterAll(async () => {
  await v?.stop();
  await new Promise((r) => target.close(r));
});

function rule(source: RuleSpec['source'], rangeMs = 5 * MIN): RuleSpec {
  return {
    id: 't:g:r',
    name: 'R',
    group: 'g',
    intervalMs: 15_000,
    source,
    rangeMs,
    forMs: 0,
    keepFiringForMs: 0,
    condition: null,
    resolveWhen: null,
    baseline: null,
    labels: {},
    annotations: {},
    position: { file: 't', groupIndex: 0, ruleIndex: 0, line: 1 },
  };
}
const query = (expr: string) => rule({ kind: 'query', expr, query: expr });
const metric = (m: MetricSourceSpec, rangeMs?: number) => rule({ kind: 'metric', metric: m }, rangeMs);
const monitor = (m: MonitorSourceSpec) => rule({ kind: 'monitor', monitor: m });
const window = { fromMs: T - 5 * MIN, toMs: T };

describe('query rules', () => {
  it('one row per `by` group: text columns are labels, `value` is the value, every column a field', async () => {
    const rows = await source(query('from spans service.name=rms-api kind=server | eval e=if(status="error",1,0) | stats avg(e) as value count() as n by service.name, http.route'), window);
    const byRoute = Object.fromEntries(rows.map((r) => [r.labels['http.route'], r]));
    expect(Object.keys(byRoute).sort()).toEqual(['/list', '/pay']);
    expect(byRoute['/pay']).toEqual({ labels: { 'service.name': 'rms-api', 'http.route': '/pay' }, fields: { 'service.name': 'rms-api', 'http.route': '/pay', value: 0.25, n: 40 }, value: 0.25 });
    expect(byRoute['/list']!.value).toBe(0);
  });

  it('without a `value` column the last numeric column is the value', async () => {
    const rows = await source(query('from spans service.name=rms-api | stats count() as n, max(duration_ms) as slowest by http.route'), window);
    expect(rows.find((r) => r.labels['http.route'] === '/pay')).toMatchObject({ value: 20, fields: { n: 40 } });
  });

  it('a query without stats counts its events (one row)', async () => {
    const rows = await source(query('from spans service.name=rms-api status=error'), window);
    expect(rows).toEqual([{ labels: {}, fields: { value: 10 }, value: 10 }]);
  });

  it('reads only the window it is given', async () => {
    const rows = await source(query('from spans service.name=rms-api | stats count() as value'), { fromMs: T - 4 * MIN + 30_000, toMs: T });
    expect(rows[0]!.value).toBe(30);
  });

  it('refuses a timechart and reports query errors with their message', async () => {
    await expect(source(query('from spans | timechart count()'), window)).rejects.toThrow(/timechart/);
    await expect(source(query('from spans | stats nope(x)'), window)).rejects.toThrow();
  });
});

describe('the evaluator on the real source', () => {
  const errorRate = (): RuleSpec => ({
    ...query('from spans service.name=rms-api kind=server | eval e=if(status="error",1,0) | stats avg(e) as value count() as n by service.name, http.route'),
    name: 'RmsHighErrorRate',
    condition: 'n >= 20 and value > 0.05',
    labels: { severity: 'critical' },
    annotations: { summary: '{{ $labels.http_route }}: {{ $value | humanizePercentage }} of requests fail' },
  });

  it('fires the error-rate rule for the failing route only, with Prometheus labels', async () => {
    const r = await evaluateRule(errorRate(), T, [], source);
    expect(r.health.health).toBe('ok');
    expect(r.instances.map((i) => [i.state, i.labels, i.annotations.summary])).toEqual([
      ['firing', { alertname: 'RmsHighErrorRate', severity: 'critical', service_name: 'rms-api', http_route: '/pay' }, '/pay: 25% of requests fail'],
    ]);
  });

  it('a backtest over the last quarter hour shows when it would have fired', async () => {
    const r = await backtest(errorRate(), { fromMs: T - 10 * MIN, toMs: T + 5 * MIN, stepMs: MIN }, source);
    expect(r.evaluations).toBe(16);
    // The failing requests lie in [T-4m, T-3m20s): a 5-minute window sees 20 or more of them from T-3m to T+1m.
    expect(r.firings).toEqual([expect.objectContaining({ start: new Date(T - 3 * MIN).toISOString(), end: new Date(T + 2 * MIN).toISOString(), peak: 0.25 })]);
    expect(r.notifications).toBe(2);
  });
});

describe('metric rules', () => {
  it('one value per series over exactly the window, equal to the metrics explorer for that window', async () => {
    const rows = await source(metric({ name: 'system.cpu.utilization', agg: 'avg', groupBy: 'host.name' }), window);
    const byHost = Object.fromEntries(rows.map((r) => [r.labels.host_name, r.value!]));
    expect(rows.map((r) => Object.keys(r.labels))).toEqual([['host_name'], ['host_name']]);
    expect(byHost.h1).toBeCloseTo(0.95, 9);
    expect(byHost.h2).toBeCloseTo(0.2, 9);
    // The explorer over the same (aligned) window with one bucket: the same values (up to the
    // engine's order of summation).
    const res = await fetch(`${v.server.urls.api}/api/v1/apm/metrics?name=system.cpu.utilization&group_by=host.name&bucket=5m&from=${new Date(T - 5 * MIN).toISOString()}&to=${new Date(T).toISOString()}`, { headers: { authorization: `Bearer ${readToken}` } });
    const body = (await res.json()) as { series: { group: string; points: { value: number }[] }[] };
    const explorer = Object.fromEntries(body.series.map((s) => [s.group, s.points.at(-1)!.value]));
    expect(Object.keys(explorer).sort()).toEqual(['h1', 'h2']);
    for (const h of ['h1', 'h2']) expect(explorer[h]).toBeCloseTo(byHost[h]!, 12);
  });

  it('a window that is not aligned to its range is still one bucket of exactly that window', async () => {
    // [T-5m+5s, T+5s) holds the 29 points from T-4m50s to T-10s (the one at T-5m is before it).
    const w = { fromMs: T - 5 * MIN + 5_000, toMs: T + 5_000 };
    const rows = await source(metric({ name: 'system.filesystem.utilization', agg: 'count' }), w);
    expect(rows.map((r) => r.value)).toEqual([29]);
    const max = await source(metric({ name: 'system.filesystem.utilization', agg: 'max' }), w);
    expect(max[0]!.value).toBeCloseTo(0.5 + (10 * MIN - 10_000) / 1e6, 9);
  });

  it('counters answer their rate over the window; attribute matchers filter', async () => {
    const rows = await source(metric({ name: 'http.server.requests', agg: 'rate', service: 'rms-api', where: { route: '/pay' } }), window);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.value).toBeCloseTo(10, 6);
    const increase = await source(metric({ name: 'http.server.requests', agg: 'increase' }), window);
    expect(increase[0]!.value).toBeCloseTo(3000, 6);
    expect(await source(metric({ name: 'http.server.requests', agg: 'rate', where: { route: '/other' } }), window)).toEqual([]);
  });

  it('histograms answer a quantile through the explorer quantile path', async () => {
    const rows = await source(metric({ name: 'http.server.latency', agg: 'p95' }), window);
    // Counts 10/30/40/20 in (0,100] (100,500] (500,1000] (1000,5000]: rank 95 is 15/20 into (1000,5000].
    expect(rows[0]!.value).toBeCloseTo(4000, 6);
    expect(rows[0]!.fields.count).toBe(3000);
    expect((await source(metric({ name: 'http.server.latency', agg: 'avg' }), window))[0]!.value).toBeCloseTo(400, 6);
    await expect(source(metric({ name: 'system.cpu.utilization', agg: 'p95' }), window)).rejects.toThrow(/not a histogram/);
    await expect(source(metric({ name: 'system.cpu.utilization', agg: 'rate' }), window)).rejects.toThrow(/agg: expected one of/);
  });

  it('predict_linear projects the series a horizon past the window', async () => {
    const rows = await source(metric({ name: 'system.filesystem.utilization', agg: 'predict_linear', horizonMs: 3_600_000 }, 10 * MIN), { fromMs: T - 10 * MIN, toMs: T });
    // 0.5 at T-10m rising 0.001/s: at T + 1h the line is at 0.5 + 4200 * 0.001 = 4.7 (buckets are
    // placed at their middle, 5 s after the mean time of their two points: within 0.01).
    expect(Math.abs(rows[0]!.value! - 4.7)).toBeLessThan(0.01);
  });

  it('an unknown metric has no rows', async () => {
    expect(await source(metric({ name: 'nope', agg: 'avg' }), window)).toEqual([]);
  });
});

describe('monitor rules', () => {
  it('one row per monitor of the system in a matching state; others are absent', async () => {
    const api = (path: string, body?: unknown) =>
      fetch(`${v.server.urls.api}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${v.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    for (const [id, path] of [['rms-web', '/health'], ['rms-db', '/up']] as const) {
      expect((await api('/api/v1/monitors', { id, name: `RMS ${id}`, system: 'rms', type: 'http', url: `${targetUrl}${path}`, interval: '1h' })).status).toBe(201);
    }
    healthy = true;
    for (const id of ['rms-web', 'rms-db']) await api(`/api/v1/monitors/${id}/check`);
    const upAt = Date.now();
    const down = monitor({ system: 'rms', states: ['down'] });
    expect(await source(down, { fromMs: upAt - 5 * MIN, toMs: upAt })).toEqual([]);

    await new Promise((r) => setTimeout(r, 50));
    healthy = false;
    await api('/api/v1/monitors/rms-web/check');
    await api('/api/v1/monitors/rms-db/check');
    const now = Date.now();
    expect(await source(down, { fromMs: now - 5 * MIN, toMs: now })).toEqual([
      { labels: { monitor: 'rms-web', monitor_name: 'RMS rms-web', system: 'rms' }, fields: { value: 1, state: 'down', monitor: 'rms-web', monitor_name: 'RMS rms-web', system: 'rms' }, value: 1 },
    ]);
    expect(await source(monitor({ id: 'rms-db', states: ['down', 'degraded'] }), { fromMs: now - 5 * MIN, toMs: now })).toEqual([]);
    expect(await source(monitor({ system: 'lms', states: ['down'] }), { fromMs: now - 5 * MIN, toMs: now })).toEqual([]);
    // A window that ended in the past (here: as seen a minute from now) reads the recorded state
    // changes: rms-web was up at upAt, and down since.
    const queries = new QueryService(v.server.store, duckdbDialect, new QueryGate(2, 16), 10_000);
    const later = createRuleSource({ queries, monitors: monitorStatesOf(v.server.monitoring.service, v.server.monitoring.store), now: () => Date.now() + MIN });
    expect(await later(down, { fromMs: upAt - 5 * MIN, toMs: upAt })).toEqual([]);
    expect((await later(down, { fromMs: now - 5 * MIN, toMs: now })).map((r) => r.labels.monitor)).toEqual(['rms-web']);
    healthy = true;
  });
});
