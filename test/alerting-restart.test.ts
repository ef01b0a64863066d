/**
 * Alert state survives a crash: a Vigil child process fires and notifies an alert, is killed with
 * SIGKILL and started again on the same data directory. It must not notify the firing alert a second
 * time before its repeat interval, must still send the resolved notification when the fault ends, and
 * must keep a silence created just before the kill.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AmGettableSilence, PromAlertsResponse } from '../src/api/contract.ts';
import { startReceiver, type TestReceiver } from './helpers/notify-receiver.ts';
import { runVigil, spawnVigil, tempDir, type ChildVigil } from './helpers/vigil.ts';

const dirs = tempDir('vigil-alerting-restart-');
const dataDir = dirs.dir;
let hook: TestReceiver;
let vigil: ChildVigil | undefined;
let ingestToken = '';
let adminToken = '';

const RULES = `groups:
  - name: pay
    interval: 5s
    rules:
      - alert: PayFailing
        expr: 'from spans service.name=pay | eval e = if(status = "error", 1, 0) | stats avg(e) as value count() as n by service.name | where n >= 5 and value > 0.5'
        range: 10m
        labels: { severity: critical }
`;

const ENV = { VIGIL_AGENT__SELF_MONITOR: 'false', VIGIL_ALERTING__DEFAULT_RULES: 'false' };

async function token(scope: string): Promise<string> {
  const r = await runVigil(['token', 'create', '--name', `t-${scope}`, '--scope', scope, '--data-dir', dataDir]);
  expect(r.code).toBe(0);
  return r.stdout.trim().split('\n').at(-1)!;
}

async function start(): Promise<ChildVigil> {
  return spawnVigil(['start', '--data-dir', dataDir, '--port', '0', '--otlp-port', '0', '--hec-port', '0'], ENV);
}

async function stopHard(): Promise<void> {
  if (!vigil) return;
  vigil.proc.kill('SIGKILL');
  await vigil.exited;
  vigil = undefined;
}

beforeAll(async () => {
  hook = await startReceiver();
  mkdirSync(join(dataDir, 'rules'), { recursive: true });
  writeFileSync(join(dataDir, 'rules', 'pay.yml'), RULES);
  writeFileSync(
    join(dataDir, 'alertmanager.yml'),
    `route:\n  receiver: hook\n  group_by: [alertname]\n  group_wait: 0s\n  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n  - name: hook\n    webhook_configs:\n      - url: ${hook.url}/hook\n        send_resolved: true\n`,
  );
  ingestToken = await token('ingest');
  adminToken = await token('admin');
}, 60_000);

afterAll(async () => {
  if (vigil) {
    vigil.proc.kill('SIGKILL');
    await vigil.exited;
  }
  await hook?.close();
  dirs.cleanup();
});

let spanNo = 1;

async function sendSpans(v: ChildVigil, n: number, error: boolean): Promise<void> {
  const now = Date.now();
  const spans = Array.from({ length: n }, (_, i) => ({
    traceId: (spanNo).toString(16).padStart(32, '0'),
    spanId: (spanNo++).toString(16).padStart(16, '0'),
    name: 'POST /charge',
    kind: 2,
    startTimeUnixNano: String(BigInt(now - 2000 + i) * 1_000_000n),
    endTimeUnixNano: String(BigInt(now - 1990 + i) * 1_000_000n),
    status: { code: error ? 2 : 1 },
  }));
  const res = await fetch(`${v.urls.otlp}/v1/traces`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ingestToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'pay' } }] }, scopeSpans: [{ scope: { name: 't' }, spans }] }] }),
  });
  expect(res.status).toBe(200);
}

type Hook = { status: string; alerts: { status: string; labels: Record<string, string> }[] };
const payNotifications = (status: 'firing' | 'resolved') => hook.requests.filter((r) => (r.body as Hook).status === status && (r.body as Hook).alerts.some((a) => a.labels.alertname === 'PayFailing'));

async function until(what: string, fn: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const get = async <T>(v: ChildVigil, path: string): Promise<T> => (await (await fetch(`${v.urls.api}${path}`, { headers: { authorization: `Bearer ${adminToken}` } })).json()) as T;

describe('alerting across a crash (SIGKILL)', () => {
  it('notifies once, keeps its silence, and still sends the resolved notification after a restart', async () => {
    vigil = await start();
    await sendSpans(vigil, 10, true);
    await until('the firing notification', () => payNotifications('firing').length === 1);
    // The notification log is written once the receiver answered: give that write a moment.
    await new Promise((r) => setTimeout(r, 500));

    // A silence for something else, created just before the crash.
    const now = Date.now();
    const created = await fetch(`${vigil.urls.api}/api/v2/silences`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ matchers: [{ name: 'alertname', value: 'Maintenance', isRegex: false }], startsAt: new Date(now).toISOString(), endsAt: new Date(now + 3_600_000).toISOString(), createdBy: 'test', comment: 'just before the crash' }),
    });
    expect(created.status).toBe(200);
    const { silenceID } = (await created.json()) as { silenceID: string };
    await stopHard();

    vigil = await start();
    // The alert is firing from the moment the server answers: its state was persisted, not re-evaluated.
    const alerts = await get<PromAlertsResponse>(vigil, '/api/v1/alerts');
    expect(alerts.data.alerts.find((a) => a.labels.alertname === 'PayFailing')).toMatchObject({ state: 'firing' });
    // It is not notified again: give the notifier several group intervals (1s) and the rule an evaluation (5s).
    await new Promise((r) => setTimeout(r, 6000));
    expect(payNotifications('firing')).toHaveLength(1);

    const silences = await get<AmGettableSilence[]>(vigil, '/api/v2/silences');
    expect(silences.find((s) => s.id === silenceID)).toMatchObject({ status: { state: 'active' }, comment: 'just before the crash' });

    // Fault off: healthy traffic brings the error share down; the resolved notification arrives.
    await sendSpans(vigil, 100, false);
    await until('the resolved notification', () => payNotifications('resolved').length === 1);
    expect(payNotifications('firing')).toHaveLength(1);
  }, 120_000);
});
