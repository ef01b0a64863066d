/**
 * One dashboard: variables, time range and auto-refresh, panels on a 12-column grid; in edit mode
 * panels move by their header and resize by their corner, and can be added, edited and removed.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useNavigate, useParams, useSearchParams } from 'react-router-dom';
import { api, ApiError, qs } from '../api.ts';
import { useAuth } from '../auth.tsx';
import { nextY, PANEL_TYPES, type Dashboard, type DashboardSpec, type PanelSpec } from '../dashboard-types.ts';
import { PageHead } from '../components/Layout.tsx';
import { PanelView } from '../components/PanelView.tsx';
import { Empty, ErrorState, Loading } from '../components/States.tsx';
import { TimeRangePicker } from '../components/TimeRangePicker.tsx';
import { useLoad } from '../hooks.ts';
import { durationMs, useTimeRange } from '../time.ts';
import type { ServiceRow } from './Overview.tsx';

const ROW = 30;
const GAP = 10;
const REFRESH = ['', '10s', '30s', '1m', '5m'];

/** The dashboard page. */
export function DashboardPage() {
  const id = useParams().id ?? '';
  const d = useLoad((signal) => api<Dashboard>(`/api/v1/dashboards/${encodeURIComponent(id)}`, { signal }), [id]);
  if (d.error) return <ErrorState error={d.error} retry={d.reload} />;
  if (!d.data) return <Loading what="Loading dashboard" />;
  return <DashboardView key={`${d.data.id}:${d.data.updatedAt}`} dashboard={d.data} />;
}

