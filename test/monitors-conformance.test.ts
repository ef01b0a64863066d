/**
 * One conformance suite for every checker (DESIGN.md §5): each returns a well-formed result for a
 * reachable and an unreachable target, within its time budget, and mutates nothing it is given —
 * the spec is deep-frozen, so any write throws.
 */
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_OUTBOUND_POLICY } from '../src/net/outbound.ts';
import { runCheck } from '../src/monitors/checkers.ts';
import { monitorSpecSchema, type MonitorSpec } from '../src/monitors/spec.ts';
import type { CheckResult } from '../src/monitors/result.ts';

let server: http.Server;
let port = 0;
let closed = 0;

beforeAll(async () => {
  server = http.createServer((_req, res) => res.end('{"ok":true}'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as net.AddressInfo).port;
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  closed = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

const cases: [string, () => Record<string, unknown>, () => Record<string, unknown>][] = [
  ['http', () => ({ type: 'http', url: `http://127.0.0.1:${port}/`, headers: { accept: 'application/json' }, expect: { json: [{ path: 'ok', equals: true }] } }), () => ({ type: 'http', url: `http://127.0.0.1:${closed}/` })],
  ['workflow', () => ({ type: 'workflow', vars: { p: String(port) }, steps: [{ name: 'a', url: 'http://127.0.0.1:{{p}}/', extract: { ok: 'ok' } }, { name: 'b', url: 'http://127.0.0.1:{{p}}/?ok={{ok}}' }] }), () => ({ type: 'workflow', steps: [{ name: 'a', url: `http://127.0.0.1:${closed}/` }] })],
  ['tcp', () => ({ type: 'tcp', host: '127.0.0.1', port }), () => ({ type: 'tcp', host: '127.0.0.1', port: closed })],
  ['dns', () => ({ type: 'dns', hostname: 'localhost' }), () => ({ type: 'dns', hostname: 'conformance.invalid' })],
  ['postgres', () => ({ type: 'postgres', database: 'test' }), () => ({ type: 'postgres', database: 'test', port: closed })],
  ['mysql', () => ({ type: 'mysql', user: 'root' }), () => ({ type: 'mysql', port: closed })],
  ['redis', () => ({ type: 'redis' }), () => ({ type: 'redis', port: closed })],
];

function wellFormed(r: CheckResult): void {
  expect(['up', 'down', 'degraded']).toContain(r.status);
  expect(r.ok).toBe(r.status !== 'down');
  expect(r.latencyMs).toBeGreaterThanOrEqual(0);
  expect(Object.keys(r.phases).sort()).toEqual(['connectMs', 'dnsMs', 'firstByteMs', 'tlsMs']);
  for (const v of Object.values(r.phases)) expect(v === null || (typeof v === 'number' && v >= 0)).toBe(true);
  expect(r.status === 'down' ? typeof r.error : 'string').toBe('string');
  expect(typeof r.details).toBe('object');
  expect(() => JSON.stringify(r)).not.toThrow();
}

describe.each(cases)('%s checker', (_type, upSpec, downSpec) => {
  const ctx = { policy: deepFreeze({ ...DEFAULT_OUTBOUND_POLICY }), timeoutMs: 3000, now: () => new Date() };
  const frozen = (o: Record<string, unknown>) => deepFreeze(monitorSpecSchema.parse({ id: 'c', name: 'c', ...o })) as MonitorSpec;

  it('is up on a reachable target, with a well-formed result, without touching the spec', async () => {
    const spec = frozen(upSpec());
    const before = JSON.stringify(spec);
    const r = await runCheck(spec, ctx);
    wellFormed(r);
    expect(r.status, r.error).toBe('up');
    expect(JSON.stringify(spec)).toBe(before);
  });

  it('is down on an unreachable target, with the reason, within its time budget', async () => {
    const t0 = Date.now();
    const r = await runCheck(frozen(downSpec()), ctx);
    wellFormed(r);
    expect(r.status).toBe('down');
    expect(r.error!.length).toBeGreaterThan(3);
    expect(Date.now() - t0).toBeLessThan(ctx.timeoutMs + 500);
  });
});

describe('push checker', () => {
  it('judges from the heartbeat it is given and mutates nothing', async () => {
    const spec = deepFreeze(monitorSpecSchema.parse({ id: 'p', name: 'p', type: 'push', interval: '60s', grace: '10s' })) as MonitorSpec;
    const beat = deepFreeze({ last: { at: Date.now() - 5_000, status: 'up' as const }, startedAt: Date.now() - 100_000 });
    const ctx = { policy: DEFAULT_OUTBOUND_POLICY, timeoutMs: 1000, now: () => new Date() };
    wellFormed(await runCheck(spec, ctx, beat));
    expect((await runCheck(spec, ctx, beat)).status).toBe('up');
    expect((await runCheck(spec, { ...ctx, now: () => new Date(Date.now() + 80_000) }, beat)).status).toBe('down');
  });
});
