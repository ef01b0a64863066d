/**
 * log-patterns on a real server: WARN+ logs, span exceptions and filesystem gauges over 30 min of baseline
 * and 10 min of fault. orders calls ledger; at the onset orders' calls to ledger time out, ledger's WAL
 * volume fills up, orders' cache misses spike, a new exception appears on orders' spans, and checkout cannot
 * acquire database connections. payments logs the same steady warnings throughout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectorContext, scopeAround } from '../../../test/helpers/diagnosis.ts';
import { postOtlp } from '../../../test/helpers/otlp-send.ts';
import { startTestVigil, type TestVigil } from '../../../test/helpers/vigil.ts';
import { logPatternsDetector, peerNamedIn, templateSearch, templateTerms } from './log-patterns.ts';

const MIN = 60_000;
const now = Math.floor(Date.now() / MIN) * MIN - 2 * MIN;
const onset = now - 10 * MIN;
const start = onset - 32 * MIN;

const hex = (n: number, bytes: number) => Buffer.from(n.toString(16).padStart(bytes * 2, '0'), 'hex');
const ns = (ms: number) => String(BigInt(Math.round(ms * 1000)) * 1000n);
const attr = (key: string, v: string | number) => ({ key, value: typeof v === 'number' ? (Number.isInteger(v) ? { intValue: v } : { doubleValue: v }) : { stringValue: v } });
const resource = (service: string, host = 'node-a') => ({ attributes: [attr('service.name', service), attr('host.name', host)] });
let id = 1;

/** Log records every `everyMs` in [from, to) with `body(i)`. */
function logs(from: number, to: number, everyMs: number, severity: number, body: (i: number) => string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let t = from, i = 0; t < to; t += everyMs, i++) out.push({ timeUnixNano: ns(t), severityNumber: severity, severityText: severity >= 17 ? 'ERROR' : 'WARN', body: { stringValue: body(i) } });
  return out;
}

