/**
 * The operations detector on real telemetry: 30 minutes of baseline and a fault sent through the OTLP
 * receiver, the detector run against the real query service. Three independent scenarios share one
 * store under different service names: a failing, slower operation (5xx and 4xx told apart), a traffic
 * surge, and a healthy service that must stay quiet.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectorContext, scopeAround } from '../../../test/helpers/diagnosis.ts';
import { every, runLinkQueries, seeded, sendSpans, type SpanSpec } from '../../../test/helpers/span-scenario.ts';
import { startTestVigil, type TestVigil } from '../../../test/helpers/vigil.ts';
import { operationsDetector } from './operations.ts';

let v: TestVigil;
const NOW = Math.floor(Date.now() / 60_000) * 60_000 - 2 * 60_000;
const ONSET = NOW - 10 * 60_000;
const START = ONSET - 34 * 60_000;

beforeAll(async () => {
  v = await startTestVigil();
  const r = seeded(7);
  const spans: SpanSpec[] = [];
  const server = (service: string, name: string, t: number, durMs: number, status: number, error = false): SpanSpec => ({
    service, name, kind: 'server', startMs: t, durMs, error, attributes: { 'http.route': name.split(' ')[1] ?? name, 'http.response.status_code': status },
  });
  every(START, NOW, 1000, (t) => {
    const fault = t >= ONSET;
    // Scenario 1: checkout's POST /pay gets slow and fails; POST /login answers many 4xx; GET /cart is fine.
    spans.push(server('checkout', 'POST /pay', t, fault ? r.around(900, 150) : r.around(100, 30), fault && r.next() < 0.3 ? 503 : 200));
    spans.push(server('checkout', 'POST /login', t + 200, r.around(40, 10), (fault ? r.next() < 0.4 : r.next() < 0.02) ? 401 : 200));
    spans.push(server('checkout', 'GET /cart', t + 400, r.around(30, 10), r.next() < 0.01 ? 500 : 200));
    // Scenario 3: a healthy service with ordinary noise (1% errors, jittery latency).
    spans.push(server('catalog', 'GET /items', t + 500, r.next() < 0.05 ? r.around(300, 100) : r.around(60, 20), r.next() < 0.01 ? 500 : 200));
  });
  // Healthy too: a rarely called, long-tailed operation (one request a minute) whose p95 wobbles.
  every(START, NOW, 60_000, (t) => spans.push(server('catalog', 'GET /export', t + 700, r.next() < 0.15 ? r.around(1500, 800) : r.around(200, 80), r.next() < 0.03 ? 500 : 200)));
  // Scenario 2: a surge — 5× the requests from the onset on, and slower under the load.
  every(START, NOW, 2000, (t) => {
    const n = t >= ONSET ? 10 : 1;
    for (let i = 0; i < n; i++) spans.push(server('search', 'GET /q', t + i * 150, t >= ONSET ? r.around(400, 80) : r.around(80, 20), 200));
  });
  await sendSpans(v.server.urls.otlp, v.ingestToken, spans);
});

afterAll(async () => {
  await v?.stop();
});

describe('operations detector', () => {
  it('reports the failing, slower operation with its onset, and 4xx apart from 5xx', async () => {
    const started = performance.now();
    const ev = await operationsDetector.run(detectorContext(v.server, scopeAround(ONSET, NOW, ['checkout'])));
    expect(performance.now() - started).toBeLessThan(5000);
    if (process.env.SHOW) console.log(JSON.stringify(ev, null, 1));
    const pay = ev.find((e) => e.component === 'checkout POST /pay');
    expect(pay).toBeDefined();
    expect(pay!.category).toBe('code');
    expect(pay!.role).toBe('symptom');
    expect(pay!.score).toBeGreaterThan(0.6);
    expect(pay!.figures.window_5xx_share as number).toBeGreaterThan(0.2);
    expect(pay!.figures.baseline_5xx_share).toBe(0);
    expect(pay!.figures.window_p95_ms as number).toBeGreaterThan(4 * (pay!.figures.baseline_p95_ms as number));
    expect(Math.abs(pay!.onsetMs! - ONSET)).toBeLessThanOrEqual(60_000);
    expect(pay!.summary).toMatch(/^p95 of POST \/pay \(checkout\) rose from .* to .* at \d\d:\d\d; 5xx from 0% to \d+% \(\d+ of \d+\)\.$/);
    expect(pay!.links.some((l) => l.href.startsWith('/logs?q=') && decodeURIComponent(l.href).includes('name="POST /pay"'))).toBe(true);

    const login = ev.find((e) => e.component === 'checkout POST /login');
    expect(login).toBeDefined();
    expect(login!.summary).toMatch(/^4xx of POST \/login \(checkout\) rose from 2% to \d+%/);
    expect(login!.summary).not.toMatch(/5xx/);
    expect(login!.score).toBeLessThan(pay!.score);
    expect(ev.find((e) => e.component === 'checkout GET /cart')).toBeUndefined();
    expect(await runLinkQueries(v.server.queries, ev.flatMap((e) => e.links))).toBeGreaterThan(0);
    expect(ev.some((e) => e.category === 'capacity')).toBe(false);
  });

  it('reports a traffic surge with latency growth as a capacity cause', async () => {
    const ev = await operationsDetector.run(detectorContext(v.server, scopeAround(ONSET, NOW, ['search'])));
    if (process.env.SHOW) console.log(JSON.stringify(ev.map((e) => [e.component, e.score, e.summary])));
    const surge = ev.find((e) => e.category === 'capacity');
    expect(surge).toBeDefined();
    expect(surge!.component).toBe('search');
    expect(surge!.role).toBe('cause');
    expect(surge!.figures.rate_ratio as number).toBeGreaterThan(3);
    expect(surge!.score).toBeGreaterThan(0.5);
    expect(Math.abs(surge!.onsetMs! - ONSET)).toBeLessThanOrEqual(60_000);
    expect(ev.find((e) => e.component === 'search GET /q')?.category).toBe('code');
    expect(await runLinkQueries(v.server.queries, surge!.links)).toBe(2);
  });

  it('stays quiet on a healthy service', async () => {
    const ev = await operationsDetector.run(detectorContext(v.server, scopeAround(ONSET, NOW, ['catalog'])));
    expect(ev.filter((e) => e.score >= 0.3)).toEqual([]);
  });

  it('returns nothing for an empty period, and stops when aborted', async () => {
    const empty = scopeAround(START - 60 * 60_000, START - 20 * 60_000, []);
    expect(await operationsDetector.run(detectorContext(v.server, empty))).toEqual([]);
    const ac = new AbortController();
    ac.abort();
    expect(await operationsDetector.run(detectorContext(v.server, scopeAround(ONSET, NOW, ['checkout']), ac.signal))).toEqual([]);
  });
});
