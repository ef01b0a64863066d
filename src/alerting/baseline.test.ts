import { describe, expect, it } from 'vitest';
import { BaselineCache, baselineFields, baselineStats, baselineWindows, mad, median, robustZ } from './baseline.ts';
import type { SourceRow } from './types.ts';

const MIN = 60_000;
const DAY = 86_400_000;

describe('robust statistics', () => {
  it('median and MAD', () => {
    expect(median([])).toBeNull();
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(mad([1, 1, 2, 2, 4, 6, 9])).toBe(1);
  });

  it('an outlier in the baseline does not move it (unlike a mean)', () => {
    const stats = baselineStats([10, 11, 9, 10, 1000, 10]);
    expect(stats.median).toBe(10);
    expect(robustZ(11, stats.median!, stats.mad!)).toBeLessThan(2);
  });

  it('a share going from always 0 to 0.9 gets a large z; from 0 to 0.01 a small one', () => {
    const stats = baselineStats([0, 0, 0, 0, 0, 0]);
    expect(robustZ(0.9, 0, stats.mad!)).toBeGreaterThanOrEqual(50);
    expect(robustZ(0.01, 0, stats.mad!)).toBeLessThanOrEqual(1);
  });

  it('a flat non-zero baseline needs a 5% change per z unit', () => {
    expect(robustZ(1100, 1000, 0)).toBe(2);
    expect(robustZ(900, 1000, 0)).toBe(-2);
  });

  it('baseline fields of a row, null when there is nothing to compare with', () => {
    expect(baselineFields(30, baselineStats([10, 12, 8]))).toEqual({ baseline: 10, baseline_mad: 2, zscore: 20 / (1.4826 * 2), baseline_samples: 3 });
    expect(baselineFields(30, baselineStats([]))).toEqual({ baseline: null, baseline_mad: null, zscore: null, baseline_samples: 0 });
    expect(baselineFields(null, baselineStats([1]))).toMatchObject({ zscore: null });
  });
});

describe('baseline windows', () => {
  it('aligned to the range: the previous windows and the same time on previous days', () => {
    const t = 100 * DAY + 7 * MIN + 1234; // T = 100 days + 5 min with a 5 min range
    const T = 100 * DAY + 5 * MIN;
    expect(baselineWindows({ windows: 2, days: 2 }, 5 * MIN, t)).toEqual([
      { fromMs: T - 10 * MIN, toMs: T - 5 * MIN },
      { fromMs: T - 15 * MIN, toMs: T - 10 * MIN },
      { fromMs: T - DAY - 5 * MIN, toMs: T - DAY },
      { fromMs: T - 2 * DAY - 5 * MIN, toMs: T - 2 * DAY },
    ]);
  });

  it('never overlap the current window and stay the same within one range', () => {
    const range = 5 * MIN;
    const a = baselineWindows({ windows: 3, days: 1 }, range, 1000 * range + 1);
    const b = baselineWindows({ windows: 3, days: 1 }, range, 1001 * range - 1);
    expect(b).toEqual(a);
    for (const t of [1000 * range + 1, 1001 * range - 1]) for (const w of a) expect(w.toMs).toBeLessThanOrEqual(t - range);
  });
});

describe('BaselineCache', () => {
  const rows = (n: number): SourceRow[] => Array.from({ length: n }, (_, i) => ({ labels: { i: String(i) }, fields: {}, value: i }));

  it('answers a window once from the source, then from memory', async () => {
    const cache = new BaselineCache();
    let loads = 0;
    const load = async () => (loads++, rows(2));
    const w = { fromMs: 0, toMs: MIN };
    await cache.get('r', 'q', w, load);
    expect(await cache.get('r', 'q', w, load)).toHaveLength(2);
    expect(loads).toBe(1);
    // Another query text (an edited rule) or another window loads again.
    await cache.get('r', 'q2', w, load);
    await cache.get('r', 'q', { fromMs: MIN, toMs: 2 * MIN }, load);
    expect(loads).toBe(3);
    expect([cache.hits, cache.misses]).toEqual([1, 3]);
  });

  it('evicts the least recently used window past its bounds', async () => {
    const cache = new BaselineCache({ maxEntries: 2 });
    let loads = 0;
    const load = async () => (loads++, rows(1));
    const w = (k: number) => ({ fromMs: k * MIN, toMs: (k + 1) * MIN });
    await cache.get('r', 'q', w(1), load);
    await cache.get('r', 'q', w(2), load);
    await cache.get('r', 'q', w(1), load); // 1 is now the most recent
    await cache.get('r', 'q', w(3), load); // evicts 2
    expect(cache.size).toBe(2);
    await cache.get('r', 'q', w(1), load);
    expect(loads).toBe(3);
    await cache.get('r', 'q', w(2), load);
    expect(loads).toBe(4);

    const byRows = new BaselineCache({ maxRows: 10 });
    await byRows.get('r', 'q', w(1), async () => rows(6));
    await byRows.get('r', 'q', w(2), async () => rows(6));
    expect(byRows.size).toBe(1);
  });

  it('forgets a removed rule', async () => {
    const cache = new BaselineCache();
    await cache.get('a', 'q', { fromMs: 0, toMs: 1 }, async () => rows(1));
    await cache.get('b', 'q', { fromMs: 0, toMs: 1 }, async () => rows(1));
    cache.forget('a');
    expect(cache.size).toBe(1);
  });
});
