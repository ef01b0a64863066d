/**
 * Trace explorer: find traces by service, operation, duration, status and attributes (a span search
 * the form writes and the user can edit). Charts of span count and p95 duration come from an aggregate
 * over every matching span in the range; the list below pages through all of them (newest first, or
 * by duration) with a cursor, and says how many there are in total.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { api, qs, search, type Row } from '../api.ts';
import { Chart } from '../components/Chart.tsx';
import { PageHead } from '../components/Layout.tsx';
import { Empty, ErrorState, Loading, Panel } from '../components/States.tsx';
import { TimeRangePicker } from '../components/TimeRangePicker.tsx';
import { fmt, fmtTime, text } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { quoteValue } from '../query-syntax.ts';
import { pivotTimechart } from '../series.ts';
import { resolveRange, spanFor, useTimeRange, withRange, type TimeRange } from '../time.ts';
import type { ServiceRow } from './Overview.tsx';
import type { TraceListPage } from '../../../src/api/contract.ts';

/** Builds the span search the form describes. */
export function traceQuery(f: { service?: string; operation?: string; min?: string; max?: string; status?: string; attrs?: string; all?: boolean }): string {
  const parts = ['from spans'];
  if (!f.all) parts.push('kind=server');
  if (f.service) parts.push(`service.name=${quoteValue(f.service)}`);
  if (f.operation) {
    const m = /^([A-Z]+) (\/.*)$/.exec(f.operation);
    parts.push(m ? `http.request.method=${m[1]} http.route=${quoteValue(m[2]!)}` : `name=${quoteValue(f.operation)}`);
  }
  if (f.min && Number(f.min) > 0) parts.push(`duration_ms>=${Number(f.min)}`);
  if (f.max && Number(f.max) > 0) parts.push(`duration_ms<=${Number(f.max)}`);
  if (f.status === 'error') parts.push('status=error');
  if (f.status === 'ok') parts.push('NOT status=error');
  if (f.attrs?.trim()) parts.push(f.attrs.trim());
  return parts.join(' ');
}

/** Orders the list offers (the API's `sort`): newest first unless a column header says otherwise. */
type ListSort = '-timestamp' | 'timestamp' | '-duration_ms' | 'duration_ms';


const PAGE = 100;

/** Pages of matching spans: the first loads when the query changes, `more` appends the next one. */
function useTracePages(q: string, params: Record<string, string>, sort: ListSort) {
  const [state, setState] = useState<{ rows: Row[]; total: number | null; cursor: string | null; loading: boolean; error?: Error }>({ rows: [], total: null, cursor: null, loading: true });
  const [tick, setTick] = useState(0);
  const ctl = useRef<AbortController | null>(null);
  const load = useCallback(
    (cursor: string | null) => {
      ctl.current?.abort();
      const c = new AbortController();
      ctl.current = c;
      setState((s) => ({ ...s, loading: true, error: undefined }));
      api<TraceListPage>(`/api/v1/traces${qs({ q, ...params, sort, limit: PAGE, cursor })}`, { signal: c.signal }).then(
        (d) => !c.signal.aborted && setState((s) => ({ rows: cursor ? [...s.rows, ...d.rows] : d.rows, total: cursor ? s.total : d.total, cursor: d.nextCursor, loading: false })),
        (error: Error) => !c.signal.aborted && error.name !== 'AbortError' && setState((s) => ({ ...s, loading: false, error })),
      );
    },
    [q, params, sort],
  );
  useEffect(() => {
    load(null);
    return () => ctl.current?.abort();
  }, [load, tick]);
  return { ...state, more: () => state.cursor && load(state.cursor), reload: () => setTick((n) => n + 1) };
}

