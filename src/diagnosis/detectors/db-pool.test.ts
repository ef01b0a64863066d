/**
 * db-pool on a real server: pool gauges every 15 s and failed requests over 30 min of baseline and 10 min of
 * fault. checkout's pool `orders-db` exhausts at the onset (used = max, requests waiting, acquisitions time
 * out); ledger's pool stays healthy; storefront's HTTP calls are refused by a peer (not a pool problem).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectorContext, scopeAround } from '../../../test/helpers/diagnosis.ts';
import { postOtlp } from '../../../test/helpers/otlp-send.ts';
import { startTestVigil, type TestVigil } from '../../../test/helpers/vigil.ts';
import { dbPoolDetector, poolOfMessage } from './db-pool.ts';

const MIN = 60_000;
const now = Math.floor(Date.now() / MIN) * MIN - 2 * MIN;
const onset = now - 10 * MIN;
const start = onset - 32 * MIN;

const hex = (n: number, bytes: number) => Buffer.from(n.toString(16).padStart(bytes * 2, '0'), 'hex');
const ns = (ms: number) => String(BigInt(Math.round(ms * 1000)) * 1000n);
const attr = (key: string, v: string | number) => ({ key, value: typeof v === 'number' ? { intValue: v } : { stringValue: v } });
const resource = (service: string) => ({ attributes: [attr('service.name', service), attr('host.name', 'node-a')] });
let id = 1;

/** Pool gauges of one service every 15 s: `used(t)` connections in use, `pending(t)` waiting, max `size`; `waits(t)`: wait-time histogram bucket counts. */
function poolMetrics(service: string, pool: string, size: number, used: (t: number) => number, pending: (t: number) => number, waits?: (t: number) => number[]): Record<string, unknown> {
  const times: number[] = [];
  for (let t = start; t < now; t += 15_000) times.push(t);
  const gauge = (name: string, value: (t: number) => number, extra: Record<string, string> = {}) => ({
    name,
    unit: '{connection}',
    gauge: { dataPoints: times.map((t) => ({ timeUnixNano: ns(t), asInt: value(t), attributes: Object.entries({ 'db.client.connection.pool.name': pool, ...extra }).map(([k, x]) => attr(k, x)) })) },
  });
  return {
    resource: resource(service),
    scopeMetrics: [
      {
        scope: { name: 'test' },
        metrics: [
          { ...gauge('db.client.connection.count', used, { 'db.client.connection.state': 'used' }) },
          { ...gauge('db.client.connection.count', (t) => size - used(t), { 'db.client.connection.state': 'idle' }) },
          gauge('db.client.connection.max', () => size),
          gauge('db.client.connection.pending_requests', pending),
          ...(waits
            ? [
                {
                  name: 'db.client.connection.wait_time',
                  unit: 's',
                  histogram: {
                    aggregationTemporality: 1,
                    dataPoints: times.map((t) => {
                      const counts = waits(t);
                      return { timeUnixNano: ns(t), startTimeUnixNano: ns(t - 15_000), count: String(counts.reduce((a, b) => a + b, 0)), bucketCounts: counts.map(String), explicitBounds: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], attributes: [attr('db.client.connection.pool.name', pool)] };
                    }),
                  },
                },
              ]
            : []),
        ],
      },
    ],
  };
}

/** Server spans of a service every 3 s; `fail(t, i)` gives a status message for a failed one. */
function requests(service: string, route: string, fail: (t: number, i: number) => string | undefined, client?: { peer: string; error?: string }): Record<string, unknown> {
  const spans: Record<string, unknown>[] = [];
  let i = 0;
  for (let t = start; t < now; t += 3000, i++) {
    const message = fail(t, i);
    const trace = hex(id++, 16);
    const root = hex(id++, 8);
    spans.push({
      traceId: trace,
      spanId: root,
      name: `POST ${route}`,
      kind: 2,
      startTimeUnixNano: ns(t),
      endTimeUnixNano: ns(t + (message ? 1000 : 30)),
      attributes: [attr('http.route', route), attr('http.request.method', 'POST'), attr('http.response.status_code', message ? 500 : 200), ...(message ? [attr('error.type', 'TimeoutError')] : [])],
      status: message ? { code: 2, message } : { code: 1 },
    });
    if (client && (t >= onset || !client.error)) {
      const failed = client.error ? [attr('error.type', 'ECONNREFUSED')] : [];
      spans.push({ traceId: trace, spanId: hex(id++, 8), parentSpanId: root, name: 'POST', kind: 3, startTimeUnixNano: ns(t + 1), endTimeUnixNano: ns(t + 3), attributes: [attr('peer.service', client.peer), ...failed], status: client.error ? { code: 2, message: client.error } : { code: 1 } });
    }
  }
  return { resource: resource(service), scopeSpans: [{ scope: { name: 'test' }, spans }] };
}

