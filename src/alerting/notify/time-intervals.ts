/**
 * Time intervals (Alertmanager's timeinterval package): whether a moment falls into one of a named
 * interval's specifications, each read in its own time zone with the runtime's Intl data (no extra
 * dependency), and whether a route's mute/active time intervals mute a notification now.
 */
import type { Route, TimeInterval } from './config.ts';

/** The wall-clock fields of a moment in a zone. */
interface Local {
  year: number;
  /** 1-12. */
  month: number;
  day: number;
  /** 0 = Sunday. */
  weekday: number;
  /** Minutes since local midnight. */
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAY: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** The local fields of `at` in `zone` (UTC by default, as in Alertmanager). */
function localFields(at: Date, zone: string | undefined): Local {
  const tz = zone ?? 'UTC';
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', weekday: 'short', hour: 'numeric', minute: 'numeric' });
    formatters.set(tz, f);
  }
  const p: Record<string, string> = {};
  for (const part of f.formatToParts(at)) p[part.type] = part.value;
  return { year: Number(p.year), month: Number(p.month), day: Number(p.day), weekday: WEEKDAY[p.weekday!]!, minute: Number(p.hour) * 60 + Number(p.minute) };
}

const clamp = (n: number, lo: number, hi: number) => Math.min(Math.max(n, lo), hi);

/** Whether `at` falls into one time interval specification: every field given must match. */
export function containsTime(ti: TimeInterval, at: Date): boolean {
  const t = localFields(at, ti.location);
  if (ti.times && !ti.times.some((r) => t.minute >= r.startMinute && t.minute < r.endMinute)) return false;
  if (ti.daysOfMonth) {
    const daysInMonth = new Date(Date.UTC(t.year, t.month, 0)).getUTCDate();
    const ok = ti.daysOfMonth.some((r) => {
      // Negative days count from the end of the month (-1 is its last day).
      let begin = r.begin < 0 ? daysInMonth + r.begin + 1 : r.begin;
      let end = r.end < 0 ? daysInMonth + r.end + 1 : r.end;
      // A range that starts after this month's last day (31 in April) does not match at all.
      if (begin > daysInMonth) return false;
      begin = clamp(begin, -daysInMonth, daysInMonth);
      end = clamp(end, -daysInMonth, daysInMonth);
      return t.day >= begin && t.day <= end;
    });
    if (!ok) return false;
  }
  if (ti.months && !ti.months.some((r) => t.month >= r.begin && t.month <= r.end)) return false;
  if (ti.weekdays && !ti.weekdays.some((r) => t.weekday >= r.begin && t.weekday <= r.end)) return false;
  if (ti.years && !ti.years.some((r) => t.year >= r.begin && t.year <= r.end)) return false;
  return true;
}

/** Whether `at` falls into any of the specifications of one named interval. */
export function isActive(intervals: readonly TimeInterval[], at: Date): boolean {
  return intervals.some((ti) => containsTime(ti, at));
}

/** Why a route's notification is muted at a moment, if it is. */
export interface TimeMute {
  muted: boolean;
  /** The mute interval that is active, or null. */
  muteInterval: string | null;
  /** True when the route has active time intervals and none is active. */
  outsideActive: boolean;
}

/**
 * Alertmanager's TimeMuteStage and TimeActiveStage for one route at `at` (the moment the notification
 * would go out): muted while any of its mute_time_intervals is active, or while it has
 * active_time_intervals and none of them is. An unknown name (not possible after validation) never matches.
 */
export function timeMute(route: Pick<Route, 'muteTimeIntervals' | 'activeTimeIntervals'>, intervals: ReadonlyMap<string, readonly TimeInterval[]>, at: Date): TimeMute {
  const muteInterval = route.muteTimeIntervals.find((n) => isActive(intervals.get(n) ?? [], at)) ?? null;
  const outsideActive = route.activeTimeIntervals.length > 0 && !route.activeTimeIntervals.some((n) => isActive(intervals.get(n) ?? [], at));
  return { muted: muteInterval !== null || outsideActive, muteInterval, outsideActive };
}
