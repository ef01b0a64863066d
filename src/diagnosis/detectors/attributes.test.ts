/**
 * The attributes (BubbleUp) detector on real telemetry sent through the OTLP receiver: a complete rollout
 * of a slow version, a canary version that fails, one bad host of two, one failing peer of two, and a
 * healthy service with several hosts, pods and routes that must stay quiet. Each scenario has services
 * of its own so they share one store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectorContext, scopeAround } from '../../../test/helpers/diagnosis.ts';
import { every, runLinkQueries, seeded, sendSpans, type SpanSpec } from '../../../test/helpers/span-scenario.ts';
import { startTestVigil, type TestVigil } from '../../../test/helpers/vigil.ts';
import { attributesDetector } from './attributes.ts';

let v: TestVigil;
const NOW = Math.floor(Date.now() / 60_000) * 60_000 - 2 * 60_000;
const ONSET = NOW - 10 * 60_000;
const START = ONSET - 34 * 60_000;

beforeAll(async () => {
  v = await startTestVigil();
  const r = seeded(11);
  const spans: SpanSpec[] = [];
  const normal = (ms: number) => (r.next() < 0.05 ? r.around(ms * 2, ms / 2) : r.around(ms, ms / 4));
  every(START, NOW, 1000, (t, i) => {
    const fault = t >= ONSET;
    // A complete rollout: orders 1.5.0 replaces 1.4.0 at the onset and GET /orders gets 6× slower.
    spans.push({ service: 'orders', version: fault ? '1.5.0' : '1.4.0', host: i % 2 ? 'node-a' : 'node-b', name: 'GET /orders', kind: 'server', startMs: t, durMs: fault ? r.around(600, 100) : normal(100), attributes: { 'http.route': '/orders', 'http.response.status_code': 200 } });
    // A canary: a third of billing's traffic goes to 3.1.0 from the onset, and half of it fails.
    const canary = fault && i % 3 === 0;
    spans.push({ service: 'billing', version: canary ? '3.1.0' : '3.0.2', name: 'POST /invoice', kind: 'server', startMs: t, durMs: normal(50), error: canary && r.next() < 0.5, attributes: { 'http.route': '/invoice', 'http.response.status_code': canary && r.next() < 0.5 ? 500 : 200 } });
    // One bad host: inventory on node-b gets slow from the onset.
    const host = i % 2 ? 'node-a' : 'node-b';
    spans.push({ service: 'inventory', host, name: 'GET /stock', kind: 'server', startMs: t, durMs: fault && host === 'node-b' ? r.around(400, 80) : normal(40), attributes: { 'http.route': '/stock', 'http.response.status_code': 200 } });
    // A route of inventory and of catalog that always fails, before and during the window: no finding.
    if (i % 4 === 0) {
      for (const svc of ['inventory', 'catalog']) spans.push({ service: svc, host, name: 'GET /legacy', kind: 'server', startMs: t + 300, durMs: normal(10), error: true, attributes: { 'http.route': '/legacy', 'http.response.status_code': 500 } });
    }
    // One failing peer: payments' calls to fraud-check time out from the onset; calls to tax stay fine.
    spans.push({ service: 'payments', name: 'POST', kind: 'client', startMs: t, durMs: fault ? r.around(2000, 200) : normal(30), error: fault && r.next() < 0.5, attributes: { 'peer.service': 'fraud-check', ...(fault ? { 'error.type': 'timeout' } : {}) } });
    spans.push({ service: 'payments', name: 'POST', kind: 'client', startMs: t + 100, durMs: normal(20), attributes: { 'peer.service': 'tax' } });
    // Healthy: catalog on three hosts and five pods, two routes, ordinary noise.
    spans.push({
      service: 'catalog', host: `node-${'abc'[i % 3]}`, resource: { 'k8s.pod.name': `catalog-${i % 5}` }, name: i % 4 ? 'GET /items' : 'GET /items/{id}', kind: 'server', startMs: t, durMs: normal(60), error: r.next() < 0.01,
      attributes: { 'http.route': i % 4 ? '/items' : '/items/{id}', 'http.response.status_code': 200 },
    });
  });
  await sendSpans(v.server.urls.otlp, v.ingestToken, spans);
});

afterAll(async () => {
  await v?.stop();
});

const run = (services: string[]) => attributesDetector.run(detectorContext(v.server, scopeAround(ONSET, NOW, services)));

describe('attributes detector', () => {
  it('names a completely rolled-out version whose spans went slow as a change', async () => {
    const started = performance.now();
    const ev = await run(['orders']);
    expect(performance.now() - started).toBeLessThan(5000);
    if (process.env.SHOW) console.log(JSON.stringify(ev.map((e) => [e.category, e.component, e.score, e.summary])));
    const change = ev.find((e) => e.category === 'change');
    expect(change?.component).toBe('orders 1.5.0');
    expect(change!.role).toBe('cause');
    expect(change!.score).toBeGreaterThan(0.6);
    expect(change!.links.every((l) => l.href.startsWith('/'))).toBe(true);
    expect(ev.some((e) => e.component === 'orders 1.4.0')).toBe(false);
    expect(await runLinkQueries(v.server.queries, ev.flatMap((e) => e.links))).toBeGreaterThan(0);
  });

  it('names a canary version that fails as a change', async () => {
    const ev = await run(['billing']);
    if (process.env.SHOW) console.log(JSON.stringify(ev.map((e) => [e.category, e.component, e.score, e.summary])));
    const top = ev[0];
    expect(top?.category).toBe('change');
    expect(top?.component).toBe('billing 3.1.0');
    expect(top!.figures.share_of_bad as number).toBeGreaterThan(0.7);
    expect(top!.role).toBe('cause');
  });

  it('points at the one bad host', async () => {
    const ev = await run(['inventory']);
    if (process.env.SHOW) console.log(JSON.stringify(ev.map((e) => [e.category, e.component, e.score, e.summary])));
    const host = ev.find((e) => e.category === 'resource');
    expect(host?.component).toBe('host node-b');
    expect(host!.role).toBe('symptom');
    expect(host!.score).toBeGreaterThan(0.5);
    expect(ev.some((e) => e.component === 'host node-a')).toBe(false);
    expect(ev.some((e) => e.component.includes('/legacy') || e.component.includes('=500'))).toBe(false);
  });

  it('points at the failing peer among the calls', async () => {
    const ev = await run(['payments']);
    if (process.env.SHOW) console.log(JSON.stringify(ev.map((e) => [e.category, e.component, e.score, e.summary])));
    const peer = ev.find((e) => e.category === 'dependency');
    expect(peer?.component).toBe('fraud-check');
    expect(ev.some((e) => e.component === 'tax')).toBe(false);
    expect(await runLinkQueries(v.server.queries, ev.flatMap((e) => e.links))).toBeGreaterThan(0);
  });

  it('stays quiet on a healthy service', async () => {
    const ev = await run(['catalog']);
    expect(ev.filter((e) => e.score >= 0.3)).toEqual([]);
  });

  it('returns nothing on an empty period', async () => {
    expect(await attributesDetector.run(detectorContext(v.server, scopeAround(START - 60 * 60_000, START - 20 * 60_000, [])))).toEqual([]);
  });
});
