/**
 * The `dependencies` detector on a real server, four disjoint call chains over 30 min of baseline and a
 * 10-min incident window:
 * - storefront → checkout → ledger: ledger slows to 4.8 s, checkout gives up after 2 s ("timeout"),
 *   storefront's calls to checkout fail in turn (the deepest dependency must come first);
 * - web → inventory: inventory stops (no spans), web's calls fail with ECONNREFUSED;
 * - orders → profile: GET /orders/{id} goes from 2 to 8 profile calls per request;
 * - portal → search: search slows to 3 s, portal's calls fail at 1 s with no message (a client deadline);
 * - gateway → catalog: healthy throughout (must stay quiet).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectorContext, scopeAround } from '../../../test/helpers/diagnosis.ts';
import { minutesAgo, newId, sendSpans, type SpanSpec } from '../../../test/helpers/infra-telemetry.ts';
import { runLinkQueries } from '../../../test/helpers/span-scenario.ts';
import { startTestVigil, type TestVigil } from '../../../test/helpers/vigil.ts';
import { dependenciesDetector, judgeEdge } from './dependencies.ts';

const MIN = 60_000;
const ONSET = minutesAgo(12);
const END = minutesAgo(2);
const FAULT = ONSET - MIN;
let v: TestVigil;

/** `perMin` requests a minute over [from, to), each built by `build(t, faulty)`. */
function traffic(perMin: number, build: (t: number, faulty: boolean) => SpanSpec[]): SpanSpec[] {
  const out: SpanSpec[] = [];
  for (let t = ONSET - 32 * MIN; t < END; t += MIN / perMin) out.push(...build(Math.round(t), t >= FAULT));
  return out;
}

/** A server span with one client call per `callees` entry, each answered by the callee's server span (if `answers`). */
function request(service: string, route: string, t: number, calls: { callee: string; ms: number; error?: string | boolean; serverMs?: number; answers?: boolean; nested?: SpanSpec[] }[], err?: string): SpanSpec[] {
  const traceId = newId(16);
  const root = newId(8);
  const total = calls.reduce((a, c) => a + c.ms, 0) + 5;
  const spans: SpanSpec[] = [{ service, traceId, spanId: root, name: `GET ${route}`, kind: 'server', startMs: t, durMs: total, attributes: { 'http.route': route, 'http.request.method': 'GET', 'http.response.status_code': err ? 500 : 200 }, error: err }];
  let at = t + 2;
  for (const c of calls) {
    const client = newId(8);
    spans.push({ service, traceId, spanId: client, parent: root, name: 'POST', kind: 'client', startMs: at, durMs: c.ms, attributes: { 'peer.service': c.callee }, error: c.error });
    if (c.answers !== false) spans.push({ service: c.callee, traceId, parent: client, name: 'POST /handle', kind: 'server', startMs: at + 1, durMs: c.serverMs ?? c.ms - 2 });
    at += c.ms;
  }
  return spans;
}

