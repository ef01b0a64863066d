/**
 * Scheduling decisions, pure: when a monitor first runs (a stable offset inside its interval, so a
 * thousand monitors do not all fire together) and when it runs next (on its grid, skipping slots
 * missed while the process was busy instead of bursting to catch up).
 */
import { createHash } from 'node:crypto';

/** A stable fraction in [0, 1) from a monitor id, so restarts keep the same spread. */
export function jitterFraction(id: string): number {
  return createHash('sha1').update(id).digest().readUInt32BE(0) / 2 ** 32;
}

/** The first due time: `now` plus the monitor's offset within one interval. */
export function firstDue(id: string, intervalMs: number, now: number): number {
  return now + Math.floor(jitterFraction(id) * intervalMs);
}

/**
 * The next due time after a check that was due at `due`: `due + step`, or if that is already past,
 * the next slot on the same grid after `now`. `step` is the interval, or the retry interval while retrying.
 */
export function nextDue(due: number, stepMs: number, now: number): number {
  const next = due + stepMs;
  if (next > now) return next;
  return next + Math.ceil((now - next + 1) / stepMs) * stepMs;
}
