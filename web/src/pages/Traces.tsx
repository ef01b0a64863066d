/**
 * Trace explorer: find traces by service, operation, duration, status and attributes (a span search
 * the form writes and the user can edit), a duration scatter, and the matching requests.
 */
import { useMemo, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { api, qs, search, type Row } from '../api.ts';
import { Chart } from '../components/Chart.tsx';
import { PageHead } from '../components/Layout.tsx';
import { SortTable } from '../components/SortTable.tsx';
import { Empty, ErrorState, Loading, Panel } from '../components/States.tsx';
import { TimeRangePicker } from '../components/TimeRangePicker.tsx';
import { fmt, fmtTime, text } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { quoteValue } from '../query-syntax.ts';
import { useTimeRange } from '../time.ts';
import type { ServiceRow } from './Overview.tsx';

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

/** The trace explorer page. */
export function Traces() {
  const [sp, setSp] = useSearchParams();
  const navigate = useNavigate();
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
  const services = useLoad((signal) => api<{ services: ServiceRow[] }>(`/api/v1/services${qs(params)}`, { signal }), [params]);
  const ops = useLoad(
    (signal) => (draft.service ? api<{ operations: { operation: string }[] }>(`/api/v1/apm/operations${qs({ ...params, service: draft.service, limit: 200 })}`, { signal }) : Promise.resolve({ operations: [] })),
    [draft.service, params],
  );
  const res = useLoad((signal) => search(q, params, 2000, signal), [q, params]);
  const rows = res.data?.rows ?? [];
  const scatter = useMemo(() => {
    const sorted = [...rows].sort((a, b) => new Date(text(a.timestamp)).getTime() - new Date(text(b.timestamp)).getTime());
    const x = sorted.map((r) => new Date(text(r.timestamp)).getTime() / 1000);
    return {
      x,
      series: [
        { label: 'ok', values: sorted.map((r) => (r.status === 'Error' ? null : Number(r.duration_ms))), color: '#3b82f6' },
        { label: 'error', values: sorted.map((r) => (r.status === 'Error' ? Number(r.duration_ms) : null)), color: '#ef4444' },
      ],
    };
  }, [rows]);

  const apply = (f: typeof form) => {
    setSp((p) => {
      const n = new URLSearchParams(p);
      for (const [k, v] of Object.entries(f)) {
        const s = typeof v === 'boolean' ? (v ? '1' : '') : v;
        if (s) n.set(k, s);
        else n.delete(k);
      }
      return n;
    });
  };

  return (
    <>
      <PageHead title="Traces" sub="Find requests by service, operation, duration, status and attributes.">
        <TimeRangePicker range={range} onChange={setRange} onRefresh={res.reload} />
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
        <code>{q}</code> <Link to={`/logs?q=${encodeURIComponent(q)}`}>open in search</Link>
      </div>
      {res.error && <ErrorState error={res.error} retry={res.reload} hint="Attribute filters use the query language: key=value, key>number." />}
      {!res.data && !res.error && <Loading what="Finding traces" />}
      {res.data && rows.length === 0 && <Empty title="No matching spans.">Widen the time range or loosen the filters; tick “all spans” to include internal and client spans.</Empty>}
      {rows.length > 0 && (
        <>
          <Panel title={`Duration of ${fmt(rows.length, 'count')} matching spans${res.data?.truncated ? ' (newest 2,000)' : ''}`}>
            <Chart x={scatter.x} series={scatter.series} kind="points" unit="ms" height={180} onZoom={(a, b) => setRange({ from: a, to: b })} label="duration scatter" />
          </Panel>
          <Panel>
            <SortTable<Row>
              label="traces"
              rows={rows.slice(0, 500)}
              rowKey={(r, i) => `${text(r.span_id)}${i}`}
              initialSort="timestamp"
              columns={[
                { key: 'timestamp', label: 'Time', value: (r) => text(r.timestamp), render: (r) => fmtTime(text(r.timestamp), true) },
                { key: 'service.name', label: 'Service' },
                { key: 'name', label: 'Operation', render: (r) => <Link to={`/traces/${text(r.trace_id)}?around=${encodeURIComponent(text(r.timestamp))}`}>{text(r.name)}</Link> },
                { key: 'http.response.status_code', label: 'HTTP', numeric: true, render: (r) => text(r['http.response.status_code']) || '—' },
                { key: 'status', label: 'Status', render: (r) => <span className={r.status === 'Error' ? 'bad-text' : ''}>{text(r.status)}</span> },
                { key: 'duration_ms', label: 'Duration', numeric: true, value: (r) => Number(r.duration_ms), render: (r) => fmt(Number(r.duration_ms), 'ms') },
                {
                  key: 'trace_id',
                  label: 'Trace',
                  render: (r) => (
                    <button type="button" className="link mono" onClick={() => navigate(`/traces/${text(r.trace_id)}?around=${encodeURIComponent(text(r.timestamp))}`)}>
                      {text(r.trace_id).slice(0, 12)}…
                    </button>
                  ),
                },
              ]}
            />
          </Panel>
        </>
      )}
    </>
  );
}
