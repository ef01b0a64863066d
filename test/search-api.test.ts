/**
 * The search and trace API over data sent by the official OpenTelemetry SDK, and `vigil search`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { runVigil, startTestVigil, type TestVigil } from './helpers/vigil.ts';

let v: TestVigil;
let readToken: string;
let traceId = '';

beforeAll(async () => {
  v = await startTestVigil();
  readToken = await v.server.tokens.create('reader', 'read');
  const headers = { Authorization: `Bearer ${v.ingestToken}` };
  const providers = ['lms-api', 'auth-service'].map((service) => {
    const resource = resourceFromAttributes({ 'service.name': service, 'service.namespace': 'lms', 'service.version': '2.0.0' });
    return {
      tracer: new BasicTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${v.server.urls.otlp}/v1/traces`, headers }))] }),
      logger: new LoggerProvider({ resource, processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${v.server.urls.otlp}/v1/logs`, headers }) })] }),
    };
  });
  const [lms, auth] = providers as [(typeof providers)[0], (typeof providers)[0]];
  // A login: lms-api server span → client span → auth-service server span, with correlated logs.
  const root = lms.tracer.getTracer('t').startSpan('POST /login', { kind: SpanKind.SERVER, attributes: { 'http.route': '/login', 'http.request.method': 'POST', 'http.response.status_code': 200 } });
  const rootCtx = trace.setSpan(context.active(), root);
  const client = lms.tracer.getTracer('t').startSpan('POST auth-service/verify', { kind: SpanKind.CLIENT }, rootCtx);
  const server = auth.tracer.getTracer('t').startSpan('POST /verify', { kind: SpanKind.SERVER, attributes: { 'http.route': '/verify', 'http.response.status_code': 200 } }, trace.setSpan(context.active(), client));
  const db = auth.tracer.getTracer('t').startSpan('SELECT users', { kind: SpanKind.CLIENT, attributes: { 'db.system': 'sqlite', 'db.statement': 'SELECT * FROM users WHERE name = ?' } }, trace.setSpan(context.active(), server));
  auth.logger.getLogger('t').emit({ severityNumber: SeverityNumber.WARN, body: 'slow password hash', context: trace.setSpan(context.active(), server) });
  db.end();
  server.end();
  client.end();
  lms.logger.getLogger('t').emit({ severityNumber: SeverityNumber.ERROR, body: 'login failed for "<script>alert(1)</script>"', attributes: { user: "o'brien" }, context: rootCtx });
  for (let i = 0; i < 5; i++) lms.logger.getLogger('t').emit({ severityNumber: SeverityNumber.INFO, body: `course viewed ${i}`, attributes: { 'course.id': `c-${i}` } });
  const failing = lms.tracer.getTracer('t').startSpan('POST /register', { kind: SpanKind.SERVER, attributes: { 'http.route': '/register', 'http.response.status_code': 403 } });
  failing.setStatus({ code: SpanStatusCode.ERROR });
  failing.end();
  root.end();
  traceId = root.spanContext().traceId;
  for (const p of providers) {
    await p.tracer.forceFlush();
    await p.logger.forceFlush();
  }
});
afterAll(async () => {
  await v?.stop();
});

async function get(path: string, token = readToken): Promise<Response> {
  return fetch(`${v.server.urls.api}${path}`, { headers: { authorization: `Bearer ${token}` } });
}

describe('search API', () => {
  it('finds logs by free text and fields, with parameters never reaching SQL as text', async () => {
    const res = await get(`/api/v1/search?since=1h&q=${encodeURIComponent('service.name=lms-api severity>=ERROR "login failed"')}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { kind: string; rows: Record<string, unknown>[] };
    expect(body.kind).toBe('events');
    expect(body.rows).toHaveLength(1);
    expect(JSON.stringify(body.rows[0])).toContain('<script>alert(1)</script>');
  });

  it('aggregates with stats … by', async () => {
    const res = await fetch(`${v.server.urls.api}/api/v1/search`, {
      method: 'POST',
      headers: { authorization: `Bearer ${readToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ q: 'from spans kind=server | stats count() as n by service.name | sort service.name', since: '1h' }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { kind: string; rows: Record<string, unknown>[] };
    expect(body.kind).toBe('aggregate');
    expect(body.rows).toEqual([
      { 'service.name': 'auth-service', n: 1 },
      { 'service.name': 'lms-api', n: 2 },
    ]);
  });

  it('answers a bad query with 400, the position and what was expected', async () => {
    const res = await get(`/api/v1/search?q=${encodeURIComponent('service.name= | stats')}`);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; position: number };
    expect(body.position).toBeGreaterThanOrEqual(13);
    expect(body.error).toMatch(/expected/);
  });

  it('rejects bad time ranges and limits naming the parameter', async () => {
    expect(((await (await get('/api/v1/search?q=x&since=forever')).json()) as { error: string }).error).toMatch(/^since:/);
    expect(((await (await get('/api/v1/search?q=x&from=yesterday')).json()) as { error: string }).error).toMatch(/^from:/);
    expect(((await (await get('/api/v1/search?q=x&limit=-4')).json()) as { error: string }).error).toMatch(/^limit:/);
    expect((await get('/api/v1/search?since=1h')).status).toBe(400);
  });

  it('is harmless against SQL injection through values and field names', async () => {
    for (const q of [`body="x'; DROP TABLE otel_logs; --"`, `'a"; DROP TABLE otel_logs; --'=1`, `user="o'brien"`]) {
      const res = await get(`/api/v1/search?since=1h&q=${encodeURIComponent(q)}`);
      expect([200, 400]).toContain(res.status);
    }
    const still = await get(`/api/v1/search?since=1h&q=${encodeURIComponent(`user="o'brien"`)}`);
    expect(((await still.json()) as { rows: unknown[] }).rows).toHaveLength(1);
  });

  it('requires a read token', async () => {
    expect((await fetch(`${v.server.urls.api}/api/v1/search?q=x`)).status).toBe(401);
    expect((await get('/api/v1/search?q=x', v.ingestToken)).status).toBe(403);
  });
});

/** GETs a search and returns status and body. */
interface SearchAnswer {
  error?: string;
  rows?: Record<string, unknown>[];
  warnings?: { message: string; position?: number }[];
}

