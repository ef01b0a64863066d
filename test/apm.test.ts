/**
 * APM API over data sent through the real OTLP receiver: raw OTLP protobuf with exact timings for the
 * figures (latency quantiles, error rate, Apdex, statement grouping, error groups, metric rates and
 * histogram quantiles, workflows), and the official SDK for exceptions recorded the usual way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { otlpTypes } from '../src/ingest/otlp/proto.ts';
import { startTestVigil, type TestVigil } from './helpers/vigil.ts';

let v: TestVigil;
let readToken: string;
// All data sits in [T0, T0 + 20 min); queries use that range: 1200 s → 10 s buckets, 120 points.
const T0 = Math.floor((Date.now() - 50 * 60_000) / 60_000) * 60_000;
const RANGE = `from=${new Date(T0).toISOString()}&to=${new Date(T0 + 20 * 60_000).toISOString()}`;

type Attr = string | number;
const kv = (key: string, value: Attr) => ({ key, value: typeof value === 'string' ? { stringValue: value } : Number.isInteger(value) ? { intValue: value } : { doubleValue: value } });
const attrs = (o: Record<string, Attr>) => Object.entries(o).map(([k, x]) => kv(k, x));
const ns = (ms: number) => (BigInt(Math.round(ms * 1000)) * 1000n).toString();

let idCounter = 1;
const newId = (bytes: number) => Buffer.from((idCounter++).toString(16).padStart(bytes * 2, '0'), 'hex');

interface SpanSpec {
  service: string;
  version?: string;
  traceId: Buffer;
  spanId?: Buffer;
  parent?: Buffer;
  name: string;
  kind: 'server' | 'client';
  startMs: number;
  durMs: number;
  attributes?: Record<string, Attr>;
  error?: boolean;
  events?: { name: string; timeMs: number; attributes: Record<string, Attr> }[];
}

const spans: SpanSpec[] = [];
const logs: { service: string; version: string; timeMs: number; severity: number; body: string; attributes: Record<string, Attr>; traceId?: Buffer; spanId?: Buffer }[] = [];

function resource(service: string, version = '1.0.0', host = 'host-1') {
  return { attributes: attrs({ 'service.name': service, 'service.version': version, 'host.name': host }) };
}

async function postOtlp(path: string, type: 'traces' | 'logs' | 'metrics', message: Record<string, unknown>): Promise<void> {
  const T = otlpTypes()[type].request;
  const res = await fetch(`${v.server.urls.otlp}${path}`, {
    method: 'POST',
    body: T.encode(T.fromObject(message)).finish(),
    headers: { authorization: `Bearer ${v.ingestToken}`, 'content-type': 'application/x-protobuf' },
  });
  expect(res.status).toBe(200);
}

async function sendSpans(): Promise<void> {
  const groups = new Map<string, SpanSpec[]>();
  for (const s of spans) {
    const key = `${s.service}|${s.version ?? '1.0.0'}`;
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  await postOtlp('/v1/traces', 'traces', {
    resourceSpans: [...groups.entries()].map(([key, list]) => {
      const [service, version] = key.split('|') as [string, string];
      return {
        resource: resource(service, version),
        scopeSpans: [
          {
            scope: { name: 'apm-test' },
            spans: list.map((s) => ({
              traceId: s.traceId,
              spanId: s.spanId ?? newId(8),
              parentSpanId: s.parent ?? Buffer.alloc(0),
              name: s.name,
              kind: s.kind === 'server' ? 2 : 3,
              startTimeUnixNano: ns(s.startMs),
              endTimeUnixNano: ns(s.startMs + s.durMs),
              attributes: attrs(s.attributes ?? {}),
              status: { code: s.error ? 2 : 0 },
              events: (s.events ?? []).map((e) => ({ name: e.name, timeUnixNano: ns(e.timeMs), attributes: attrs(e.attributes) })),
            })),
          },
        ],
      };
    }),
  });
}

async function sendLogs(): Promise<void> {
  await postOtlp('/v1/logs', 'logs', {
    resourceLogs: logs.map((l) => ({
      resource: resource(l.service, l.version),
      scopeLogs: [
        {
          scope: { name: 'apm-test' },
          logRecords: [{ timeUnixNano: ns(l.timeMs), severityNumber: l.severity, body: { stringValue: l.body }, attributes: attrs(l.attributes), traceId: l.traceId ?? Buffer.alloc(0), spanId: l.spanId ?? Buffer.alloc(0) }],
        },
      ],
    })),
  });
}

const STACK = 'TimeoutError: upstream timed out\n    at Client.send (/app/src/client.ts:10:5)\n    at handler (/app/src/items.ts:4:1)';

/** shop-api: GET /api/items ×100 (10..1000 ms, every 10th fails), POST /api/orders ×20 calling pay-svc, DB and external calls. */
function buildShop(): void {
  for (let i = 0; i < 100; i++) {
    const error = i % 10 === 9;
    const traceId = newId(16);
    const spanId = newId(8);
    const startMs = T0 + i * 6000;
    spans.push({
      service: 'shop-api',
      traceId,
      spanId,
      name: 'GET /api/items',
      kind: 'server',
      startMs,
      durMs: (i + 1) * 10,
      attributes: { 'http.request.method': 'GET', 'http.route': '/api/items', 'http.response.status_code': error ? 500 : 200 },
      error,
      // Nine timeouts (messages differ only by numbers) and one ValueError.
      events: error
        ? [
            i === 99
              ? { name: 'exception', timeMs: startMs + 1, attributes: { 'exception.type': 'ValueError', 'exception.message': 'bad item "x-1"', 'exception.stacktrace': 'ValueError: bad item\n    at parse (/app/src/parse.ts:3:3)' } }
              : { name: 'exception', timeMs: startMs + 1, attributes: { 'exception.type': 'TimeoutError', 'exception.message': `upstream timed out after ${1000 + i} ms`, 'exception.stacktrace': STACK } },
          ]
        : [],
    });
    // The same exception logged inside the same span: one occurrence, not two.
    if (i === 19) logs.push({ service: 'shop-api', version: '1.0.0', timeMs: startMs + 2, severity: 17, body: 'timeout', attributes: { 'exception.type': 'TimeoutError', 'exception.message': 'upstream timed out after 1019 ms', 'exception.stacktrace': STACK }, traceId, spanId });
    // Database calls: 30 point lookups with different literals, 10 IN lists, 5 updates with quoted strings.
    if (i < 30) spans.push({ service: 'shop-api', traceId, parent: spanId, name: 'SELECT items', kind: 'client', startMs: startMs + 1, durMs: 5, attributes: { 'db.system': 'postgresql', 'db.statement': `SELECT * FROM items WHERE id = ${i + 1}` } });
    if (i >= 30 && i < 40) spans.push({ service: 'shop-api', traceId, parent: spanId, name: 'SELECT items', kind: 'client', startMs: startMs + 1, durMs: 20, attributes: { 'db.system': 'postgresql', 'db.statement': `SELECT * FROM items WHERE id IN (${Array.from({ length: (i % 4) + 1 }, (_, k) => k + i).join(', ')})` } });
    if (i >= 40 && i < 45) spans.push({ service: 'shop-api', traceId, parent: spanId, name: 'UPDATE stock', kind: 'client', startMs: startMs + 1, durMs: 40, attributes: { 'db.system': 'postgresql', 'db.statement': `UPDATE stock  SET n = n - 1 WHERE sku = 'it''s-${i}'` } });
    // External: 10 calls to a payment host (2 fail), 5 to a named peer service.
    if (i >= 50 && i < 60) spans.push({ service: 'shop-api', traceId, parent: spanId, name: 'POST', kind: 'client', startMs: startMs + 1, durMs: i < 55 ? 100 : 300, error: i >= 58, attributes: { 'server.address': 'api.stripe.example', 'http.request.method': 'POST' } });
    if (i >= 60 && i < 65) spans.push({ service: 'shop-api', traceId, parent: spanId, name: 'GET', kind: 'client', startMs: startMs + 1, durMs: 8, attributes: { 'peer.service': 'inventory', 'server.address': '10.0.0.7' } });
  }
  // Three more timeouts logged without a trace (a later version): same group.
  for (let k = 0; k < 3; k++) logs.push({ service: 'shop-api', version: '1.1.0', timeMs: T0 + 700_000 + k, severity: 17, body: 'timeout', attributes: { 'exception.type': 'TimeoutError', 'exception.message': `upstream timed out after ${77 + k} ms`, 'exception.stacktrace': STACK } });
  // An INFO log with exception attributes is not an error group.
  logs.push({ service: 'shop-api', version: '1.1.0', timeMs: T0 + 700_100, severity: 9, body: 'handled', attributes: { 'exception.type': 'TimeoutError', 'exception.message': 'x' } });

  for (let i = 0; i < 20; i++) {
    const traceId = newId(16);
    const spanId = newId(8);
    const startMs = T0 + 1000 + i * 30_000;
    spans.push({ service: 'shop-api', traceId, spanId, name: 'POST /api/orders', kind: 'server', startMs, durMs: 200, attributes: { 'http.request.method': 'POST', 'http.route': '/api/orders' } });
    if (i < 10) {
      // A client span whose only clue to its target is the server span it caused in pay-svc.
      const clientId = newId(8);
      spans.push({ service: 'shop-api', traceId, spanId: clientId, parent: spanId, name: 'POST', kind: 'client', startMs: startMs + 10, durMs: 50, attributes: { 'http.request.method': 'POST' } });
      spans.push({ service: 'pay-svc', traceId, parent: clientId, name: 'POST /charge', kind: 'server', startMs: startMs + 11, durMs: 45, error: i === 0, attributes: { 'http.request.method': 'POST', 'http.route': '/charge' } });
    }
  }
}

