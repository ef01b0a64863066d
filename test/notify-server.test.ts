/**
 * Notifications inside a real Vigil: the notifications file is read at start, alerts posted to
 * Alertmanager's API reach a webhook on loopback (exact group and shape), `GET /api/v2/alerts`
 * lists them with their receivers, the delivery log shows each delivery with its attempts, the
 * "send test" endpoint reports each integration, and an edited file is applied without a restart.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AmGettableAlert, DeliveriesResponse, ReceiverTestResponse } from '../src/api/contract.ts';
import { startReceiver, type TestReceiver } from './helpers/notify-receiver.ts';
import { startTestVigil, type TestVigil } from './helpers/vigil.ts';

let vigil: TestVigil;
let hook: TestReceiver;
let other: TestReceiver;
let dir: string;
let file: string;

const yaml = (target: string) => `
route:
  receiver: team
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
receivers:
  - name: team
    webhook_configs:
      - url: '${target}/hook'
`;

beforeAll(async () => {
  hook = await startReceiver([500]);
  other = await startReceiver();
  dir = mkdtempSync(join(tmpdir(), 'vigil-notify-server-'));
  file = join(dir, 'alertmanager.yml');
  writeFileSync(file, yaml(hook.url));
  vigil = await startTestVigil({ alerting: { notificationsFile: file, defaultRules: false } });
});
afterAll(async () => {
  await vigil?.stop();
  await hook.close();
  await other.close();
  rmSync(dir, { recursive: true, force: true });
});

const api = (path: string, init: RequestInit = {}) =>
  fetch(`${vigil.server.urls.api}${path}`, { ...init, headers: { authorization: `Bearer ${vigil.adminToken}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });

describe('notifications in a running Vigil', () => {
  it('an alert posted to /api/v2/alerts reaches the webhook (retried past a 500) and is listed with its receiver', async () => {
    const startsAt = new Date().toISOString();
    const res = await api('/api/v2/alerts', { method: 'POST', body: JSON.stringify([{ labels: { alertname: 'ServerSide', service_name: 'api' }, annotations: { summary: 'x' }, startsAt, generatorURL: 'http://example.test/g' }]) });
    expect(res.status).toBe(200);
    const requests = await hook.waitFor(2);
    expect(requests.map((r) => r.path)).toEqual(['/hook', '/hook']);
    expect(requests[1]!.body).toMatchObject({ version: '4', status: 'firing', receiver: 'team', groupKey: '{}:{alertname="ServerSide"}', alerts: [{ labels: { alertname: 'ServerSide', service_name: 'api' }, endsAt: '0001-01-01T00:00:00Z' }] });
    expect(requests[1]!.headers['idempotency-key']).toBe(requests[0]!.headers['idempotency-key']);

    const listed = (await (await api('/api/v2/alerts')).json()) as AmGettableAlert[];
    expect(listed.find((a) => a.labels.alertname === 'ServerSide')).toMatchObject({ receivers: [{ name: 'team' }], status: { state: 'active', silencedBy: [], inhibitedBy: [] } });

    // The delivery log is written just after the answer: poll briefly.
    let deliveries: DeliveriesResponse['deliveries'] = [];
    for (let i = 0; i < 50 && deliveries.length === 0; i++) {
      deliveries = ((await (await api('/api/v1/alerting/deliveries')).json()) as DeliveriesResponse).deliveries;
      if (deliveries.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(deliveries[0]).toMatchObject({ receiver: 'team', integration: 'webhook', status: 'ok', attempts: 2, httpStatus: 200, firing: 1, resolved: 0 });
  });

  it('the send-test button reports each integration', async () => {
    const res = await api('/api/v1/alerting/receivers/team/test', { method: 'POST', body: '{}' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as ReceiverTestResponse;
    expect(body).toMatchObject({ receiver: 'team', results: [{ integration: 'webhook[0]', ok: true, status: 200 }] });
  });

  it('an edited notifications file is applied without a restart', async () => {
    writeFileSync(file, yaml(other.url));
    const deadline = Date.now() + 10_000;
    let n = 0;
    // The file watcher polls; post fresh alerts until one reaches the new receiver.
    while (other.requests.length === 0 && Date.now() < deadline) {
      await api('/api/v2/alerts', { method: 'POST', body: JSON.stringify([{ labels: { alertname: `AfterEdit${n++}` }, startsAt: new Date().toISOString() }]) });
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(other.requests.length).toBeGreaterThan(0);
    expect(other.requests[0]!.body).toMatchObject({ receiver: 'team', status: 'firing' });
  });
});
