/**
 * The conformance suite every detector passes (DESIGN.md §9): on an empty store it answers [] promptly, on
 * ordinary healthy traffic it raises nothing strong, whatever it returns is well-formed, and it stops soon
 * after its signal aborts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectorContext, scopeAround } from '../../../test/helpers/diagnosis.ts';
import { postOtlp } from '../../../test/helpers/otlp-send.ts';
import { startTestVigil, type TestVigil } from '../../../test/helpers/vigil.ts';
import { checkEvidence } from '../runner.ts';
import { CATEGORIES, type Evidence } from '../types.ts';
import { DETECTORS } from './index.ts';

// Ids as bytes: protobuf's fromObject reads a string in a bytes field as base64.
const hex = (n: number, bytes: number) => Buffer.from(n.toString(16).padStart(bytes * 2, '0'), 'hex');
const attr = (key: string, v: string | number) => ({ key, value: typeof v === 'number' ? (Number.isInteger(v) ? { intValue: v } : { doubleValue: v }) : { stringValue: v } });

/** 40 minutes of steady, healthy traffic of two services (gateway → quotes), one request every 10 s each. */
async function healthyTraffic(v: TestVigil, endMs: number): Promise<void> {
  const spans: Record<string, unknown[]> = { gateway: [], quotes: [] };
  let id = 1;
  for (let t = endMs - 40 * 60_000; t < endMs; t += 10_000) {
    const trace = hex(id, 16);
    const root = hex(id++, 8);
    const client = hex(id++, 8);
    const server = hex(id++, 8);
    const ns = (ms: number) => String(BigInt(Math.round(ms * 1000)) * 1000n);
    const d = 20 + ((t / 10_000) % 7);
    spans.gateway!.push(
      { traceId: trace, spanId: root, name: 'GET /quote', kind: 2, startTimeUnixNano: ns(t), endTimeUnixNano: ns(t + d + 5), attributes: [attr('http.route', '/quote'), attr('http.request.method', 'GET'), attr('http.response.status_code', 200)] },
      { traceId: trace, spanId: client, parentSpanId: root, name: 'GET', kind: 3, startTimeUnixNano: ns(t + 1), endTimeUnixNano: ns(t + d + 1), attributes: [attr('server.address', 'quotes'), attr('http.response.status_code', 200)] },
    );
    spans.quotes!.push({ traceId: trace, spanId: server, parentSpanId: client, name: 'GET /price', kind: 2, startTimeUnixNano: ns(t + 2), endTimeUnixNano: ns(t + d), attributes: [attr('http.route', '/price'), attr('http.response.status_code', 200)] });
  }
  await postOtlp(v.server.urls.otlp, v.ingestToken, 'traces', {
    resourceSpans: Object.entries(spans).map(([service, list]) => ({
      resource: { attributes: [attr('service.name', service), attr('service.version', '1.0.0'), attr('host.name', 'node-1')] },
      scopeSpans: [{ scope: { name: 'conformance' }, spans: list }],
    })),
  });
  const stored = await v.server.queries.search('from spans | stats count() as n', { fromNs: BigInt(endMs - 41 * 60_000) * 1_000_000n, toNs: BigInt(endMs + 1) * 1_000_000n });
  expect(Number(stored.rows[0]?.n)).toBe(720);
}

function expectWellFormed(list: Evidence[], name: string): void {
  expect(Array.isArray(list)).toBe(true);
  for (const e of list) {
    expect(CATEGORIES, `${name}: category`).toContain(e.category);
    expect(checkEvidence(e, name), `${name}: evidence ${JSON.stringify(e).slice(0, 200)}`).toBeDefined();
    expect(e.score).toBeGreaterThanOrEqual(0);
    expect(e.score).toBeLessThanOrEqual(1);
    expect(Array.isArray(e.services)).toBe(true);
    for (const l of e.links) expect(l.href.startsWith('/'), `${name}: link ${l.href}`).toBe(true);
  }
}

// One empty and one healthy server for every detector.
let empty: TestVigil;
let healthy: TestVigil;
const now = Date.now();
beforeAll(async () => {
  [empty, healthy] = await Promise.all([startTestVigil({ agent: { selfMonitor: false } }), startTestVigil({ agent: { selfMonitor: false } })]);
  await healthyTraffic(healthy, now);
});
afterAll(async () => Promise.all([empty.stop(), healthy.stop()]));

describe.each(DETECTORS.map((d) => [d.name, d] as const))('detector %s', (name, detector) => {
  it('answers [] on an empty store, promptly', async () => {
    const started = Date.now();
    const out = await detector.run(detectorContext(empty.server, scopeAround(now - 8 * 60_000, now, ['gateway'])));
    expect(out).toEqual([]);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('raises nothing strong on ordinary healthy traffic, and what it returns is well-formed', async () => {
    for (const services of [['gateway'], []]) {
      const out = await detector.run(detectorContext(healthy.server, scopeAround(now - 8 * 60_000, now, services)));
      expectWellFormed(out, name);
      expect(out.filter((e) => e.score >= 0.3).map((e) => e.summary)).toEqual([]);
    }
  });

  it('stops soon after its signal aborts', async () => {
    const ctl = new AbortController();
    ctl.abort(new Error('budget spent'));
    const started = Date.now();
    await detector.run(detectorContext(healthy.server, scopeAround(now - 8 * 60_000, now, ['gateway']), ctl.signal)).catch(() => undefined);
    expect(Date.now() - started).toBeLessThan(1500);
  });
});
