import { describe, expect, it } from 'vitest';
import { addResult, dailyBars, DAY_MS, downtimes, HOUR_MS, systemUptime, uptimeOf, type Rollup } from './uptime.ts';
import { judgeHeartbeat } from './push.ts';

const T0 = Date.UTC(2025, 0, 10); // midnight
const hourly = (h: number, checks: number, down: number, degraded = 0): Rollup => ({ monitorId: 'm', start: T0 + h * HOUR_MS, checks, up: checks - down - degraded, down, degraded, latencySum: checks * 100, latencyMax: 250 });

describe('uptime math', () => {
  const rollups = [hourly(0, 120, 0), hourly(1, 120, 60), hourly(2, 120, 0, 30), hourly(23, 120, 120)];
  it.each([
    // from, to → uptime, checks
    [T0, T0 + DAY_MS, (480 - 180) / 480, 480],
    [T0, T0 + 2 * HOUR_MS, 180 / 240, 240],
    [T0 + 2 * HOUR_MS, T0 + 3 * HOUR_MS, 1, 120], // degraded counts as available
    [T0 + 30 * 60_000, T0 + HOUR_MS + 1, 180 / 240, 240], // buckets overlapping the window edges count
    [T0 + 3 * HOUR_MS, T0 + 23 * HOUR_MS, null, 0],
  ])('window %i..%i → %s', (from, to, uptime, checks) => {
    const s = uptimeOf(rollups, HOUR_MS, from, to);
    expect(s.uptime).toBe(uptime);
    expect(s.checks).toBe(checks);
  });

  it('accumulates results into buckets without mutating earlier rollups', () => {
    const map = new Map<string, Rollup>();
    addResult(map, 'a', T0 + 10, HOUR_MS, 'up', 10);
    const first = map.get(`a|${T0}`)!;
    addResult(map, 'a', T0 + 20, HOUR_MS, 'down', 30);
    addResult(map, 'a', T0 + HOUR_MS, HOUR_MS, 'degraded', 5);
    expect(first.checks).toBe(1);
    expect(map.get(`a|${T0}`)).toMatchObject({ checks: 2, up: 1, down: 1, latencySum: 40, latencyMax: 30 });
    expect(map.get(`a|${T0 + HOUR_MS}`)).toMatchObject({ checks: 1, degraded: 1 });
  });

  it('averages monitors equally for a system, ignoring monitors without checks', () => {
    expect(systemUptime([1, 0.5, null])).toBe(0.75);
    expect(systemUptime([null])).toBeNull();
  });

  it('builds 90 daily bars ending today', () => {
    const bars = dailyBars([{ ...hourly(0, 100, 10), start: T0 }], 90, T0 + 5 * HOUR_MS);
    expect(bars).toHaveLength(90);
    expect(bars.at(-1)).toEqual({ date: '2025-01-10', uptime: 0.9, checks: 100, down: 10 });
    expect(bars[0]!.uptime).toBeNull();
  });

  it('lists down periods, newest first, with an ongoing one open-ended', () => {
    const changes = [
      { at: T0 - HOUR_MS, from: 'up' as const, to: 'down' as const, error: 'refused' },
      { at: T0 + HOUR_MS, from: 'down' as const, to: 'up' as const },
      { at: T0 + 3 * HOUR_MS, from: 'up' as const, to: 'degraded' as const },
      { at: T0 + 4 * HOUR_MS, from: 'degraded' as const, to: 'down' as const, error: 'timeout' },
    ];
    const d = downtimes(changes, T0, T0 + DAY_MS, T0 + 5 * HOUR_MS);
    expect(d).toEqual([
      { start: new Date(T0 + 4 * HOUR_MS).toISOString(), end: null, durationMs: HOUR_MS, error: 'timeout' },
      { start: new Date(T0 - HOUR_MS).toISOString(), end: new Date(T0 + HOUR_MS).toISOString(), durationMs: 2 * HOUR_MS, error: 'refused' },
    ]);
    expect(downtimes(changes, T0 + 2 * HOUR_MS, T0 + 3 * HOUR_MS, T0 + 5 * HOUR_MS)).toEqual([]);
  });
});

describe('heartbeat', () => {
  const opts = { intervalMs: 60_000, graceMs: 30_000, startedAt: T0 };
  it.each([
    ['no beat yet, within the first period', undefined, T0 + 80_000, 'up'],
    ['no beat after interval + grace', undefined, T0 + 91_000, 'down'],
    ['recent beat', { at: T0 + 100_000, status: 'up' as const }, T0 + 150_000, 'up'],
    ['beat missed past interval + grace', { at: T0 + 100_000, status: 'up' as const }, T0 + 191_000, 'down'],
    ['job reported failure', { at: T0 + 100_000, status: 'down' as const, message: 'backup failed' }, T0 + 110_000, 'down'],
  ])('%s', (_name, last, now, status) => {
    expect(judgeHeartbeat(last, { ...opts, now }).status).toBe(status);
  });
});
