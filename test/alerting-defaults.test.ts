/**
 * The default rules Vigil writes on first start, on data no demo fault produces: slow responses over 5 s
 * and host resource exhaustion (CPU, memory, disk, disk full within 24 h), sent through the real OTLP
 * receiver with the OpenTelemetry semantic-convention names a host agent uses. Only the rules' `for` and
 * group intervals are shortened; what they compute is the file's.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isMap, isSeq, parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PromAlertsResponse } from '../src/api/contract.ts';
import { startTestVigil, type TestVigil } from './helpers/vigil.ts';
import { postOtlp as postOtlpTo } from './helpers/otlp-send.ts';

const MIN = 60_000;
let v: TestVigil;
let readToken: string;

type Attr = string | number;
const kv = (key: string, value: Attr) => ({ key, value: typeof value === 'string' ? { stringValue: value } : { doubleValue: value } });
const attrs = (o: Record<string, Attr>) => Object.entries(o).map(([k, x]) => kv(k, x));
const ns = (ms: number) => (BigInt(Math.round(ms)) * 1_000_000n).toString();
let idCounter = 1;
const newId = (bytes: number) => Buffer.from((idCounter++).toString(16).padStart(bytes * 2, '0'), 'hex');

const postOtlp = (type: 'traces' | 'metrics', message: Record<string, unknown>) => postOtlpTo(v.server.urls.otlp, v.ingestToken, type, message);

async function alerts(): Promise<PromAlertsResponse['data']['alerts']> {
  const res = await fetch(`${v.server.urls.api}/api/v1/alerts`, { headers: { authorization: `Bearer ${readToken}` } });
  return ((await res.json()) as PromAlertsResponse).data.alerts;
}

async function firing(alertname: string, labels: Record<string, string>, timeoutMs = 20_000): Promise<PromAlertsResponse['data']['alerts'][number]> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const found = (await alerts()).find((a) => a.state === 'firing' && a.labels.alertname === alertname && Object.entries(labels).every(([k, x]) => a.labels[k] === x));
    if (found) return found;
    if (Date.now() > end) throw new Error(`${alertname} ${JSON.stringify(labels)} did not fire; alerts: ${JSON.stringify((await alerts()).map((a) => [a.labels.alertname, a.state, a.value]))}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** Host metrics of the last `minutes`, every 10 s: gauge name → [attributes, value at time t]. */
function hostMetrics(host: string, series: [string, Record<string, Attr>, (t: number) => number][], fromMs: number, stepMs: number) {
  const times: number[] = [];
  for (let t = fromMs; t < Date.now() - 2000; t += stepMs) times.push(t);
  const byName = new Map<string, Record<string, unknown>[]>();
  for (const [name, a, value] of series) {
    const points = byName.get(name) ?? [];
    points.push(...times.map((t) => ({ timeUnixNano: ns(t), asDouble: value(t), attributes: attrs(a) })));
    byName.set(name, points);
  }
  return {
    resource: { attributes: attrs({ 'service.name': 'host-agent', 'host.name': host }) },
    scopeMetrics: [{ scope: { name: 'test' }, metrics: [...byName].map(([name, dataPoints]) => ({ name, unit: '1', gauge: { dataPoints } })) }],
  };
}

beforeAll(async () => {
  v = await startTestVigil({ agent: { selfMonitor: false } });
  readToken = await v.server.tokens.create('reader', 'read');
  const file = path.join(v.server.config.dataDir, 'rules', 'defaults.yml');
  const doc = parseDocument(fs.readFileSync(file, 'utf8'));
  const groups = doc.get('groups');
  if (!isSeq(groups)) throw new Error('defaults.yml has no groups');
  for (const g of groups.items) {
    if (!isMap(g)) continue;
    g.set('interval', '1s');
    const rules = g.get('rules');
    if (isSeq(rules)) for (const r of rules.items) if (isMap(r) && r.has('for')) r.set('for', '0s');
  }
  fs.writeFileSync(file, String(doc));
  // The rules directory is watched: wait until the shortened intervals are in force.
  const end = Date.now() + 10_000;
  for (;;) {
    const res = await fetch(`${v.server.urls.api}/api/v1/rules`, { headers: { authorization: `Bearer ${readToken}` } });
    const body = (await res.json()) as { data: { groups: { interval: number }[] } };
    if (body.data.groups.length > 0 && body.data.groups.every((g) => g.interval === 1)) break;
    if (Date.now() > end) throw new Error('the edited defaults were not reloaded');
    await new Promise((r) => setTimeout(r, 200));
  }
});

