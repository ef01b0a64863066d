import { describe, expect, it } from 'vitest';
import { backoffDelay, isRecoverableStatus, withRetry, type AttemptResult, type RetryClock } from './retry.ts';

/** A clock that advances only when slept on. */
function fakeClock(start = 1_000_000): RetryClock & { slept: number[] } {
  let t = start;
  const slept: number[] = [];
  return {
    slept,
    now: () => t,
    sleep: async (ms) => {
      slept.push(ms);
      t += ms;
    },
    random: () => 1 - Number.EPSILON,
  };
}

const answer = (status: number): AttemptResult =>
  status < 300 ? { ok: true, recoverable: false, status, error: null } : { ok: false, recoverable: isRecoverableStatus(status), status, error: `status ${status}` };

describe('backoff', () => {
  it('doubles from 500 ms up to 30 s, with jitter in [50%, 100%)', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(n, 1))).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    expect(backoffDelay(1, 0)).toBe(250);
    expect(backoffDelay(3, 0.5)).toBe(1500);
  });

  it('retries 5xx, 429 and nothing else', () => {
    expect([500, 502, 503, 429].every(isRecoverableStatus)).toBe(true);
    expect([400, 401, 403, 404, 410, 413, 422].some(isRecoverableStatus)).toBe(false);
  });
});

describe('withRetry', () => {
  it('500, 500, 200: three attempts, one success', async () => {
    const clock = fakeClock();
    const statuses = [500, 500, 200];
    let calls = 0;
    const r = await withRetry(async () => answer(statuses[calls++]!), { deadline: clock.now() + 60_000, clock });
    expect(r).toMatchObject({ ok: true, attempts: 3, status: 200 });
    expect(calls).toBe(3);
    expect(clock.slept.length).toBe(2);
  });

  it('gives up on a 4xx at once', async () => {
    const clock = fakeClock();
    let calls = 0;
    const r = await withRetry(async () => (calls++, answer(400)), { deadline: clock.now() + 60_000, clock });
    expect(r).toMatchObject({ ok: false, attempts: 1, status: 400, recoverable: false });
    expect(calls).toBe(1);
  });

  it('stops before the deadline (the group\'s next flush)', async () => {
    const clock = fakeClock();
    const start = clock.now();
    const r = await withRetry(async () => answer(503), { deadline: start + 10_000, clock });
    // 500 + 1000 + 2000 + 4000 = 7500 ms of waiting; the next wait (8 s) would pass the deadline.
    expect(r).toMatchObject({ ok: false, attempts: 5, status: 503 });
    expect(clock.now() - start).toBe(7500);
  });

  it('a thrown error counts as a network failure and is retried', async () => {
    const clock = fakeClock();
    let calls = 0;
    const r = await withRetry(
      async () => {
        if (calls++ === 0) throw new Error('connect ECONNREFUSED');
        return answer(200);
      },
      { deadline: clock.now() + 60_000, clock },
    );
    expect(r).toMatchObject({ ok: true, attempts: 2 });
  });

  it('an aborted signal stops after the attempt in flight', async () => {
    const clock = fakeClock();
    const ac = new AbortController();
    let calls = 0;
    const r = await withRetry(async () => (calls++, ac.abort(), answer(500)), { deadline: clock.now() + 60_000, clock, signal: ac.signal });
    expect(r).toMatchObject({ ok: false, attempts: 1 });
  });
});