let v: TestVigil;
beforeAll(async () => {
  v = await startTestVigil({ agent: { selfMonitor: false } });
  const scope = (records: Record<string, unknown>[][]) => [{ scope: { name: 'test' }, logRecords: records.flat() }];
  await postOtlp(v.server.urls.otlp, v.ingestToken, 'logs', {
    resourceLogs: [
      {
        resource: resource('orders'),
        scopeLogs: scope([
          logs(start, now, 20_000, 13, (i) => `slow request GET /orders/${i} took ${700 + (i % 50)} ms`),
          logs(start, onset, 60_000, 13, (i) => `cache miss for key cart:${i}`),
          logs(onset, now, 3000, 13, (i) => `cache miss for key cart:${i}`),
          logs(onset + 5000, now, 10_000, 17, (i) => `call to ledger timed out after 2500 ms (order ${4000 + i})`),
          // billing's charge limit was lowered just before the onset: orders reports the refusals.
          logs(onset + 7000, now, 20_000, 13, (i) => `POST /orders refused (422): charge of ${150 + i}.65 EUR refused: above charges.max_amount (120.00)`),
          // ledger's full disk, relayed by orders (on node-a, whose own disk is fine).
          logs(onset + 25_000, now, 15_000, 17, (i) => `POST /orders failed: ledger write failed: ENOSPC: no space left on device, write '/var/lib/ledger/wal/${String(i).padStart(6, '0')}.log'`),
        ]),
      },
      {
        resource: resource('ledger', 'node-b'),
        scopeLogs: scope([
          logs(start, now, 30_000, 13, (i) => `retrying idempotent write ${i % 3} of 5`),
          logs(onset + 20_000, now, 15_000, 17, (i) => `ENOSPC: no space left on device, write '/var/lib/ledger/wal/${String(i).padStart(6, '0')}.log'`),
        ]),
      },
      { resource: resource('checkout'), scopeLogs: scope([logs(onset, now, 12_000, 17, (i) => `could not acquire a connection from pool orders-db within 1000 ms (waiting: ${i % 5})`)]) },
      { resource: resource('payments'), scopeLogs: scope([logs(start, now, 15_000, 13, (i) => `card ${1000 + i} declined: insufficient funds`)]) },
      // search is chatty (more warnings than one sample holds); its shard rebalances ran early in the
      // baseline and again in the window, at a similar rate: not new.
      {
        resource: resource('search'),
        scopeLogs: scope([
          logs(start, now, 400, 13, (i) => `slow query q=${i} took ${300 + (i % 90)} ms`),
          logs(start, start + 10 * MIN, 20_000, 13, (i) => `index shard ${i % 7} rebalanced`),
          logs(onset - 2 * MIN, now, 20_000, 13, (i) => `index shard ${i % 7} rebalanced`),
        ]),
      },
    ],
  });
  // orders → ledger calls (the service map), and a new exception on orders' spans after the onset.
  const spans: Record<string, unknown>[] = [];
  for (let t = start, i = 0; t < now; t += 10_000, i++) {
    const trace = hex(id++, 16);
    const root = hex(id++, 8);
    const failed = t >= onset && i % 2 === 0;
    spans.push({
      traceId: trace,
      spanId: root,
      name: 'POST /orders',
      kind: 2,
      startTimeUnixNano: ns(t),
      endTimeUnixNano: ns(t + 40),
      attributes: [attr('http.route', '/orders'), attr('http.response.status_code', failed ? 500 : 200)],
      status: failed ? { code: 2, message: 'boom' } : { code: 1 },
      events: failed
        ? [{ timeUnixNano: ns(t + 30), name: 'exception', attributes: [attr('exception.type', 'TypeError'), attr('exception.message', `Cannot read properties of undefined (reading 'total') in order ${i}`), attr('exception.stacktrace', 'TypeError: x\n    at priceOrder (/app/pricing.js:42:7)')] }]
        : [],
    });
    spans.push({ traceId: trace, spanId: hex(id++, 8), parentSpanId: root, name: 'POST', kind: 3, startTimeUnixNano: ns(t + 1), endTimeUnixNano: ns(t + 20), attributes: [attr('peer.service', 'ledger')] });
  }
  await postOtlp(v.server.urls.otlp, v.ingestToken, 'traces', { resourceSpans: [{ resource: resource('orders'), scopeSpans: [{ scope: { name: 'test' }, spans }] }] });
  // node-b's filesystems: the root is half full, the WAL volume fills up at the onset.
  const points = (value: (t: number) => number, mount: string) => {
    const out: Record<string, unknown>[] = [];
    for (let t = start; t < now; t += 30_000) out.push({ timeUnixNano: ns(t), asDouble: value(t), attributes: [attr('system.filesystem.mountpoint', mount), attr('system.device', mount === '/' ? 'sda1' : 'sdb1')] });
    return out;
  };
  await postOtlp(v.server.urls.otlp, v.ingestToken, 'metrics', {
    resourceMetrics: [
      {
        resource: { attributes: [attr('service.name', 'host-agent'), attr('host.name', 'node-b')] },
        scopeMetrics: [{ scope: { name: 'test' }, metrics: [{ name: 'system.filesystem.utilization', unit: '1', gauge: { dataPoints: [...points(() => 0.5, '/'), ...points((t) => (t >= onset ? 1 : 0.7), '/var/lib/ledger')] } }] }],
      },
      {
        resource: { attributes: [attr('service.name', 'host-agent'), attr('host.name', 'node-a')] },
        scopeMetrics: [{ scope: { name: 'test' }, metrics: [{ name: 'system.filesystem.utilization', unit: '1', gauge: { dataPoints: points(() => 0.3, '/') } }] }],
      },
    ],
  });
  const change = await fetch(`${v.server.urls.api}/api/v1/changes`, {
    method: 'POST',
    headers: { authorization: `Bearer ${v.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ service: 'billing', kind: 'config', timestamp: onset - 45_000, description: 'lower the charge limit', attributes: { key: 'charges.max_amount', previous: '5000', value: '120' } }),
  });
  expect(change.status).toBe(201);
}, 60_000);
afterAll(async () => v?.stop());

const diagnose = (services: string[]) => logPatternsDetector.run(detectorContext(v.server, scopeAround(onset, now, services)));

describe('log-patterns', () => {
  it('names what new and spiking templates point at: a dependency, a disk, a connection pool, a changed configuration key, or the code', async () => {
    const out = await diagnose(['orders', 'checkout']);
    const by = new Map(out.map((e) => [`${e.category} ${e.component}`, e]));
    expect([...by.keys()].sort()).toEqual(
      [
        'code orders TypeError: Cannot read properties of undefined (reading <str>) in order <n>',
        'code orders cache miss for key cart:<*>',
        'configuration billing charges.max_amount',
        'database checkout connection pool orders-db',
        'dependency ledger',
        'resource host node-b disk /var/lib/ledger',
      ].sort(),
    );
    const dep = by.get('dependency ledger')!;
    expect(dep).toMatchObject({ role: 'cause', services: ['ledger', 'orders'] });
    expect(dep.summary).toMatch(/^New log pattern in orders: "call to ledger timed out after <\*> ms \(order <\*>\)" ×(59|60) in the window \(none in the baseline\), from \d\d:\d\d UTC/);
    expect(Math.abs((dep.onsetMs ?? 0) - onset)).toBeLessThanOrEqual(10_000);
    expect(dep.score).toBeGreaterThanOrEqual(0.4);
    const spike = by.get('code orders cache miss for key cart:<*>')!;
    expect(spike).toMatchObject({ role: 'symptom' });
    expect(spike.summary).toMatch(/spiking 1[67]×: "cache miss for key cart:<\*>" 16.8\/min \(baseline 1\/min\)/);
    // ledger's own ENOSPC lines and orders' relayed ones are one finding, on node-b's volume.
    const disk = by.get('resource host node-b disk /var/lib/ledger')!;
    expect(disk.services.sort()).toEqual(['ledger', 'orders']);
    expect(disk.summary).toMatch(/\(1 more pattern points here\)$/);
    expect(by.get('configuration billing charges.max_amount')).toMatchObject({ role: 'cause', services: ['billing', 'orders'] });
    // The steady slow-request warnings are not reported.
    expect(out.some((e) => e.summary.includes('slow request'))).toBe(false);
    // Every template link finds its lines.
    const q = decodeURIComponent(/q=([^&]*)/.exec(dep.links[0]!.href)![1]!);
    const res = await v.server.queries.search(q, { fromNs: BigInt(onset - 2 * MIN) * 1_000_000n, toNs: BigInt(now) * 1_000_000n, limit: 1000 });
    expect(res.rows.length).toBe(dep.figures.window_count);
  });

  it('finds the same next to a chatty service', async () => {
    const out = await diagnose(['orders', 'search']);
    expect(out.map((e) => `${e.category} ${e.component}`)).toContain('dependency ledger');
    expect(out.map((e) => `${e.category} ${e.component}`)).toContain('code orders cache miss for key cart:<*>');
    expect(out.some((e) => /slow (request|query)|rebalanced/.test(e.summary))).toBe(false);
  });

  it('stays quiet on steady warnings', async () => {
    expect(await diagnose(['payments'])).toEqual([]);
    expect(await diagnose(['search'])).toEqual([]);
    const quiet = scopeAround(onset - 12 * MIN, onset - MIN, [], { baselineMin: 15 });
    expect((await logPatternsDetector.run(detectorContext(v.server, quiet))).filter((e) => e.score >= 0.3)).toEqual([]);
  });

  it('searches a template by its constant words', () => {
    expect(templateTerms('call to <*> timed out after <*> ms')).toEqual(['timed out after', 'call to']);
    expect(templateSearch('orders', 'disk <*>% full')).toBe('severity>=WARN service.name="orders" "disk" "full"');
  });

  it('reads the service a relayed failure began at', () => {
    const edges = [
      { caller: 'web', callee: 'billing', instrumented: true },
      { caller: 'billing', callee: 'ledger-svc', instrumented: true },
    ];
    expect(peerNamedIn('POST /pay failed: billing failed: ledger answered 503', 'web', edges)).toBe('ledger-svc');
    expect(peerNamedIn('billing did not answer within 3000 ms', 'web', edges)).toBe('billing');
    expect(peerNamedIn('ledger-svc timed out', 'billing', edges)).toBe('ledger-svc');
    // Not a name inside another word, and not a service it does not call.
    expect(peerNamedIn('subledger timed out', 'billing', edges)).toBeUndefined();
    expect(peerNamedIn('web timed out', 'billing', edges)).toBeUndefined();
  });
});