beforeAll(async () => {
  v = await startTestVigil();
  const spans: SpanSpec[] = [
    // storefront → checkout → ledger, ledger slow in the fault, checkout times out at 2 s.
    ...traffic(20, (t, faulty): SpanSpec[] => {
      const traceId = newId(16);
      const [sf, c1, co, c2] = [newId(8), newId(8), newId(8), newId(8)];
      const ledgerMs = faulty ? 4800 : 18;
      const waited = faulty ? 2000 : 20;
      return [
        { service: 'storefront', traceId, spanId: sf, name: 'GET /cart', kind: 'server', startMs: t, durMs: waited + 30, attributes: { 'http.route': '/cart', 'http.request.method': 'GET' }, error: faulty ? 'upstream failed' : undefined },
        { service: 'storefront', traceId, spanId: c1, parent: sf, name: 'POST', kind: 'client', startMs: t + 2, durMs: waited + 20, attributes: { 'peer.service': 'checkout', 'http.response.status_code': faulty ? 500 : 200 }, error: faulty ? 'HTTP 500' : undefined },
        { service: 'checkout', traceId, spanId: co, parent: c1, name: 'POST /checkout', kind: 'server', startMs: t + 3, durMs: waited + 15, attributes: { 'http.response.status_code': faulty ? 500 : 200 }, error: faulty },
        { service: 'checkout', traceId, spanId: c2, parent: co, name: 'POST', kind: 'client', startMs: t + 4, durMs: waited, attributes: { 'peer.service': 'ledger' }, error: faulty ? 'request timeout after 2000ms' : undefined },
        { service: 'ledger', traceId, parent: c2, name: 'POST /entries', kind: 'server', startMs: t + 5, durMs: ledgerMs },
      ];
    }),
    // web → inventory: inventory is down in the fault (refused connections, no server spans).
    ...traffic(10, (t, faulty) => request('web', '/stock', t, [{ callee: 'inventory', ms: faulty ? 3 : 25, error: faulty ? 'connect ECONNREFUSED 10.0.0.7:8080' : undefined, answers: !faulty }], faulty ? 'inventory failed' : undefined)),
    // orders → profile: 2 calls per request, 8 in the fault; a health route calls nothing.
    ...traffic(10, (t, faulty) => request('orders', '/orders/{id}', t, Array.from({ length: faulty ? 8 : 2 }, () => ({ callee: 'profile', ms: 6 })))),
    ...traffic(10, (t) => request('orders', '/health', t, [])),
    // portal → search: search slows to 3 s; portal's calls fail at 1 s without saying why (a client deadline).
    ...traffic(10, (t, faulty) => request('portal', '/find', t, [{ callee: 'search', ms: faulty ? 1000 + (t % 5) : 40 + (t % 20), error: faulty ? true : undefined, serverMs: faulty ? 3000 : undefined }], faulty ? 'search failed' : undefined)),
    // billing → pdf: billing's process saturates, so its calls to pdf look 10× slower while pdf answers as fast as ever.
    ...traffic(10, (t, faulty) => request('billing', '/invoice', t, [{ callee: 'pdf', ms: faulty ? 400 + (t % 7) : 40 + (t % 5), serverMs: 8 + (t % 3) }])),
    // kiosk → tickets: tickets fails for three minutes from the fault, then answers again.
    ...traffic(10, (t, faulty) => {
      const failing = faulty && t < FAULT + 3 * MIN;
      return request('kiosk', '/book', t, [{ callee: 'tickets', ms: 20, error: failing ? 'HTTP 503' : undefined }], failing ? 'tickets failed' : undefined);
    }),
    // gateway → catalog: healthy, with a little noise (an occasional error and slower call).
    ...traffic(15, (t) => request('gateway', '/products', t, [{ callee: 'catalog', ms: 30 + ((t / 1000) % 7) * 3, error: (t / 4000) % 97 === 0 ? 'HTTP 503' : undefined }])),
  ];
  await sendSpans(v.server.urls.otlp, v.ingestToken, spans);
});

afterAll(async () => {
  await v?.stop();
});

const run = (services: string[]) => dependenciesDetector.run(detectorContext(v.server, scopeAround(ONSET, END, services)));

