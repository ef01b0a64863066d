/**
 * End-to-end test of the demo: real child processes, real OpenTelemetry exporters into a local OTLP + HEC sink, real
 * traffic. Each fault is checked from the HTTP side (and from telemetry where cheap), then turned off or remediated.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemo, type Demo } from './supervisor.ts';
import { startSink, type Sink } from './testing/sink.ts';
import { listFaults, remediate, setFault } from './client.ts';
import { person } from './lms/people.ts';

let sink: Sink;
let demo: Demo;
let dataDir: string;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rms = () => demo.services['rms-api'].url;
const lms = () => demo.services['lms-api'].url;

async function http(method: string, url: string, body?: unknown, token?: string): Promise<{ status: number; ms: number; body: Record<string, unknown> }> {
  const t0 = performance.now();
  try {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(20_000) });
    const text = await res.text();
    return { status: res.status, ms: performance.now() - t0, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  } catch (err) {
    return { status: 0, ms: performance.now() - t0, body: { error: String((err as { cause?: unknown }).cause ?? err) } };
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function login(id: number): Promise<string> {
  const p = person(id);
  const r = await http('POST', `${lms()}/api/login`, { email: p.email, password: p.password });
  expect(r.status).toBe(200);
  return String(r.body.token);
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** CPU seconds a process used so far (utime + stime from /proc). */
function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const parts = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(parts[11]) + Number(parts[12])) / 100;
}

beforeAll(async () => {
  sink = await startSink();
  // A per-user cache dir keeps the seeded databases between runs (seeding 360k rows takes a few seconds).
  dataDir = path.join(os.tmpdir(), 'vigil-demo-test');
  demo = await startDemo({
    vigilOtlpUrl: sink.url,
    vigilHecUrl: sink.url,
    vigilUrl: sink.url,
    token: 'demo-test-token',
    dataDir,
    adminPort: 0,
    trafficRate: 2,
    exportIntervalMs: 1000,
    env: { DEMO_DISK_FILL_MAX_MB: '24', DEMO_MEMORY_LEAK_MAX_MB: '48', DEMO_GATEWAY_TIMEOUT_MS: '1500' },
  });
}, 120_000);

afterAll(async () => {
  await demo?.stop();
  await sink?.close();
}, 60_000);

