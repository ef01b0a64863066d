/**
 * The default alert rules against the demo's real faults, end to end: demo services → OTLP → Vigil →
 * the rules Vigil writes on first start (<dataDir>/rules/defaults.yml) → notification pipeline → a
 * webhook receiver on loopback, in Alertmanager's webhook format.
 *
 * The rules' queries, conditions, baselines and recovery thresholds are exactly the defaults'; only their
 * time scale is shortened (windows of 30 s instead of minutes, `for` of at most 4 s, 2 s evaluation), so
 * that a fault is noticed and its recovery confirmed within a test's minutes rather than an hour.
 */
import { createServer, type Server } from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scaleRules } from './rule-scale.ts';
import { startDemo, type Demo } from './supervisor.ts';
import { remediate, setFault } from './client.ts';
import { person } from './lms/people.ts';
import { startTestVigil, tempDir, type TestVigil } from '../test/helpers/vigil.ts';

interface Received {
  at: number;
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
}

let vigil: TestVigil;
let demo: Demo;
let hook: Server;
let hookUrl: string;
const received: Received[] = [];
let cleanupNotify: () => void;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await sleep(500);
  }
  throw new Error(`timed out waiting for ${what}; received: ${JSON.stringify(received.map((r) => [r.status, r.labels.alertname, r.labels.service_name ?? r.labels.monitor]))}`);
}

const has = (status: Received['status'], alertname: string, match: Record<string, string>, since = 0) =>
  received.some((r) => r.at >= since && r.status === status && r.labels.alertname === alertname && Object.entries(match).every(([k, v]) => r.labels[k] === v));

async function post(url: string, body: unknown, token?: string): Promise<number> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    });
    await res.text();
    return res.status;
  } catch {
    return 0;
  }
}

beforeAll(async () => {
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const payload = JSON.parse(body) as { alerts: { status: Received['status']; labels: Record<string, string> }[] };
      for (const a of payload.alerts) received.push({ at: Date.now(), status: a.status, labels: a.labels });
      res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const address = hook.address();
  hookUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hook`;
  const notify = tempDir('vigil-alert-demo-');
  cleanupNotify = notify.cleanup;
  const notificationsFile = path.join(notify.dir, 'alertmanager.yml');
  fs.writeFileSync(
    notificationsFile,
    [
      'route:',
      '  receiver: hook',
      "  group_by: ['alertname', 'service_name', 'monitor']",
      '  group_wait: 0s',
      '  group_interval: 1s',
      '  repeat_interval: 1h',
      'receivers:',
      '  - name: hook',
      '    webhook_configs:',
      `      - url: ${hookUrl}`,
      '        send_resolved: true',
      '',
    ].join('\n'),
  );
  vigil = await startTestVigil({ alerting: { notificationsFile } });
  const rulesFile = path.join(vigil.server.config.dataDir, 'rules', 'defaults.yml');
  expect(fs.existsSync(rulesFile)).toBe(true);
  scaleRules(rulesFile);
  demo = await startDemo({
    vigilOtlpUrl: vigil.server.urls.otlp,
    vigilHecUrl: vigil.server.urls.hec,
    vigilUrl: vigil.server.urls.api,
    token: vigil.ingestToken,
    dataDir: path.join(os.tmpdir(), 'vigil-demo-alerting-test'),
    adminPort: 0,
    trafficRate: 4,
    exportIntervalMs: 1000,
    env: { DEMO_GATEWAY_TIMEOUT_MS: '1500' },
  });
  // The auth service's health endpoint as a monitor: the MonitorDown rule's input.
  fs.mkdirSync(path.join(vigil.server.config.dataDir, 'monitors'), { recursive: true });
  fs.writeFileSync(
    path.join(vigil.server.config.dataDir, 'monitors', 'auth.yml'),
    `monitors:\n  - id: auth-health\n    name: Auth health\n    system: lms\n    type: http\n    url: ${demo.services['auth-service'].url}/health\n    interval: 10s\n`,
  );
}, 120_000);

afterAll(async () => {
  await demo?.stop();
  await vigil?.stop();
  await new Promise((r) => hook?.close(r));
  cleanupNotify?.();
}, 60_000);

describe('default alert rules on demo faults', () => {
  it('ordinary demo traffic raises no service alert', async () => {
    // Two aligned 30 s windows of ordinary traffic give every operation a baseline.
    await sleep(75_000);
    const noisy = received.filter((r) => r.status === 'firing' && ['HighErrorRate', 'ClientErrorSpike', 'SlowResponses', 'LatencyRegression', 'ServiceNoData'].includes(r.labels.alertname ?? ''));
    expect(noisy.map((r) => `${r.labels.alertname} ${r.labels.service_name} ${r.labels.http_route}`)).toEqual([]);
  }, 120_000);

  it('payment-gateway latency and LMS role misconfiguration each fire their rule, and resolve once fixed', async () => {
    const lms = demo.services['lms-api'].url;
    const rms = demo.services['rms-api'].url;
    const login = await fetch(`${lms}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: person(500).email, password: person(500).password }) });
    const token = String(((await login.json()) as { token: string }).token);
    const started = Date.now();
    await setFault(demo.adminUrl, 'lms-role-misconfig', true);
    await setFault(demo.adminUrl, 'rms-payment-gateway-latency', true);
    // More of the affected operations than the demo's own traffic makes in a window.
    const load = async (until: () => boolean) => {
      for (let i = 0; !until(); i++) {
        await Promise.all([
          post(`${lms}/api/courses/${1 + (i % 40)}/registrations`, {}, token),
          post(`${rms}/api/payments/batches`, { period: '2025-07', limit: 3 }),
          post(`${rms}/api/payments/batches`, { period: '2025-08', limit: 3 }),
        ]);
      }
    };
    const fired = () =>
      has('firing', 'ClientErrorSpike', { service_name: 'lms-api' }, started) &&
      has('firing', 'HighErrorRate', { service_name: 'rms-api', http_route: '/api/payments/batches' }, started) &&
      has('firing', 'LatencyRegression', { service_name: 'payment-gateway' }, started);
    const deadline = Date.now() + 90_000;
    await load(() => fired() || Date.now() > deadline);
    await until('firing notifications for both faults', fired, 5_000);

    const fixed = Date.now();
    await remediate(demo.adminUrl, 'restore-role-mapping');
    await remediate(demo.adminUrl, 'restart-payment-gateway');
    await until(
      'resolved notifications for both faults',
      () =>
        has('resolved', 'ClientErrorSpike', { service_name: 'lms-api' }, fixed) &&
        has('resolved', 'HighErrorRate', { service_name: 'rms-api', http_route: '/api/payments/batches' }, fixed) &&
        has('resolved', 'LatencyRegression', { service_name: 'payment-gateway' }, fixed),
      90_000,
    );
  }, 240_000);

  it('a service that stops fires ServiceNoData and MonitorDown, resolved when it is back', async () => {
    const started = Date.now();
    await setFault(demo.adminUrl, 'service-down', true, 'auth-service');
    await until('no-data and monitor-down notifications', () => has('firing', 'ServiceNoData', { service_name: 'auth-service' }, started) && has('firing', 'MonitorDown', { monitor: 'auth-health' }, started), 90_000);
    const fixed = Date.now();
    await remediate(demo.adminUrl, 'restart-auth-service');
    await until('resolved notifications', () => has('resolved', 'ServiceNoData', { service_name: 'auth-service' }, fixed) && has('resolved', 'MonitorDown', { monitor: 'auth-health' }, fixed), 90_000);
  }, 240_000);
});
