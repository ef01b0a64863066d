/**
 * Remediation in a real Vigil over its HTTP API: runbooks and actions created, validated (400 naming
 * the field, 409 for a taken name), read with secret headers masked (sealed in the state store, kept
 * through `<secret>` on update), edited only with write access; an incident's remediation lists the
 * runbooks of its services, of its linked alerts' alertnames and the general ones, with their actions
 * and its services' actions; a run without confirmation answers the rendered request, with it the call
 * reaches a real loopback receiver with the secret in clear, and is on the timeline and in the audit
 * log; failures (HTTP 500, a time-out, the outbound policy) are recorded too, answers cut to 4 KiB.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionRunResponse, IncidentCreated, IncidentDetail, IncidentListResponse, IncidentRemediationResponse, RemediationAction, Runbook } from '../src/api/contract.ts';
import { startReceiver, type TestReceiver } from './helpers/notify-receiver.ts';
import { sendErrorSpans } from './helpers/otlp-send.ts';
import { startTestVigil, tempDir, type TestVigil } from './helpers/vigil.ts';

const dirs = tempDir('vigil-remediation-api-');
const rulesDir = join(dirs.dir, 'rules');
let v: TestVigil;
let target: TestReceiver;
let slow: Server;
let slowUrl: string;
let readToken: string;
let writeToken: string;

const RULES = `groups:
  - name: shop
    interval: 1h
    rules:
      - alert: CheckoutErrors
        expr: 'from spans service.name=checkout status=error | stats count() as value by service.name | where value > 0'
        range: 5m
        labels: { severity: critical }
`;

beforeAll(async () => {
  target = await startReceiver();
  // A target that answers big (10 KiB) on /big and never answers on /hang.
  slow = createServer((req, res) => {
    if (req.url === '/big') res.writeHead(200, { 'content-type': 'text/plain' }).end('x'.repeat(10 * 1024));
  });
  await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
  slowUrl = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
  mkdirSync(rulesDir, { recursive: true });
  writeFileSync(join(rulesDir, 'shop.yml'), RULES);
  v = await startTestVigil({ alerting: { rulesDir, defaultRules: false }, agent: { selfMonitor: false } });
  readToken = await v.server.tokens.create('reader', 'read');
  writeToken = await v.server.tokens.create('writer', 'write');
}, 60_000);

afterAll(async () => {
  await v?.stop();
  await target?.close();
  slow?.closeAllConnections();
  await new Promise<void>((resolve) => (slow ? slow.close(() => resolve()) : resolve()));
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

const SECRET = 'Bearer s3cr3t-t0ken';
const restart = () => ({
  name: 'restart-checkout',
  description: 'Restart the checkout service',
  method: 'POST',
  url: `${target.url}/restart/{{ .Input.service | urlquery }}?incident={{ .Incident.ID }}`,
  headers: { Authorization: SECRET, 'X-Incident': '{{ .Incident.Severity }}' },
  body: '{"incident": {{ .Incident.ID }}, "title": {{ .Incident.Title | toJson }}, "services": "{{ .Incident.Services }}", "reason": {{ .Input.reason | toJson }}, "url": "{{ .Incident.URL }}"}',
  inputs: { service: 'the service to restart', reason: 'why' },
  services: ['checkout'],
  timeoutSeconds: 5,
});

describe('actions', () => {
  let action: RemediationAction;

  it('are created with secret headers masked in every answer and sealed at rest', async () => {
    const r = await api<RemediationAction>('POST', '/api/v1/actions', restart());
    expect(r.status).toBe(201);
    action = r.body;
    expect(action).toMatchObject({ name: 'restart-checkout', method: 'POST', headers: { Authorization: '<secret>', 'X-Incident': '{{ .Incident.Severity }}' }, timeoutSeconds: 5, updatedBy: 'token:writer' });
    const listed = await api<{ actions: RemediationAction[] }>('GET', '/api/v1/actions', undefined, readToken);
    expect(listed.body.actions).toEqual([action]);
    expect((await api('GET', `/api/v1/actions/${action.id}`, undefined, v.adminToken)).body).toEqual(action);
    const row = await v.server.state.selectFrom('remediation_actions').select('headers').where('id', '=', action.id).executeTakeFirstOrThrow();
    expect(row.headers).not.toContain('s3cr3t');
    expect(JSON.parse(row.headers).Authorization).toMatch(/^sealed:v1:/);
  });

  it('refuse bad fields naming them, a taken name, and undeclared inputs in templates', async () => {
    const bad = async (body: unknown, field: string, status = 400) => {
      const r = await api<{ error: string; field: string }>('POST', '/api/v1/actions', body);
      expect(r.status, JSON.stringify(r.body)).toBe(status);
      expect(r.body.field).toBe(field);
      return r.body.error;
    };
    await bad(restart(), 'name', 409);
    await bad({ ...restart(), name: 'Restart It' }, 'name');
    await bad({ ...restart(), name: 'x', url: 'ftp://host/x' }, 'url');
    await bad({ ...restart(), name: 'x', url: 'http://user:pw@host/x' }, 'url');
    expect(await bad({ ...restart(), name: 'x', url: 'http://host/{{ .Input.nope }}' }, 'url')).toContain('.Input.nope');
    expect(await bad({ ...restart(), name: 'x', body: '{{ .Incident.Nope }}' }, 'body')).toContain('not understood');
    await bad({ ...restart(), name: 'x', method: 'TRACE' }, 'method');
    await bad({ ...restart(), name: 'x', timeoutSeconds: 600 }, 'timeoutSeconds');
    await bad({ ...restart(), name: 'x', headers: { 'bad header': 'v' } }, 'headers.bad header');
    await bad({ ...restart(), name: 'x', inputs: { 'not-an-identifier': 'd' } }, 'inputs.not-an-identifier');
    await bad({ ...restart(), name: 'x', headers: { 'X-Api-Key': '<secret>' } }, 'headers.X-Api-Key');
  });

  it('are edited with write access only; <secret> keeps the current value; the name stays', async () => {
    expect((await api('POST', '/api/v1/actions', { ...restart(), name: 'other' }, readToken)).status).toBe(403);
    expect((await api('PUT', `/api/v1/actions/${action.id}`, restart(), readToken)).status).toBe(403);
    const put = await api<RemediationAction>('PUT', `/api/v1/actions/${action.id}`, { ...restart(), description: 'Restart it', headers: { Authorization: '<secret>', 'X-Incident': '{{ .Incident.Severity }}' } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ description: 'Restart it', headers: { Authorization: '<secret>' } });
    const renamed = await api<{ field: string }>('PUT', `/api/v1/actions/${action.id}`, { ...restart(), name: 'renamed' });
    expect(renamed).toMatchObject({ status: 400, body: { field: 'name' } });
    expect((await api('PUT', '/api/v1/actions/9999', restart())).status).toBe(404);
  });
});

describe('runbooks', () => {
  it('are created, validated, listed by service or rule, edited and deleted', async () => {
    const post = (body: unknown, token = writeToken) => api<Runbook & { field?: string }>('POST', '/api/v1/runbooks', body, token);
    const svc = await post({ title: 'Checkout down', scope: { kind: 'service', value: 'checkout' }, body: '# Checkout\n\nRestart **it**.', actions: ['restart-checkout'] });
    expect(svc.status).toBe(201);
    expect(svc.body).toMatchObject({ title: 'Checkout down', scope: { kind: 'service', value: 'checkout' }, actions: ['restart-checkout'], updatedBy: 'token:writer' });
    const rule = await post({ title: 'Checkout errors', scope: { kind: 'rule', value: 'CheckoutErrors' }, body: 'Look at the error logs.' });
    const general = await post({ title: 'Every incident', scope: { kind: 'general', value: 'ignored' }, body: 'Post in #incidents.' });
    expect(general.body.scope).toEqual({ kind: 'general', value: '' });
    const other = await post({ title: 'Billing', scope: { kind: 'service', value: 'billing' }, body: 'Billing steps.' });
    expect([rule.status, other.status]).toEqual([201, 201]);

    expect((await post({ title: 'x', scope: { kind: 'service', value: 'a' }, body: '', actions: ['no-such-action'] })).body.field).toBe('actions');
    expect((await post({ title: 'x', scope: { kind: 'host', value: 'a' }, body: '' })).body.field).toBe('scope.kind');
    expect((await post({ title: 'x', scope: { kind: 'service', value: '' }, body: '' })).body.field).toBe('scope.value');
    expect((await post({ title: 'x', scope: { kind: 'general' }, body: '' }, readToken)).status).toBe(403);

    const byService = await api<{ runbooks: Runbook[] }>('GET', '/api/v1/runbooks?service=checkout', undefined, readToken);
    expect(byService.body.runbooks.map((r) => r.title)).toEqual(['Checkout down']);
    const byRule = await api<{ runbooks: Runbook[] }>('GET', '/api/v1/runbooks?rule=CheckoutErrors', undefined, readToken);
    expect(byRule.body.runbooks.map((r) => r.title)).toEqual(['Checkout errors']);
    expect((await api<{ runbooks: Runbook[] }>('GET', '/api/v1/runbooks', undefined, readToken)).body.runbooks).toHaveLength(4);

    const put = await api<Runbook>('PUT', `/api/v1/runbooks/${other.body.id}`, { title: 'Billing v2', scope: { kind: 'service', value: 'billing' }, body: 'New steps.' });
    expect(put.body).toMatchObject({ title: 'Billing v2', body: 'New steps.', actions: [] });
    expect((await api('GET', `/api/v1/runbooks/${other.body.id}`, undefined, readToken)).body).toMatchObject({ title: 'Billing v2' });
    expect((await api('DELETE', `/api/v1/runbooks/${other.body.id}`)).status).toBe(204);
    expect((await api('GET', `/api/v1/runbooks/${other.body.id}`, undefined, readToken)).status).toBe(404);
    expect((await api('DELETE', `/api/v1/runbooks/${other.body.id}`)).status).toBe(404);
  });
});

describe('on an incident', () => {
  let id: number;

  it("lists the runbooks of its services, its alerts' rules and the general ones, with their actions", async () => {
    // Another service's action is not offered; one of the incident's services is, without a runbook.
    await api('POST', '/api/v1/actions', { name: 'flush-billing', url: `${target.url}/flush`, services: ['billing'] });
    await api('POST', '/api/v1/actions', { name: 'flush-checkout-cache', url: `${target.url}/flush`, services: ['checkout'], method: 'DELETE' });
    await sendErrorSpans(v.server.urls.otlp, v.ingestToken, 'checkout', 3);
    const [inc] = await until('the checkout incident', async () => {
      const list = (await api<IncidentListResponse>('GET', '/api/v1/incidents?service=checkout')).body.incidents;
      return list.length === 1 ? list : false;
    });
    id = inc!.id;
    const r = await api<IncidentRemediationResponse>('GET', `/api/v1/incidents/${id}/remediation`, undefined, readToken);
    expect(r.status).toBe(200);
    expect(r.body.runbooks.map((b) => b.title)).toEqual(['Checkout down', 'Checkout errors', 'Every incident']);
    expect(r.body.actions.map((a) => a.name)).toEqual(['restart-checkout', 'flush-checkout-cache']);
    expect(r.body.actions[0]!.headers.Authorization).toBe('<secret>');
    expect((await api('GET', '/api/v1/incidents/9999/remediation', undefined, readToken)).status).toBe(404);
  });

  it('a run without confirmation answers the rendered request (secret masked) and sends nothing', async () => {
    const r = await api<{ error: string; field: string; preview: ActionRunResponse['request'] }>('POST', `/api/v1/incidents/${id}/actions/restart-checkout/run`, { input: { service: 'check out', reason: 'said "restart"' } });
    expect(r.status).toBe(400);
    expect(r.body.field).toBe('confirm');
    expect(r.body.preview).toEqual({
      method: 'POST',
      url: `${target.url}/restart/check%20out?incident=${id}`,
      headers: { Authorization: '<secret>', 'X-Incident': 'SEV2' },
      body: expect.stringContaining(`"incident": ${id}`),
    });
    expect(JSON.parse(r.body.preview.body)).toMatchObject({ incident: id, services: 'checkout', reason: 'said "restart"', url: `${v.server.urls.api}/incidents/${id}` });
    expect(target.requests).toHaveLength(0);
  });

  it('refuses unknown inputs naming the field, unknown actions and incidents', async () => {
    const r = await api<{ field: string; error: string }>('POST', `/api/v1/incidents/${id}/actions/restart-checkout/run`, { confirm: true, input: { servce: 'x' } });
    expect(r).toMatchObject({ status: 400, body: { field: 'input.servce' } });
    expect(r.body.error).toContain('service, reason');
    expect((await api('POST', `/api/v1/incidents/${id}/actions/nope/run`, { confirm: true })).status).toBe(404);
    expect((await api('POST', `/api/v1/incidents/9999/actions/restart-checkout/run`, { confirm: true })).status).toBe(404);
    expect((await api('POST', `/api/v1/incidents/${id}/actions/restart-checkout/run`, { confirm: true }, readToken)).status).toBe(403);
    expect(target.requests).toHaveLength(0);
  });

  it('a confirmed run calls the target with the secret, and is on the timeline and in the audit log', async () => {
    const r = await api<ActionRunResponse>('POST', `/api/v1/incidents/${id}/actions/restart-checkout/run`, { confirm: true, input: { service: 'checkout', reason: 'pool stuck' } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ ok: true, status: 200, result: 'ok', request: { headers: { Authorization: '<secret>' } } });
    expect(r.body.ms).toBeGreaterThanOrEqual(0);
    const [got] = await target.waitFor(1);
    expect(got).toMatchObject({ method: 'POST', path: `/restart/checkout?incident=${id}`, headers: { authorization: SECRET, 'x-incident': 'SEV2', 'content-type': 'application/json' } });
    expect(got!.body).toMatchObject({ incident: id, reason: 'pool stuck', title: expect.stringContaining('checkout') });

    const d = (await api<IncidentDetail>('GET', `/api/v1/incidents/${id}`, undefined, readToken)).body;
    const run = d.timeline.find((e) => e.kind === 'action_run')!;
    expect(run).toMatchObject({ actor: 'token:writer', data: { action: 'restart-checkout', input: { service: 'checkout', reason: 'pool stuck' }, ok: true, status: 200, result: 'ok' } });
    const audit = await api<{ entries: { action: string; target: string; actor: string; details: Record<string, unknown> }[] }>('GET', '/api/v1/audit?limit=200', undefined, v.adminToken);
    const entry = audit.body.entries.find((e) => e.action === 'action.run')!;
    expect(entry).toMatchObject({ actor: 'token:writer', target: `incident:${id}`, details: { action: 'restart-checkout', ok: true, status: 200 } });
    expect(JSON.stringify(audit.body.entries)).not.toContain('s3cr3t');
    expect(audit.body.entries.map((e) => e.action)).toEqual(expect.arrayContaining(['action.created', 'action.updated', 'runbook.created', 'runbook.updated', 'runbook.deleted']));
  });

  it('failures are answered and recorded: an HTTP error, a time-out, the outbound policy; answers cut to 4 KiB', async () => {
    target.script.push(500);
    const failed = await api<ActionRunResponse>('POST', `/api/v1/incidents/${id}/actions/restart-checkout/run`, { confirm: true, input: { service: 'checkout' } });
    expect(failed.body).toMatchObject({ ok: false, status: 500, result: 'failure 500' });

    await api('POST', '/api/v1/actions', { name: 'hang', url: `${slowUrl}/hang`, method: 'GET', timeoutSeconds: 0.5 });
    const started = Date.now();
    const hung = await api<ActionRunResponse>('POST', `/api/v1/incidents/${id}/actions/hang/run`, { confirm: true });
    expect(hung.body).toMatchObject({ ok: false, status: null, result: 'timed out after 0.5 s' });
    expect(Date.now() - started).toBeLessThan(5000);

    await api('POST', '/api/v1/actions', { name: 'big', url: `${slowUrl}/big`, method: 'GET' });
    const big = await api<ActionRunResponse>('POST', `/api/v1/incidents/${id}/actions/big/run`, { confirm: true });
    expect(big.body).toMatchObject({ ok: true, status: 200 });
    expect(big.body.result).toHaveLength(4096);

    // Cloud metadata is refused by the guard whatever the policy: the run is recorded as refused.
    await api('POST', '/api/v1/actions', { name: 'metadata', url: 'http://169.254.169.254/latest/meta-data/', method: 'GET' });
    const refused = await api<ActionRunResponse>('POST', `/api/v1/incidents/${id}/actions/metadata/run`, { confirm: true });
    expect(refused.body).toMatchObject({ ok: false, status: null });
    expect(refused.body.result).toContain('refused by the outbound policy');

    const d = (await api<IncidentDetail>('GET', `/api/v1/incidents/${id}`, undefined, readToken)).body;
    const runs = d.timeline.filter((e) => e.kind === 'action_run').map((e) => [e.data.action, e.data.ok, e.data.status]);
    expect(runs).toEqual([
      ['restart-checkout', true, 200],
      ['restart-checkout', false, 500],
      ['hang', false, null],
      ['big', true, 200],
      ['metadata', false, null],
    ]);
  });

  it('an incident opened by hand gets the general runbooks and its services', async () => {
    const created = await api<IncidentCreated>('POST', '/api/v1/incidents', { title: 'Billing slow', services: ['billing'] });
    const r = await api<IncidentRemediationResponse>('GET', `/api/v1/incidents/${created.body.id}/remediation`, undefined, readToken);
    expect(r.body.runbooks.map((b) => b.title)).toEqual(['Every incident']);
    expect(r.body.actions.map((a) => a.name)).toEqual(['flush-billing']);
  });

  it('a deleted action is no longer offered', async () => {
    const all = (await api<{ actions: RemediationAction[] }>('GET', '/api/v1/actions', undefined, readToken)).body.actions;
    const flush = all.find((a) => a.name === 'flush-checkout-cache')!;
    expect((await api('DELETE', `/api/v1/actions/${flush.id}`, undefined, readToken)).status).toBe(403);
    expect((await api('DELETE', `/api/v1/actions/${flush.id}`)).status).toBe(204);
    const r = await api<IncidentRemediationResponse>('GET', `/api/v1/incidents/${id}/remediation`, undefined, readToken);
    expect(r.body.actions.map((a) => a.name)).toEqual(['restart-checkout']);
  });
});