/** lms-api: ten users log in; eight register 60 s later (two fail); one registers 40 min later; one never. */
function buildLms(): void {
  for (let u = 1; u <= 10; u++) {
    const startMs = T0 + u * 30_000;
    const user = `u${u}`;
    spans.push({ service: 'lms-api', traceId: newId(16), name: 'POST /api/login', kind: 'server', startMs, durMs: 80, attributes: { 'http.request.method': 'POST', 'http.route': '/api/login', 'user.id': user } });
    const reg = (atMs: number, error: boolean) =>
      spans.push({ service: 'lms-api', traceId: newId(16), name: 'POST /api/courses/:id/register', kind: 'server', startMs: atMs, durMs: 100, error, attributes: { 'http.request.method': 'POST', 'http.route': '/api/courses/:id/register', 'enduser.id': user } });
    if (u <= 8) reg(startMs + 60_000, u >= 7);
    if (u === 9) reg(startMs + 40 * 60_000, false);
  }
}

/**
 * rate-svc reports only from T0+5 min to T0+7 min: 2 requests a second (240), every 4th of them
 * refused with 403 on POST /register, GET /ok always 200. Its rate must be taken over the time it reported.
 */
function buildRates(): void {
  for (let i = 0; i < 240; i++) {
    const register = i % 2 === 0;
    const refused = register && i % 4 === 0;
    spans.push({
      service: 'rate-svc',
      traceId: newId(16),
      name: register ? 'POST /register' : 'GET /ok',
      kind: 'server',
      startMs: T0 + 300_000 + i * 500,
      durMs: 10,
      attributes: { 'http.request.method': register ? 'POST' : 'GET', 'http.route': register ? '/register' : '/ok', 'http.response.status_code': refused ? 403 : 200 },
    });
  }
}