let v: TestVigil;
beforeAll(async () => {
  v = await startTestVigil({ agent: { selfMonitor: false } });
  const faulty = (t: number) => t >= onset;
  const wave = (t: number) => Math.floor(t / 15_000) % 3;
  await postOtlp(v.server.urls.otlp, v.ingestToken, 'metrics', {
    resourceMetrics: [
      poolMetrics('checkout', 'orders-db', 10, (t) => (faulty(t) ? 10 : 2 + wave(t)), (t) => (faulty(t) ? 3 + wave(t) : 0)),
      // inventory's pool has room, but the wait for a connection grows from ~3 ms to ~800 ms at the onset.
      poolMetrics('inventory', 'stock-db', 10, () => 4, () => 0, (t) => (faulty(t) ? [0, 0, 0, 0, 2, 8, 90, 0, 0] : [5, 90, 5, 0, 0, 0, 0, 0, 0])),
      // ledger's pool is busy but has room, and now and then one request waits, in the baseline as in the window.
      poolMetrics('ledger', 'ledger-main', 8, (t) => 5 + wave(t), (t) => (Math.floor(t / 15_000) % 17 === 0 ? 1 : 0)),
    ],
  });
  await postOtlp(v.server.urls.otlp, v.ingestToken, 'traces', {
    resourceSpans: [
      requests('checkout', '/orders', (t, i) => (faulty(t) && i % 3 === 0 ? `TimeoutError: ResourceRequest timed out: no connection available in pool orders-db after 1000 ms (request ${i})` : undefined)),
      // ledger: a pool timeout once in a while, at the same rate before and during the window.
      requests('ledger', '/entries', (_t, i) => (i % 150 === 7 ? 'timed out waiting for a connection from pool ledger-main' : undefined)),
      requests('storefront', '/cart', () => undefined, { peer: 'pricing', error: 'connect ECONNREFUSED 10.0.0.7:8080' }),
      requests('web', '/buy', () => undefined, { peer: 'checkout' }),
      // reports: its database drops connections at the onset (client spans with ECONNRESET), no pool metrics.
      {
        resource: resource('reports'),
        scopeSpans: [
          {
            scope: { name: 'test' },
            spans: Array.from({ length: 200 }, (_, i) => {
              const t = start + i * 12_000;
              const reset = t >= onset && i % 2 === 0;
              return {
                traceId: hex(id++, 16),
                spanId: hex(id++, 8),
                name: 'SELECT sales',
                kind: 3,
                startTimeUnixNano: ns(t),
                endTimeUnixNano: ns(t + 5),
                attributes: [attr('db.system.name', 'mysql'), attr('db.query.text', 'SELECT sum(amount) FROM sales WHERE day = ?'), ...(reset ? [attr('error.type', 'ECONNRESET')] : [])],
                status: reset ? { code: 2, message: 'read ECONNRESET' } : { code: 1 },
              };
            }),
          },
        ],
      },
    ],
  });
  await postOtlp(v.server.urls.otlp, v.ingestToken, 'logs', {
    resourceLogs: [
      {
        resource: resource('checkout'),
        scopeLogs: [
          {
            scope: { name: 'test' },
            logRecords: Array.from({ length: 60 }, (_, i) => ({
              timeUnixNano: ns(onset + i * 9000),
              severityNumber: 17,
              severityText: 'ERROR',
              body: { stringValue: `could not acquire a connection from pool orders-db within 1000 ms (waiting: ${3 + (i % 4)})` },
            })),
          },
        ],
      },
    ],
  });
}, 60_000);
afterAll(async () => v?.stop());

