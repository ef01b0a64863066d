import { describe, expect, it } from 'vitest';
import { resourceFromAttributes } from '../ingest/otlp/decode.ts';
import type { TelemetryBatch } from '../model/telemetry.ts';
import { ChangeDetector, observations, type Observation } from './detector.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const o = (service: string, version: string, instance = 'i-1', host = 'h-1'): Observation => ({ service, namespace: 'shop', version, instance, host, periodic: true });
const opts = { settleMs: 5 * MIN, goneMs: 5 * MIN, redundantMs: 10 * MIN };

describe('ChangeDetector', () => {
  it('the first sighting of a service is no change; a new version is a deploy from the one before', () => {
    const d = new ChangeDetector(opts);
    expect(d.observe([o('cart', '1.0')], T0)).toEqual([]);
    expect(d.observe([o('cart', '1.0')], T0 + MIN)).toEqual([]);
    const [c, ...rest] = d.observe([o('cart', '1.1')], T0 + 2 * MIN);
    expect(rest).toEqual([]);
    expect(c).toMatchObject({ at: T0 + 2 * MIN, service: 'cart', namespace: 'shop', kind: 'deploy', version: '1.1', previousVersion: '1.0', attributes: { 'service.instance.id': 'i-1', 'host.name': 'h-1' } });
    expect(c!.description).toContain('1.0 → 1.1');
    expect(d.observe([o('cart', '1.1')], T0 + 3 * MIN)).toEqual([]);
  });

  it('a rolling deploy over three instances is one deploy; the old instances leaving is part of it', () => {
    const d = new ChangeDetector(opts);
    d.observe([o('cart', '1.0', 'a'), o('cart', '1.0', 'b'), o('cart', '1.0', 'c')], T0);
    expect(d.observe([o('cart', '1.1', 'a'), o('cart', '1.0', 'b'), o('cart', '1.0', 'c')], T0 + 10 * MIN).map((c) => [c.kind, c.version, c.previousVersion])).toEqual([['deploy', '1.1', '1.0']]);
    // New instances of the new version replace b and c (new ids, as restarted processes get).
    expect(d.observe([o('cart', '1.1', 'a'), o('cart', '1.1', 'd'), o('cart', '1.0', 'c')], T0 + 11 * MIN)).toEqual([]);
    expect(d.observe([o('cart', '1.1', 'a'), o('cart', '1.1', 'd'), o('cart', '1.1', 'e')], T0 + 12 * MIN)).toEqual([]);
    expect(d.sweep(T0 + 16 * MIN)).toEqual([]);
  });

  it('a rollback to the version before is detected; the same version again within the window is not', () => {
    const d = new ChangeDetector(opts);
    d.observe([o('lms', '2.4.1', 'p1')], T0);
    expect(d.observe([o('lms', '2.5.0', 'p2')], T0 + MIN).map((c) => [c.version, c.previousVersion])).toEqual([['2.5.0', '2.4.1']]);
    expect(d.observe([o('lms', '2.4.1', 'p3')], T0 + 2 * MIN).map((c) => [c.version, c.previousVersion])).toEqual([['2.4.1', '2.5.0']]);
    // Flapping back to 2.5.0 moments later is still the deploy already recorded.
    expect(d.observe([o('lms', '2.5.0', 'p4')], T0 + 3 * MIN)).toEqual([]);
    expect(d.currentVersion('lms')).toBe('2.5.0');
    // The processes the deploys replaced (p1 ran the version rolled back to) leaving are no news.
    expect(d.sweep(T0 + 20 * MIN)).toMatchObject([{ attributes: { 'service.instance.id': 'p4' } }]);
  });

  it('seeded versions: no re-announcement after a restart, and a deploy while Vigil was down is caught', () => {
    const d = new ChangeDetector(opts);
    d.seed(new Map([['cart', '1.1'], ['pay', '3.0']]));
    expect(d.observe([o('cart', '1.1'), o('pay', '3.1', 'x')], T0)).toMatchObject([{ service: 'pay', kind: 'deploy', version: '3.1', previousVersion: '3.0' }]);
  });

  it('resources without a version never make deploys', () => {
    const d = new ChangeDetector(opts);
    d.observe([o('cart', '1.0')], T0);
    expect(d.observe([o('cart', '')], T0 + MIN)).toEqual([]);
    expect(d.currentVersion('cart')).toBe('1.0');
  });

  it('instances: new ones count once the service has reported a while; silent ones leave', () => {
    const d = new ChangeDetector(opts);
    d.observe([o('cart', '1.0', 'a', 'h1')], T0);
    // Still settling (e.g. Vigil just started): a second instance is not news.
    expect(d.observe([o('cart', '1.0', 'b', 'h2')], T0 + MIN)).toEqual([]);
    const added = d.observe([o('cart', '1.0', 'a', 'h1'), o('cart', '1.0', 'b', 'h2'), o('cart', '1.0', 'c', 'h3')], T0 + 6 * MIN);
    expect(added).toMatchObject([{ kind: 'infrastructure', service: 'cart', version: '1.0', attributes: { change: 'instance_added', 'service.instance.id': 'c', 'host.name': 'h3', instances: 3 } }]);
    expect(added[0]!.description).toBe('cart: new instance c on h3 (3 instances now)');
    expect(d.sweep(T0 + 10 * MIN)).toEqual([]);
    d.observe([o('cart', '1.0', 'a', 'h1'), o('cart', '1.0', 'c', 'h3')], T0 + 10 * MIN);
    const gone = d.sweep(T0 + 11 * MIN + 1);
    expect(gone).toMatchObject([{ kind: 'infrastructure', at: T0 + 6 * MIN, attributes: { change: 'instance_removed', 'service.instance.id': 'b', instances: 2 } }]);
    expect(gone[0]!.description).toBe('cart: instance b on h2 stopped reporting (2 instances left)');
    expect(d.sweep(T0 + 12 * MIN)).toEqual([]);
  });

  it('an instance seen only in spans and logs is idle when silent, not gone, and forgotten after a day', () => {
    const d = new ChangeDetector({ ...opts, forgetMs: 24 * 60 * MIN });
    d.observe([{ ...o('syslog', ''), periodic: false }], T0);
    expect(d.observe([{ ...o('syslog', '', 'host-2', 'host-2'), periodic: false }], T0 + 10 * MIN).map((c) => c.attributes.change)).toEqual(['instance_added']);
    expect(d.sweep(T0 + 60 * MIN)).toEqual([]);
    // Still remembered: logging again after an hour is no new instance.
    expect(d.observe([{ ...o('syslog', '', 'host-2', 'host-2'), periodic: false }], T0 + 70 * MIN)).toEqual([]);
    expect(d.sweep(T0 + 26 * 60 * MIN)).toEqual([]);
    // Forgotten silently after a day: back, it is new.
    expect(d.observe([{ ...o('syslog', '', 'host-2', 'host-2'), periodic: false }], T0 + 27 * 60 * MIN).map((c) => c.attributes.change)).toEqual(['instance_added']);
  });

  it('a new instance that brings a new version is the deploy, not an infrastructure change', () => {
    const d = new ChangeDetector(opts);
    d.observe([o('cart', '1.0', 'a')], T0);
    expect(d.observe([o('cart', '1.1', 'b')], T0 + 10 * MIN).map((c) => c.kind)).toEqual(['deploy']);
    // One more instance of the running version later is.
    expect(d.observe([o('cart', '1.1', 'c')], T0 + 30 * MIN).map((c) => c.kind)).toEqual(['infrastructure']);
  });
});

