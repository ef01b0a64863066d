/** Metrics explorer: pick a metric, aggregate and group it, chart it, add it to a dashboard. */
import { useMemo, useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router-dom';
import { api, ApiError, qs } from '../api.ts';
import { useAuth } from '../auth.tsx';
import { Chart } from '../components/Chart.tsx';
import { PageHead } from '../components/Layout.tsx';
import { Empty, ErrorState, Loading, Panel } from '../components/States.tsx';
import { TimeRangePicker } from '../components/TimeRangePicker.tsx';
import { nextY, type Dashboard } from '../dashboard-types.ts';
import { fmt, unitLabel, unitOf } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { metricSeries, type MetricAnswer } from '../series.ts';
import { useTimeRange } from '../time.ts';
import type { MetricAttribute, MetricNameInfo } from '../../../src/api/contract.ts';

type MetricName = MetricNameInfo;

/** The metrics explorer. */
export function Metrics() {
  const { canWrite } = useAuth();
  const navigate = useNavigate();
  const [sp, setSp] = useSearchParams();
  const { range, setRange, params } = useTimeRange('1h');
  const [filter, setFilter] = useState('');
  const name = sp.get('name') ?? '';
  const agg = sp.get('agg') ?? '';
  const groupBy = sp.get('group_by') ?? '';
  const service = sp.get('service') ?? '';
  const type = sp.get('type') ?? '';
  const set = (k: string, v: string) =>
    setSp((p) => {
      const n = new URLSearchParams(p);
      if (v) n.set(k, v);
      else n.delete(k);
      return n;
    });
  const names = useLoad((signal) => api<{ metrics: MetricName[] }>(`/api/v1/apm/metrics/names${qs(params)}`, { signal }), [params]);
  const m = useLoad(
    (signal) => (name ? api<MetricAnswer>(`/api/v1/apm/metrics${qs({ ...params, name, type, agg, group_by: groupBy, service })}`, { signal }) : Promise.resolve(null)),
    [name, type, agg, groupBy, service, params],
  );
  const data = useMemo(() => (m.data ? metricSeries(m.data) : null), [m.data]);
  const info = names.data?.metrics.find((x) => x.name === name && (!type || x.type === type));
  const shown = (names.data?.metrics ?? []).filter((x) => x.name.toLowerCase().includes(filter.toLowerCase()));
  const [adding, setAdding] = useState(false);
  const unit = unitOf(m.data?.unit, name, m.data?.agg);

  return (
    <>
      <PageHead title="Metrics" sub="Every metric Vigil has received, charted by aggregate and attribute.">
        <TimeRangePicker range={range} onChange={setRange} onRefresh={m.reload} />
      </PageHead>
      <div className="metrics-layout">
        <Panel title="Metrics" className="metric-list">
          <input placeholder="Filter…" value={filter} onChange={(e) => setFilter(e.target.value)} aria-label="filter metrics" />
          {names.error && <ErrorState error={names.error} retry={names.reload} />}
          {!names.data && !names.error && <Loading />}
          {names.data && names.data.metrics.length === 0 && <Empty title="No metrics in this range.">Send OTLP metrics to port 4318, or widen the range.</Empty>}
          <ul>
            {shown.map((x) => (
              <li key={`${x.name}:${x.type}`}>
                <button
                  type="button"
                  className={`link ${x.name === name && (!type || x.type === type) ? 'active' : ''}`}
                  onClick={() =>
                    setSp((p) => {
                      const n = new URLSearchParams(p);
                      n.set('name', x.name);
                      // The same name can come as two types (a gauge from one service, a sum from another).
                      if ((names.data?.metrics ?? []).filter((y) => y.name === x.name).length > 1) n.set('type', x.type);
                      else n.delete('type');
                      n.delete('agg');
                      return n;
                    })
                  }
                >
                  {x.name}
                </button>
                <span className="muted small">
                  {x.type}
                  {x.unit ? ` · ${x.unit}` : ''}
                  {x.attributes?.some((a) => a.scope === 'point') ? ` · by ${x.attributes.filter((a) => a.scope === 'point').map((a) => a.key).join(', ')}` : ''}
                </span>
              </li>
            ))}
          </ul>
        </Panel>
        <div>
          {!name && <Empty title="Pick a metric on the left.">Counters chart as a rate per second, histograms as p50/p95/p99, gauges as an average.</Empty>}
          {name && (
            <Panel
              title={name}
              actions={
                <>
                  <label className="inline">
                    Aggregate
                    <select value={agg} onChange={(e) => set('agg', e.target.value)} aria-label="aggregate">
                      {['', 'avg', 'min', 'max', 'sum', 'count', ...(info?.type === 'sum' ? ['rate', 'increase'] : [])].map((a) => (
                        <option key={a} value={a}>
                          {a || 'default'}
                        </option>
                      ))}
                    </select>
                  </label>
                  <label className="inline">
                    Group by
                    <input value={groupBy} onChange={(e) => set('group_by', e.target.value)} placeholder="service.name" className="short" aria-label="group by" />
                  </label>
                  <label className="inline">
                    Service
                    <select value={service} onChange={(e) => set('service', e.target.value)} aria-label="service">
                      <option value="">all</option>
                      {(info?.services ?? []).map((s) => (
                        <option key={s}>{s}</option>
                      ))}
                    </select>
                  </label>
                  {canWrite && (
                    <button type="button" className="btn small" onClick={() => setAdding((v) => !v)}>
                      Add to dashboard
                    </button>
                  )}
                </>
              }
            >
              {adding && (
                <AddToDashboard
                  onPick={async (id) => {
                    const d = await api<Dashboard>(`/api/v1/dashboards/${id}`);
                    const panel = { id: `p${Date.now().toString(36)}`, title: name, type: 'timeseries' as const, source: 'metric' as const, metric: { name, agg: agg || undefined, group_by: groupBy || undefined, service: service || undefined }, x: 0, y: nextY(d.spec.panels), w: 6, h: 8 };
                    await api(`/api/v1/dashboards/${id}`, { method: 'PUT', body: { title: d.title, description: d.description, spec: { ...d.spec, panels: [...d.spec.panels, panel] } } });
                    navigate(`/dashboards/${id}`);
                  }}
                />
              )}
              {m.error && <ErrorState error={m.error as ApiError} retry={m.reload} />}
              {!m.data && !m.error && <Loading />}
              {data && data.x.length === 0 && <Empty title="No points in this range." />}
              {info?.attributes && info.attributes.length > 0 && <Attributes attributes={info.attributes} groupBy={groupBy} onGroup={(k) => set('group_by', k === groupBy ? '' : k)} />}
              {data && data.x.length > 0 && (
                <>
                  <Chart x={data.x} series={data.series} unit={unit} height={320} onZoom={(a, b) => setRange({ from: a, to: b })} label={name} />
                  <p className="muted small">
                    {m.data?.type} · {m.data?.agg}
                    {unitLabel(unit) ? ` (${unitLabel(unit)})` : ''} · {data.series.length} series · {fmt(data.x.length, 'count')} points each
                  </p>
                </>
              )}
            </Panel>
          )}
        </div>
      </div>
    </>
  );
}

/** The metric's attribute keys with sample values; clicking one groups the chart by it. */
function Attributes({ attributes, groupBy, onGroup }: { attributes: MetricAttribute[]; groupBy: string; onGroup: (key: string) => void }) {
  return (
    <div className="metric-attrs" data-testid="metric-attributes">
      <span className="muted small">Group by an attribute:</span>
      {attributes.map((a) => (
        <button
          key={`${a.scope}:${a.key}`}
          type="button"
          className={`chip ${a.key === groupBy ? 'on' : ''}`}
          title={`${a.scope === 'point' ? 'Point' : 'Resource'} attribute, ${a.distinct_values} values: ${a.sample.join(', ')}${a.distinct_values > a.sample.length ? ', …' : ''}`}
          onClick={() => onGroup(a.key)}
        >
          {a.key}
          <span className="muted">
            {' '}
            = {a.sample.slice(0, 3).join(' | ')}
            {a.distinct_values > 3 ? ` +${a.distinct_values - 3}` : ''}
          </span>
        </button>
      ))}
    </div>
  );
}

function AddToDashboard({ onPick }: { onPick: (id: string) => Promise<void> }) {
  const list = useLoad((signal) => api<{ dashboards: { id: string; title: string }[] }>('/api/v1/dashboards', { signal }), []);
  const [err, setErr] = useState<string | null>(null);
  return (
    <div className="add-to-dash">
      Add this chart to:{' '}
      {(list.data?.dashboards ?? []).map((d) => (
        <button key={d.id} type="button" className="btn small" onClick={() => onPick(d.id).catch((e: Error) => setErr(e.message))}>
          {d.title}
        </button>
      ))}
      {err && <span className="form-error">{err}</span>}
    </div>
  );
}
