import { describe, expect, it } from 'vitest';
import { IngestRateLimiter } from './rate-limit.ts';

describe('IngestRateLimiter', () => {
  it('lets a burst through, then refuses until the debt is repaid', () => {
    const l = new IngestRateLimiter(0);
    expect(l.take('t', 1500, 1000, 0)).toBe(0);
    expect(l.take('t', 1500, 1000, 0)).toBe(0);
    // 2000 capacity - 3000 taken = 1000 in debt: one second at 1000/s.
    expect(l.take('t', 10, 1000, 0)).toBe(1);
    expect(l.take('t', 10, 1000, 1500)).toBe(0);
  });
  it('uses the default rate, and 0 means unlimited', () => {
    expect(new IngestRateLimiter(0).take('t', 1e9, null, 0)).toBe(0);
    const l = new IngestRateLimiter(100);
    l.take('t', 1000, null, 0);
    expect(l.take('t', 1, null, 0)).toBe(8);
  });
  it('keeps tokens apart', () => {
    const l = new IngestRateLimiter(10);
    l.take('a', 100, null, 0);
    expect(l.take('b', 1, null, 0)).toBe(0);
  });
});
