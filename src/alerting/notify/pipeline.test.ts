import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStateDb, type StateDb } from '../../store/state/db.ts';
import { DeliveryRepo } from '../../store/state/deliveries.ts';
import { NotificationLogRepo } from '../../store/state/notification-log.ts';
import { DEFAULT_OUTBOUND_POLICY } from '../../net/outbound.ts';

import type { Labels, NotifyAlert } from '../types.ts';
import type { Integration, Notification } from './integrations/common.ts';
import { NotificationLog } from './nflog.ts';
import { idempotencyKey, runPipeline, type FlushContext, type PipelineDeps } from './pipeline.ts';
import type { AttemptResult, RetryClock } from './retry.ts';

// A temporary directory without the server harness (this file needs no server).
function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** An integration that records what it was asked to send and answers from a script. */
class RecordingIntegration implements Integration {
  readonly type = 'webhook';
  sent: { n: Notification; key: string }[] = [];
  constructor(
    readonly index: number,
    readonly sendResolved: boolean,
    public script: number[] = [],
  ) {}
  async notify(n: Notification, ctx: { idempotencyKey: string }): Promise<AttemptResult> {
    this.sent.push({ n, key: ctx.idempotencyKey });
    const status = this.script.shift() ?? 200;
    return status < 300 ? { ok: true, recoverable: false, status, error: null } : { ok: false, recoverable: status >= 500, status, error: `status ${status}` };
  }
}

const clock: RetryClock & { t: number } = { t: 0, now: () => clock.t, sleep: async (ms) => void (clock.t += ms), random: () => 0.5 };
const T = 1_800_000_000_000;

const alert = (name: string, extra: Labels = {}, resolvedAt: number | null = null): NotifyAlert => {
  const labels = { alertname: name, ...extra };
  return { fingerprint: `${name}${JSON.stringify(extra)}`, labels, annotations: {}, startsAt: T - 60_000, endsAt: resolvedAt, generatorURL: '', resolved: resolvedAt !== null };
};

let db: StateDb;
let cleanup: () => void;
beforeAll(async () => {
  const t = tempDir('vigil-pipeline-');
  cleanup = t.cleanup;
  db = await openStateDb(join(t.dir, 'state.sqlite'));
});
afterAll(async () => {
  await db.destroy();
  cleanup();
});

let groupSeq = 0;
function setup(integrations: Integration[], over: Partial<PipelineDeps> = {}) {
  const nflog = new NotificationLog(new NotificationLogRepo(db));
  const deliveries = new DeliveryRepo(db);
  const deps: PipelineDeps = {
    receivers: new Map([['team', integrations]]),
    inhibitedBy: () => [],
    silencedBy: () => [],
    timeIntervalActive: () => false,
    nflog,
    deliveries,
    delivery: { policy: () => DEFAULT_OUTBOUND_POLICY, externalUrl: () => 'http://vigil', timeoutMs: 1000, clock, signal: new AbortController().signal },
    onError: (err) => {
      throw err;
    },
    ...over,
  };
  const groupKey = `{}:{alertname="g${++groupSeq}"}`;
  const ctx = (now: number, more: Partial<FlushContext> = {}): FlushContext => ({
    receiver: 'team',
    groupKey,
    groupLabels: {},
    now,
    nextFlushAt: now + 300_000,
    repeatIntervalMs: 4 * 3_600_000,
    muteTimeIntervals: [],
    activeTimeIntervals: [],
    ...more,
  });
  return { deps, ctx, deliveries, groupKey };
}

