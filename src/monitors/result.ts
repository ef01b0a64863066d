/**
 * What every checker returns (DESIGN.md §5: checkers return results and mutate nothing they are given).
 */
import type { OutboundPolicy } from '../net/outbound.ts';

/** Outcome of one check. */
export type CheckStatus = 'up' | 'down' | 'degraded';

/** Where the time of a check went; null when a phase did not happen or cannot be measured. */
export interface Phases {
  dnsMs: number | null;
  connectMs: number | null;
  tlsMs: number | null;
  firstByteMs: number | null;
}

/** The result of one check. */
export interface CheckResult {
  ok: boolean;
  status: CheckStatus;
  latencyMs: number;
  phases: Phases;
  error?: string;
  details: Record<string, unknown>;
}

/** What a checker may use: the outbound policy, its time budget and a clock. */
export interface CheckContext {
  policy: OutboundPolicy;
  timeoutMs: number;
  now: () => Date;
}

/** Phases with nothing measured. */
export function noPhases(): Phases {
  return { dnsMs: null, connectMs: null, tlsMs: null, firstByteMs: null };
}

/** A failed check with the error message. */
export function down(latencyMs: number, error: string, phases: Phases = noPhases(), details: Record<string, unknown> = {}): CheckResult {
  return { ok: false, status: 'down', latencyMs: round(latencyMs), phases, error, details };
}

/** Rounds milliseconds to 0.1 ms, so stored numbers stay short. */
export function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** The message of an error, following `cause` to the network error underneath fetch's "fetch failed". */
export function errorMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as Error & { cause?: unknown }).cause;
  if (err.message === 'fetch failed' && cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code && !cause.message.includes(code) ? `${code}: ${cause.message}` : cause.message;
  }
  return err.message;
}

/** Runs `fn` with a deadline; rejects with a time-out error naming the budget. */
export async function withTimeout<T>(ms: number, what: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`${what} timed out after ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([fn(controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Refuses names under `.invalid` without a DNS query (RFC 6761 asks resolver libraries to answer them
 * negatively at once), so checks of such names never send traffic.
 */
export function assertResolvable(host: string): void {
  if (/(^|\.)invalid\.?$/i.test(host)) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
}