const diagnose = (services: string[]) => dbPoolDetector.run(detectorContext(v.server, scopeAround(onset, now, services)));

describe('db-pool', () => {
  it('names the exhausted pool from its gauges and the failed acquisitions, with the onset', async () => {
    const out = await diagnose(['checkout']);
    expect(out).toHaveLength(1);
    const e = out[0]!;
    expect(e).toMatchObject({ category: 'database', role: 'cause', component: 'checkout connection pool orders-db', services: ['checkout'] });
    expect(e.score).toBeGreaterThanOrEqual(0.85);
    expect(e.figures).toMatchObject({ limit: 10, window_used_max: 10, baseline_saturated_share: 0, baseline_pending_max: 0 });
    expect(Number(e.figures.window_saturated_share)).toBeGreaterThan(0.75);
    expect(Number(e.figures.window_failures)).toBeGreaterThanOrEqual(60);
    expect(e.summary).toMatch(/at its limit \(10\/10 used\).*requests waiting.*failed or lost database connections .*e\.g\. "TimeoutError: ResourceRequest timed out: no connection available in pool orders-db after 1000 ms \(request \d+\)"\./);
    expect(Math.abs((e.onsetMs ?? 0) - onset)).toBeLessThanOrEqual(MIN);
    expect(e.links.map((l) => l.kind)).toEqual(['chart', 'chart', 'traces']);
    // The failures link finds the failed spans.
    const q = decodeURIComponent(/q=([^&]*)/.exec(e.links[2]!.href)![1]!);
    const res = await v.server.queries.search(q, { fromNs: BigInt(onset - 2 * MIN) * 1_000_000n, toNs: BigInt(now) * 1_000_000n, limit: 1000 });
    expect(res.rows.length).toBe(Number(e.figures.window_failures));
  });

  it('names a pool whose connections take long to get, from its wait-time histogram', async () => {
    const out = await diagnose(['inventory']);
    expect(out.map((e) => e.component)).toEqual(['inventory connection pool stock-db']);
    const e = out[0]!;
    expect(Number(e.figures.baseline_wait_p95_ms)).toBeLessThan(10);
    expect(Number(e.figures.window_wait_p95_ms)).toBeGreaterThan(500);
    expect(e.summary).toMatch(/p95 wait for a connection \d ms → \d+ ms, from \d\d:\d\d UTC/);
    expect(e.score).toBeGreaterThanOrEqual(0.55);
    expect(Math.abs((e.onsetMs ?? 0) - onset)).toBeLessThanOrEqual(MIN);
  });

  it('names the pool of a service whose database connections are reset, without pool metrics', async () => {
    const out = await diagnose(['reports']);
    expect(out.map((e) => [e.component, e.figures.window_failures])).toEqual([['reports connection pool', 20]]);
    expect(out[0]!.score).toBeGreaterThan(0.5);
    expect(out[0]!.summary).toMatch(/20 failed or lost database connections in the window \(baseline 0\), e\.g\. "read ECONNRESET"/);
  });

  it('finds the pool of a service the incident calls into, and only there', async () => {
    expect((await diagnose(['web'])).map((e) => e.component)).toEqual(['checkout connection pool orders-db']);
    // storefront does not call checkout.
    expect((await diagnose(['storefront'])).map((e) => e.component)).toEqual([]);
    // With every service in scope, only checkout's pool is named.
    expect((await diagnose([])).map((e) => e.component).sort()).toEqual(['checkout connection pool orders-db', 'inventory connection pool stock-db', 'reports connection pool']);
  });

  it('stays quiet on a busy but healthy pool and on refused HTTP calls', async () => {
    expect(await diagnose(['ledger', 'storefront'])).toEqual([]);
  });

  it('reads the pool a message names', () => {
    expect(poolOfMessage('ResourceRequest timed out: no connection in pool orders-db', [])).toBe('orders-db');
    expect(poolOfMessage('connection pool exhausted', [])).toBeUndefined();
    expect(poolOfMessage('connection pool exhausted', ['main'])).toBe('main');
    expect(poolOfMessage('pool replica timed out', ['main', 'replica'])).toBe('replica');
  });
});
