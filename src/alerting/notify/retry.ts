/**
 * Delivery with retry (Alertmanager's RetryStage): exponential backoff with full jitter between
 * attempts, as long as the next attempt can start before the deadline (the group's next flush), then
 * give up. Only recoverable failures are retried: network errors, 5xx and 429; any other 4xx is the
 * receiver saying the request itself is wrong, which repeating will not fix.
 */

/** What one attempt to notify returned (notifiers return results; they never throw for a refusal). */
export interface AttemptResult {
  ok: boolean;
  /** Whether trying again may succeed. */
  recoverable: boolean;
  /** The HTTP status the receiver answered, null without one (network error, SMTP). */
  status: number | null;
  error: string | null;
}

/** The outcome of all the attempts of one delivery. */
export interface RetryOutcome extends AttemptResult {
  attempts: number;
  durationMs: number;
}

/** Backoff parameters. */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  multiplier: number;
}

/** 500 ms doubling up to 30 s. */
export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000, multiplier: 2 };

/**
 * The wait before attempt `attempt + 1` (attempt counts from 1): a random share (jitter in [0.5, 1))
 * of the exponential step, so that many groups failing together do not retry in lockstep. Pure.
 */
export function backoffDelay(attempt: number, random: number, opts: BackoffOptions = DEFAULT_BACKOFF): number {
  const step = Math.min(opts.maxMs, opts.initialMs * opts.multiplier ** Math.max(0, attempt - 1));
  return Math.round(step * (0.5 + random / 2));
}

/** Whether an HTTP status is worth retrying. */
export function isRecoverableStatus(status: number): boolean {
  return status >= 500 || status === 429;
}

/** The clock and randomness retry runs on (injected: tests use a fake clock). */
export interface RetryClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  random(): number;
}

/** The real clock. */
export const realRetryClock: RetryClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    }),
  random: () => Math.random(),
};

/**
 * Calls `attempt` until it succeeds, fails unrecoverably, or the next try would start at or after
 * `deadline` (epoch ms). An aborted `signal` (shutdown) stops after the attempt in flight.
 */
export async function withRetry(
  attempt: (n: number) => Promise<AttemptResult>,
  opts: { deadline: number; clock?: RetryClock; backoff?: BackoffOptions; signal?: AbortSignal },
): Promise<RetryOutcome> {
  const clock = opts.clock ?? realRetryClock;
  const started = clock.now();
  for (let n = 1; ; n++) {
    let result: AttemptResult;
    try {
      result = await attempt(n);
    } catch (err) {
      // A notifier that throws had a network-level failure: worth another try.
      result = { ok: false, recoverable: true, status: null, error: (err as Error).message };
    }
    const done = (): RetryOutcome => ({ ...result, attempts: n, durationMs: clock.now() - started });
    if (result.ok || !result.recoverable || opts.signal?.aborted) return done();
    const wait = backoffDelay(n, clock.random(), opts.backoff);
    if (clock.now() + wait >= opts.deadline) return done();
    await clock.sleep(wait, opts.signal);
    if (opts.signal?.aborted) return done();
  }
}
