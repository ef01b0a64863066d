/**
 * The time range of a page, kept in the URL (`?since=1h` or `?from=<ms>&to=<ms>`) so links and reloads
 * show the same window. The last range chosen is also remembered for the browser tab (sessionStorage),
 * so a page opened without one (a bookmark, a link from elsewhere) shows the window the user was
 * looking at, and every internal link carries it on (see {@link withRange}).
 */
import { useCallback, useEffect, useMemo } from 'react';
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

const RANGE_KEYS = ['since', 'from', 'to'] as const;
const STORAGE_KEY = 'vigil.timeRange';

/** The range a URL's parameters carry, or null when they carry none (or an unreadable one). */
export function rangeFromParams(sp: URLSearchParams): TimeRange | null {
  const from = Number(sp.get('from'));
  const to = Number(sp.get('to'));
  if (from > 0 && to > from) return { from, to };
  const since = sp.get('since');
  return since && durationMs(since) > 0 ? { since } : null;
}

/** The range last chosen in this browser tab, if any. */
export function lastRange(): TimeRange | null {
  try {
    const saved = sessionStorage.getItem(STORAGE_KEY);
    return saved ? rangeFromParams(new URLSearchParams(saved)) : null;
  } catch {
    // Storage can be disabled; the URL still carries the range.
    return null;
  }
}

function rememberRange(r: TimeRange): void {
  try {
    sessionStorage.setItem(STORAGE_KEY, new URLSearchParams(rangeParams(r)).toString());
  } catch {
    // As above: nothing to remember into.
  }
}

/** `path` (which may carry its own query and hash) with the range's parameters set, replacing any it had. */
export function withRange(path: string, r: TimeRange | null): string {
  if (!r) return path;
  const hashAt = path.indexOf('#');
  const hash = hashAt >= 0 ? path.slice(hashAt) : '';
  const [pathname, query = ''] = (hashAt >= 0 ? path.slice(0, hashAt) : path).split('?', 2) as [string, string?];
  const sp = new URLSearchParams(query);
  for (const k of RANGE_KEYS) sp.delete(k);
  for (const [k, v] of Object.entries(rangeParams(r))) sp.set(k, v);
  return `${pathname}?${sp.toString()}${hash}`;
}

/** The range links from the current page carry: the URL's, else the last chosen (null: none yet). */
export function useLinkRange(): TimeRange | null {
  const [sp] = useSearchParams();
  return rangeFromParams(sp) ?? lastRange();
}

/**
 * The page's time range: the URL's, else the last one chosen in this tab, else `fallback`; with a
 * setter that keeps the other parameters. A range in the URL or set here becomes the last chosen.
 */
export function useTimeRange(fallback = '1h'): { range: TimeRange; setRange: (r: TimeRange) => void; params: Record<string, string> } {
  const [sp, setSp] = useSearchParams();
  // Memoised on the three values, not the URL, so other parameters changing keep the same object.
  const since = sp.get('since');
  const from = sp.get('from');
  const to = sp.get('to');
  const explicit = useMemo(() => rangeFromParams(new URLSearchParams({ since: since ?? '', from: from ?? '', to: to ?? '' })), [since, from, to]);
  const range: TimeRange = useMemo(() => explicit ?? lastRange() ?? { since: fallback }, [explicit, fallback]);
  useEffect(() => {
    if (explicit) rememberRange(explicit);
  }, [explicit]);
  const setRange = useCallback(
    (r: TimeRange) => {
      rememberRange(r);
      setSp((prev) => new URLSearchParams(withRange(`?${prev.toString()}`, r).slice(1)));
    },
    [setSp],
  );
  const params = useMemo(() => rangeParams(range), [range]);
  return { range, setRange, params };
}