describe('dependencies detector', () => {
  it('names the slow dependency behind the callers that time out first, with both durations', async () => {
    const started = Date.now();
    const evidence = await run(['storefront']);
    expect(Date.now() - started).toBeLessThan(5000);
    const ledger = evidence.find((e) => e.component === 'ledger');
    expect(ledger).toMatchObject({ category: 'dependency', role: 'cause' });
    expect(ledger!.services).toEqual(['ledger', 'checkout']);
    expect(ledger!.summary).toMatch(/checkout gives up on ledger before it answers: 9\d% of checkout's 240 calls to it fail/);
    expect(ledger!.summary).toMatch(/ending at 2(\.0)? s/);
    expect(ledger!.summary).toContain('4.8 s');
    expect(ledger!.figures).toMatchObject({ caller_wait_ms: 2000, callee_duration_ms: 4800 });
    expect(ledger!.score).toBeGreaterThan(0.8);
    expect(Math.abs(ledger!.onsetMs! - FAULT)).toBeLessThanOrEqual(MIN);
    expect(ledger!.links[0]!.href).toMatch(/^\/logs\?q=from%20spans/);

    // checkout fails too, but because of ledger: weaker, and it says so.
    const checkout = evidence.find((e) => e.component === 'checkout');
    expect(checkout).toBeDefined();
    expect(checkout!.score).toBeLessThan(ledger!.score);
    expect(checkout!.summary).toContain('failing to reach ledger');
  });

  it('recognises a client deadline from failed calls clustered at one duration', async () => {
    const evidence = await run(['portal']);
    const search = evidence.find((e) => e.component === 'search');
    expect(search).toMatchObject({ category: 'dependency', role: 'cause' });
    expect(search!.summary).toMatch(/portal gives up on search before it answers: .* ending at 1(\.0)? s \(a client time-out\) while search's own requests in the same traces take 3(\.0)? s/);

    // A deploy of search just before the onset explains its slowness: said, and weighed less.
    await v.server.changes.record({ at: ONSET - 3 * MIN, service: 'search', namespace: '', kind: 'deploy', version: '7.0.0', previousVersion: '6.9.0', description: '', author: null, commit: null, source: 'api', attributes: {}, createdAt: Date.now() });
    const after = (await run(['portal'])).find((e) => e.component === 'search');
    expect(after!.summary).toContain('search 7.0.0 (deploy) took effect 3 min before the onset');
    expect(after!.figures.explained_by).toBe('search 7.0.0');
    expect(after!.score).toBeLessThan(search!.score);
  });

  it('reports a callee that stopped answering as unavailable', async () => {
    const evidence = await run(['web']);
    const down = evidence.find((e) => e.component === 'inventory');
    expect(down).toMatchObject({ category: 'availability', role: 'cause', services: ['inventory', 'web'] });
    expect(down!.summary).toContain('ECONNREFUSED');
    expect(down!.summary).toContain('no requests of its own since they began to fail');
    expect(down!.score).toBeGreaterThan(0.8);
  });

  it('diagnosed a second after the onset, a callee answering late is slow, not down; a dead one is down', async () => {
    // No request starts in the second after this onset (storefront's come every 3 s, web's every 6 s), so no
    // callee has spans "since the onset" yet; the window starts before the fault, the baseline is clean.
    const onset = ONSET + 5 * MIN + 500;
    const scoped = (services: string[]) => dependenciesDetector.run(detectorContext(v.server, scopeAround(onset, onset + 1000, services, { leadMin: 8 })));
    const ledger = (await scoped(['storefront'])).find((e) => e.component === 'ledger');
    expect(ledger).toMatchObject({ category: 'dependency' });
    expect(ledger!.summary).toContain('gives up on ledger before it answers');
    const inventory = (await scoped(['web'])).find((e) => e.component === 'inventory');
    expect(inventory).toMatchObject({ category: 'availability' });
  });

  it('a callee that answers as fast as ever is not what slowed its caller: the time is lost on the caller side', async () => {
    const pdf = (await run(['billing'])).find((e) => e.component === 'pdf');
    expect(pdf).toBeDefined();
    expect(pdf!.summary).toContain('the time is lost on');
    expect(pdf!.figures.callee_own_p95_ms as number).toBeLessThan(15);
    expect(pdf!.score).toBeLessThanOrEqual(0.3);
  });

  it('a dependency failing in the window but no longer at the onset is past trouble, weighed little', async () => {
    const during = (await run(['kiosk'])).find((e) => e.component === 'tickets');
    expect(during!.score).toBeGreaterThan(0.5);
    // An incident of kiosk opening six minutes after the fault: the window's lead still holds the failures.
    const onset = FAULT + 6 * MIN;
    const later = (await dependenciesDetector.run(detectorContext(v.server, scopeAround(onset, onset + MIN, ['kiosk'], { leadMin: 8 })))).find((e) => e.component === 'tickets');
    expect(later).toBeDefined();
    expect(later!.summary).toContain('It had ended before the onset');
    expect(later!.score).toBeLessThan(0.3);
  });

  it('finds a fan-out grown several-fold and names the operation, or the deploy that explains it', async () => {
    let evidence = await run(['orders']);
    const fan = evidence.find((e) => e.category === 'code');
    expect(fan).toMatchObject({ component: 'orders GET /orders/{id}', services: ['orders', 'profile'] });
    expect(fan!.figures).toMatchObject({ growth: 4 });
    expect(fan!.score).toBeGreaterThan(0.5);

    await v.server.changes.record({ at: ONSET - 4 * MIN, service: 'orders', namespace: '', kind: 'deploy', version: '2.0.0', previousVersion: '1.9.0', description: '', author: null, commit: null, source: 'api', attributes: {}, createdAt: Date.now() });
    evidence = await run(['orders']);
    expect(evidence.find((e) => e.category === 'code')).toBeUndefined();
    expect(evidence.find((e) => e.component === 'orders 2.0.0')).toMatchObject({ category: 'change', role: 'cause' });
  });

  it('stays quiet on a healthy chain', async () => {
    const evidence = await run(['gateway']);
    expect(evidence.filter((e) => e.score >= 0.3)).toEqual([]);
  });

  it('on an empty scope, looks at every edge', async () => {
    const evidence = await run([]);
    expect(evidence.map((e) => e.component)).toEqual(expect.arrayContaining(['ledger', 'inventory']));
    expect(evidence.some((e) => e.services.includes('gateway'))).toBe(false);
    // Every search link opens: its query runs.
    expect(await runLinkQueries(v.server.queries, evidence.flatMap((e) => e.links))).toBeGreaterThanOrEqual(evidence.length);
  });
});

describe('judgeEdge', () => {
  const row = (calls: number, errors: number, p95: number) => ({ service: 'a', target: 'b', target_kind: 'service', calls, errors, error_rate: errors / calls, p50_ms: p95 / 2, p95_ms: p95, p99_ms: p95, total_time_ms: 0 });
  it('scales with volume and effect', () => {
    const few = judgeEdge({ caller: 'a', callee: 'b', kind: 'service', base: row(100, 0, 50), win: row(10, 6, 50) });
    const many = judgeEdge({ caller: 'a', callee: 'b', kind: 'service', base: row(1000, 1, 50), win: row(500, 300, 50) });
    expect(many!.score).toBeGreaterThan(few!.score);
    expect(judgeEdge({ caller: 'a', callee: 'b', kind: 'service', base: row(1000, 10, 50), win: row(300, 4, 60) })).toBeNull();
  });
});
