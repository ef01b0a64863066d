import { describe, expect, it } from 'vitest';
import { formatQuantile, histogramQuantile } from './metrics.ts';
import { parseSteps } from './workflow.ts';

describe('histogramQuantile', () => {
  const bounds = [10, 50, 100, 500];
  it.each([
    // [q, counts, expected]
    [0.5, [10, 30, 40, 20, 0], 62.5],
    [0.95, [10, 30, 40, 20, 0], 400],
    [0.05, [10, 30, 40, 20, 0], 5], // first bucket starts at 0
    [0.1, [10, 30, 40, 20, 0], 10],
    [0.99, [0, 0, 0, 0, 7], 500], // rank in the overflow bucket: highest finite bound
    [0.5, [0, 4, 0, 0, 0], 30],
  ])('q=%s of %j is %s', (q, counts, expected) => {
    expect(histogramQuantile(q, bounds, counts)).toBeCloseTo(expected, 9);
  });

  it('is null for an empty histogram or one without bounds', () => {
    expect(histogramQuantile(0.5, bounds, [0, 0, 0, 0, 0])).toBeNull();
    expect(histogramQuantile(0.5, [], [5])).toBeNull();
  });

  it('ignores negative counts a broken cumulative delta might produce', () => {
    expect(histogramQuantile(0.5, bounds, [-3, 4, 0, 0, 0])).toBe(30);
  });

  it('names quantiles as users write them', () => {
    expect([0.5, 0.95, 0.999].map(formatQuantile)).toEqual(['50', '95', '99.9']);
  });
});

describe('parseSteps', () => {
  it('splits service from operation at the first colon, so routes may contain colons', () => {
    expect(parseSteps('lms-api:POST /api/login, lms-api:POST /api/courses/:id/register')).toEqual([
      { service: 'lms-api', operation: 'POST /api/login' },
      { service: 'lms-api', operation: 'POST /api/courses/:id/register' },
    ]);
    expect(parseSteps(['a:x', 'b:y'])).toHaveLength(2);
  });

  it('names the parameter when a step has no service or operation', () => {
    expect(() => parseSteps('login')).toThrow(/^steps:/);
    expect(() => parseSteps(':GET /')).toThrow(/^steps:/);
  });
});
