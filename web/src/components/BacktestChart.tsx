/**
 * A backtest drawn: the rule's value per label set at each replayed evaluation, the threshold when the
 * condition compares with a constant, and shaded bands where the alert would have fired.
 */
import { useMemo } from 'react';
import type { BacktestResponse } from '../../../src/api/contract.ts';
import { labelPairs } from '../alert-format.ts';
import { fmt, type Unit } from '../format.ts';
import { backtestPeriods, FIRING_COLOR, firingBands } from './AlertMarkers.ts';
import { Chart, type Series } from './Chart.tsx';
import { Empty } from './States.tsx';

/** How many label sets get a line; the rest are counted in the caption (the top ones by peak value). */
const MAX_SERIES = 8;

/** The backtest chart. */
export function BacktestChart({ result, unit }: { result: BacktestResponse; unit: Unit }) {
  const { x, series, hidden } = useMemo(() => {
    const times = new Set<number>();
    for (const s of result.series) for (const [t] of s.points) times.add(t);
    const x = [...times].sort((a, b) => a - b);
    const index = new Map(x.map((t, i) => [t, i]));
    const peak = (pts: [number, number | null][]) => Math.max(-Infinity, ...pts.map(([, v]) => v ?? -Infinity));
    const ranked = [...result.series].sort((a, b) => peak(b.points) - peak(a.points));
    // Name each line by the labels that tell the lines apart (the rule's own labels are the same on all).
    const varying = new Set<string>();
    for (const s of result.series) for (const [k, v] of Object.entries(s.labels)) if (result.series.some((o) => o.labels[k] !== v)) varying.add(k);
    const series: Series[] = ranked.slice(0, MAX_SERIES).map((s) => {
      const values: (number | null)[] = x.map(() => null);
      for (const [t, v] of s.points) values[index.get(t)!] = v;
      const name = labelPairs(s.labels, ['alertname'])
        .filter(([k]) => varying.has(k))
        .map(([k, v]) => `${k}=${v}`)
        .join(', ');
      return { label: name || 'value', values };
    });
    if (result.threshold !== null) series.push({ label: `threshold ${fmt(result.threshold, unit)}`, values: x.map(() => result.threshold), color: FIRING_COLOR });
    return { x, series, hidden: Math.max(0, ranked.length - MAX_SERIES) };
  }, [result, unit]);
  const bands = useMemo(() => firingBands(backtestPeriods(result.firings)), [result.firings]);

  if (x.length === 0)
    return (
      <Empty title="No data in this range.">
        The rule's source returned no rows over the replayed evaluations: check the query reads data that exists, or backtest a longer range.
      </Empty>
    );
  return (
    <div className="backtest-chart" data-testid="backtest-chart" data-firings={result.firings.length}>
      <div className="legend-row">
        <span className="legend-item">
          <i style={{ background: FIRING_COLOR, opacity: 0.35 }} /> would have fired ({result.firings.length})
        </span>
        {result.threshold !== null && (
          <span className="legend-item">
            <i style={{ background: FIRING_COLOR, height: 2 }} /> threshold {fmt(result.threshold, unit)}
          </span>
        )}
        {hidden > 0 && <span className="muted">{`${MAX_SERIES} of ${MAX_SERIES + hidden} label sets drawn (highest peaks)`}</span>}
      </div>
      <Chart x={x} series={series} unit={unit} height={240} bands={bands} label="backtest" />
    </div>
  );
}