/** The trace explorer page. */
export function Traces() {
  const [sp, setSp] = useSearchParams();
  const { range, setRange, params } = useTimeRange('1h');
  const form = {
    service: sp.get('service') ?? '',
    operation: sp.get('operation') ?? '',
    min: sp.get('min') ?? '',
    max: sp.get('max') ?? '',
    status: sp.get('status') ?? '',
    attrs: sp.get('attrs') ?? '',
    all: sp.get('all') === '1',
  };
  const [draft, setDraft] = useState(form);
  const q = traceQuery(form);
  const sort = (['timestamp', '-duration_ms', 'duration_ms'].includes(sp.get('sort') ?? '') ? sp.get('sort') : '-timestamp') as ListSort;
  const services = useLoad((signal) => api<{ services: ServiceRow[] }>(`/api/v1/services${qs(params)}`, { signal }), [params]);
  const ops = useLoad(
    (signal) => (draft.service ? api<{ operations: { operation: string }[] }>(`/api/v1/apm/operations${qs({ ...params, service: draft.service, limit: 200 })}`, { signal }) : Promise.resolve({ operations: [] })),
    [draft.service, params],
  );
  const list = useTracePages(q, params, sort);
  // The charts aggregate every matching span in the range, whatever the list has loaded.
  const span = spanFor(range, 60);
  const chart = useLoad((signal) => search(`${q} | timechart span=${span} count() p95(duration_ms)`, params, 10_000, signal), [q, params, span]);
  const series = useMemo(() => {
    if (!chart.data) return null;
    const [fromMs, toMs] = resolveRange(range);
    const data = pivotTimechart(chart.data, { span, fromMs, toMs });
    const pick = (name: string) => data.series.find((s) => s.label === name)?.values ?? [];
    return { x: data.x, count: pick('count'), p95: pick('p95(duration_ms)') };
  }, [chart.data, range, span]);

  const setParams = (values: Record<string, string>) =>
    setSp((p) => {
      const n = new URLSearchParams(p);
      for (const [k, v] of Object.entries(values)) {
        if (v) n.set(k, v);
        else n.delete(k);
      }
      return n;
    });
  const apply = (f: typeof form) => setParams(Object.fromEntries(Object.entries(f).map(([k, v]) => [k, typeof v === 'boolean' ? (v ? '1' : '') : v])));
  const reload = () => {
    list.reload();
    chart.reload();
  };

  return (
    <>
      <PageHead title="Traces" sub="Find requests by service, operation, duration, status and attributes.">
        <TimeRangePicker range={range} onChange={setRange} onRefresh={reload} />
      </PageHead>
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          apply(draft);
        }}
      >
        <label>
          Service
          <select value={draft.service} onChange={(e) => setDraft({ ...draft, service: e.target.value, operation: '' })} aria-label="service">
            <option value="">any</option>
            {(services.data?.services ?? []).map((s) => (
              <option key={s.service} value={s.service}>
                {s.service}
              </option>
            ))}
          </select>
        </label>
        <label>
          Operation
          <input list="ops" value={draft.operation} onChange={(e) => setDraft({ ...draft, operation: e.target.value })} placeholder="any" aria-label="operation" />
          <datalist id="ops">
            {(ops.data?.operations ?? []).map((o) => (
              <option key={o.operation} value={o.operation} />
            ))}
          </datalist>
        </label>
        <label>
          Min ms
          <input type="number" min="0" value={draft.min} onChange={(e) => setDraft({ ...draft, min: e.target.value })} className="short" aria-label="minimum duration" />
        </label>
        <label>
          Max ms
          <input type="number" min="0" value={draft.max} onChange={(e) => setDraft({ ...draft, max: e.target.value })} className="short" aria-label="maximum duration" />
        </label>
        <label>
          Status
          <select value={draft.status} onChange={(e) => setDraft({ ...draft, status: e.target.value })} aria-label="status">
            <option value="">any</option>
            <option value="error">error</option>
            <option value="ok">not error</option>
          </select>
        </label>
        <label className="grow">
          Attributes
          <input value={draft.attrs} onChange={(e) => setDraft({ ...draft, attrs: e.target.value })} placeholder="user.id=42 http.response.status_code>=500" aria-label="attributes" />
        </label>
        <label className="check">
          <input type="checkbox" checked={draft.all} onChange={(e) => setDraft({ ...draft, all: e.target.checked })} /> all spans
        </label>
        <button className="btn primary" type="submit">
          Find
        </button>
      </form>
      <div className="query-echo">
        <code>{q}</code> <Link to={withRange(`/logs?q=${encodeURIComponent(q)}`, range)}>open in search</Link>
      </div>
      {list.error && <ErrorState error={list.error} retry={list.reload} hint="Attribute filters use the query language: key=value, key>number." />}
      {list.loading && list.rows.length === 0 && !list.error && <Loading what="Finding traces" />}
      {!list.loading && !list.error && list.rows.length === 0 && <Empty title="No matching spans.">Widen the time range or loosen the filters; tick “all spans” to include internal and client spans.</Empty>}
      {list.rows.length > 0 && (
        <>
          {series && (
            <div className="grid2">
              <Panel title={`Matching spans per ${span}`}>
                <Chart x={series.x} series={[{ label: 'spans', values: series.count, color: '#3b82f6' }]} kind="bars" unit="count" height={150} onZoom={(a, b) => setRange({ from: a, to: b })} label="span count" />
              </Panel>
              <Panel title={`p95 duration per ${span}`}>
                <Chart x={series.x} series={[{ label: 'p95', values: series.p95, color: '#f59e0b' }]} unit="ms" height={150} onZoom={(a, b) => setRange({ from: a, to: b })} label="p95 duration" />
              </Panel>
            </div>
          )}
          <Panel title={<span data-testid="trace-count">{`${fmt(list.rows.length, 'count')} of ${list.total === null ? '…' : fmt(list.total, 'count')} matching spans`}</span>}>
            <TraceTable rows={list.rows} sort={sort} onSort={(s) => setParams({ sort: s === '-timestamp' ? '' : s })} range={range} />
            {list.cursor && (
              <div className="load-more" style={{ textAlign: 'center', paddingTop: 10 }}>
                <button type="button" className="btn" onClick={list.more} disabled={list.loading}>
                  {list.loading ? 'Loading…' : `Load ${PAGE} more`}
                </button>
              </div>
            )}
          </Panel>
        </>
      )}
    </>
  );
}