describe('pipeline', () => {
  it('sends once, dedups the same firing set, sends the resolved one, then nothing', async () => {
    const hook = new RecordingIntegration(0, true);
    const { deps, ctx } = setup([hook]);
    expect(await runPipeline(ctx(T), [alert('A')], deps)).toBe(true);
    expect(await runPipeline(ctx(T + 300_000), [alert('A')], deps)).toBe(true);
    expect(hook.sent).toHaveLength(1);
    expect(await runPipeline(ctx(T + 600_000), [alert('A', {}, T + 500_000)], deps)).toBe(true);
    expect(hook.sent).toHaveLength(2);
    expect(hook.sent[1]!.n.alerts[0]!.resolved).toBe(true);
    expect(await runPipeline(ctx(T + 900_000), [alert('A', {}, T + 500_000)], deps)).toBe(true);
    expect(hook.sent).toHaveLength(2);
  });

  it('repeats after repeat_interval with a new idempotency key', async () => {
    const hook = new RecordingIntegration(0, true);
    const { deps, ctx } = setup([hook]);
    await runPipeline(ctx(T), [alert('A')], deps);
    await runPipeline(ctx(T + 4 * 3_600_000 + 1), [alert('A')], deps);
    expect(hook.sent).toHaveLength(2);
    expect(hook.sent[0]!.key).not.toBe(hook.sent[1]!.key);
  });

  it('500, 500, 200: one delivery, logged with 3 attempts; a later flush does not send again', async () => {
    const hook = new RecordingIntegration(0, true, [500, 500]);
    const { deps, ctx, deliveries, groupKey } = setup([hook]);
    expect(await runPipeline(ctx(T), [alert('A')], deps)).toBe(true);
    expect(hook.sent.map((s) => s.key)).toEqual([hook.sent[0]!.key, hook.sent[0]!.key, hook.sent[0]!.key]);
    const [d] = await deliveries.list(10, { groupKey });
    expect(d).toMatchObject({ status: 'ok', attempts: 3, httpStatus: 200, firing: 1, resolved: 0, receiver: 'team', integration: 'webhook' });
    await runPipeline(ctx(T + 300_000), [alert('A')], deps);
    expect(hook.sent).toHaveLength(3);
  });

  it('a failed delivery is logged as failed, leaves the nflog alone, and the next flush retries', async () => {
    const hook = new RecordingIntegration(0, true, [400]);
    const { deps, ctx, deliveries, groupKey } = setup([hook]);
    expect(await runPipeline(ctx(T), [alert('A')], deps)).toBe(false);
    expect((await deliveries.list(10, { groupKey }))[0]).toMatchObject({ status: 'failed', attempts: 1, httpStatus: 400, error: 'status 400' });
    expect(await runPipeline(ctx(T + 300_000), [alert('A')], deps)).toBe(true);
    expect(hook.sent).toHaveLength(2);
  });

  it('inhibited and silenced alerts are not sent; a mute time interval sends nothing', async () => {
    const hook = new RecordingIntegration(0, true);
    const { deps, ctx } = setup([hook], {
      inhibitedBy: (l) => (l.alertname === 'Inhibited' ? ['src'] : []),
      silencedBy: (l) => (l.alertname === 'Silenced' ? ['s1'] : []),
      timeIntervalActive: (names) => names.includes('night'),
    });
    await runPipeline(ctx(T), [alert('Inhibited'), alert('Silenced'), alert('Sent')], deps);
    expect(hook.sent.map((s) => s.n.alerts.map((a) => a.labels.alertname))).toEqual([['Sent']]);
    await runPipeline(ctx(T, { muteTimeIntervals: ['night'] }), [alert('New')], deps);
    await runPipeline(ctx(T, { activeTimeIntervals: ['day'] }), [alert('New')], deps);
    expect(hook.sent).toHaveLength(1);
  });

  it('without send_resolved: only firing alerts go out, an all-resolved group sends nothing but clears the log', async () => {
    const hook = new RecordingIntegration(0, false);
    const { deps, ctx } = setup([hook]);
    await runPipeline(ctx(T), [alert('A', { i: '1' }), alert('A', { i: '2' })], deps);
    await runPipeline(ctx(T + 300_000), [alert('A', { i: '1' }), alert('A', { i: '2' }, T + 100_000), alert('A', { i: '3' })], deps);
    expect(hook.sent[1]!.n.alerts.map((a) => a.labels.i)).toEqual(['1', '3']);
    await runPipeline(ctx(T + 600_000), [alert('A', { i: '1' }, T + 500_000), alert('A', { i: '3' }, T + 500_000)], deps);
    expect(hook.sent).toHaveLength(2);
    // The log now says nothing fires: the same alerts firing again are new.
    await runPipeline(ctx(T + 900_000), [alert('A', { i: '1' })], deps);
    expect(hook.sent).toHaveLength(3);
  });

  it('each integration dedups on its own and they run in parallel', async () => {
    const a = new RecordingIntegration(0, true);
    const b = new RecordingIntegration(1, true, [400]);
    const { deps, ctx } = setup([a, b]);
    expect(await runPipeline(ctx(T), [alert('A')], deps)).toBe(false);
    expect(await runPipeline(ctx(T + 300_000), [alert('A')], deps)).toBe(true);
    expect([a.sent.length, b.sent.length]).toEqual([1, 2]);
  });

  it('idempotency keys depend on what is sent and on the previous send', () => {
    const base = { receiver: 'r', integration: 'r/webhook/0', groupKey: 'g', firing: ['a', 'b'], resolved: [], previousSentAt: null };
    expect(idempotencyKey(base)).toBe(idempotencyKey({ ...base, firing: ['b', 'a'] }));
    expect(idempotencyKey(base)).not.toBe(idempotencyKey({ ...base, resolved: ['b'], firing: ['a'] }));
    expect(idempotencyKey(base)).not.toBe(idempotencyKey({ ...base, previousSentAt: 5 }));
  });
});
