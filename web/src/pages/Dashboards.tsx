/** Dashboards: the list, a new one, or one imported from JSON. */
import { useState } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { api, ApiError } from '../api.ts';
import { useAuth } from '../auth.tsx';
import type { Dashboard, DashboardSpec } from '../dashboard-types.ts';
import { PageHead } from '../components/Layout.tsx';
import { Empty, ErrorState, Loading, Panel } from '../components/States.tsx';
import { fmtAgo } from '../format.ts';
import { useLoad } from '../hooks.ts';

/** The dashboards list. */
export function Dashboards() {
  const { canWrite } = useAuth();
  const navigate = useNavigate();
  const list = useLoad((signal) => api<{ dashboards: Omit<Dashboard, 'spec'>[] }>('/api/v1/dashboards', { signal }), []);
  const [importing, setImporting] = useState(false);
  const [json, setJson] = useState('');
  const [err, setErr] = useState<string | null>(null);
  const create = (title: string, spec: DashboardSpec, description = '') =>
    api<Dashboard>('/api/v1/dashboards', { method: 'POST', body: { title, description, spec } }).then(
      (d) => navigate(`/dashboards/${d.id}${spec.panels.length ? '' : '?edit=1'}`),
      (e: ApiError) => setErr(e.message),
    );
  return (
    <>
      <PageHead title="Dashboards" sub="Panels of queries and metrics, with variables and a shared time range.">
        {canWrite && (
          <>
            <button type="button" className="btn small" onClick={() => setImporting((v) => !v)}>
              Import JSON
            </button>
            <button type="button" className="btn primary small" onClick={() => void create('New dashboard', { time: { since: '1h' }, refresh: null, variables: [], panels: [] })}>
              New dashboard
            </button>
          </>
        )}
      </PageHead>
      {err && <div className="form-error">{err}</div>}
      {importing && (
        <Panel title="Import a dashboard">
          <form
            className="form"
            onSubmit={(e) => {
              e.preventDefault();
              try {
                const d = JSON.parse(json) as Partial<Dashboard> & { spec?: DashboardSpec; panels?: DashboardSpec['panels'] };
                const spec = d.spec ?? ({ panels: d.panels ?? [] } as DashboardSpec);
                void create(d.title ?? 'Imported dashboard', spec, d.description ?? '');
              } catch (x) {
                setErr(`That is not valid JSON: ${(x as Error).message}`);
              }
            }}
          >
            <label>
              Dashboard JSON (as exported)
              <textarea rows={10} value={json} onChange={(e) => setJson(e.target.value)} aria-label="dashboard json" className="mono" />
            </label>
            <label>
              or a file <input type="file" accept="application/json,.json" onChange={(e) => void e.target.files?.[0]?.text().then(setJson)} />
            </label>
            <button className="btn primary" type="submit">
              Import
            </button>
          </form>
        </Panel>
      )}
      <Panel>
        {list.error && <ErrorState error={list.error} retry={list.reload} />}
        {!list.data && !list.error && <Loading />}
        {list.data && list.data.dashboards.length === 0 && <Empty title="No dashboards yet.">Create one, or import a JSON export.</Empty>}
        {list.data && list.data.dashboards.length > 0 && (
          <ul className="dash-list">
            {list.data.dashboards.map((d) => (
              <li key={d.id}>
                <Link to={`/dashboards/${d.id}`}>{d.title}</Link>
                {d.builtin && <span className="badge idle">built-in</span>}
                <span className="muted">{d.description}</span>
                <span className="muted small">updated {fmtAgo(d.updatedAt)}</span>
              </li>
            ))}
          </ul>
        )}
      </Panel>
    </>
  );
}
