/** Draws one dashboard panel from its spec: runs its query over the dashboard's range. */
import { useMemo } from 'react';
import { api, qs, search, type SearchResult } from '../api.ts';
import { substitute, type PanelSpec } from '../dashboard-types.ts';
import { fmt, text, unitOf } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { metricSeries, pivotTimechart, scalarOf, type MetricAnswer } from '../series.ts';
import { PALETTE } from '../theme.ts';
import { resolveRange, spanFor, type TimeRange } from '../time.ts';
import { Chart } from './Chart.tsx';
import { ResultTable } from './ResultTable.tsx';
import { Empty, ErrorState, Loading } from './States.tsx';

type Answer = { kind: 'search'; r: SearchResult } | { kind: 'metric'; m: MetricAnswer };

/** Adds a `span=` to a timechart without one, so buckets match the chart width. */
function withSpan(q: string, span: string): string {
  return q.replace(/\|\s*timechart(?![^|]*span=)/, `| timechart span=${span}`);
}

/** A panel's content. */
export function PanelView({ panel, range, params, vars, height, refreshMs, tick }: { panel: PanelSpec; range: TimeRange; params: Record<string, string>; vars: Record<string, string>; height: number; refreshMs?: number | null; tick?: number }) {
  const span = spanFor(range, 80);
  const query = panel.query ? withSpan(substitute(panel.query, vars), span) : '';
  const metricKey = JSON.stringify(panel.metric ?? null);
  const d = useLoad<Answer>(
    async (signal) => {
      if (panel.source === 'metric') {
        if (!panel.metric?.name) throw new Error('choose a metric for this panel');
        const m = panel.metric;
        const service = m.service ? substitute(m.service, vars) : undefined;
        return { kind: 'metric', m: await api<MetricAnswer>(`/api/v1/apm/metrics${qs({ ...params, name: m.name, agg: m.agg, group_by: m.group_by, service: service === '*' ? undefined : service })}`, { signal }) };
      }
      if (!query.trim()) throw new Error('write a query for this panel');
      return { kind: 'search', r: await search(query, params, 10000, signal) };
    },
    [query, metricKey, params, panel.source, tick],
    refreshMs,
  );
  const [fromMs, toMs] = resolveRange(range);
  const body = useMemo(() => {
    if (!d.data) return null;
    const derived = d.data.kind === 'metric' ? unitOf(d.data.m.unit, d.data.m.metric, d.data.m.agg) : 'none';
    // CPU time per second is in cores whatever a panel says: saved panels drew it on a % axis.
    const unit = derived === 'cores' ? derived : panel.unit || derived;
    if (d.data.kind === 'metric') {
      const data = metricSeries(d.data.m);
      if (!data.x.length) return <Empty title="No points for this metric in the range." />;
      if (panel.type === 'stat') {
        const last = data.series.map((s) => [...s.values].reverse().find((v) => v !== null) ?? null);
        return <div className="stat-big">{fmt(last.reduce<number>((a, b) => a + (b ?? 0), 0), unit)}</div>;
      }
      return <Chart x={data.x} series={data.series} unit={unit} height={height} kind={panel.type === 'bar' ? 'bars' : 'line'} label={panel.title} />;
    }
    const r = d.data.r;
    if (r.rows.length === 0) return <Empty title="No data in this range." />;
    const isTime = r.columns.some((c) => c.name === '_time');
    if (panel.type === 'stat') {
      if (isTime) {
        const data = pivotTimechart(r, { span, fromMs, toMs });
        const total = data.series.reduce((a, s) => a + s.values.reduce<number>((x, y) => x + (y ?? 0), 0), 0);
        return <div className="stat-big">{fmt(total, unit)}</div>;
      }
      return <div className="stat-big">{fmt(scalarOf(r), unit)}</div>;
    }
    if (panel.type === 'timeseries' && isTime) {
      const data = pivotTimechart(r, { span, fromMs, toMs });
      return <Chart x={data.x} series={data.series} unit={unit} height={height} label={panel.title} />;
    }
    const labelCols = r.columns.filter((c) => c.type !== 'number');
    const num = r.columns.find((c) => c.type === 'number' && c.name !== 'percent') ?? r.columns.find((c) => c.type === 'number');
    if ((panel.type === 'bar' || panel.type === 'toplist') && num) {
      const items = r.rows.map((row) => ({ label: labelCols.map((c) => text(row[c.name]) || '(none)').join(' · '), value: Number(row[num.name] ?? 0) }));
      if (panel.type === 'toplist') items.sort((a, b) => b.value - a.value);
      const max = Math.max(...items.map((i) => i.value), 1);
      return (
        <ul className={panel.type === 'toplist' ? 'toplist' : 'barlist'}>
          {items.slice(0, 50).map((i, k) => (
            <li key={k}>
              <span className="bl-label" title={i.label}>
                {i.label}
              </span>
              <span className="bl-bar">
                <span style={{ width: `${(i.value / max) * 100}%`, background: PALETTE[panel.type === 'bar' ? k % PALETTE.length : 0] }} />
              </span>
              <span className="bl-value">{fmt(i.value, unit)}</span>
            </li>
          ))}
        </ul>
      );
    }
    return (
      <ResultTable
        result={r}
        maxRows={500}
        compact
        cell={(row, c) => (c.type === 'number' && row[c.name] !== null ? fmt(Number(row[c.name]), /ms$/.test(c.name) ? 'ms' : unit) : text(row[c.name]))}
      />
    );
  }, [d.data, panel.type, panel.unit, panel.title, height, span, fromMs, toMs]);
  if (d.error) return <ErrorState error={d.error} retry={d.reload} />;
  if (!d.data) return <Loading />;
  return <>{body}</>;
}
