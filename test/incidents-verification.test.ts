/**
 * Post-resolution verification through the real API (issue 14 §7), with a 5 s verification window:
 *
 * - an alert opens an incident for `checkout` (a baseline of good traffic 20-50 minutes ago, a synthetic
 *   monitor of its health URL); resolving it starts verification with its checks (the alert, error rate,
 *   p95, the monitor); good traffic meanwhile → verified → closed by `vigil`. The same alert firing again
 *   later opens a new incident linked to the closed one (recurrence);
 * - `billing`: resolved, then its alert fires again → linked to the incident under verification (no new
 *   incident) → verification failed → reopened with the reason;
 * - a person reopening during verification cancels it; resolved again, it verifies and closes;
 * - a verification running when Vigil stops resumes after the restart and closes the incident.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentCreated, IncidentDetail, IncidentListResponse } from '../src/api/contract.ts';
import { loadConfig } from '../src/config/config.ts';
import { startVigil, type VigilServer } from '../src/server/app.ts';
import { sendErrorSpans } from './helpers/otlp-send.ts';
import { tempDir } from './helpers/vigil.ts';

const dirs = tempDir('vigil-verification-');
let server: VigilServer | undefined;
let token = '';
let ingest = '';
let health: Server;
let healthUrl = '';

const start = async () => {
  const config = loadConfig({
    env: {},
    flags: { dataDir: dirs.dir, port: 0, otlpPort: 0, hecPort: 0, logLevel: 'silent', demo: { enabled: false }, agent: { selfMonitor: false }, alerting: { defaultRules: false }, incidents: { verificationWindow: '5s', diagnose: false } },
  });
  server = await startVigil(config);
  return server;
};

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${server!.urls.api}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await fn();
    if (r) return r;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 150));
  }
}

let nextId = 1;
const hex = (n: number, bytes: number) => n.toString(16).padStart(bytes * 2, '0');

/** Good server spans of `service`, one every `stepMs` from `fromMs`, each `durMs` long. */
async function sendGoodSpans(service: string, n: number, fromMs: number, stepMs: number, durMs = 40): Promise<void> {
  const spans = Array.from({ length: n }, (_, i) => {
    const t = fromMs + i * stepMs;
    return {
      traceId: hex(nextId, 16),
      spanId: hex(nextId++, 8),
      name: 'GET /cart',
      kind: 2,
      startTimeUnixNano: String(BigInt(t) * 1_000_000n),
      endTimeUnixNano: String(BigInt(t + durMs) * 1_000_000n),
      attributes: [{ key: 'http.response.status_code', value: { intValue: 200 } }],
      status: { code: 1 },
    };
  });
  const res = await fetch(`${server!.urls.otlp}/v1/traces`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ingest}`, 'content-type': 'application/json' },
    body: JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] }, scopeSpans: [{ scope: { name: 't' }, spans }] }] }),
  });
  if (res.status !== 200) throw new Error(`OTLP answered ${res.status}`);
}

const incident = (id: number) => api<IncidentDetail>('GET', `/api/v1/incidents/${id}`);
const alertIncident = (service: string) => until(`the incident of ${service}`, async () => (await api<IncidentListResponse>('GET', `/api/v1/incidents?status=open&service=${service}`)).incidents[0]?.id);

beforeAll(async () => {
  health = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
  await new Promise<void>((r) => health.listen(0, '127.0.0.1', r));
  healthUrl = `http://127.0.0.1:${(health.address() as AddressInfo).port}/checkout/health`;
  const rulesDir = join(dirs.dir, 'rules');
  mkdirSync(rulesDir, { recursive: true });
  // Evaluated every second over the last 2 s: fires on failed spans, resolves two seconds later.
  writeFileSync(
    join(rulesDir, 'errors.yml'),
    `groups:\n  - name: errors\n    interval: 1s\n    rules:\n      - alert: ServiceErrors\n        expr: 'from spans status=error | stats count() as value by service.name | where value > 0'\n        range: 2s\n        labels: { severity: critical }\n`,
  );
  await start();
  token = await server!.tokens.create('admin', 'admin');
  ingest = await server!.tokens.create('ingest', 'ingest');
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await new Promise((r) => health.close(r));
  dirs.cleanup();
});

