/**
 * The scenario player's telemetry follows the OpenTelemetry semantic conventions the detectors read (no
 * server: the generated records themselves), and its faults show where they should.
 */
import { describe, expect, it } from 'vitest';
import { HostMetrics } from './metrics.ts';
import { Batch, type SpanRecord } from './otlp.ts';
import { timelineEndingAt } from './player.ts';
import { Shop } from './shop.ts';
import type { Faults } from './world.ts';

const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);
const tl = timelineEndingAt(NOW);

function generate(faults: Faults, from = tl.startMs, to = tl.endMs): Batch {
  const batch = new Batch();
  const shop = new Shop(tl, faults, 7);
  shop.traffic(batch, from, to);
  new HostMetrics(tl, faults, 7).collect(batch, from, to, shop);
  return batch;
}

const spans = (b: Batch) => b.records().flatMap((r) => r.spans.map((s) => ({ ...s, resource: r.resource })));
const server = (s: SpanRecord) => s.kind === 'server';

describe('scenario player', () => {
  it('spans, resources, logs and metrics carry the semantic-convention attributes', () => {
    const b = generate({});
    for (const r of b.records()) {
      expect(r.resource['host.name']).toBeTruthy();
      if (r.spans.length) for (const k of ['service.name', 'service.version', 'service.instance.id']) expect(r.resource[k], k).toBeTruthy();
    }
    const all = spans(b);
    expect(all.length).toBeGreaterThan(3000);
    for (const s of all.filter(server)) {
      expect(s.attributes['http.route']).toMatch(/^\//);
      expect(s.name).toBe(`${s.attributes['http.request.method']} ${s.attributes['http.route']}`);
      // Server spans: 5xx is an error, 4xx is not (the client's fault).
      expect(!!s.error).toBe(Number(s.attributes['http.response.status_code']) >= 500);
    }
    const clients = all.filter((s) => s.kind === 'client');
    const db = clients.filter((s) => s.attributes['db.system.name']);
    const http = clients.filter((s) => !s.attributes['db.system.name']);
    for (const s of db) for (const k of ['db.query.text', 'db.operation.name', 'db.collection.name', 'server.address']) expect(s.attributes[k], k).toBeTruthy();
    for (const s of http) for (const k of ['peer.service', 'server.address', 'url.template']) expect(s.attributes[k], k).toBeTruthy();
    // Every child span's trace holds its parent.
    const ids = new Set(all.map((s) => `${s.traceId}/${s.spanId}`));
    expect(all.filter((s) => s.parentSpanId && !ids.has(`${s.traceId}/${s.parentSpanId}`))).toEqual([]);
    const logs = b.records().flatMap((r) => r.logs);
    expect(logs.length).toBeGreaterThan(100);
    expect(logs.every((l) => l.traceId && l.spanId)).toBe(true);
    const names = new Set(b.records().flatMap((r) => r.points.map((p) => p.name)));
    expect([...names].sort()).toEqual([
      'db.client.connection.count',
      'db.client.connection.max',
      'db.client.connection.pending_requests',
      'process.cpu.utilization',
      'process.memory.usage',
      'system.cpu.utilization',
      'system.filesystem.usage',
      'system.filesystem.utilization',
      'system.memory.utilization',
    ]);
    // A healthy shop: almost no errors.
    const failed = all.filter(server).filter((s) => s.error).length;
    expect(failed / all.filter(server).length).toBeLessThan(0.01);
  });

  it('faults show from their start, where they should', () => {
    const window = (faults: Faults) => spans(generate(faults, tl.faultAt, tl.endMs));
    // The ledger failure: billing's calls to the uninstrumented peer time out at 5 s, orders gives up at 3 s first.
    const ledger = window({ ledgerFailing: true });
    const toLedger = ledger.filter((s) => s.attributes['peer.service'] === 'ledger-svc');
    expect(toLedger.filter((s) => s.attributes['error.type'] === 'timeout').length).toBeGreaterThan(10);
    const toBilling = ledger.filter((s) => s.attributes['peer.service'] === 'billing' && s.attributes['error.type'] === 'timeout');
    expect(toBilling.every((s) => Math.round(s.endMs - s.startMs) === 3000)).toBe(true);
    // A stopped inventory reports nothing; its callers' connects are refused.
    const stopped = window({ inventoryStopped: true });
    expect(stopped.filter((s) => s.resource['service.name'] === 'inventory')).toEqual([]);
    expect(stopped.filter((s) => s.attributes['peer.service'] === 'inventory' && s.attributes['error.type'] === 'ECONNREFUSED').length).toBeGreaterThan(10);
    // The deploy: new version and instances, and an N+1 of per-line queries.
    const deploy = window({ ordersDeploy: { version: '9.9.9', leadMs: 60_000, nPlusOne: true } });
    const orders = deploy.filter((s) => s.resource['service.name'] === 'orders');
    expect(new Set(orders.map((s) => s.resource['service.version']))).toEqual(new Set(['9.9.9']));
    expect(orders.filter((s) => String(s.attributes['db.query.text']).includes('line_no')).length).toBeGreaterThan(200);
  });
});
