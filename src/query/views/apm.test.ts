import { describe, expect, it } from 'vitest';
import { coveredSeconds, rateOver, unusualClientErrors, type RateWindow } from './apm.ts';

const S = 1_000_000_000n;
// A 20-minute range with 10 s buckets, long past.
const past: RateWindow = { fromNs: 1000n * S, toNs: 2200n * S, bucketNs: 10n * S, nowNs: 9000n * S };

describe('rateOver', () => {
  it.each([
    // [count, first data (s), window, expected rate]
    [240, 1300, past, 240 / 900], // from the first data's bucket to the range end
    [240, 1305, past, 240 / 900], // first data mid-bucket: the bucket's start
    [120, 995, past, 120 / 1200], // first bucket starts before the range: clipped to the range start
    [60, 2000, { ...past, toNs: 4000n * S, nowNs: 2100n * S }, 60 / 100], // range reaching past now: ends at now
  ])('%i requests first seen at %i s → %f/s', (count, firstS, w, expected) => {
    expect(rateOver(count, BigInt(firstS) * S, w)).toBeCloseTo(expected, 4);
  });

  it('is 0 without data and null when no time is covered', () => {
    expect(rateOver(0, null, past)).toBe(0);
    expect(rateOver(5, 5000n * S, { ...past, toNs: 6000n * S, nowNs: 4000n * S })).toBeNull();
  });

  it('equals the mean of per-bucket rates weighted by their covered seconds', () => {
    const w: RateWindow = { fromNs: 1003n * S, toNs: 1100n * S, bucketNs: 10n * S, nowNs: 1057n * S };
    const counts = new Map([[1000n, 7], [1020n, 30], [1050n, 3]]);
    let sum = 0;
    let seconds = 0;
    for (let t = 1000n; t < 1100n; t += 10n) {
      const c = coveredSeconds(t * S, (t + 10n) * S, w);
      sum += counts.get(t) ?? 0;
      seconds += c;
    }
    expect(rateOver(40, 1004n * S, w)).toBeCloseTo(sum / seconds, 4);
    expect(seconds).toBe(54); // 1003 → 1057
  });
});

describe('unusualClientErrors', () => {
  it.each([
    [120, 60, 240, 60, true], // half refused, the rest of the service none
    [100, 30, 1000, 300, false], // the service always refuses 30 %: usual
    [10, 4, 100, 4, false], // fewer than 5 refusals
    [100, 15, 100, 15, false], // under 20 %
    [100, 90, 100, 90, true], // the only operation: nothing to compare with
  ])('%i requests, %i refused, service %i/%i → %s', (req, refused, svcReq, svcRefused, expected) => {
    expect(unusualClientErrors(req, refused, svcReq, svcRefused)).toBe(expected);
  });
});