/** Metrics: a gauge per host and state, a counter with a reset, delta and cumulative histograms. */
async function sendMetrics(): Promise<void> {
  const point = (tMs: number, value: number, a: Record<string, Attr> = {}, startMs = T0 - 3_600_000) => ({ timeUnixNano: ns(tMs), startTimeUnixNano: ns(startMs), asDouble: value, attributes: attrs(a) });
  const host = (h: string, base: number) => ({
    resource: { attributes: attrs({ 'service.name': 'shop-api', 'host.name': h }) },
    scopeMetrics: [
      {
        scope: { name: 'apm-test' },
        metrics: [
          { name: 'system.memory.usage', unit: 'By', gauge: { dataPoints: [point(T0 + 5_000, base, { state: 'used' }), point(T0 + 7_000, base + 100, { state: 'used' }), point(T0 + 5_000, 9999, { state: 'free' })] } },
        ],
      },
    ],
  });
  // Counter: 1000, 1100, 1200, 1300 every 10 s, then the process restarts (new start time): 50, 150.
  const counterStart = T0 - 3_600_000;
  const restart = T0 + 42_000;
  const counter = [
    point(T0 + 5_000, 1000, { route: '/a' }, counterStart),
    point(T0 + 15_000, 1100, { route: '/a' }, counterStart),
    point(T0 + 25_000, 1200, { route: '/a' }, counterStart),
    point(T0 + 35_000, 1300, { route: '/a' }, counterStart),
    point(T0 + 45_000, 50, { route: '/a' }, restart),
    point(T0 + 55_000, 150, { route: '/a' }, restart),
  ];
  const bounds = [10, 50, 100, 500];
  const hist = (tMs: number, counts: number[], startMs: number) => ({
    timeUnixNano: ns(tMs),
    startTimeUnixNano: ns(startMs),
    count: String(counts.reduce((a, b) => a + b, 0)),
    sum: counts.reduce((a, b) => a + b, 0) * 80,
    bucketCounts: counts.map(String),
    explicitBounds: bounds,
    attributes: [],
  });
  await postOtlp('/v1/metrics', 'metrics', {
    resourceMetrics: [
      host('h1', 1000),
      host('h2', 3000),
      {
        resource: { attributes: attrs({ 'service.name': 'shop-api', 'host.name': 'h1' }) },
        scopeMetrics: [
          {
            scope: { name: 'apm-test' },
            metrics: [
              { name: 'http.requests', sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: counter } },
              { name: 'latency.delta', unit: 'ms', histogram: { aggregationTemporality: 1, dataPoints: [hist(T0 + 12_000, [10, 30, 40, 20, 0], T0 + 2_000)] } },
              // Cumulative: the first point (series started before the range) is only the base of the second.
              { name: 'latency.cumulative', unit: 'ms', histogram: { aggregationTemporality: 2, dataPoints: [hist(T0 + 5_000, [1, 1, 1, 1, 0], T0 - 3_600_000), hist(T0 + 15_000, [11, 31, 41, 21, 0], T0 - 3_600_000)] } },
            ],
          },
        ],
      },
    ],
  });
}