/** The list of spans, ordered by the server: the time and duration headers change the order. */
function TraceTable({ rows, sort, onSort, range }: { rows: Row[]; sort: ListSort; onSort: (s: ListSort) => void; range: TimeRange }) {
  const open = (r: Row) => withRange(`/traces/${text(r.trace_id)}?around=${encodeURIComponent(text(r.timestamp))}`, range);
  // A second click on the sorted column reverses it; a first click starts newest/slowest first.
  const header = (key: 'timestamp' | 'duration_ms', label: string, numeric = false) => {
    const on = sort.endsWith(key) ? (sort.startsWith('-') ? 'descending' : 'ascending') : 'none';
    return (
      <th className={numeric ? 'num' : ''} aria-sort={on}>
        <button type="button" onClick={() => onSort(on === 'descending' ? key : (`-${key}` as ListSort))}>
          {label}
          <span className="sort-mark">{on === 'descending' ? '▼' : on === 'ascending' ? '▲' : ''}</span>
        </button>
      </th>
    );
  };
  return (
    <div className="table-wrap">
      <table className="table" aria-label="traces">
        <thead>
          <tr>
            {header('timestamp', 'Time')}
            <th>Service</th>
            <th>Operation</th>
            <th className="num">HTTP</th>
            <th>Status</th>
            {header('duration_ms', 'Duration', true)}
            <th>Trace</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={`${text(r.trace_id)}-${text(r.span_id)}`}>
              <td>{fmtTime(text(r.timestamp), true)}</td>
              <td>{text(r['service.name'])}</td>
              <td>
                <Link to={open(r)}>{text(r.name)}</Link>
              </td>
              <td className="num">{text(r['http.response.status_code']) || '—'}</td>
              <td>
                <span className={r.status === 'Error' ? 'bad-text' : ''}>{text(r.status)}</span>
              </td>
              <td className="num">{fmt(Number(r.duration_ms), 'ms')}</td>
              <td>
                <Link className="mono" to={open(r)}>
                  {text(r.trace_id).slice(0, 12)}…
                </Link>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
