/**
 * `/changes`: deploys, rollbacks, configuration changes, feature flags and infrastructure changes in
 * the time range, newest first, filtered by service and kind (both kept in the URL, so the service
 * page's legend links here filtered). Empty, it explains how to post a change.
 */
import { Link, useSearchParams } from 'react-router-dom';
import { api, qs } from '../api.ts';
import { CHANGE_COLORS, kindLabel, versionText } from '../components/ChangeMarkers.tsx';
import { PageHead } from '../components/Layout.tsx';
import { Empty, ErrorState, Loading, Panel } from '../components/States.tsx';
import { TimeRangePicker } from '../components/TimeRangePicker.tsx';
import { fmtAgo, fmtTime } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { useTimeRange, withRange } from '../time.ts';
import type { ChangeKind, ChangesResponse, ServiceRow } from '../../../src/api/contract.ts';

const KINDS: ChangeKind[] = ['deploy', 'rollback', 'config', 'feature_flag', 'infrastructure', 'restart', 'other'];

/** The change list. */
export function Changes() {
  const { range, setRange, params } = useTimeRange('24h');
  const [sp, setSp] = useSearchParams();
  const service = sp.get('service') ?? '';
  const kind = sp.get('kind') ?? '';
  const list = useLoad((signal) => api<ChangesResponse>(`/api/v1/changes${qs({ ...params, service: service || undefined, kind: kind || undefined, limit: 1000 })}`, { signal }), [params, service, kind], 30_000);
  const services = useLoad((signal) => api<{ services: ServiceRow[] }>(`/api/v1/services${qs(params)}`, { signal }).catch(() => ({ services: [] })), [params]);
  const setFilter = (key: 'service' | 'kind', value: string) =>
    setSp((prev) => {
      const next = new URLSearchParams(prev);
      if (value) next.set(key, value);
      else next.delete(key);
      return next;
    });
  const rows = list.data?.changes ?? [];
  const origin = window.location.origin;

  return (
    <>
      <PageHead title="Changes" sub="Deploys, rollbacks, configuration changes, feature flags and infrastructure changes: posted by pipelines and people, or detected from telemetry.">
        <TimeRangePicker range={range} onChange={setRange} onRefresh={list.reload} />
      </PageHead>
      <Panel>
        <form className="changes-filters" aria-label="change filters" onSubmit={(e) => e.preventDefault()}>
          <label>
            Service
            <input
              list="change-services"
              value={service}
              placeholder="all services"
              onChange={(e) => setFilter('service', e.target.value.trim())}
              aria-label="service"
            />
            <datalist id="change-services">
              {(services.data?.services ?? []).map((s) => (
                <option key={s.service} value={s.service} />
              ))}
            </datalist>
          </label>
          <label>
            Kind
            <select value={kind} onChange={(e) => setFilter('kind', e.target.value)} aria-label="kind">
              <option value="">all kinds</option>
              {KINDS.map((k) => (
                <option key={k} value={k}>
                  {kindLabel(k)}
                </option>
              ))}
            </select>
          </label>
        </form>
        {list.error && <ErrorState error={list.error} retry={list.reload} />}
        {!list.data && !list.error && <Loading what="Loading changes" />}
        {list.data && rows.length === 0 && (
          <Empty title={service || kind ? 'No changes match in this range.' : 'No changes recorded in this range.'}>
            <div className="changes-help">
              Vigil records a deploy by itself when a service starts reporting a new <code>service.version</code>. Tell it about the others — from a CI/CD pipeline
              (an ingest or write token) or by hand:
              <pre>{`curl -X POST ${origin}/api/v1/changes \\
  -H "Authorization: Bearer $VIGIL_TOKEN" -H "Content-Type: application/json" \\
  -d '{"service":"lms-api","kind":"deploy","version":"2.5.0","previousVersion":"2.4.1","commit":"9fceb02","author":"ci"}'`}</pre>
              <pre>{`VIGIL_URL=${origin} VIGIL_TOKEN=… vigil change --service lms-api --kind deploy --version 2.5.0`}</pre>
              Kinds: {KINDS.join(', ')}. See docs/changes.md.
            </div>
          </Empty>
        )}
        {rows.length > 0 && (
          <div className="table-wrap">
            <table className="table" aria-label="changes">
              <thead>
                <tr>
                  <th>Time</th>
                  <th>Service</th>
                  <th>Kind</th>
                  <th>Version</th>
                  <th className="grow">Description</th>
                  <th>Author</th>
                  <th>Source</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((c) => (
                  <tr key={c.id} data-testid="change-row">
                    <td className="nowrap" title={fmtAgo(c.at)}>
                      {fmtTime(c.at, true).slice(0, 19)}
                    </td>
                    <td>
                      <Link to={withRange(`/services/${encodeURIComponent(c.service)}`, range)}>{c.service}</Link>
                    </td>
                    <td>
                      <span className="change-kind">
                        <i style={{ background: CHANGE_COLORS[c.kind] }} />
                        {kindLabel(c.kind)}
                      </span>
                    </td>
                    <td>{versionText(c) || '—'}</td>
                    <td className="grow" title={c.description}>
                      {c.description || '—'}
                      {c.commit && <span className="muted small"> · commit {c.commit.slice(0, 12)}</span>}
                    </td>
                    <td>{c.author ?? '—'}</td>
                    <td title={c.attributes.reporter ? `reported by ${String(c.attributes.reporter)}` : undefined}>{c.source}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {list.data?.truncated && <p className="muted small">Only the newest 1,000 changes are shown: narrow the range or filter by service.</p>}
      </Panel>
    </>
  );
}