afterAll(async () => {
  await v?.stop();
});

describe('default rules on slow responses and host resources', () => {
  it('SlowResponses fires when p95 passes 5 s (and not for a fast route of the same service)', async () => {
    const now = Date.now();
    const span = (route: string, i: number, ms: number) => ({
      traceId: newId(16),
      spanId: newId(8),
      name: `POST ${route}`,
      kind: 2,
      startTimeUnixNano: ns(now - 90_000 + i * 1000),
      endTimeUnixNano: ns(now - 90_000 + i * 1000 + ms),
      attributes: attrs({ 'http.request.method': 'POST', 'http.route': route, 'http.response.status_code': 200 }),
      status: { code: 1 },
    });
    const spans = [...Array.from({ length: 12 }, (_, i) => span('/reports/export', i, 6500)), ...Array.from({ length: 12 }, (_, i) => span('/reports', i, 40))];
    await postOtlp('traces', { resourceSpans: [{ resource: { attributes: attrs({ 'service.name': 'billing-api' }) }, scopeSpans: [{ scope: { name: 't' }, spans }] }] });
    const a = await firing('SlowResponses', { service_name: 'billing-api', http_route: '/reports/export' });
    expect(Number(a.value)).toBeGreaterThan(5000);
    expect((await alerts()).some((x) => x.labels.alertname === 'SlowResponses' && x.labels.http_route === '/reports')).toBe(false);
  });

  it('CPU, memory and disk exhaustion fire for the exhausted host only; a disk filling up fires before it is full', async () => {
    const from = Date.now() - 2 * MIN;
    await postOtlp('metrics', {
      resourceMetrics: [
        hostMetrics(
          'db-host-1',
          [
            ['system.cpu.utilization', { 'cpu.mode': 'idle' }, () => 0.03],
            ['system.cpu.utilization', { 'cpu.mode': 'user' }, () => 0.9],
            ['system.memory.utilization', { 'system.memory.state': 'used' }, () => 0.95],
            ['system.filesystem.utilization', { 'system.filesystem.mountpoint': '/data' }, () => 0.91],
          ],
          from,
          10_000,
        ),
        hostMetrics(
          'web-host-1',
          [
            ['system.cpu.utilization', { 'cpu.mode': 'idle' }, () => 0.7],
            ['system.memory.utilization', { 'system.memory.state': 'used' }, () => 0.4],
          ],
          from,
          10_000,
        ),
        // /spool: 50% six hours ago, 80% now: at this pace it is full in about 4 hours.
        hostMetrics('batch-host-1', [['system.filesystem.utilization', { 'system.filesystem.mountpoint': '/spool' }, (t) => 0.8 - (0.3 * (Date.now() - t)) / (6 * 60 * MIN)]], Date.now() - 6 * 60 * MIN + MIN, 10 * MIN),
      ],
    });
    const cpu = await firing('HostCpuHigh', { host_name: 'db-host-1' });
    expect(Number(cpu.value)).toBeCloseTo(0.03, 5);
    const mem = await firing('HostMemoryHigh', { host_name: 'db-host-1' });
    expect(Number(mem.value)).toBeCloseTo(0.95, 5);
    await firing('HostDiskHigh', { system_filesystem_mountpoint: '/data' });
    const soon = await firing('HostDiskFullSoon', { system_filesystem_mountpoint: '/spool' });
    expect(Number(soon.value)).toBeGreaterThan(1);
    const all = await alerts();
    expect(all.some((a) => a.labels.host_name === 'web-host-1')).toBe(false);
    expect(all.some((a) => a.labels.alertname === 'HostDiskHigh' && a.labels.system_filesystem_mountpoint === '/spool')).toBe(false);
  });
});
