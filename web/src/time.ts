/**
 * The time range of a page, kept in the URL (`?since=1h` or `?from=<ms>&to=<ms>`) so links and reloads
 * show the same window.
 */
import { useCallback, useMemo } from 'react';
import { useSearchParams } from 'react-router-dom';

/** Preset relative ranges. */
export const PRESETS = ['5m', '15m', '1h', '6h', '24h', '7d'] as const;

/** A range: relative (`since`) or absolute (ms). */
export type TimeRange = { since: string } | { from: number; to: number };

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds of a `15m`-style duration (0 when unreadable). */
export function durationMs(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(s.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : 0;
}

/** The range as API parameters. */
export function rangeParams(r: TimeRange): Record<string, string> {
  return 'since' in r ? { since: r.since } : { from: String(Math.floor(r.from)), to: String(Math.ceil(r.to)) };
}

/** The range as absolute [from, to] in ms, at `now`. */
export function resolveRange(r: TimeRange, now = Date.now()): [number, number] {
  return 'since' in r ? [now - durationMs(r.since), now] : [r.from, r.to];
}

/** Human label of a range. */
export function rangeLabel(r: TimeRange): string {
  if ('since' in r) return `Last ${r.since}`;
  const f = (ms: number) => new Date(ms).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  return `${f(r.from)} → ${f(r.to)}`;
}

/** A round bucket for ~`points` buckets over the range, as a `span=` value. */
export function spanFor(r: TimeRange, points = 60, now = Date.now()): string {
  const [from, to] = resolveRange(r, now);
  const want = (to - from) / points;
  const steps = [10_000, 30_000, 60_000, 300_000, 900_000, 3_600_000, 86_400_000];
  const step = steps.find((s) => s >= want) ?? 86_400_000;
  return step >= 86_400_000 ? '1d' : step >= 3_600_000 ? `${step / 3_600_000}h` : step >= 60_000 ? `${step / 60_000}m` : `${step / 1000}s`;
}

/** The page's time range from the URL, with a setter that keeps the other parameters. */
export function useTimeRange(fallback = '1h'): { range: TimeRange; setRange: (r: TimeRange) => void; params: Record<string, string> } {
  const [sp, setSp] = useSearchParams();
  const since = sp.get('since');
  const from = Number(sp.get('from'));
  const to = Number(sp.get('to'));
  const range: TimeRange = useMemo(() => (from > 0 && to > from ? { from, to } : { since: since && durationMs(since) > 0 ? since : fallback }), [since, from, to, fallback]);
  const setRange = useCallback(
    (r: TimeRange) => {
      setSp((prev) => {
        const next = new URLSearchParams(prev);
        next.delete('since');
        next.delete('from');
        next.delete('to');
        for (const [k, v] of Object.entries(rangeParams(r))) next.set(k, v);
        return next;
      });
    },
    [setSp],
  );
  const params = useMemo(() => rangeParams(range), [range]);
  return { range, setRange, params };
}
