import { describe, expect, it } from 'vitest';
import { aboveBand, band, clamp, firstSustained, fmtMs, fmtPct, proportionZ, quantile, ratio, timeMs, volumeFactor } from './stats.ts';

describe('diagnosis stats', () => {
  it('clamps, divides safely and interpolates quantiles', () => {
    expect(clamp(2)).toBe(1);
    expect(clamp(-1)).toBe(0);
    expect(ratio(1, 0)).toBeNull();
    expect(ratio(6, 3)).toBe(2);
    expect(quantile([1, 2, 3, 4, 5], 0.5)).toBe(3);
    expect(quantile([10, 20], 0.95)).toBeCloseTo(19.5);
    expect(quantile([], 0.5)).toBeNull();
  });

  it('weighs volume: 3 events count far less than 300', () => {
    expect(volumeFactor(0)).toBe(0);
    expect(volumeFactor(3)).toBeLessThan(0.2);
    expect(volumeFactor(300)).toBeGreaterThan(0.99);
  });

  it('tells a real share difference from noise', () => {
    expect(proportionZ(300, 500, 5, 500)).toBeGreaterThan(10);
    expect(proportionZ(3, 5, 1, 5)).toBeLessThan(2);
    expect(proportionZ(0, 0, 1, 5)).toBe(0);
  });

  it('finds a sustained departure from a robust band, not a single noisy minute', () => {
    const b = band([100, 110, 95, 105, 100, 98, 102])!;
    expect(aboveBand(104, b)).toBe(false);
    expect(aboveBand(300, b)).toBe(true);
    const pts = [100, 400, 100, 100, 350, 380, 390].map((v, i) => ({ t: i * 60_000, v }));
    expect(firstSustained(pts, (v) => aboveBand(v, b))).toBe(4 * 60_000);
    expect(firstSustained(pts, (v) => v > 1000)).toBeNull();
    // The last bucket alone counts: the series may end right after the departure.
    expect(firstSustained([{ t: 0, v: 1 }, { t: 60_000, v: 900 }], (v) => v > 100)).toBe(60_000);
  });

  it('reads engine times and formats figures', () => {
    expect(timeMs('2026-01-01T00:01:00.000000000Z')).toBe(Date.UTC(2026, 0, 1, 0, 1));
    expect(timeMs('2026-01-01 00:01:00')).toBe(Date.UTC(2026, 0, 1, 0, 1));
    expect(fmtMs(2300)).toBe('2.3 s');
    expect(fmtMs(1036)).toBe('1.0 s');
    expect(fmtMs(12_400)).toBe('12 s');
    expect(fmtMs(120)).toBe('120 ms');
    expect(fmtPct(0.001)).toBe('0.1%');
    expect(fmtPct(0.34)).toBe('34%');
  });
});