describe('post-resolution verification', () => {
  let checkoutIncident = 0;

  it('resolve → checks hold for the window → verified → closed', async () => {
    await sendGoodSpans('checkout', 60, Date.now() - 50 * 60_000, 30_000);
    await api('POST', '/api/v1/monitors', { id: 'checkout-health', name: 'Checkout health', type: 'http', url: healthUrl, interval: '1h' });
    await sendErrorSpans(server!.urls.otlp, ingest, 'checkout', 3);
    checkoutIncident = await alertIncident('checkout');

    await api('POST', `/api/v1/incidents/${checkoutIncident}/status`, { status: 'resolved', note: 'rolled back' });
    const running = await until('verification running', async () => {
      const d = await incident(checkoutIncident);
      return d.verification?.state === 'running' ? d : false;
    });
    expect(running.verification!.checks.map((c) => c.name).sort()).toEqual(['alert:ServiceErrors', 'error_rate:checkout', 'monitor:Checkout health', 'p95:checkout']);
    expect(Date.parse(running.verification!.endsAt) - Date.parse(running.verification!.startedAt)).toBe(5000);
    const started = running.timeline.find((e) => e.kind === 'verification_started')!;
    expect(started).toMatchObject({ actor: 'vigil', data: { windowMs: 5000 } });

    // Healthy traffic during the window: enough requests to judge, no errors, fast.
    await sendGoodSpans('checkout', 30, Date.now(), 10);
    const closed = await until(
      'the incident closed',
      async () => {
        const d = await incident(checkoutIncident);
        return d.status === 'closed' ? d : false;
      },
      30_000,
    );
    expect(closed.verification).toMatchObject({ state: 'verified' });
    const byName = Object.fromEntries(closed.verification!.checks.map((c) => [c.name, c]));
    expect(Object.values(byName).every((c) => c.state === 'passing')).toBe(true);
    expect(byName['error_rate:checkout']!.detail).toMatch(/^0\.0% errors \(0 of 30\); limit \d/);
    expect(byName['error_rate:checkout']!.href).toMatch(/^\/logs\?q=from%20spans/);
    expect(byName['p95:checkout']!.detail).toMatch(/^p95 \d+ ms over 30 requests; limit/);
    expect(byName['monitor:Checkout health']).toMatchObject({ state: 'passing', href: '/monitors/checkout-health' });
    expect(byName['alert:ServiceErrors']!.detail).toMatch(/^clear/);
    const tail = closed.timeline.slice(-2);
    expect(tail[0]).toMatchObject({ kind: 'verification_finished', actor: 'vigil', data: { outcome: 'verified' } });
    expect(tail[1]).toMatchObject({ kind: 'status_changed', actor: 'vigil', data: { from: 'resolved', to: 'closed' } });
  }, 60_000);

  it('the same signature firing again after the close opens a new incident linked to the closed one', async () => {
    await sendErrorSpans(server!.urls.otlp, ingest, 'checkout', 2);
    const again = await alertIncident('checkout');
    expect(again).not.toBe(checkoutIncident);
    const d = await incident(again);
    expect(d.relatedIncidentId).toBe(checkoutIncident);
    expect(d.description).toContain(`incident #${checkoutIncident} was resolved`);
    expect(d.timeline[0]).toMatchObject({ kind: 'opened', data: { relatedIncidentId: checkoutIncident } });
  }, 60_000);

  it('the alert firing again during verification fails it and reopens the incident (no new incident)', async () => {
    await sendErrorSpans(server!.urls.otlp, ingest, 'billing', 3);
    const id = await alertIncident('billing');
    await until('the alert resolved', async () => (await incident(id)).alerts.every((a) => a.state === 'resolved'));
    await api('POST', `/api/v1/incidents/${id}/status`, { status: 'resolved' });
    await until('verification running', async () => (await incident(id)).verification?.state === 'running');

    await sendErrorSpans(server!.urls.otlp, ingest, 'billing', 3);
    const reopened = await until('the incident reopened', async () => {
      const d = await incident(id);
      return d.status === 'reopened' ? d : false;
    });
    expect(reopened.verification).toMatchObject({ state: 'failed' });
    expect(reopened.verification!.reason).toMatch(/^alert:ServiceErrors failed: fired again at /);
    expect(reopened.verification!.checks.find((c) => c.name === 'alert:ServiceErrors')).toMatchObject({ state: 'failed' });
    const change = reopened.timeline.filter((e) => e.kind === 'status_changed').at(-1)!;
    expect(change).toMatchObject({ actor: 'vigil', data: { from: 'resolved', to: 'reopened' } });
    expect(String(change.data.note)).toContain('Verification failed: alert:ServiceErrors failed');
    expect(reopened.timeline.some((e) => e.kind === 'alert_firing' && Date.parse(e.at) > Date.parse(reopened.verification!.startedAt))).toBe(true);
    expect((await api<IncidentListResponse>('GET', '/api/v1/incidents?status=all&service=billing')).incidents).toHaveLength(1);
  }, 60_000);

  it('a person reopening during verification cancels it; resolved again it verifies and closes', async () => {
    const { id } = await api<IncidentCreated>('POST', '/api/v1/incidents', { title: 'Search is slow' });
    await api('POST', `/api/v1/incidents/${id}/status`, { status: 'resolved' });
    await until('verification running', async () => (await incident(id)).verification?.state === 'running');
    await api('POST', `/api/v1/incidents/${id}/status`, { status: 'reopened', note: 'not fixed yet' });
    const cancelled = await until('verification cancelled', async () => {
      const d = await incident(id);
      return d.verification?.state === 'cancelled' ? d : false;
    });
    expect(cancelled.status).toBe('reopened');
    expect(cancelled.verification!.reason).toBe('the incident was reopened by hand before verification ended');

    await api('POST', `/api/v1/incidents/${id}/status`, { status: 'resolved' });
    const closed = await until('closed', async () => {
      const d = await incident(id);
      return d.status === 'closed' ? d : false;
    });
    expect(closed.verification).toMatchObject({ state: 'verified', checks: [] });
    expect(closed.timeline.filter((e) => e.kind === 'verification_started')).toHaveLength(2);
  }, 60_000);

  it('a verification running when Vigil stops resumes after the restart', async () => {
    const { id } = await api<IncidentCreated>('POST', '/api/v1/incidents', { title: 'Queue backlog' });
    await api('POST', `/api/v1/incidents/${id}/status`, { status: 'resolved' });
    await until('verification running', async () => (await incident(id)).verification?.state === 'running');
    await server!.stop();
    await start();
    const closed = await until('closed after the restart', async () => {
      const d = await incident(id);
      return d.status === 'closed' ? d : false;
    });
    expect(closed.verification!.state).toBe('verified');
    expect(closed.timeline.filter((e) => e.kind === 'verification_finished')).toHaveLength(1);
  }, 60_000);
});
