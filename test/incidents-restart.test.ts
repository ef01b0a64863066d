/**
 * Incidents survive a restart: a Vigil with open, acknowledged, resolved and alert-opened incidents is
 * stopped and started again on the same data directory. The incidents are the same; the open ones are
 * handed to the notifier again (listed by `/api/v2/alerts` as VigilIncident), the resolved one is not;
 * and an alert of the same service that starts firing after the restart joins the incident opened
 * before it instead of opening another.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AmGettableAlert, IncidentCreated, IncidentDetail, IncidentListResponse } from '../src/api/contract.ts';
import { loadConfig } from '../src/config/config.ts';
import { startVigil, type VigilServer } from '../src/server/app.ts';
import { tempDir } from './helpers/vigil.ts';
import { sendErrorSpans } from './helpers/otlp-send.ts';

const dirs = tempDir('vigil-incidents-restart-');
const rulesDir = join(dirs.dir, 'rules');
let server: VigilServer | undefined;
let token = '';

const start = async () => {
  const config = loadConfig({ env: {}, flags: { dataDir: dirs.dir, port: 0, otlpPort: 0, hecPort: 0, logLevel: 'silent', demo: { enabled: false }, agent: { selfMonitor: false }, alerting: { defaultRules: false } } });
  server = await startVigil(config);
  return server;
};

afterAll(async () => {
  await server?.stop();
  dirs.cleanup();
});

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${server!.urls.api}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await fn();
    if (r) return r;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

const incidentAlerts = async () => (await api<AmGettableAlert[]>('GET', '/api/v2/alerts')).filter((a) => a.labels.alertname === 'VigilIncident');

describe('incidents across a restart', () => {
  let acked: number;
  let resolved: number;
  let fromAlert: number;
  let before: IncidentListResponse;

  it('before: incidents opened by hand and by an alert', async () => {
    // Pushed on commit, the rule fires at once; its 10 s interval is the backstop should that evaluation
    // miss the spans (as production rules have one).
    mkdirSync(rulesDir, { recursive: true });
    writeFileSync(join(rulesDir, 'checkout.yml'), `groups:\n  - name: checkout\n    interval: 10s\n    rules:\n      - alert: CheckoutErrors\n        expr: 'from spans service.name=checkout status=error | stats count() as value by service.name | where value > 0'\n        range: 30m\n        labels: { severity: critical }\n`);
    await start();
    token = await server!.tokens.create('admin', 'admin');
    const ingest = await server!.tokens.create('ingest', 'ingest');
    acked = (await api<IncidentCreated>('POST', '/api/v1/incidents', { title: 'Registration fails', systems: ['lms'] })).id;
    await api('POST', `/api/v1/incidents/${acked}/status`, { status: 'acknowledged' });
    resolved = (await api<IncidentCreated>('POST', '/api/v1/incidents', { title: 'Search slow' })).id;
    await api('POST', `/api/v1/incidents/${resolved}/status`, { status: 'resolved' });
    await sendErrorSpans(server!.urls.otlp, ingest, 'checkout', 3);
    fromAlert = await until('the alert-opened incident', async () => (await api<IncidentListResponse>('GET', '/api/v1/incidents?service=checkout')).incidents[0]?.id);
    before = await api<IncidentListResponse>('GET', '/api/v1/incidents?status=all');
    expect(before.incidents.map((i) => i.id).sort()).toEqual([acked, resolved, fromAlert].sort());
    await server!.stop();
    server = undefined;
  }, 60_000);

  it('after: the same incidents; open ones are with the notifier again; a new alert of the service joins its incident', async () => {
    // A second rule of the same service, evaluated every second: it starts firing after the restart.
    writeFileSync(join(rulesDir, 'more.yml'), `groups:\n  - name: more\n    interval: 1s\n    rules:\n      - alert: CheckoutStillFailing\n        expr: 'from spans service.name=checkout status=error | stats count() as value by service.name | where value > 0'\n        range: 30m\n`);
    await start();
    const after = await api<IncidentListResponse>('GET', '/api/v1/incidents?status=all');
    expect(after.incidents.map((i) => ({ ...i, mttaSeconds: null, mttrSeconds: null }))).toEqual(before.incidents.map((i) => ({ ...i, mttaSeconds: null, mttrSeconds: null })));

    const notified = await until('the open incidents in the notifier', async () => {
      const list = await incidentAlerts();
      return list.length >= 2 ? list : false;
    });
    expect(notified.map((a) => `${a.labels.incident_id}:${a.labels.status}`).sort()).toEqual([`${acked}:acknowledged`, `${fromAlert}:triggered`].sort());

    const d = await until('the new alert linked', async () => {
      const body = await api<IncidentDetail>('GET', `/api/v1/incidents/${fromAlert}`);
      return body.alerts.length === 2 ? body : false;
    });
    expect(d.alerts.map((a) => a.labels.alertname).sort()).toEqual(['CheckoutErrors', 'CheckoutStillFailing']);
    expect((await api<IncidentListResponse>('GET', '/api/v1/incidents?status=all&service=checkout')).incidents).toHaveLength(1);
  }, 60_000);
});
