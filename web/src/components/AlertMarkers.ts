/**
 * Alert markers for charts: the periods during which alerts fired, from their state changes
 * (`/api/v1/alerting/history`) or a backtest, as shaded bands edged at start and end (Chart `bands`).
 */
import type { AlertHistoryEntry, AlertLabels, BacktestFiring } from '../../../src/api/contract.ts';
import type { Band } from './Chart.tsx';

/** Colour of firing periods on every chart (the theme's "bad" red, readable on both themes). */
export const FIRING_COLOR = '#ef4444';

/** One period during which one alert fired; `end` null: still firing at the end of the range. */
export interface FiringPeriod {
  fingerprint: string;
  alertname: string;
  ruleId: string;
  labels: AlertLabels;
  start: number;
  end: number | null;
}

/**
 * Firing periods from state changes over `[fromMs, …]`: a period opens when an alert enters `firing`
 * and closes when it leaves it. An alert whose first change in the range leaves `firing` was already
 * firing when the range began: its period starts at `fromMs`.
 */
export function firingPeriods(transitions: readonly AlertHistoryEntry[], fromMs: number): FiringPeriod[] {
  const sorted = [...transitions].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const open = new Map<string, FiringPeriod>();
  const seen = new Set<string>();
  const out: FiringPeriod[] = [];
  for (const t of sorted) {
    const at = Date.parse(t.at);
    const base = { fingerprint: t.fingerprint, alertname: t.alertname || t.labels.alertname || '', ruleId: t.ruleId, labels: t.labels };
    if (!seen.has(t.fingerprint) && t.from === 'firing' && t.to !== 'firing') out.push({ ...base, start: fromMs, end: at });
    seen.add(t.fingerprint);
    const cur = open.get(t.fingerprint);
    if (t.to === 'firing' && !cur) {
      const p: FiringPeriod = { ...base, start: at, end: null };
      open.set(t.fingerprint, p);
      out.push(p);
    } else if (t.to !== 'firing' && cur) {
      cur.end = at;
      open.delete(t.fingerprint);
    }
  }
  return out.sort((a, b) => a.start - b.start);
}

/** Backtest firings as periods. */
export function backtestPeriods(firings: readonly BacktestFiring[]): FiringPeriod[] {
  return firings.map((f) => ({
    fingerprint: JSON.stringify(f.labels),
    alertname: f.labels.alertname ?? '',
    ruleId: '',
    labels: f.labels,
    start: Date.parse(f.start),
    end: f.end === null ? null : Date.parse(f.end),
  }));
}

/**
 * Chart bands for firing periods. Overlapping periods of several alerts merge into one band (its
 * label names how many), so a chart stays readable when a rule fires for many routes at once.
 */
export function firingBands(periods: readonly FiringPeriod[]): Band[] {
  const sorted = [...periods].sort((a, b) => a.start - b.start);
  const bands: (Band & { names: Set<string> })[] = [];
  for (const p of sorted) {
    const last = bands.at(-1);
    if (last && (last.to === null || p.start <= last.to)) {
      last.to = last.to === null || p.end === null ? null : Math.max(last.to, p.end);
      last.names.add(p.alertname);
      continue;
    }
    bands.push({ from: p.start, to: p.end, label: '', color: FIRING_COLOR, names: new Set([p.alertname]) });
  }
  return bands.map(({ names, ...b }) => ({ ...b, label: names.size === 1 ? [...names][0]! : `${names.size} alerts` }));
}
