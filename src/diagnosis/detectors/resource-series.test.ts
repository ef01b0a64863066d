import { describe, expect, it } from 'vitest';
import { bucketMsFor } from './resource-series.ts';

describe('bucketMsFor', () => {
  it.each([
    [10 * 60_000, 60_000], // a production-length window: one-minute buckets
    [6 * 60_000, 60_000],
    [3 * 60_000, 30_000],
    [94_000, 10_000], // a time-scaled rule's short look-back: 10 s buckets
    [20_000, 10_000], // never finer than 10 s
  ])('a %i ms window reads %i ms buckets', (length, bucket) => {
    expect(bucketMsFor({ fromMs: 1_000_000, toMs: 1_000_000 + length })).toBe(bucket);
  });
});
