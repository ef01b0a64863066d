/**
 * Incidents in a real Vigil: opened by hand through the API, moved through the state machine (a refused
 * move answers 409 naming the allowed ones), notes and assignment on the timeline, lists filtered,
 * changes audited; opened automatically when alerts fire, one per service (two rules of one service
 * make one incident), alerts resolving on the timeline; and every incident event reaching a loopback
 * webhook through the user's alertmanager.yml as a VigilIncident alert.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentCreated, IncidentDetail, IncidentListResponse } from '../src/api/contract.ts';
import { startReceiver, type TestReceiver } from './helpers/notify-receiver.ts';
import { startTestVigil, tempDir, type TestVigil } from './helpers/vigil.ts';
import { sendErrorSpans } from './helpers/otlp-send.ts';

const dirs = tempDir('vigil-incidents-api-');
const rulesDir = join(dirs.dir, 'rules');
const notificationsFile = join(dirs.dir, 'alertmanager.yml');
let v: TestVigil;
let hook: TestReceiver;
let readToken: string;
let writeToken: string;

const RULES = `groups:
  - name: shop
    interval: 1h
    rules:
      - alert: CheckoutErrors
        expr: 'from spans service.name=checkout status=error | stats count() as value by service.name | where value > 5'
        range: 5m
        labels: { severity: critical }
      - alert: CheckoutSomeErrors
        expr: 'from spans service.name=checkout status=error | stats count() as value by service.name | where value > 0'
        range: 5m
        labels: { severity: warning }
      - alert: BillingErrors
        expr: 'from spans service.name=billing status=error | stats count() as value by service.name | where value > 0'
        range: 5m
        labels: { severity: warning }
  - name: fast
    # Short range and interval: the alert resolves a few seconds after its errors.
    interval: 1s
    rules:
      - alert: CartErrors
        expr: 'from spans service.name=cart status=error | stats count() as value by service.name | where value > 0'
        range: 3s
`;

const notificationsYaml = (url: string) => `route:
  receiver: hook
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: ${url}/hook
        send_resolved: true
`;

beforeAll(async () => {
  hook = await startReceiver();
  mkdirSync(rulesDir, { recursive: true });
  writeFileSync(join(rulesDir, 'shop.yml'), RULES);
  writeFileSync(notificationsFile, notificationsYaml(hook.url));
  v = await startTestVigil({ alerting: { rulesDir, notificationsFile, defaultRules: false }, agent: { selfMonitor: false } });
  readToken = await v.server.tokens.create('reader', 'read');
  writeToken = await v.server.tokens.create('writer', 'write');
}, 60_000);

afterAll(async () => {
  await v?.stop();
  await hook?.close();
  dirs.cleanup();
});

async function api<T = Record<string, unknown>>(method: string, path: string, body?: unknown, token: string = writeToken): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${v.server.urls.api}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await fn();
    if (r) return r;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

type WebhookAlert = { status: string; labels: Record<string, string>; annotations: Record<string, string>; generatorURL: string };
const incidentAlerts = (id: number): WebhookAlert[] =>
  hook.requests.flatMap((r) => (r.body as { alerts: WebhookAlert[] }).alerts).filter((a) => a.labels.alertname === 'VigilIncident' && a.labels.incident_id === String(id));

describe('incidents opened by hand', () => {
  let id: number;

  it('POST /api/v1/incidents opens one (201 {id}); a bad body is refused naming the field', async () => {
    const bad = await api<{ error: string; field: string }>('POST', '/api/v1/incidents', { severity: 'SEV2' });
    expect(bad).toMatchObject({ status: 400, body: { field: 'title' } });
    expect((await api('POST', '/api/v1/incidents', { title: 'x', severity: 'P1' })).body).toMatchObject({ field: 'severity' });
    expect((await api('POST', '/api/v1/incidents', { title: 'x', startedAt: 'yesterday' })).body).toMatchObject({ field: 'startedAt' });
    expect((await api('POST', '/api/v1/incidents', { title: 'x' }, readToken)).status).toBe(403);

    const startedAt = new Date(Date.now() - 10 * 60_000).toISOString();
    const res = await api<IncidentCreated>('POST', '/api/v1/incidents', { title: 'LMS course registration fails', severity: 'SEV2', services: ['lms-api'], systems: ['lms'], startedAt, description: 'Students report errors' });
    expect(res.status).toBe(201);
    id = res.body.id;
    const d = await api<IncidentDetail>('GET', `/api/v1/incidents/${id}`, undefined, readToken);
    expect(d.body).toMatchObject({ id, title: 'LMS course registration fails', severity: 'SEV2', status: 'triggered', services: ['lms-api'], systems: ['lms'], openedAt: startedAt, source: 'manual', description: 'Students report errors', mttaSeconds: null, alerts: [] });
    expect(d.body.allowedTransitions).toEqual(['acknowledged', 'investigating', 'identified', 'monitoring', 'resolved']);
    expect(d.body.timeline.map((e) => [e.kind, e.actor])).toEqual([['opened', 'token:writer']]);
    expect((await api('GET', '/api/v1/incidents/999999')).status).toBe(404);
    expect((await api('GET', '/api/v1/incidents/abc')).status).toBe(404);
  });

  it('its opening reaches the webhook as a firing VigilIncident alert', async () => {
    await until('the incident notification', async () => incidentAlerts(id).length > 0);
    expect(incidentAlerts(id)[0]).toMatchObject({ status: 'firing', labels: { alertname: 'VigilIncident', incident_id: String(id), severity: 'SEV2', status: 'triggered' }, annotations: { title: 'LMS course registration fails' } });
    expect(incidentAlerts(id)[0]!.generatorURL).toMatch(new RegExp(`/incidents/${id}$`));
  });

  it('status moves follow the machine: 409 names the allowed moves; MTTA/MTTR kept; the webhook hears each', async () => {
    const ack = await api<IncidentDetail>('POST', `/api/v1/incidents/${id}/status`, { status: 'acknowledged', note: 'on it' });
    expect(ack.status).toBe(200);
    expect(ack.body.status).toBe('acknowledged');
    expect(ack.body.mttaSeconds).toBeGreaterThanOrEqual(600);
    expect(ack.body.allowedTransitions).toEqual(['investigating', 'identified', 'monitoring', 'resolved']);

    const refused = await api<{ error: string; allowed: string[] }>('POST', `/api/v1/incidents/${id}/status`, { status: 'closed' });
    expect(refused.status).toBe(409);
    expect(refused.body.allowed).toEqual(['investigating', 'identified', 'monitoring', 'resolved']);
    expect(refused.body.error).toContain('cannot become closed');
    expect((await api('POST', `/api/v1/incidents/${id}/status`, { status: 'done' })).body).toMatchObject({ field: 'status' });

    await until('the acknowledged notification', async () => incidentAlerts(id).some((a) => a.labels.status === 'acknowledged' && a.status === 'firing'));
    expect(incidentAlerts(id).some((a) => a.labels.status === 'triggered' && a.status === 'resolved')).toBe(true);

    const resolved = await api<IncidentDetail>('POST', `/api/v1/incidents/${id}/status`, { status: 'resolved' });
    expect(resolved.body).toMatchObject({ status: 'resolved', allowedTransitions: ['closed', 'reopened'] });
    expect(resolved.body.mttrSeconds).toBeGreaterThanOrEqual(600);
    await until('the resolved notification', async () => incidentAlerts(id).some((a) => a.labels.status === 'acknowledged' && a.status === 'resolved'));

    const timeline = resolved.body.timeline.filter((e) => e.kind === 'status_changed').map((e) => e.data);
    expect(timeline).toEqual([
      { from: 'triggered', to: 'acknowledged', note: 'on it' },
      { from: 'acknowledged', to: 'resolved' },
    ]);
  });

  it('notes and assignment go on the timeline with who made them', async () => {
    expect((await api('POST', `/api/v1/incidents/${id}/notes`, { text: '' })).body).toMatchObject({ field: 'text' });
    const note = await api<IncidentDetail>('POST', `/api/v1/incidents/${id}/notes`, { text: 'Role mapping was restored' });
    expect(note.status).toBe(201);
    const assigned = await api<IncidentDetail>('POST', `/api/v1/incidents/${id}/assign`, { commander: 'ana', assignees: ['bo', 'cy'] });
    expect(assigned.body).toMatchObject({ commander: 'ana', assignees: ['bo', 'cy'] });
    const tail = assigned.body.timeline.slice(-2);
    expect(tail.map((e) => [e.kind, e.actor, e.data])).toEqual([
      ['note', 'token:writer', { text: 'Role mapping was restored' }],
      ['assigned', 'token:writer', { commander: 'ana', assignees: ['bo', 'cy'] }],
    ]);
    expect((await api('POST', '/api/v1/incidents/999999/notes', { text: 'x' })).status).toBe(404);
  });

  it('severity is set by hand, on the timeline and audited; a bad one is refused', async () => {
    expect((await api('POST', `/api/v1/incidents/${id}/severity`, { severity: 'P0' })).body).toMatchObject({ field: 'severity' });
    const up = await api<IncidentDetail>('POST', `/api/v1/incidents/${id}/severity`, { severity: 'SEV1' });
    expect(up.body.severity).toBe('SEV1');
    expect(up.body.timeline.at(-1)).toMatchObject({ kind: 'severity_changed', actor: 'token:writer', data: { from: 'SEV2', to: 'SEV1' } });
    const back = await api<IncidentDetail>('POST', `/api/v1/incidents/${id}/severity`, { severity: 'SEV2' });
    expect(back.body.severity).toBe('SEV2');
    // Setting the severity it already has adds nothing.
    const same = await api<IncidentDetail>('POST', `/api/v1/incidents/${id}/severity`, { severity: 'SEV2' });
    expect(same.body.timeline).toHaveLength(back.body.timeline.length);
  });

  it('lists filter by status, service and system', async () => {
    const other = (await api<IncidentCreated>('POST', '/api/v1/incidents', { title: 'Search is slow', services: ['search'] })).body.id;
    const ids = async (q: string) => (await api<IncidentListResponse>('GET', `/api/v1/incidents${q}`, undefined, readToken)).body.incidents.map((i) => i.id);
    expect(await ids('?status=open')).toContain(other);
    expect(await ids('?status=open')).not.toContain(id);
    expect(await ids('?status=resolved')).toEqual([id]);
    expect(await ids('?status=all&service=lms-api')).toEqual([id]);
    expect(await ids('?status=all&system=lms')).toEqual([id]);
    expect((await ids('?status=all')).slice(0, 2)).toEqual([other, id]);
    expect(await ids('?status=all&limit=1')).toHaveLength(1);
    expect((await api('GET', '/api/v1/incidents?status=bogus')).status).toBe(400);
    const summary = (await api<IncidentListResponse>('GET', '/api/v1/incidents?status=resolved')).body.incidents[0];
    expect(summary).toMatchObject({ id, severity: 'SEV2', commander: 'ana' });
  });

  it('changes are audited with what changed', async () => {
    const audit = await api<{ entries: { action: string; target: string; actor: string; details: Record<string, unknown> | null }[] }>('GET', '/api/v1/audit?limit=200', undefined, v.adminToken);
    const mine = audit.body.entries.filter((e) => e.target === `incident:${id}`);
    expect(mine.map((e) => e.action).sort()).toEqual(['incident.assigned', 'incident.note_added', 'incident.opened', 'incident.severity_changed', 'incident.severity_changed', 'incident.status_changed', 'incident.status_changed']);
    expect(mine.find((e) => e.action === 'incident.status_changed' && e.details?.to === 'resolved')).toMatchObject({ actor: 'token:writer', details: { from: 'acknowledged', to: 'resolved' } });
  });
});

describe('incidents opened by alerts', () => {
  const byService = async (service: string) => (await api<IncidentListResponse>('GET', `/api/v1/incidents?status=all&service=${service}`)).body.incidents;

  it('two rules of one service firing make one incident, with both alerts and the highest severity', async () => {
    await sendErrorSpans(v.server.urls.otlp, v.ingestToken, 'checkout', 10);
    const [inc] = await until('the checkout incident', async () => {
      const list = await byService('checkout');
      if (list.length !== 1) return false;
      const d = (await api<IncidentDetail>('GET', `/api/v1/incidents/${list[0]!.id}`)).body;
      return d.alerts.length === 2 ? list : false;
    });
    const d = (await api<IncidentDetail>('GET', `/api/v1/incidents/${inc!.id}`)).body;
    expect(d).toMatchObject({ status: 'triggered', severity: 'SEV2', source: 'alert', services: ['checkout'], correlationKey: 'service:checkout' });
    expect(d.title).toMatch(/^Checkout(Some)?Errors on checkout$/);
    expect(d.alerts.map((a) => a.labels.alertname).sort()).toEqual(['CheckoutErrors', 'CheckoutSomeErrors']);
    expect(d.alerts.every((a) => a.state === 'firing')).toBe(true);
    expect(d.timeline.map((e) => e.kind)).toEqual(['opened', 'alert_firing', 'alert_firing']);
    expect(d.timeline.every((e) => e.actor === 'vigil')).toBe(true);
    await until('the alert-opened incident notification', async () => incidentAlerts(inc!.id).some((a) => a.status === 'firing' && a.labels.severity === 'SEV2'));

    // More errors of the same service (the alerts still fire): no new incident.
    await sendErrorSpans(v.server.urls.otlp, v.ingestToken, 'checkout', 3);
    await new Promise((r) => setTimeout(r, 500));
    expect(await byService('checkout')).toHaveLength(1);
  });

  it('another service gets its own incident', async () => {
    await sendErrorSpans(v.server.urls.otlp, v.ingestToken, 'billing', 2);
    const list = await until('the billing incident', async () => {
      const l = await byService('billing');
      return l.length ? l : false;
    });
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ severity: 'SEV3', title: 'BillingErrors on billing' });
    expect(await byService('checkout')).toHaveLength(1);
  });

  it('an alert that resolves goes on the incident timeline', async () => {
    await sendErrorSpans(v.server.urls.otlp, v.ingestToken, 'cart', 1);
    const inc = await until('the cart incident', async () => (await byService('cart'))[0]);
    const d = await until(
      'the resolved alert on the timeline',
      async () => {
        const body = (await api<IncidentDetail>('GET', `/api/v1/incidents/${inc.id}`)).body;
        return body.timeline.some((e) => e.kind === 'alert_resolved') ? body : false;
      },
      20_000,
    );
    expect(d.alerts).toMatchObject([{ state: 'resolved', labels: { alertname: 'CartErrors', service_name: 'cart' } }]);
    // The diagnosis that ran as the incident opened lands whenever it finishes.
    expect(d.timeline.map((e) => e.kind).filter((k) => k !== 'diagnosis')).toEqual(['opened', 'alert_firing', 'alert_resolved']);
    // The incident stays open: people resolve incidents, alerts only report.
    expect(d.status).toBe('triggered');
  }, 30_000);
});
