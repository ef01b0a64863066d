import { describe, expect, it } from 'vitest';
import { Dispatcher, type GroupFlush, type Router } from './dispatch.ts';
import type { Labels, NotifyAlert } from '../types.ts';
import { FakeTimers } from '../../../test/helpers/fake-timers.ts';

interface TestRoute {
  receiver: string;
  groupBy: string[];
  groupWaitMs: number;
  groupIntervalMs: number;
}

const router = (route: TestRoute): Router<TestRoute> => ({
  match: () => [route],
  routeId: () => '{}',
  group: (r, labels) => {
    const gl: Labels = {};
    for (const n of r.groupBy) if (labels[n] !== undefined) gl[n] = labels[n]!;
    return { key: `{}:${JSON.stringify(gl)}`, labels: gl };
  },
  timing: (r) => ({ groupWaitMs: r.groupWaitMs, groupIntervalMs: r.groupIntervalMs }),
});

function alert(name: string, extra: Labels, t: number, resolvedAt: number | null = null): NotifyAlert {
  const labels = { alertname: name, ...extra };
  return { fingerprint: JSON.stringify(labels), labels, annotations: {}, startsAt: t, endsAt: resolvedAt, generatorURL: '', resolved: resolvedAt !== null };
}

function setup(route: Partial<TestRoute> = {}, answer: () => boolean = () => true) {
  const timers = new FakeTimers();
  const flushes: GroupFlush<TestRoute>[] = [];
  const r: TestRoute = { receiver: 'team', groupBy: ['alertname'], groupWaitMs: 30_000, groupIntervalMs: 300_000, ...route };
  const d = new Dispatcher(router(r), async (f) => (flushes.push(f), answer()), timers);
  return { timers, flushes, d };
}

describe('Dispatcher', () => {
  it('group_wait 0 flushes in the same call, with every alert of the batch', async () => {
    const { timers, flushes, d } = setup({ groupWaitMs: 0 });
    d.insert([alert('A', { i: '1' }, timers.t), alert('A', { i: '2' }, timers.t)]);
    expect(flushes).toHaveLength(1);
    expect(flushes[0]!.alerts.map((a) => a.labels.i)).toEqual(['1', '2']);
    expect(flushes[0]!.nextFlushAt).toBe(timers.t + 300_000);
  });

  it('waits group_wait for the first flush, then flushes every group_interval', async () => {
    const { timers, flushes, d } = setup();
    d.insert([alert('A', { i: '1' }, timers.t)]);
    await timers.advance(29_999);
    expect(flushes).toHaveLength(0);
    await timers.advance(1);
    expect(flushes).toHaveLength(1);
    // A new alert in a group that already flushed waits for group_interval.
    d.insert([alert('A', { i: '2' }, timers.t)]);
    await timers.advance(299_999);
    expect(flushes).toHaveLength(1);
    await timers.advance(1);
    expect(flushes).toHaveLength(2);
    expect(flushes[1]!.alerts).toHaveLength(2);
  });

  it('one group per group_by value', async () => {
    const { timers, flushes, d } = setup({ groupWaitMs: 0 });
    d.insert([alert('A', {}, timers.t), alert('B', {}, timers.t), alert('A', { x: '1' }, timers.t)]);
    expect(flushes.map((f) => [f.groupLabels.alertname, f.alerts.length])).toEqual([
      ['A', 2],
      ['B', 1],
    ]);
    expect(d.list()).toHaveLength(2);
  });

  it('an alert older than group_wait flushes a new group at once (a restart does not wait again)', async () => {
    const { timers, flushes, d } = setup();
    d.insert([alert('A', {}, timers.t - 60_000)]);
    expect(flushes).toHaveLength(1);
  });

  it('keeps resolved alerts until notified, then removes the emptied group', async () => {
    const { timers, flushes, d } = setup({ groupWaitMs: 0 });
    d.insert([alert('A', {}, timers.t)]);
    await timers.advance(10_000);
    d.insert([alert('A', {}, timers.t - 10_000, timers.t)]);
    expect(d.list()[0]!.alerts).toHaveLength(1);
    await timers.advance(300_000);
    expect(flushes).toHaveLength(2);
    expect(flushes[1]!.alerts[0]!.resolved).toBe(true);
    expect(d.list()).toHaveLength(0);
  });

  it('a failed flush keeps the resolved alerts for the next one', async () => {
    let ok = false;
    const { timers, flushes, d } = setup({ groupWaitMs: 0 }, () => ok);
    d.insert([alert('A', {}, timers.t - 1000, timers.t)]);
    expect(flushes).toHaveLength(1);
    expect(d.list()).toHaveLength(1);
    ok = true;
    await timers.advance(300_000);
    expect(flushes).toHaveLength(2);
    expect(d.list()).toHaveLength(0);
  });

  it('a firing alert whose endsAt passed counts as resolved at flush', async () => {
    const { timers, d } = setup({ groupWaitMs: 0 });
    const a: NotifyAlert = { ...alert('A', {}, timers.t), endsAt: timers.t + 60_000 };
    d.insert([a]);
    expect(d.list()).toHaveLength(1);
    await timers.advance(300_000);
    expect(d.list()).toHaveLength(0);
  });

  it('reroute keeps a surviving group and its timer, stops the others', async () => {
    const { timers, flushes, d } = setup();
    d.insert([alert('A', {}, timers.t)]);
    await timers.advance(10_000);
    d.reroute(router({ receiver: 'team', groupBy: ['alertname'], groupWaitMs: 30_000, groupIntervalMs: 300_000 }));
    await timers.advance(20_000);
    expect(flushes).toHaveLength(1);
    // A new grouping: the old group goes, a new one waits its own group_wait.
    d.reroute(router({ receiver: 'other', groupBy: [], groupWaitMs: 30_000, groupIntervalMs: 300_000 }));
    expect(d.list().map((g) => g.receiver)).toEqual(['other']);
    await timers.advance(30_000);
    expect(flushes).toHaveLength(2);
    expect(flushes[1]!.route.receiver).toBe('other');
  });

  it('stop clears the timers', async () => {
    const { timers, flushes, d } = setup();
    d.insert([alert('A', {}, timers.t)]);
    d.stop();
    await timers.advance(60_000);
    expect(flushes).toHaveLength(0);
  });

  it('a tick while a flush is still delivering runs right after it, not beside it', async () => {
    const timers = new FakeTimers();
    const flushes: number[] = [];
    let release: () => void = () => undefined;
    let running = 0;
    let overlapped = false;
    const d = new Dispatcher(
      router({ receiver: 'team', groupBy: [], groupWaitMs: 0, groupIntervalMs: 1000 }),
      async (f) => {
        if (running++) overlapped = true;
        flushes.push(f.now);
        if (flushes.length === 1) await new Promise<void>((r) => (release = r));
        running--;
        return true;
      },
      timers,
    );
    d.insert([alert('A', {}, timers.t)]);
    const t0 = timers.t;
    await timers.advance(2500);
    expect(flushes).toEqual([t0]);
    release();
    await timers.advance(0);
    expect(flushes).toEqual([t0, t0 + 2500]);
    expect(overlapped).toBe(false);
  });
});
