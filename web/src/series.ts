/** Turning API answers into chart series. */
import type { MetricAnswer } from '../../src/api/contract.ts';
import type { Row, SearchResult } from './api.ts';
import type { Series } from './components/Chart.tsx';
import { durationMs } from './time.ts';

/** Chart data: x in Unix seconds and aligned series. */
export interface ChartData {
  x: number[];
  series: Series[];
}

const COUNTLIKE = /^(count|rate|sum|dc|errors|requests)/;

/**
 * Pivots a `timechart` answer (long form: `_time`, by-fields, aggregates) into one series per group and
 * aggregate. With `span` and a range, every bucket is present: counts read 0, other figures a gap.
 */
export function pivotTimechart(r: SearchResult, opts: { span?: string; fromMs?: number; toMs?: number } = {}): ChartData {
  const timeCol = r.columns.find((c) => c.name === '_time')?.name ?? '_time';
  const numeric = r.columns.filter((c) => c.type === 'number').map((c) => c.name);
  const groups = r.columns.filter((c) => c.name !== timeCol && c.type !== 'number').map((c) => c.name);
  const times = new Set<number>();
  for (const row of r.rows) times.add(Math.floor(new Date(String(row[timeCol])).getTime() / 1000));
  const stepS = opts.span ? durationMs(opts.span) / 1000 : 0;
  if (stepS > 0 && opts.fromMs !== undefined && opts.toMs !== undefined) {
    const start = Math.floor(opts.fromMs / 1000 / stepS) * stepS;
    for (let t = start; t < opts.toMs / 1000; t += stepS) times.add(t);
  }
  const x = [...times].sort((a, b) => a - b);
  const index = new Map(x.map((t, i) => [t, i]));
  const byKey = new Map<string, Series>();
  for (const row of r.rows) {
    const t = Math.floor(new Date(String(row[timeCol])).getTime() / 1000);
    const g = groups.map((k) => (row[k] === null || row[k] === undefined ? '(none)' : String(row[k]))).join(' · ');
    for (const n of numeric) {
      const label = g ? (numeric.length > 1 ? `${g} ${n}` : g) : n;
      let s = byKey.get(label);
      if (!s) {
        s = { label, values: x.map(() => (COUNTLIKE.test(n) ? 0 : null)) };
        byKey.set(label, s);
      }
      const v = row[n];
      s.values[index.get(t)!] = v === null || v === undefined ? null : Number(v);
    }
  }
  return { x, series: [...byKey.values()].sort((a, b) => a.label.localeCompare(b.label)) };
}

/** A metric answer of `/api/v1/apm/metrics` (the API contract's type). */
export type { MetricAnswer };

/** Metric series to chart data; histograms become one series per quantile. */
export function metricSeries(m: MetricAnswer): ChartData {
  const times = new Set<number>();
  for (const s of m.series) for (const p of s.points) times.add(Math.floor(new Date(p.time).getTime() / 1000));
  const x = [...times].sort((a, b) => a - b);
  const index = new Map(x.map((t, i) => [t, i]));
  const out: Series[] = [];
  for (const s of m.series) {
    const qkeys = m.agg === 'quantiles' ? Object.keys(s.points[0]?.quantiles ?? {}) : [];
    const keys = qkeys.length ? qkeys : [null];
    for (const k of keys) {
      const values: (number | null)[] = x.map(() => null);
      for (const p of s.points) values[index.get(Math.floor(new Date(p.time).getTime() / 1000))!] = k ? (p.quantiles?.[k] ?? null) : p.value;
      out.push({ label: [s.group ?? m.metric, k].filter(Boolean).join(' '), values });
    }
  }
  return { x, series: out };
}

/** The first number of an aggregate answer (a `stats count()` etc.). */
export function scalarOf(r: SearchResult): number | null {
  const row: Row | undefined = r.rows[0];
  if (!row) return r.kind === 'aggregate' ? 0 : null;
  const col = r.columns.find((c) => c.type === 'number');
  const v = col ? row[col.name] : undefined;
  return v === null || v === undefined ? null : Number(v);
}
