/**
 * The availability detector on real telemetry sent through the OTLP receiver: a downstream service that
 * crashes (silent, its caller's connects refused), an uninstrumented host that refuses connections, an
 * entry service that stops with its only callee starving behind it, and a healthy service whose pool
 * time-outs are not connection failures. Each scenario has services of its own in one store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectorContext, scopeAround } from '../../../test/helpers/diagnosis.ts';
import { every, runLinkQueries, seeded, sendSpans, type SpanSpec } from '../../../test/helpers/span-scenario.ts';
import { startTestVigil, type TestVigil } from '../../../test/helpers/vigil.ts';
import { availabilityDetector } from './availability.ts';

let v: TestVigil;
const NOW = Math.floor(Date.now() / 60_000) * 60_000 - 2 * 60_000;
const ONSET = NOW - 10 * 60_000;
const START = ONSET - 34 * 60_000;

beforeAll(async () => {
  v = await startTestVigil();
  const r = seeded(5);
  const spans: SpanSpec[] = [];
  const call = (service: string, t: number, attributes: Record<string, string>, error?: string, errorType?: string): SpanSpec => ({
    service, name: 'POST', kind: 'client', startMs: t, durMs: error ? 2 : r.around(30, 10), error: error ?? false, attributes: { ...attributes, ...(errorType ? { 'error.type': errorType } : {}) },
  });
  every(START, NOW, 2000, (t) => {
    const down = t >= ONSET;
    // storefront → checkout → ledger; ledger crashes at the onset.
    spans.push({ service: 'storefront', name: 'GET /', kind: 'server', startMs: t, durMs: r.around(80, 20) });
    spans.push(call('storefront', t + 1, { 'peer.service': 'checkout' }));
    spans.push({ service: 'checkout', name: 'POST /pay', kind: 'server', startMs: t + 2, durMs: r.around(60, 10), error: down });
    spans.push(down ? call('checkout', t + 3, { 'peer.service': 'ledger' }, 'connect ECONNREFUSED 10.0.0.7:8080', 'ECONNREFUSED') : call('checkout', t + 3, { 'peer.service': 'ledger' }));
    if (!down) spans.push({ service: 'ledger', name: 'POST /entries', kind: 'server', startMs: t + 4, durMs: r.around(20, 5) });
    // reports → pdf-renderer (not instrumented, called by address) refuses connections from the onset.
    spans.push({ service: 'reports', name: 'GET /report', kind: 'server', startMs: t, durMs: r.around(200, 40), error: down });
    spans.push(down ? call('reports', t + 1, { 'server.address': 'pdf-renderer' }, 'connect ECONNREFUSED 10.0.0.9:9000') : call('reports', t + 1, { 'server.address': 'pdf-renderer' }));
    // gateway → worker: gateway stops at the onset, so worker gets nothing to do.
    if (!down) {
      spans.push({ service: 'gateway', name: 'GET /jobs', kind: 'server', startMs: t, durMs: r.around(40, 10) });
      spans.push(call('gateway', t + 1, { 'peer.service': 'worker' }));
      spans.push({ service: 'worker', name: 'POST /run', kind: 'server', startMs: t + 2, durMs: r.around(25, 5) });
    }
    // shop-api fails before it calls stock from the onset (stock goes quiet, starved); edge's calls to mid
    // are answered 502 with the "ECONNREFUSED" mid relays from further down: neither is down.
    spans.push({ service: 'shop-api', name: 'POST /buy', kind: 'server', startMs: t, durMs: r.around(30, 5), error: down });
    if (!down) {
      spans.push(call('shop-api', t + 1, { 'peer.service': 'stock' }));
      spans.push({ service: 'stock', name: 'POST /reserve', kind: 'server', startMs: t + 2, durMs: r.around(15, 5) });
    }
    spans.push(down ? { ...call('edge', t, { 'peer.service': 'mid' }, 'upstream failed: connect ECONNREFUSED 10.0.0.3:80', 'ECONNREFUSED'), attributes: { 'peer.service': 'mid', 'error.type': 'ECONNREFUSED', 'http.response.status_code': 502 } } : call('edge', t, { 'peer.service': 'mid' }));
    spans.push({ service: 'mid', name: 'GET /x', kind: 'server', startMs: t + 1, durMs: r.around(15, 5), error: down, attributes: { 'http.response.status_code': down ? 502 : 200 } });
    // Healthy catalog: its pool time-outs in the window are no connection failure.
    spans.push({ service: 'catalog', name: 'GET /items', kind: 'server', startMs: t, durMs: r.around(50, 10) });
    spans.push(down && r.next() < 0.3 ? call('catalog', t + 1, { 'server.address': 'catalog-db' }, 'timeout acquiring a connection from the pool', 'PoolTimeoutError') : call('catalog', t + 1, { 'server.address': 'catalog-db' }));
  });
  await sendSpans(v.server.urls.otlp, v.ingestToken, spans);
});

afterAll(async () => {
  await v?.stop();
});

const run = (services: string[]) => availabilityDetector.run(detectorContext(v.server, scopeAround(ONSET, NOW, services)));

describe('availability detector', () => {
  it('names the crashed downstream service, silent and refusing its caller, with the time it stopped', async () => {
    const started = performance.now();
    const ev = await run(['storefront']);
    expect(performance.now() - started).toBeLessThan(5000);
    if (process.env.SHOW) console.log(JSON.stringify(ev.map((e) => [e.component, e.score, e.onsetMs, e.summary])));
    expect(ev.map((e) => e.component)).toEqual(['ledger']);
    const [e] = ev;
    expect(e!.category).toBe('availability');
    expect(e!.role).toBe('cause');
    expect(e!.services).toEqual(['ledger', 'checkout']);
    expect(e!.score).toBeGreaterThan(0.8);
    expect(Math.abs(e!.onsetMs! - ONSET)).toBeLessThanOrEqual(60_000);
    expect(e!.figures.refused_share as number).toBeGreaterThan(0.9);
    expect(e!.summary).toMatch(/^ledger stopped reporting spans at \d\d:\d\d .*; 100% of the calls to ledger from checkout fail to connect/);
    expect(e!.links.every((l) => l.href.startsWith('/'))).toBe(true);
    expect(await runLinkQueries(v.server.queries, ev.flatMap((e) => e.links))).toBeGreaterThan(0);
  });

  it('names an uninstrumented host that refuses connections', async () => {
    const ev = await run(['reports']);
    if (process.env.SHOW) console.log(JSON.stringify(ev.map((e) => [e.component, e.score, e.onsetMs, e.summary])));
    expect(ev.map((e) => e.component)).toEqual(['pdf-renderer']);
    expect(ev[0]!.score).toBeGreaterThan(0.6);
    expect(Math.abs(ev[0]!.onsetMs! - ONSET)).toBeLessThanOrEqual(60_000);
  });

  it('names the stopped entry service, not the callee that starves behind it', async () => {
    const ev = await run(['gateway']);
    if (process.env.SHOW) console.log(JSON.stringify(ev.map((e) => [e.component, e.score, e.onsetMs, e.summary])));
    expect(ev.map((e) => e.component)).toEqual(['gateway']);
    expect(ev[0]!.figures.silent_minutes as number).toBeGreaterThanOrEqual(9);
  });

  it('leaves a starved callee alone, and takes a relayed ECONNREFUSED in an answer for no connection failure', async () => {
    expect(await run(['shop-api'])).toEqual([]);
    expect(await run(['edge'])).toEqual([]);
  });

  it('stays quiet on a healthy service whose pool time-outs are no connection failures', async () => {
    expect(await run(['catalog'])).toEqual([]);
  });

  it('returns nothing on an empty period', async () => {
    expect(await availabilityDetector.run(detectorContext(v.server, scopeAround(START - 60 * 60_000, START - 20 * 60_000, [])))).toEqual([]);
  });
});
