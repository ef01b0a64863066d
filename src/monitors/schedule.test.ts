import { describe, expect, it } from 'vitest';
import { firstDue, jitterFraction, nextDue } from './schedule.ts';

describe('scheduling', () => {
  it.each([
    // due, step, now → next
    [1000, 30_000, 1000, 31_000],
    [1000, 30_000, 30_999, 31_000],
    [1000, 30_000, 31_000, 61_000], // the slot at 31 000 is now: take the next one
    [1000, 30_000, 95_000, 121_000], // missed two slots while busy: no burst
    [0, 10_000, 500, 10_000],
  ])('nextDue(%i, %i, now=%i) = %i', (due, step, now, next) => {
    expect(nextDue(due, step, now)).toBe(next);
  });

  it('spreads first runs over the interval, stable per id', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `m-${i}`);
    const offsets = ids.map((id) => firstDue(id, 30_000, 0));
    expect(offsets.every((o) => o >= 0 && o < 30_000)).toBe(true);
    // About 100 per 3-second slice, none empty or crowded.
    const slices = new Array(10).fill(0) as number[];
    for (const o of offsets) slices[Math.floor(o / 3000)]!++;
    expect(Math.min(...slices)).toBeGreaterThan(60);
    expect(Math.max(...slices)).toBeLessThan(140);
    expect(jitterFraction('m-1')).toBe(jitterFraction('m-1'));
  });
});