function DashboardView({ dashboard }: { dashboard: Dashboard }) {
  const { canWrite } = useAuth();
  const navigate = useNavigate();
  const [sp, setSp] = useSearchParams();
  const { range, setRange, params } = useTimeRange(dashboard.spec.time?.since ?? '1h');
  const [spec, setSpec] = useState<DashboardSpec>(dashboard.spec);
  const [title, setTitle] = useState(dashboard.title);
  const [editing, setEditing] = useState(sp.get('edit') === '1' && canWrite);
  // `?edit=1` (a new dashboard) opens the editor once; a reload shows the saved dashboard.
  useEffect(() => {
    if (sp.has('edit'))
      setSp(
        (p) => {
          const n = new URLSearchParams(p);
          n.delete('edit');
          return n;
        },
        { replace: true },
      );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  const [dirty, setDirty] = useState(false);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const [editPanel, setEditPanel] = useState<PanelSpec | null>(null);
  const [exporting, setExporting] = useState(false);
  const [tick, setTick] = useState(0);
  const refresh = sp.get('refresh') ?? spec.refresh ?? '';
  const refreshMs = refresh ? durationMs(refresh) : null;

  const update = (f: (s: DashboardSpec) => DashboardSpec) => {
    setSpec(f);
    setDirty(true);
  };

  // Variables: values in the URL (var-<name>), options from the services seen.
  const services = useLoad(
    (signal) => ((spec.variables ?? []).some((v) => v.type !== 'custom') ? api<{ services: ServiceRow[] }>(`/api/v1/services${qs(params)}`, { signal }) : Promise.resolve({ services: [] })),
    [params, spec.variables],
  );
  const vars = useMemo(() => {
    const out: Record<string, string> = {};
    for (const v of spec.variables ?? []) out[v.name] = sp.get(`var-${v.name}`) ?? v.default ?? '*';
    return out;
  }, [spec.variables, sp]);

  const save = () =>
    api<Dashboard>(`/api/v1/dashboards/${dashboard.id}`, { method: 'PUT', body: { title, description: dashboard.description, spec } }).then(
      () => {
        setDirty(false);
        setMsg({ ok: true, text: 'Saved.' });
      },
      (e: ApiError) => setMsg({ ok: false, text: e.message }),
    );

  // Grid geometry.
  const grid = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(1000);
  useEffect(() => {
    const el = grid.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setWidth(el.clientWidth));
    ro.observe(el);
    setWidth(el.clientWidth);
    return () => ro.disconnect();
  }, []);
  const colW = (width + GAP) / 12;
  const [drag, setDrag] = useState<{ id: string; mode: 'move' | 'resize'; sx: number; sy: number; orig: PanelSpec } | null>(null);
  useEffect(() => {
    if (!drag) return;
    const move = (e: PointerEvent) => {
      const dx = Math.round((e.clientX - drag.sx) / colW);
      const dy = Math.round((e.clientY - drag.sy) / (ROW + GAP));
      const o = drag.orig;
      update((s) => ({
        ...s,
        panels: s.panels.map((p) =>
          p.id !== drag.id
            ? p
            : drag.mode === 'move'
              ? { ...p, x: Math.max(0, Math.min(12 - p.w, o.x + dx)), y: Math.max(0, o.y + dy) }
              : { ...p, w: Math.max(2, Math.min(12 - p.x, o.w + dx)), h: Math.max(3, Math.min(40, o.h + dy)) },
        ),
      }));
    };
    const up = () => setDrag(null);
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
    return () => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
    };
  }, [drag, colW]);

  const height = Math.max(4, nextY(spec.panels)) * (ROW + GAP);
  const exportJson = JSON.stringify({ title, description: dashboard.description, spec }, null, 2);
  const exportHref = useMemo(() => `data:application/json;charset=utf-8,${encodeURIComponent(exportJson)}`, [exportJson]);
  const setVar = useCallback(
    (name: string, value: string) =>
      setSp((p) => {
        const n = new URLSearchParams(p);
        n.set(`var-${name}`, value);
        return n;
      }),
    [setSp],
  );

  return (
    <>
      <PageHead
        title={editing ? <input className="title-input" value={title} aria-label="dashboard title" onChange={(e) => (setTitle(e.target.value), setDirty(true))} /> : title}
        sub={dashboard.description}
      >
        <TimeRangePicker range={range} onChange={setRange} onRefresh={() => setTick((t) => t + 1)} />
        <label className="inline">
          Auto-refresh
          <select
            value={refresh}
            aria-label="auto-refresh"
            onChange={(e) =>
              setSp((p) => {
                const n = new URLSearchParams(p);
                n.set('refresh', e.target.value);
                return n;
              })
            }
          >
            {REFRESH.map((r) => (
              <option key={r} value={r}>
                {r || 'off'}
              </option>
            ))}
          </select>
        </label>
        <button type="button" className="btn small" onClick={() => setExporting((v) => !v)}>
          Export
        </button>
        {canWrite && !editing && (
          <button type="button" className="btn small" onClick={() => setEditing(true)}>
            Edit
          </button>
        )}
        {editing && (
          <>
            <button
              type="button"
              className="btn small"
              onClick={() => {
                const p: PanelSpec = { id: `p${Date.now().toString(36)}`, title: 'New panel', type: 'timeseries', source: 'search', query: 'from spans kind=server | timechart count() by service.name', x: 0, y: nextY(spec.panels), w: 6, h: 8 };
                update((s) => ({ ...s, panels: [...s.panels, p] }));
                setEditPanel(p);
              }}
            >
              Add panel
            </button>
            <button type="button" className="btn primary small" onClick={() => void save()} disabled={!dirty}>
              Save
            </button>
            <button
              type="button"
              className="btn ghost small"
              onClick={() => {
                if (dirty) void save();
                setEditing(false);
              }}
            >
              Done
            </button>
            <button
              type="button"
              className="btn ghost small danger"
              onClick={() => {
                if (window.confirm(`Delete the dashboard “${title}”?`)) void api(`/api/v1/dashboards/${dashboard.id}`, { method: 'DELETE' }).then(() => navigate('/dashboards'));
              }}
            >
              Delete
            </button>
          </>
        )}
      </PageHead>
      {msg && <div className={msg.ok ? 'form-ok' : 'form-error'}>{msg.text}</div>}
      {exporting && (
        <div className="panel export">
          <textarea readOnly rows={8} value={exportJson} className="mono" aria-label="dashboard json export" />
          <a className="btn small" href={exportHref} download={`${title.replace(/[^A-Za-z0-9_-]+/g, '-')}.json`}>
            Download JSON
          </a>
        </div>
      )}
      {(spec.variables ?? []).length > 0 && (
        <div className="variables">
          {(spec.variables ?? []).map((v) => {
            const opts =
              v.type === 'custom'
                ? (v.options ?? [])
                : v.type === 'namespace'
                  ? [...new Set((services.data?.services ?? []).map((s) => s.namespace ?? '').filter(Boolean))]
                  : (services.data?.services ?? []).map((s) => s.service);
            return (
              <label key={v.name} className="inline">
                {v.label ?? v.name}
                <select value={vars[v.name]} onChange={(e) => setVar(v.name, e.target.value)} aria-label={`variable ${v.name}`}>
                  <option value="*">all</option>
                  {opts.map((o) => (
                    <option key={o} value={o}>
                      {o}
                    </option>
                  ))}
                </select>
              </label>
            );
          })}
        </div>
      )}
      {spec.panels.length === 0 && (
        <Empty title="This dashboard has no panels yet.">{canWrite ? 'Press Edit, then “Add panel”, or add a chart from the metrics explorer.' : 'Ask a responder or admin to add panels.'}</Empty>
      )}
      <div className={`dash-grid ${editing ? 'editing' : ''}`} ref={grid} style={{ height }}>
        {spec.panels.map((p) => {
          const h = p.h * (ROW + GAP) - GAP;
          return (
            <section
              key={p.id}
              className="dash-panel"
              data-testid="dash-panel"
              style={{ left: p.x * colW, top: p.y * (ROW + GAP), width: p.w * colW - GAP, height: h }}
            >
              <header
                className="dash-panel-head"
                onPointerDown={(e) => {
                  if (!editing || (e.target as HTMLElement).closest('button')) return;
                  e.preventDefault();
                  setDrag({ id: p.id, mode: 'move', sx: e.clientX, sy: e.clientY, orig: p });
                }}
              >
                <h3>{p.title}</h3>
                {editing && (
                  <span className="panel-tools">
                    <button type="button" className="btn ghost tiny" onClick={() => setEditPanel(p)} aria-label={`edit ${p.title}`}>
                      ✎
                    </button>
                    <button type="button" className="btn ghost tiny" onClick={() => update((s) => ({ ...s, panels: s.panels.filter((x) => x.id !== p.id) }))} aria-label={`remove ${p.title}`}>
                      ✕
                    </button>
                  </span>
                )}
              </header>
              <div className="dash-panel-body">
                <PanelView panel={p} range={range} params={params} vars={vars} height={Math.max(60, h - 80)} refreshMs={refreshMs} tick={tick} />
              </div>
              {editing && (
                <span
                  className="resize-handle"
                  aria-label="resize"
                  onPointerDown={(e) => {
                    e.preventDefault();
                    setDrag({ id: p.id, mode: 'resize', sx: e.clientX, sy: e.clientY, orig: p });
                  }}
                />
              )}
            </section>
          );
        })}
      </div>
      {editPanel && (
        <PanelEditor
          panel={editPanel}
          onCancel={() => setEditPanel(null)}
          onSave={(np) => {
            update((s) => ({ ...s, panels: s.panels.map((x) => (x.id === np.id ? np : x)) }));
            setEditPanel(null);
          }}
        />
      )}
    </>
  );
}