/** POSTs a search (long queries do not fit a URL) and returns status and body. */
async function searchFor(q: string, since = '1h'): Promise<{ status: number; body: SearchAnswer }> {
  const res = await fetch(`${v.server.urls.api}/api/v1/search`, {
    method: 'POST',
    headers: { authorization: `Bearer ${readToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ q, since }),
  });
  return { status: res.status, body: (await res.json()) as SearchAnswer };
}

/** Runs `send` while probing /healthz; returns its answer and the slowest probe in ms. */
async function whileProbing<T>(send: () => Promise<T>): Promise<{ answer: T; slowestMs: number }> {
  let done = false;
  let slowestMs = 0;
  const probe = (async () => {
    while (!done) {
      const started = performance.now();
      expect((await fetch(`${v.server.urls.api}/healthz`)).status).toBe(200);
      slowestMs = Math.max(slowestMs, performance.now() - started);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const answer = await send();
  done = true;
  await probe;
  return { answer, slowestMs };
}

describe('query safety (a read token cannot freeze the server)', () => {
  const chain = ['| eval a0 = "x"', ...Array.from({ length: 24 }, (_, i) => `eval a${i + 1} = concat(a${i}, a${i})`)].join(' | ');

  it('refuses chained evals that would expand exponentially, quickly, naming the eval, while /healthz answers', async () => {
    for (const q of [chain, `${chain} | fields a20`, `${chain} | fields a24 | head 12`]) {
      const { answer, slowestMs } = await whileProbing(() => searchFor(q));
      expect(answer.status).toBe(400);
      expect(answer.body.error).toMatch(/'a\d+' grows to more than 1000 terms/);
      expect(slowestMs).toBeLessThan(500);
    }
  });

  it('refuses deep nesting and over-long queries with a 400', async () => {
    const deep = await searchFor(`| where ${'('.repeat(5000)}1${')'.repeat(5000)} = 1`);
    expect(deep.status).toBe(400);
    expect(deep.body.error).toMatch(/at most 64 levels of nested/);
    const long = await searchFor(`"${'x'.repeat(70_000)}"`);
    expect(long.status).toBe(400);
    expect(long.body.error).toMatch(/at most 65536 characters/);
  });

  it('keeps string building bounded inside the engine', async () => {
    // Six doublings of eight bodies would be 7680 characters; concat results are cut to 4096.
    const q = `course viewed | head 1 | eval a1 = concat(body, body, body, body, body, body, body, body), ${Array.from({ length: 6 }, (_, i) => `a${i + 2} = concat(a${i + 1}, a${i + 1})`).join(', ')} | fields a7`;
    const { status, body } = await searchFor(q);
    expect({ status, error: body.error }).toEqual({ status: 200, error: undefined });
    expect(String(body.rows![0]!.a7)).toHaveLength(4096);
  });

  it('answers engine errors caused by the query with 400 and a clean message', async () => {
    for (const [q, message] of [
      ['| eval x = sqrt(-1)', /cannot take square root of a negative number/],
      ['from spans | eval x = duration_ns * 100000000000000', /overflow/i],
      ['| eval x = 99999999999999999999 * 10 | where x > 0 | head 1', null],
    ] as const) {
      const { status, body } = await searchFor(q);
      if (message === null) {
        // Numbers beyond 2^63 used to fail binding (a 500); they are doubles now.
        expect(status).toBe(200);
        continue;
      }
      expect(status).toBe(400);
      expect(body.error).toMatch(message);
      expect(body.error).not.toMatch(/Error:|SELECT|\$\d|t\d\./);
    }
  });

  it('validates span= and widens a span that would make too many buckets, with a warning', async () => {
    const absurd = await searchFor('| timechart span=99999999999d count');
    expect(absurd.status).toBe(400);
    expect(absurd.body.error).toMatch(/at most 365d/);
    const fine = await searchFor('| timechart span=1s count', '30d');
    expect({ status: fine.status, error: fine.body.error }).toEqual({ status: 200, error: undefined });
    expect(fine.body.warnings?.[0]?.message).toMatch(/span=1s would make \d+ buckets .* widened to span=5m/);
  });

  it('streams a clean error event on /tail when the engine rejects the query', async () => {
    const controller = new AbortController();
    const res = await fetch(`${v.server.urls.api}/api/v1/tail?interval=250&q=${encodeURIComponent('| eval x = sqrt(-1)')}`, { headers: { authorization: `Bearer ${readToken}` }, signal: controller.signal });
    const reader = res.body!.getReader();
    await fetch(`${v.server.urls.hec}/services/collector/event`, { method: 'POST', body: '{"event":"tail sqrt"}', headers: { authorization: `Splunk ${v.ingestToken}` } });
    let text = '';
    const deadline = Date.now() + 10_000;
    while (!text.includes('event: error') && Date.now() < deadline) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    const data = /event: error\ndata: (.*)\n/.exec(text)?.[1];
    expect(JSON.parse(data!)).toEqual({ error: 'the query cannot run on this data: cannot take square root of a negative number' });
  });
});

describe('helpful queries', () => {
  it('warns about a field no record has, with the closest known names', async () => {
    const { status, body } = await searchFor('from spans | stats avg(duration) by service.name');
    expect(status).toBe(200);
    expect(body.warnings).toEqual([{ message: expect.stringMatching(/no spans in this time range have the field 'duration'; did you mean duration_ms/), position: 23 }]);
  });

  it('says when a field belongs to the other dataset', async () => {
    const { status, body } = await searchFor('status=500 | stats count by service');
    expect(status).toBe(200);
    expect(body.rows).toEqual([]);
    expect(body.warnings?.map((w) => w.message)).toContainEqual(expect.stringMatching(/'status'.*it is a field of spans: start the query with 'from spans'/));
  });

  it('does not warn when the attribute exists', async () => {
    const { body } = await searchFor('course.id=nope');
    expect(body.rows).toEqual([]);
    expect(body.warnings ?? []).toEqual([]);
  });

  it("reads Splunk's index= as the HEC index, records without one being in main", async () => {
    const hec = await fetch(`${v.server.urls.hec}/services/collector/event`, { method: 'POST', body: '{"event":"indexed event","index":"web"}', headers: { authorization: `Splunk ${v.ingestToken}` } });
    expect(hec.status).toBe(200);
    const web = await searchFor('index=web | stats count');
    expect(web.body.rows).toEqual([{ count: 1 }]);
    const main = await searchFor('index=main course viewed | stats count');
    expect(main.status).toBe(200);
    expect(main.body.rows).toEqual([{ count: 5 }]);
    expect((await searchFor('index=main "indexed event"')).body.rows).toEqual([]);
  });
});

describe('traces, services and the service map', () => {
  it('returns a trace as a tree across services with its logs and critical path', async () => {
    const res = await get(`/api/v1/traces/${traceId}`);
    expect(res.status).toBe(200);
    const t = (await res.json()) as { spans: { name: string; depth: number; service: string; critical: boolean }[]; logs: { body: string }[]; services: string[] };
    expect(t.spans.map((s) => [s.name, s.depth])).toEqual([
      ['POST /login', 0],
      ['POST auth-service/verify', 1],
      ['POST /verify', 2],
      ['SELECT users', 3],
    ]);
    expect(t.spans.every((s) => s.critical), JSON.stringify(t.spans)).toBe(true);
    expect(new Set(t.services)).toEqual(new Set(['lms-api', 'auth-service']));
    expect(t.logs.map((l) => l.body).sort()).toEqual(['login failed for "<script>alert(1)</script>"', 'slow password hash']);
    // A time hint bounds the lookup; a wrong one falls back to the whole store; a bad one is a 400.
    const hinted = (await (await get(`/api/v1/traces/${traceId}?around=${encodeURIComponent(new Date().toISOString())}`)).json()) as { spans: unknown[] };
    expect(hinted.spans).toHaveLength(4);
    const wrongHint = (await (await get(`/api/v1/traces/${traceId}?around=2001-01-01T00:00:00Z`)).json()) as { spans: unknown[] };
    expect(wrongHint.spans).toHaveLength(4);
    expect((await get(`/api/v1/traces/${traceId}?around=whenever`)).status).toBe(400);
    expect((await get('/api/v1/traces/not-hex')).status).toBe(400);
    expect((await get(`/api/v1/traces/${'0'.repeat(31)}1`)).status).toBe(404);
  });

  it('lists services with request and error counts', async () => {
    const body = (await (await get('/api/v1/services?since=1h')).json()) as { services: { service: string; requests: number; errors: number; namespace: string }[] };
    const lms = body.services.find((s) => s.service === 'lms-api')!;
    expect(lms).toMatchObject({ requests: 2, errors: 1, namespace: 'lms' });
  });

  it('derives the service map from cross-service parent/child spans and database calls', async () => {
    const body = (await (await get('/api/v1/service-map?since=1h')).json()) as { edges: { source: string; target: string; target_kind: string; calls: number }[] };
    expect(body.edges).toContainEqual(expect.objectContaining({ source: 'lms-api', target: 'auth-service', target_kind: 'service', calls: 1 }));
    expect(body.edges).toContainEqual(expect.objectContaining({ source: 'auth-service', target: 'sqlite', target_kind: 'database', calls: 1 }));
  });
});

describe('live tail', () => {
  it('streams new matching records as Server-Sent Events', async () => {
    const controller = new AbortController();
    const res = await fetch(`${v.server.urls.api}/api/v1/tail?interval=250&q=${encodeURIComponent('tail-marker')}`, { headers: { authorization: `Bearer ${readToken}` }, signal: controller.signal });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    await new Promise((r) => setTimeout(r, 300));
    const hec = await fetch(`${v.server.urls.hec}/services/collector/event`, { method: 'POST', body: '{"event":"tail-marker one"}{"event":"tail-marker two"}{"event":"other"}', headers: { authorization: `Splunk ${v.ingestToken}` } });
    expect(hec.status).toBe(200);
    let text = '';
    const deadline = Date.now() + 10_000;
    while (!(text.includes('tail-marker one') && text.includes('tail-marker two')) && Date.now() < deadline) {
      const { value } = await reader.read();
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    expect(text).toContain('tail-marker one');
    expect(text).toContain('tail-marker two');
    expect(text).not.toContain('"other"');
    expect(text.match(/tail-marker one/g)).toHaveLength(1);
  });

  it('refuses aggregations', async () => {
    expect((await get(`/api/v1/tail?q=${encodeURIComponent('* | stats count()')}`)).status).toBe(400);
  });
});

describe('vigil search', () => {
  it('prints a table, JSON lines with --json, and exits 2 with the parser message for a bad query', async () => {
    const env = { VIGIL_URL: v.server.urls.api, VIGIL_TOKEN: readToken };
    const table = await runVigil(['search', '--since', '1h', 'from spans | stats count() as spans by service.name | sort service.name'], env);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/service\.name\s+spans\n.*auth-service\s+2\n.*lms-api\s+3/s);
    const json = await runVigil(['search', '--since', '1h', '--json', 'course viewed | sort body | head 2'], env);
    expect(json.code).toBe(0);
    const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { body: string });
    expect(lines.map((l) => l.body)).toEqual(['course viewed 0', 'course viewed 1']);
    const bad = await runVigil(['search', 'status>='], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/position \d+/);
  });
});