describe('vigil demo', () => {
  it('starts the services, runs traffic and exports correlated telemetry to OTLP and HEC', async () => {
    for (const s of Object.values(demo.services)) expect(s.state).toBe('running');
    await until('payment traffic and its telemetry', () => sink.hec.length > 0 && sink.spans.some((s) => s.resource['service.name'] === 'payment-gateway'), 45_000);
    await until('logs and metrics', () => sink.logs.length > 0 && sink.points.some((p) => p.name === 'http.server.request.duration'));

    // Protobuf over HTTP with the bearer token.
    const otlp = sink.requests.filter((r) => r.path.startsWith('/v1/'));
    expect(otlp.every((r) => r.contentType === 'application/x-protobuf' && r.auth === 'Bearer demo-test-token')).toBe(true);
    expect(sink.requests.find((r) => r.path.startsWith('/services/collector'))?.auth).toBe('Splunk demo-test-token');

    const server = sink.spans.find((s) => s.kind === 2 && s.attributes['http.route'] === '/api/royalties/calculate');
    expect(server?.attributes).toMatchObject({ 'http.request.method': 'POST', 'url.path': '/api/royalties/calculate' });
    expect(server?.resource).toMatchObject({ 'service.name': 'rms-api', 'service.namespace': 'rms', 'service.version': '1.4.2', 'deployment.environment': 'demo' });
    expect(typeof server?.attributes['http.response.status_code']).toBe('number');

    // A payout crosses services: rms-api CLIENT span → payment-gateway SERVER span in the same trace.
    const client = sink.spans.find((s) => s.kind === 3 && s.attributes['peer.service'] === 'payment-gateway');
    expect(client?.attributes['server.address']).toBe('127.0.0.1');
    expect(typeof client?.attributes['server.port']).toBe('number');
    await until('the gateway side of that payout', () => sink.spans.some((s) => s.parentSpanId === client?.spanId));
    const callee = sink.spans.find((s) => s.parentSpanId === client?.spanId);
    expect(callee?.traceId).toBe(client?.traceId);
    expect(callee?.resource['service.name']).toBe('payment-gateway');

    const dbSpan = sink.spans.find((s) => s.attributes['db.system'] === 'sqlite' && String(s.attributes['db.query.text']).includes('GROUP BY w.rights_holder_id'));
    expect(dbSpan?.attributes['db.statement']).toBe(dbSpan?.attributes['db.query.text']);
    expect(dbSpan?.attributes['db.operation.name']).toBe('SELECT');

    const correlated = sink.logs.find((l) => l.traceId && l.resource['service.name'] === 'rms-api');
    expect(correlated?.spanId).toMatch(/^[0-9a-f]{16}$/);
    const hist = sink.points.find((p) => p.name === 'http.server.request.duration' && p.attributes['http.route']);
    expect(hist?.attributes['http.response.status_code']).toBeTypeOf('number');
    expect(sink.hec[0]).toMatchObject({ fields: { 'service.name': 'payment-gateway' } });
    expect(['info', 'warn', 'error']).toContain((sink.hec[0]?.fields as Record<string, unknown>).severity);

    // Ordinary errors exist without faults: wrong password → 401, invalid report → 400.
    expect((await http('POST', `${lms()}/api/login`, { email: person(300).email, password: 'nope' })).status).toBe(401);
    expect((await http('POST', `${rms()}/api/usage-reports`, { source: 'X', period: '2025-13', records: [] })).status).toBe(400);
    const faults = await listFaults(demo.adminUrl);
    expect(faults.map((f) => f.name)).toContain('rms-slow-query');
    expect(faults.every((f) => f.state === 'off')).toBe(true);
  }, 90_000);

  it('rms-slow-query makes royalty calculation >= 5x slower; recreate-index fixes it', async () => {
    const calc = async () => {
      const times: number[] = [];
      for (const p of ['2025-01', '2025-02', '2025-03', '2025-04', '2025-05', '2025-06', '2024-11']) {
        const r = await http('POST', `${rms()}/api/royalties/calculate`, { period: p });
        expect(r.status).toBe(200);
        times.push(r.ms);
      }
      return median(times);
    };
    await calc(); // warm the page cache
    const before = await calc();
    await setFault(demo.adminUrl, 'rms-slow-query', true);
    const during = await calc();
    console.log(`calculate median: ${before.toFixed(1)} ms with the index, ${during.toFixed(1)} ms without`);
    expect(during).toBeGreaterThan(5 * before);
    await remediate(demo.adminUrl, 'recreate-index');
    expect((await listFaults(demo.adminUrl)).find((f) => f.name === 'rms-slow-query')?.state).toBe('off');
    const after = await calc();
    expect(after).toBeLessThan(during / 3);
  }, 60_000);

  it('rms-payment-gateway-latency makes payment batches time out, and stops when off', async () => {
    expect((await http('POST', `${rms()}/api/royalties/calculate`, { period: '2025-07' })).status).toBe(200);
    const ok = await http('POST', `${rms()}/api/payments/batches`, { period: '2025-07', limit: 2 });
    expect([201]).toContain(ok.status);
    await setFault(demo.adminUrl, 'rms-payment-gateway-latency', true);
    const slow = await http('POST', `${rms()}/api/payments/batches`, { period: '2025-07', limit: 3 });
    expect(slow.ms).toBeGreaterThan(1400);
    expect(slow.status === 502 || JSON.stringify(slow.body).includes('did not answer')).toBe(true);
    await setFault(demo.adminUrl, 'rms-payment-gateway-latency', false);
    const fast = await http('POST', `${rms()}/api/payments/batches`, { period: '2025-07', limit: 2 });
    expect(fast.status).toBe(201);
    expect(fast.ms).toBeLessThan(1400);
  }, 60_000);

  it('lms-role-misconfig makes student registrations answer 403; restore-role-mapping fixes it', async () => {
    const token = await login(500);
    const register = async () => {
      const codes: number[] = [];
      for (let c = 1; c <= 10; c++) codes.push((await http('POST', `${lms()}/api/courses/${c * 7}/registrations`, {}, token)).status);
      return codes;
    };
    await setFault(demo.adminUrl, 'lms-role-misconfig', true);
    const during = await register();
    expect(during.filter((c) => c === 403).length).toBeGreaterThan(5);
    await remediate(demo.adminUrl, 'restore-role-mapping');
    const after = await register();
    expect(after.filter((c) => c === 403)).toHaveLength(0);
  }, 60_000);

  it('lms-login-redundant-calls makes login slower with more auth-service calls', async () => {
    const timeLogins = async () => {
      const t: number[] = [];
      for (let i = 0; i < 5; i++) {
        const p = person(700 + i);
        const r = await http('POST', `${lms()}/api/login`, { email: p.email, password: p.password });
        expect(r.status).toBe(200);
        t.push(r.ms);
      }
      return median(t);
    };
    const before = await timeLogins();
    await setFault(demo.adminUrl, 'lms-login-redundant-calls', true);
    const during = await timeLogins();
    await setFault(demo.adminUrl, 'lms-login-redundant-calls', false);
    expect(during).toBeGreaterThan(2 * before);
    // In telemetry: one login trace now holds many auth-service CLIENT spans.
    await until('a login trace with redundant calls', () => {
      const perTrace = new Map<string, number>();
      for (const s of sink.spans) if (s.kind === 3 && s.attributes['peer.service'] === 'auth-service') perTrace.set(s.traceId, (perTrace.get(s.traceId) ?? 0) + 1);
      return [...perTrace.values()].some((n) => n >= 8);
    });
  }, 60_000);

  it('lms-db-connection-failures exhausts the pool (5xx with exceptions); off recovers', async () => {
    const token = await login(900);
    await setFault(demo.adminUrl, 'lms-db-connection-failures', true);
    const codes: number[] = [];
    for (let c = 0; c < 8; c++) codes.push((await http('POST', `${lms()}/api/courses/${100 + c}/registrations`, {}, token)).status);
    expect(codes.filter((c) => c >= 500).length).toBeGreaterThanOrEqual(3);
    await until('an exception event for the pool', () =>
      sink.spans.some((s) => s.resource['service.name'] === 'lms-api' && s.statusCode === 2 && s.events.some((e) => e.name === 'exception')),
    );
    await setFault(demo.adminUrl, 'lms-db-connection-failures', false);
    const after = await http('POST', `${lms()}/api/courses/150/registrations`, {}, token);
    expect([201, 409]).toContain(after.status);
  }, 60_000);

  it('cpu-hog burns about half a core in the target, bounded, and stops when off', async () => {
    const pid = demo.services['rms-api'].pid as number;
    const burn = async () => {
      const a = cpuSeconds(pid);
      await sleep(2000);
      return (cpuSeconds(pid) - a) / 2;
    };
    await setFault(demo.adminUrl, 'cpu-hog', true);
    await sleep(300);
    const during = await burn();
    await setFault(demo.adminUrl, 'cpu-hog', false);
    const after = await burn();
    // ~0.5 core on an idle machine; a loaded 2-core box gives the process less, so the bound is loose.
    expect(during).toBeGreaterThan(0.12);
    expect(during).toBeGreaterThan(after + 0.08);
    expect(during).toBeLessThan(0.9);
    expect(after).toBeLessThan(0.25);
  }, 30_000);

  it('memory-leak grows resident memory within its bound; restart clears it', async () => {
    const rss = async () => {
      const st = (await demo.status()).services as Record<string, { detail: { rssBytes: number; leakedBytes: number } }>;
      return st['lms-api']!.detail;
    };
    const base = (await rss()).rssBytes;
    await setFault(demo.adminUrl, 'memory-leak', true);
    await until('leaked memory', async () => (await rss()).leakedBytes >= 40 * 1024 * 1024, 20_000);
    expect((await rss()).rssBytes - base).toBeGreaterThan(30 * 1024 * 1024);
    expect((await rss()).leakedBytes).toBeLessThanOrEqual(48 * 1024 * 1024);
    await remediate(demo.adminUrl, 'restart-lms-api');
    expect((await rss()).leakedBytes).toBe(0);
    expect((await listFaults(demo.adminUrl)).find((f) => f.name === 'memory-leak')?.state).toBe('off');
  }, 60_000);

  it('disk-fill fills the volume spool within its bound; free-disk empties it', async () => {
    const spool = path.join(dataDir, 'rms-api', 'spool');
    const size = () => (fs.existsSync(spool) ? fs.readdirSync(spool).reduce((n, f) => n + fs.statSync(path.join(spool, f)).size, 0) : 0);
    await setFault(demo.adminUrl, 'disk-fill', true);
    await until('spool files', () => size() >= 24 * 1024 * 1024, 15_000);
    await sleep(1200);
    expect(size()).toBeLessThanOrEqual(24 * 1024 * 1024);
    await until('volume usage in telemetry', () =>
      sink.points.some((p) => p.name === 'system.filesystem.usage' && p.resource['service.name'] === 'rms-api' && p.attributes['system.filesystem.state'] === 'used' && (p.value ?? 0) > 24 * 1024 * 1024),
    );
    await remediate(demo.adminUrl, 'free-disk');
    expect(size()).toBe(0);
  }, 60_000);

  it('bad-deploy ships lms-api 2.5.0 that fails progress updates; rollback restores 2.4.1', async () => {
    await setFault(demo.adminUrl, 'bad-deploy', true);
    expect(demo.services['lms-api'].version).toBe('2.5.0');
    const token = await login(1200);
    await http('POST', `${lms()}/api/courses/42/registrations`, {}, token);
    const broken = await http('PUT', `${lms()}/api/courses/42/progress`, { lessonId: 1, percent: 20 }, token);
    expect(broken.status).toBe(500);
    await until('an error span from the new version', () =>
      sink.spans.some((s) => s.resource['service.version'] === '2.5.0' && s.attributes['http.route'] === '/api/courses/:id/progress' && s.statusCode === 2),
    );
    await remediate(demo.adminUrl, 'rollback');
    expect(demo.services['lms-api'].version).toBe('2.4.1');
    const fixed = await http('PUT', `${lms()}/api/courses/42/progress`, { lessonId: 1, percent: 30 }, token);
    expect(fixed.status).toBe(200);
  }, 60_000);

  it('service-down stops auth-service: connections refused, login fails; off starts it again', async () => {
    const authUrl = demo.services['auth-service'].url;
    await setFault(demo.adminUrl, 'service-down', true);
    const direct = await http('GET', `${authUrl}/health`);
    expect(direct.status).toBe(0);
    expect(String(direct.body.error)).toContain('ECONNREFUSED');
    const p = person(333);
    const r = await http('POST', `${lms()}/api/login`, { email: p.email, password: p.password });
    expect(r.status).toBe(503);
    await setFault(demo.adminUrl, 'service-down', false);
    expect((await http('GET', `${authUrl}/health`)).status).toBe(200);
    await login(333);
  }, 60_000);
});
