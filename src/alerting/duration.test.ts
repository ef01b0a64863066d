/** Prometheus durations: what rule files accept and how Vigil writes them back. */
import { describe, expect, it } from 'vitest';
import { formatPromDuration, parsePromDuration } from './duration.ts';

describe('parsePromDuration', () => {
  it.each([
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['90s', 90_000],
    ['500ms', 500],
    ['1s500ms', 1500],
    ['0s', 0],
    ['0', 0],
    ['2d', 172_800_000],
    ['1w', 604_800_000],
    ['1y', 31_536_000_000],
    ['1w2d3h4m5s6ms', 604_800_000 + 2 * 86_400_000 + 3 * 3_600_000 + 4 * 60_000 + 5000 + 6],
  ])('%s → %d ms', (text, ms) => {
    expect(parsePromDuration(text)).toBe(ms);
  });

  it.each(['', '5', '-1s', '5 m', '1.5h', '30m1h', '1m30', '5min', '1h ', 'PT5M', '99999999999999999y'])('refuses %j', (text) => {
    expect(() => parsePromDuration(text)).toThrow(/expected a duration/);
  });

  it('names what it found and what it expects', () => {
    expect(() => parsePromDuration('5 minutes')).toThrow('expected a duration such as 30s, 5m, 1h30m or 2d (units y w d h m s ms, largest first) but found "5 minutes"');
  });
});

describe('formatPromDuration', () => {
  it.each([
    [0, '0s'],
    [500, '500ms'],
    [1500, '1s500ms'],
    [30_000, '30s'],
    [90_000, '1m30s'],
    [5_400_000, '1h30m'],
    [172_800_000, '2d'],
    [8 * 86_400_000, '1w1d'],
    [31_536_000_000, '1y'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatPromDuration(ms)).toBe(text);
    expect(parsePromDuration(text)).toBe(ms);
  });
});