/** Exceptions recorded by the official SDK (real stack traces, `span.recordException`). */
async function sendSdkExceptions(): Promise<void> {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'sdk-svc', 'service.version': '3.0.0' }),
    spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${v.server.urls.otlp}/v1/traces`, headers: { Authorization: `Bearer ${v.ingestToken}` } }))],
  });
  const tracer = provider.getTracer('apm-test');
  const fail = (orderId: string) => {
    throw new Error(`order ${orderId} not found`);
  };
  for (const id of ['1001', '2002', '3003']) {
    const span = tracer.startSpan('GET /orders/:id', { kind: SpanKind.SERVER, startTime: new Date(T0 + 300_000), attributes: { 'http.route': '/orders/:id', 'http.request.method': 'GET' } });
    try {
      fail(id);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end(new Date(T0 + 300_050));
  }
  await provider.forceFlush();
  await provider.shutdown();
}

beforeAll(async () => {
  v = await startTestVigil();
  readToken = await v.server.tokens.create('reader', 'read');
  buildShop();
  buildLms();
  buildRates();
  await sendSpans();
  await sendLogs();
  await sendMetrics();
  await sendSdkExceptions();
});

afterAll(async () => {
  await v?.stop();
});

async function get<T>(path: string, status = 200): Promise<T> {
  const res = await fetch(`${v.server.urls.api}${path}`, { headers: { authorization: `Bearer ${readToken}` } });
  const body = (await res.json()) as T;
  expect(res.status, JSON.stringify(body)).toBe(status);
  return body;
}

interface Figures {
  requests: number;
  errors: number;
  error_rate: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  apdex: number | null;
  throughput_rps: number;
}

describe('service overview', () => {
  it('gives throughput, error rate, p50/p95/p99 and Apdex over the range and per bucket', async () => {
    const body = await get<{ summary: Figures; series: (Figures & { time: string })[]; bucket_seconds: number }>(`/api/v1/apm/overview?service=shop-api&operation=${encodeURIComponent('GET /api/items')}&${RANGE}`);
    // Durations 10, 20, …, 1000 ms: interpolated quantiles of 100 values.
    expect(body.summary).toMatchObject({ requests: 100, errors: 10, error_rate: 0.1, p50_ms: 505, p95_ms: 950.5, p99_ms: 990.1, apdex: 0.675 });
    expect(body.summary.throughput_rps).toBeCloseTo(100 / 1200, 3);
    expect(body.bucket_seconds).toBe(10);
    expect(body.series).toHaveLength(120);
    // One request every 6 s: buckets hold one or two requests, and none are missing from the series.
    expect(body.series.reduce((a, p) => a + p.requests, 0)).toBe(100);
    expect(body.series[0]).toMatchObject({ time: new Date(T0).toISOString(), requests: 2, throughput_rps: 0.2, p50_ms: 15 });
    expect(body.series.at(-1)).toMatchObject({ requests: 0, error_rate: null, p95_ms: null, apdex: null });
  });

  it('takes the Apdex threshold from apdex_t', async () => {
    const body = await get<{ summary: Figures; apdex_t_ms: number }>(`/api/v1/apm/overview?service=shop-api&operation=${encodeURIComponent('GET /api/items')}&apdex_t=100&${RANGE}`);
    // Satisfied ≤ 100 ms: 9 (one of the ten failed); tolerating ≤ 400 ms: 27 → (9 + 13.5) / 100.
    expect(body.apdex_t_ms).toBe(100);
    expect(body.summary.apdex).toBe(0.225);
  });

  it('covers every service without a service parameter and refuses bad parameters by name', async () => {
    const all = await get<{ summary: Figures }>(`/api/v1/apm/overview?${RANGE}`);
    expect(all.summary.requests).toBe(100 + 20 + 10 + 10 + 8 + 3 + 240);
    expect((await get<{ error: string }>(`/api/v1/apm/overview?apdex_t=-1&${RANGE}`, 400)).error).toMatch(/^apdex_t:/);
    expect((await get<{ error: string }>(`/api/v1/apm/overview?since=eternity`, 400)).error).toMatch(/^since:/);
    expect((await get<{ error: string }>(`/api/v1/apm/overview?bucket=1s&since=7d`, 400)).error).toMatch(/^bucket:/);
    const res = await fetch(`${v.server.urls.api}/api/v1/apm/overview`, { headers: { authorization: `Bearer ${v.ingestToken}` } });
    expect(res.status).toBe(403);
  });
});

describe('rates over the time a service reported', () => {
  type Point = Figures & { time: string; client_errors: number; client_error_rate: number | null };
  it('divides the count by the covered time from the first bucket with data, and the chart agrees', async () => {
    const body = await get<{ summary: Figures & { first_seen: string }; series: Point[] }>(`/api/v1/apm/overview?service=rate-svc&${RANGE}`);
    // 240 requests from T0+300 s; the range ends at T0+1200 s (in the past): 900 covered seconds.
    expect(body.summary.requests).toBe(240);
    expect(body.summary.throughput_rps).toBeCloseTo(240 / 900, 4);
    expect(body.summary.first_seen).toBe(new Date(T0 + 300_000).toISOString());
    // The chart: 2/s in each of the twelve 10 s buckets while it reported.
    expect(body.series.filter((p) => p.requests > 0).map((p) => p.throughput_rps)).toEqual(Array(12).fill(2));
    // The figure is the mean of the chart's per-bucket rates from the first bucket with data.
    const from = body.series.findIndex((p) => p.requests > 0);
    const rates = body.series.slice(from).map((p) => p.throughput_rps!);
    expect(rates.reduce((a, r) => a + r, 0) / rates.length).toBeCloseTo(body.summary.throughput_rps, 4);
    // The operations table takes each operation's rate the same way.
    const ops = await get<{ operations: Operation[] }>(`/api/v1/apm/operations?service=rate-svc&${RANGE}`);
    for (const o of ops.operations) expect(o.throughput_rps).toBeCloseTo(120 / 900, 4);
  });

  it('ends the covered time at now when the range reaches into the future', async () => {
    const now = Date.now();
    const body = await get<{ summary: Figures; series: Point[] }>(`/api/v1/apm/overview?service=rate-svc&from=${T0}&to=${now + 3_600_000}&bucket=1m`);
    const covered = (Date.now() + now) / 2 - (T0 + 300_000);
    expect(body.summary.throughput_rps).toBeCloseTo(240 / (covered / 1000), 3);
    // Buckets wholly after now have no rate rather than a zero.
    expect(body.series.at(-1)!.throughput_rps).toBeNull();
  });

  it('counts 4xx answers beside failures and flags the operation refusing an unusual share', async () => {
    const body = await get<{ summary: Point }>(`/api/v1/apm/overview?service=rate-svc&${RANGE}`);
    expect(body.summary).toMatchObject({ errors: 0, error_rate: 0, client_errors: 60, client_error_rate: 0.25 });
    const ops = await get<{ operations: (Operation & { client_errors: number; client_error_rate: number; client_error_alert: boolean })[] }>(`/api/v1/apm/operations?service=rate-svc&${RANGE}`);
    const byOp = Object.fromEntries(ops.operations.map((o) => [o.operation, o]));
    expect(byOp['POST /register']).toMatchObject({ requests: 120, errors: 0, client_errors: 60, client_error_rate: 0.5, client_error_alert: true });
    expect(byOp['GET /ok']).toMatchObject({ client_errors: 0, client_error_alert: false });
    // 500s are failures, not refusals: shop-api's failing items are no 4xx.
    const shop = await get<{ summary: Point }>(`/api/v1/apm/overview?service=shop-api&${RANGE}`);
    expect(shop.summary.client_errors).toBe(0);
  });

  it('groups the overview by a span field with the same figures as one service alone', async () => {
    const grouped = await get<{ groups: { group: string; services: string[]; summary: Point }[] }>(`/api/v1/apm/overview?group_by=service.name&${RANGE}`);
    const one = await get<{ summary: Point }>(`/api/v1/apm/overview?service=rate-svc&${RANGE}`);
    const g = grouped.groups.find((x) => x.group === 'rate-svc')!;
    expect(g.services).toEqual(['rate-svc']);
    expect(g.summary).toEqual(one.summary);
    expect(grouped.groups.map((x) => x.group).sort()).toEqual(['lms-api', 'pay-svc', 'rate-svc', 'sdk-svc', 'shop-api']);
    expect((await get<{ error: string }>(`/api/v1/apm/overview?group_by=${encodeURIComponent("a'b")}&${RANGE}`, 400)).error).toMatch(/^group_by:/);
  });
});

interface Operation extends Figures {
  service: string;
  operation: string;
  time_share: number;
  total_time_ms: number;
}

describe('operations', () => {
  it('lists operations per service with their share of the service time', async () => {
    const body = await get<{ operations: Operation[] }>(`/api/v1/apm/operations?service=shop-api&${RANGE}`);
    expect(body.operations.map((o) => o.operation)).toEqual(['GET /api/items', 'POST /api/orders']);
    const [items, orders] = body.operations as [Operation, Operation];
    expect(items).toMatchObject({ requests: 100, errors: 10, error_rate: 0.1, p95_ms: 950.5, apdex: 0.675, total_time_ms: 50_500 });
    expect(orders).toMatchObject({ requests: 20, errors: 0, p50_ms: 200, apdex: 1, total_time_ms: 4000 });
    expect(items.time_share).toBeCloseTo(50_500 / 54_500, 4);
    expect(items.time_share + orders.time_share).toBeCloseTo(1, 4);
  });

  it('ranks the slowest operations by p95 and sorts by an allow-listed key only', async () => {
    const slow = await get<{ operations: Operation[] }>(`/api/v1/apm/operations/slowest?${RANGE}`);
    expect(slow.operations[0]).toMatchObject({ service: 'shop-api', operation: 'GET /api/items' });
    const p95s = slow.operations.map((o) => o.p95_ms!);
    expect(p95s).toEqual([...p95s].sort((a, b) => b - a));
    expect((await get<{ error: string }>(`/api/v1/apm/operations?sort=${encodeURIComponent('1; DROP TABLE otel_traces')}&${RANGE}`, 400)).error).toMatch(/^sort:/);
  });
});

describe('database', () => {
  it('groups statements with their literals removed, with calls, total and p95 time and shares', async () => {
    const body = await get<{ statements: { statement: string; calls: number; total_time_ms: number; p95_ms: number; variants: number; db_time_share: number; service_time_share: number }[] }>(
      `/api/v1/apm/database?service=shop-api&${RANGE}`,
    );
    const byStatement = Object.fromEntries(body.statements.map((s) => [s.statement, s]));
    expect(Object.keys(byStatement).sort()).toEqual(['SELECT * FROM items WHERE id = ?', 'SELECT * FROM items WHERE id IN (?)', 'UPDATE stock SET n = n - ? WHERE sku = ?']);
    expect(byStatement['SELECT * FROM items WHERE id = ?']).toMatchObject({ calls: 30, variants: 30, total_time_ms: 150, p95_ms: 5 });
    expect(byStatement['SELECT * FROM items WHERE id IN (?)']).toMatchObject({ calls: 10, total_time_ms: 200, p95_ms: 20 });
    expect(byStatement['UPDATE stock SET n = n - ? WHERE sku = ?']).toMatchObject({ calls: 5, total_time_ms: 200 });
    // Ordered by total time; shares of the service's database time (550 ms) and request time (54.5 s).
    expect(body.statements[0]!.total_time_ms).toBe(200);
    expect(byStatement['SELECT * FROM items WHERE id = ?']!.db_time_share).toBeCloseTo(150 / 550, 4);
    expect(byStatement['SELECT * FROM items WHERE id = ?']!.service_time_share).toBeCloseTo(150 / 54_500, 4);
  });
});

describe('external calls', () => {
  it('names targets by peer.service, by the callee span, or by host, with errors and p95', async () => {
    const body = await get<{ calls: { target: string; target_kind: string; calls: number; errors: number; error_rate: number; p95_ms: number }[] }>(`/api/v1/apm/external?service=shop-api&${RANGE}`);
    const byTarget = Object.fromEntries(body.calls.map((c) => [c.target, c]));
    expect(Object.keys(byTarget).sort()).toEqual(['api.stripe.example', 'inventory', 'pay-svc']);
    expect(byTarget['api.stripe.example']).toMatchObject({ target_kind: 'host', calls: 10, errors: 2, error_rate: 0.2, p95_ms: 300 });
    expect(byTarget['inventory']).toMatchObject({ target_kind: 'service', calls: 5, errors: 0 });
    expect(byTarget['pay-svc']).toMatchObject({ target_kind: 'service', calls: 10, p95_ms: 50 });
  });

  it('gives a link the same p95 on the service map: the client span as the caller saw it', async () => {
    const external = await get<{ calls: { target: string; calls: number; errors: number; p95_ms: number }[] }>(`/api/v1/apm/external?service=shop-api&${RANGE}`);
    const map = await get<{ edges: { source: string; target: string; target_kind: string; calls: number; errors: number; p95_ms: number }[] }>(`/api/v1/service-map?${RANGE}`);
    for (const target of ['pay-svc', 'inventory']) {
      const call = external.calls.find((c) => c.target === target)!;
      const edge = map.edges.find((e) => e.source === 'shop-api' && e.target === target)!;
      expect(edge, target).toMatchObject({ target_kind: 'service', calls: call.calls, errors: call.errors, p95_ms: call.p95_ms });
    }
    // pay-svc's own server spans took 45 ms; the caller waited 50 ms.
    expect(map.edges.find((e) => e.target === 'pay-svc')!.p95_ms).toBe(50);
    expect(map.edges.find((e) => e.target === 'postgresql')).toMatchObject({ source: 'shop-api', target_kind: 'database', calls: 45 });
  });
});

describe('error groups', () => {
  interface Group {
    type: string;
    normalized_message: string;
    top_frame: string;
    occurrences: number;
    span_events: number;
    logs: number;
    services: string[];
    versions: string[];
    first_seen: string;
    last_seen: string;
    sample_trace_id: string | null;
  }

  it('fingerprints type + normalised message + top frame across span events and error logs', async () => {
    const body = await get<{ groups: Group[] }>(`/api/v1/apm/errors?service=shop-api&${RANGE}`);
    expect(body.groups).toHaveLength(2);
    const timeout = body.groups.find((g) => g.type === 'TimeoutError')!;
    // 9 span events + 3 logs without trace; the log inside a failing span is the same occurrence.
    expect(timeout).toMatchObject({
      normalized_message: 'upstream timed out after <n> ms',
      top_frame: 'at Client.send (/app/src/client.ts:10:5)',
      occurrences: 12,
      span_events: 9,
      logs: 4,
      services: ['shop-api'],
      versions: ['shop-api@1.0.0', 'shop-api@1.1.0'],
      first_seen: new Date(T0 + 9 * 6000 + 1).toISOString(),
      last_seen: new Date(T0 + 700_002).toISOString(),
    });
    expect(timeout.sample_trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(body.groups.find((g) => g.type === 'ValueError')).toMatchObject({ occurrences: 1, normalized_message: 'bad item <str>' });
  });

  it('groups exceptions recorded by the OpenTelemetry SDK whose messages differ only by ids', async () => {
    const body = await get<{ groups: Group[] }>(`/api/v1/apm/errors?service=sdk-svc&${RANGE}`);
    expect(body.groups).toHaveLength(1);
    expect(body.groups[0]).toMatchObject({ type: 'Error', normalized_message: 'order <n> not found', occurrences: 3, versions: ['sdk-svc@3.0.0'] });
    expect(body.groups[0]!.top_frame).toMatch(/^at fail \(.*apm\.test\.ts:\d+:\d+\)$/);
  });
});

describe('metrics', () => {
  interface Series {
    group: string | null;
    points: { time: string; value: number | null; resets?: number; quantiles?: Record<string, number | null>; count?: number }[];
  }
  const at = (s: Series, offsetMs: number) => s.points.find((p) => p.time === new Date(T0 + offsetMs).toISOString())!;

  it('averages a gauge per bucket with an attribute filter, grouped by an attribute', async () => {
    const body = await get<{ type: string; unit: string; agg: string; series: Series[] }>(`/api/v1/apm/metrics?name=system.memory.usage&attr.state=used&group_by=host.name&${RANGE}`);
    expect(body).toMatchObject({ type: 'gauge', unit: 'By', agg: 'avg' });
    const byHost = Object.fromEntries(body.series.map((s) => [s.group, s]));
    expect(at(byHost.h1!, 0).value).toBe(1050);
    expect(at(byHost.h2!, 0).value).toBe(3050);
    expect(at(byHost.h2!, 10_000).value).toBeNull();
    const sum = await get<{ series: Series[] }>(`/api/v1/apm/metrics?name=system.memory.usage&attr.state=used&agg=sum&${RANGE}`);
    // Sum across hosts of each host's last value in the bucket.
    expect(at(sum.series[0]!, 0).value).toBe(1100 + 3100);
  });

  it('turns a cumulative counter into a per-second rate across a reset', async () => {
    const body = await get<{ agg: string; series: Series[] }>(`/api/v1/apm/metrics?name=http.requests&attr.route=/a&${RANGE}`);
    expect(body.agg).toBe('rate');
    const s = body.series[0]!;
    // 100 per 10 s, then the restart: 50 counted since the reset, then 100 again.
    expect([10_000, 20_000, 30_000, 40_000, 50_000].map((o) => at(s, o).value)).toEqual([10, 10, 10, 5, 10]);
    expect(at(s, 40_000).resets).toBe(1);
    // The first point has no base inside the window (its series started an hour earlier).
    expect(at(s, 0).value).toBeNull();
    const inc = await get<{ series: Series[] }>(`/api/v1/apm/metrics?name=http.requests&agg=increase&${RANGE}`);
    expect(inc.series[0]!.points.reduce((a, p) => a + (p.value ?? 0), 0)).toBe(450);
  });

  it('interpolates histogram quantiles within buckets, for delta and cumulative histograms', async () => {
    for (const name of ['latency.delta', 'latency.cumulative']) {
      const body = await get<{ type: string; series: Series[] }>(`/api/v1/apm/metrics?name=${name}&quantiles=0.5,0.95&${RANGE}`);
      expect(body.type).toBe('histogram');
      const p = at(body.series[0]!, 10_000);
      // Counts 10/30/40/20 in (0,10] (10,50] (50,100] (100,500]: rank 50 is 10/40 into (50,100]; rank 95 is 15/20 into (100,500].
      expect(p.quantiles).toEqual({ p50: 62.5, p95: 400 });
      expect(p.count).toBe(100);
    }
  });

  it('lists the attribute keys of each metric with a sample of their values', async () => {
    type Attribute = { key: string; scope: string; distinct_values: number; sample: string[] };
    const names = await get<{ metrics: { name: string; type: string; attributes: Attribute[] }[] }>(`/api/v1/apm/metrics/names?${RANGE}`);
    const memory = names.metrics.find((m) => m.name === 'system.memory.usage')!;
    expect(memory.attributes).toContainEqual({ key: 'state', scope: 'point', distinct_values: 2, sample: ['free', 'used'] });
    expect(memory.attributes).toContainEqual({ key: 'host.name', scope: 'resource', distinct_values: 2, sample: ['h1', 'h2'] });
    expect(names.metrics.find((m) => m.name === 'http.requests')!.attributes).toContainEqual(expect.objectContaining({ key: 'route', scope: 'point', sample: ['/a'] }));
  });

  it('lists metric names and answers an empty series for an unknown metric', async () => {
    const names = await get<{ metrics: { name: string; type: string }[] }>(`/api/v1/apm/metrics/names?${RANGE}`);
    expect(names.metrics).toContainEqual(expect.objectContaining({ name: 'http.requests', type: 'sum' }));
    expect((await get<{ series: Series[] }>(`/api/v1/apm/metrics?name=nope&${RANGE}`)).series).toEqual([]);
    expect((await get<{ error: string }>(`/api/v1/apm/metrics?name=x&${encodeURIComponent("attr.a'b")}=1&${RANGE}`, 400)).error).toMatch(/^attr\./);
  });
});

describe('key workflows', () => {
  interface Workflow {
    summary: { instances: number; completed: number; succeeded: number; success_rate: number; completion_rate: number; latency_p50_ms: number };
    steps: { step: number; reached: number; errors: number }[];
  }

  it('measures login → course registration by the same user within 30 minutes', async () => {
    const steps = encodeURIComponent('lms-api:POST /api/login,lms-api:POST /api/courses/:id/register');
    const body = await get<Workflow>(`/api/v1/apm/workflow?steps=${steps}&by=user&within=30m&${RANGE}`);
    // Ten logins; eight registrations within the window (two failed); one 40 min later; one never.
    expect(body.summary).toMatchObject({ instances: 10, completed: 8, succeeded: 6, completion_rate: 0.8, success_rate: 0.6, latency_p50_ms: 60_100 });
    expect(body.steps.map((s) => [s.reached, s.errors])).toEqual([
      [10, 0],
      [8, 2],
    ]);
    const longer = await get<Workflow>(`/api/v1/apm/workflow?steps=${steps}&within=1h&${RANGE}`);
    expect(longer.summary.completed).toBe(9);
  });

  it('follows steps inside one trace across services', async () => {
    const steps = encodeURIComponent('shop-api:POST /api/orders,pay-svc:POST /charge');
    const body = await get<Workflow>(`/api/v1/apm/workflow?steps=${steps}&by=trace&${RANGE}`);
    expect(body.summary).toMatchObject({ instances: 20, completed: 10, succeeded: 9 });
    expect((await get<{ error: string }>(`/api/v1/apm/workflow?steps=only-one&${RANGE}`, 400)).error).toMatch(/^steps:/);
  });
});
