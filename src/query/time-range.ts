/**
 * Time ranges as users write them: `since=15m` (relative to now), or `from`/`to` as ISO-8601 text,
 * Unix milliseconds, or `now-1h`. `now` is an argument so tests need no clock.
 */
import { parseDuration } from '../config/config.ts';

/** A resolved time range in Unix nanoseconds, `from` inclusive, `to` exclusive. */
export interface TimeRange {
  fromNs: bigint;
  toNs: bigint;
}

/** A bad request parameter (time range, limit, query text); the message names it. */
export class ParamError extends Error {}

/** Parses one instant (ISO-8601, Unix ms or now-<duration>) into Unix ns; the error names the parameter. */
export function parseInstant(name: string, text: string, now: Date): bigint {
  const t = text.trim();
  if (t === 'now') return BigInt(now.getTime()) * 1_000_000n;
  const rel = /^now-(.+)$/.exec(t);
  if (rel) {
    try {
      return BigInt(now.getTime() - parseDuration(rel[1]!)) * 1_000_000n;
    } catch {
      throw new ParamError(`${name}: "${t.slice(0, 40)}" is not now-<duration> such as now-1h`);
    }
  }
  if (/^\d{10,16}$/.test(t)) return BigInt(t) * 1_000_000n;
  const ms = Date.parse(t);
  if (Number.isNaN(ms)) throw new ParamError(`${name}: "${t.slice(0, 40)}" is not a time; use ISO-8601, Unix milliseconds or now-<duration>`);
  return BigInt(ms) * 1_000_000n;
}

/** Resolves `since` or `from`/`to` (default: the last `fallback`). */
export function parseTimeRange(q: { since?: string; from?: string; to?: string }, now: Date, fallback = '15m'): TimeRange {
  const nowNs = BigInt(now.getTime()) * 1_000_000n;
  if (q.since && (q.from || q.to)) throw new ParamError('since: give either since or from/to, not both');
  if (q.from || q.to) {
    const fromNs = q.from ? parseInstant('from', q.from, now) : nowNs - BigInt(parseDuration(fallback)) * 1_000_000n;
    const toNs = q.to ? parseInstant('to', q.to, now) : nowNs;
    if (toNs <= fromNs) throw new ParamError('to: must be after from');
    return { fromNs, toNs };
  }
  let ms: number;
  try {
    ms = parseDuration(q.since ?? fallback);
  } catch {
    throw new ParamError(`since: "${String(q.since).slice(0, 40)}" is not a duration such as 15m, 1h or 7d`);
  }
  // `to` is a little past now so records stamped this very millisecond are included.
  return { fromNs: nowNs - BigInt(ms) * 1_000_000n, toNs: nowNs + 1_000_000n };
}
