/**
 * Heartbeat (push) monitors: a job calls `POST /api/v1/push/:token` when it runs; a beat missing for
 * longer than interval + grace makes the monitor down. Pure: the last beat and `now` are arguments.
 */
import { noPhases, type CheckResult } from './result.ts';

/** Judges a heartbeat monitor at `now` from its last beat; `startedAt` gives a new monitor one period of grace. */
export function judgeHeartbeat(
  last: { at: number; status: 'up' | 'down'; message?: string } | undefined,
  opts: { intervalMs: number; graceMs: number; now: number; startedAt: number },
): CheckResult {
  const allowed = opts.intervalMs + opts.graceMs;
  if (!last) {
    if (opts.now - opts.startedAt <= allowed) return { ok: true, status: 'up', latencyMs: 0, phases: noPhases(), details: { waitingForFirstBeat: true } };
    return { ok: false, status: 'down', latencyMs: 0, phases: noPhases(), error: `no heartbeat received within ${Math.round(allowed / 1000)} s`, details: {} };
  }
  const age = opts.now - last.at;
  const details = { lastBeat: new Date(last.at).toISOString(), ageSeconds: Math.round(age / 1000) };
  if (age > allowed) return { ok: false, status: 'down', latencyMs: 0, phases: noPhases(), error: `last heartbeat ${Math.round(age / 1000)} s ago, expected every ${Math.round(opts.intervalMs / 1000)} s (+${Math.round(opts.graceMs / 1000)} s grace)`, details };
  if (last.status === 'down') return { ok: false, status: 'down', latencyMs: 0, phases: noPhases(), error: last.message ? `job reported failure: ${last.message}` : 'job reported failure', details };
  return { ok: true, status: 'up', latencyMs: 0, phases: noPhases(), details };
}