/** Edits a panel's title, type, source and query. */
export function PanelEditor({ panel, onSave, onCancel }: { panel: PanelSpec; onSave: (p: PanelSpec) => void; onCancel: () => void }) {
  const [p, setP] = useState(panel);
  const names = useLoad((signal) => api<{ metrics: { name: string }[] }>('/api/v1/apm/metrics/names?since=24h', { signal }), []);
  return (
    <div className="modal-backdrop" role="dialog" aria-label="edit panel">
      <form
        className="modal form"
        onSubmit={(e) => {
          e.preventDefault();
          onSave(p);
        }}
      >
        <h2>Panel</h2>
        <label>
          Title
          <input value={p.title} onChange={(e) => setP({ ...p, title: e.target.value })} aria-label="panel title" />
        </label>
        <div className="row">
          <label>
            Type
            <select value={p.type} onChange={(e) => setP({ ...p, type: e.target.value as PanelSpec['type'] })} aria-label="panel type">
              {PANEL_TYPES.map((t) => (
                <option key={t}>{t}</option>
              ))}
            </select>
          </label>
          <label>
            Source
            <select value={p.source} onChange={(e) => setP({ ...p, source: e.target.value as PanelSpec['source'] })} aria-label="panel source">
              <option value="search">query</option>
              <option value="metric">metric</option>
            </select>
          </label>
          <label>
            Unit
            <select value={p.unit ?? ''} onChange={(e) => setP({ ...p, unit: e.target.value || undefined })} aria-label="unit">
              <option value="">auto</option>
              <option value="ms">ms</option>
              <option value="percent">% (0-1)</option>
              <option value="bytes">bytes</option>
              <option value="rps">per second</option>
            </select>
          </label>
        </div>
        {p.source === 'search' ? (
          <label>
            Query <span className="muted small">(use $service for variables; timechart for time series, stats … by for bars, top lists and tables)</span>
            <textarea rows={3} className="mono" value={p.query ?? ''} onChange={(e) => setP({ ...p, query: e.target.value })} aria-label="panel query" />
          </label>
        ) : (
          <div className="row">
            <label>
              Metric
              <input list="metric-names" value={p.metric?.name ?? ''} onChange={(e) => setP({ ...p, metric: { ...p.metric, name: e.target.value } })} aria-label="metric name" />
              <datalist id="metric-names">
                {(names.data?.metrics ?? []).map((m) => (
                  <option key={m.name} value={m.name} />
                ))}
              </datalist>
            </label>
            <label>
              Aggregate
              <select value={p.metric?.agg ?? ''} onChange={(e) => setP({ ...p, metric: { name: p.metric?.name ?? '', ...p.metric, agg: e.target.value || undefined } })}>
                {['', 'avg', 'min', 'max', 'sum', 'count', 'rate', 'increase'].map((a) => (
                  <option key={a} value={a}>
                    {a || 'default'}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Group by
              <input value={p.metric?.group_by ?? ''} onChange={(e) => setP({ ...p, metric: { name: p.metric?.name ?? '', ...p.metric, group_by: e.target.value || undefined } })} placeholder="service.name" />
            </label>
          </div>
        )}
        <div className="row end">
          <button type="button" className="btn ghost" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" className="btn primary">
            Apply
          </button>
        </div>
      </form>
    </div>
  );
}