describe('observations', () => {
  it('looks at each resource object once and keeps one observation per service, instance and version', () => {
    const r1 = resourceFromAttributes({ 'service.name': 'cart', 'service.version': '1.0', 'service.instance.id': 'pod-1', 'host.name': 'node-1' });
    const r2 = resourceFromAttributes({ 'service.name': 'cart', 'service.version': '1.0', 'service.instance.id': 'pod-1', 'host.name': 'node-1' });
    const r3 = resourceFromAttributes({ 'service.name': 'pay', 'host.name': 'node-2' });
    const ns = (ms: number) => BigInt(ms) * 1_000_000n;
    const span = (resource: typeof r1, ms: number) => ({ resource, startTimeNs: ns(ms) }) as TelemetryBatch['spans'][number];
    const log = (resource: typeof r1, ms: number) => ({ resource, timeNs: ns(ms), observedTimeNs: 0n }) as TelemetryBatch['logs'][number];
    const metric = (resource: typeof r1, ms: number) => ({ resource, timeNs: ns(ms) }) as TelemetryBatch['metrics'][number];
    const batches: TelemetryBatch[] = [{ spans: [span(r1, T0 + 5), span(r1, T0 + 2), span(r2, T0 + 3)], logs: [log(r3, T0)], metrics: [metric(r2, T0 + 9)] }];
    expect(observations(batches)).toEqual([
      { service: 'cart', namespace: '', version: '1.0', instance: 'pod-1', host: 'node-1', at: T0 + 2, periodic: true },
      { service: 'pay', namespace: '', version: '', instance: 'node-2', host: 'node-2', at: T0 },
    ]);
  });

  it('a deploy is dated by its earliest record, never later than now', () => {
    const d = new ChangeDetector(opts);
    d.observe([o('cart', '1.0')], T0);
    expect(d.observe([{ ...o('cart', '1.1'), at: T0 + 30_000 }], T0 + MIN)[0]!.at).toBe(T0 + 30_000);
    expect(d.observe([{ ...o('cart', '1.2'), at: T0 + 5 * MIN }], T0 + 2 * MIN)[0]!.at).toBe(T0 + 2 * MIN);
  });
});
