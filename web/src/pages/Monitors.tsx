/** Monitors: the list with current status and uptime per system, and a monitor's detail page. */
import { useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { api, qs } from '../api.ts';
import { useAuth } from '../auth.tsx';
import { Chart } from '../components/Chart.tsx';
import { PageHead } from '../components/Layout.tsx';
import { SortTable } from '../components/SortTable.tsx';
import { Empty, ErrorState, Loading, Panel } from '../components/States.tsx';
import { TimeRangePicker } from '../components/TimeRangePicker.tsx';
import { fmt, fmtAgo, fmtTime } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { MASK } from '../monitor-draft.ts';
import { useTimeRange } from '../time.ts';
import type { MonitorLastResult, MonitorListItem, MonitorState, MonitorStatus, UptimeSummary } from '../../../src/api/contract.ts';

type State = MonitorState;
type LastResult = MonitorLastResult;
type Monitor = MonitorListItem & { status: MonitorStatus; type: string; interval: string; enabled: boolean; system: string };
type Window = UptimeSummary;

const WINDOWS = ['24h', '7d', '30d', '90d'] as const;

/** A status word as a coloured badge. */
function StateBadge({ state }: { state: State }) {
  const cls = state === 'up' ? 'ok' : state === 'down' ? 'bad' : state === 'degraded' ? 'warn' : '';
  return <span className={`badge ${cls}`}>{state}</span>;
}

/** The monitors list. */
export function Monitors() {
  const { canWrite } = useAuth();
  const list = useLoad((signal) => api<{ monitors: Monitor[]; fileErrors: { file: string; message: string }[] }>('/api/v1/monitors', { signal }), [], 15_000);
  const systems = useLoad((signal) => api<{ systems: { system: string; monitors: number; uptime: Record<string, number | null> }[] }>('/api/v1/systems/uptime', { signal }), [], 60_000);
  const monitors = list.data?.monitors ?? [];
  const down = monitors.filter((m) => m.status.state === 'down').length;
  return (
    <>
      <PageHead title="Monitors" sub="Synthetic checks of endpoints, workflows, ports, DNS and databases, and heartbeats from jobs.">
        {canWrite && <Link className="btn primary" to="/monitors/new">New monitor</Link>}
      </PageHead>
      {list.data && list.data.fileErrors.length > 0 && (
        <Panel title="Monitor files with errors">
          {list.data.fileErrors.map((e) => (
            <p key={e.file} className="bad-text mono">
              {e.message}
            </p>
          ))}
        </Panel>
      )}
      {systems.data && systems.data.systems.length > 0 && (
        <div className="tiles">
          {systems.data.systems.map((s) => (
            <Panel key={s.system} title={`${s.system.toUpperCase()} · ${s.monitors} monitor${s.monitors === 1 ? '' : 's'}`}>
              <div className="stats-row">
                {WINDOWS.map((w) => (
                  <div key={w} className="stat">
                    <div className="stat-label">uptime {w}</div>
                    <div className="stat-value">{fmt(s.uptime[w] ?? null, 'percent')}</div>
                  </div>
                ))}
              </div>
            </Panel>
          ))}
        </div>
      )}
      <Panel title={list.data ? `${monitors.length} monitors${down ? ` · ${down} down` : ''}` : undefined}>
        {list.error && <ErrorState error={list.error} retry={list.reload} />}
        {!list.data && !list.error && <Loading what="Loading monitors" />}
        {list.data && monitors.length === 0 && (
          <Empty title="No monitors yet.">Add YAML files to the monitors directory, or POST to /api/v1/monitors (see docs/monitors.md).</Empty>
        )}
        {monitors.length > 0 && (
          <SortTable
            label="monitors"
            rows={monitors}
            rowKey={(m) => m.id}
            initialSort="state"
            columns={[
              { key: 'state', label: 'Status', value: (m) => ['down', 'degraded', 'pending', 'up'].indexOf(m.status.state), render: (m) => <StateBadge state={m.status.state} /> },
              { key: 'name', label: 'Monitor', render: (m) => <Link to={`/monitors/${encodeURIComponent(m.id)}`}>{m.name}</Link> },
              { key: 'system', label: 'System' },
              { key: 'type', label: 'Type' },
              { key: 'latency', label: 'Last latency', numeric: true, value: (m) => m.status.lastResult?.latencyMs ?? null, render: (m) => fmt(m.status.lastResult?.latencyMs ?? null, 'ms') },
              { key: 'since', label: 'Since', value: (m) => m.status.since ?? '', render: (m) => fmtAgo(m.status.since) },
              { key: 'error', label: 'Last error', value: (m) => m.status.lastResult?.error ?? '', render: (m) => <span className="bad-text">{m.status.lastResult?.error ?? ''}</span> },
              { key: 'source', label: 'Defined in', value: (m) => m.file ?? 'API', render: (m) => (m.file ? <span className="mono">{m.file}</span> : 'API') },
            ]}
          />
        )}
      </Panel>
    </>
  );
}

/** One monitor: status, uptime windows, response time, downtimes, configuration. */
export function MonitorDetail() {
  const id = useParams().id ?? '';
  const { canWrite } = useAuth();
  const { range, setRange, params } = useTimeRange('24h');
  const m = useLoad((signal) => api<Monitor>(`/api/v1/monitors/${encodeURIComponent(id)}`, { signal }), [id], 15_000);
  const uptime = useLoad((signal) => api<{ windows: Record<string, Window> }>(`/api/v1/monitors/${encodeURIComponent(id)}/uptime`, { signal }), [id], 60_000);
  const results = useLoad((signal) => api<{ results: { time: string; up: boolean; status: string; durationMs: number | null }[] }>(`/api/v1/monitors/${encodeURIComponent(id)}/results${qs({ ...params, limit: 5000 })}`, { signal }), [id, params], 15_000);
  const downtimes = useLoad((signal) => api<{ downtimes: { start: string; end: string | null; durationMs: number; error: string | null }[] }>(`/api/v1/monitors/${encodeURIComponent(id)}/downtimes?since=90d`, { signal }), [id]);
  const [checking, setChecking] = useState(false);
  const [checkError, setCheckError] = useState<string | null>(null);

  const checkNow = async () => {
    setChecking(true);
    setCheckError(null);
    try {
      await api(`/api/v1/monitors/${encodeURIComponent(id)}/check`, { method: 'POST', body: {} });
      m.reload();
      results.reload();
    } catch (err) {
      setCheckError((err as Error).message);
    } finally {
      setChecking(false);
    }
  };

  if (m.error) return <ErrorState error={m.error} retry={m.reload} hint={<Link to="/monitors">All monitors</Link>} />;
  if (!m.data) return <Loading what="Loading monitor" />;
  const mon = m.data;
  const last = mon.status.lastResult;
  // Oldest first for the chart; down checks drawn as gaps in latency and as points in their own series.
  const points = [...(results.data?.results ?? [])].reverse();
  const x = points.map((p) => Date.parse(p.time) / 1000);
  const { status: _s, createdAt: _c, updatedAt: _u, ...config } = mon;
  return (
    <>
      <PageHead
        title={
          <>
            {mon.name} <StateBadge state={mon.status.state} />
          </>
        }
        sub={`${mon.type} · ${mon.system} · every ${mon.interval}${mon.status.since ? ` · ${mon.status.state} since ${fmtTime(mon.status.since, true)}` : ''}`}
      >
        {canWrite && <Link className="btn" to={`/monitors/${encodeURIComponent(id)}/edit`}>{mon.file ? 'View definition' : 'Edit'}</Link>}
        {canWrite && (
          <button type="button" className="btn primary" onClick={() => void checkNow()} disabled={checking}>
            {checking ? 'Checking…' : 'Check now'}
          </button>
        )}
        <TimeRangePicker range={range} onChange={setRange} onRefresh={results.reload} />
      </PageHead>
      {checkError && <p className="bad-text">{checkError}</p>}
      {last && (
        <Panel title="Last check">
          <div className="stats-row">
            <div className="stat">
              <div className="stat-label">result</div>
              <div className="stat-value">{last.status}{last.retrying ? ' (retrying)' : ''}</div>
            </div>
            <div className="stat">
              <div className="stat-label">latency</div>
              <div className="stat-value">{fmt(last.latencyMs, 'ms')}</div>
            </div>
            {Object.entries(last.phases).map(([phase, v]) => (
              <div key={phase} className="stat">
                <div className="stat-label">{phase.replace(/Ms$/, '')}</div>
                <div className="stat-value">{fmt(v, 'ms')}</div>
              </div>
            ))}
            <div className="stat">
              <div className="stat-label">checked</div>
              <div className="stat-value">{fmtAgo(mon.status.lastCheckAt)}</div>
            </div>
          </div>
          {last.error && <p className="bad-text mono">{last.error}</p>}
        </Panel>
      )}
      <Panel title="Uptime">
        {uptime.error && <ErrorState error={uptime.error} retry={uptime.reload} />}
        {uptime.data && (
          <div className="stats-row">
            {WINDOWS.map((w) => {
              const u = uptime.data!.windows[w];
              return (
                <div key={w} className="stat">
                  <div className="stat-label">{w}</div>
                  <div className="stat-value">{fmt(u?.uptime ?? null, 'percent')}</div>
                  <div className="muted small">
                    {u ? `${u.checks} checks · ${u.down} down · ${u.degraded} degraded` : ''}
                  </div>
                </div>
              );
            })}
          </div>
        )}
      </Panel>
      <Panel title="Response time">
        {results.error && <ErrorState error={results.error} retry={results.reload} />}
        {results.data && points.length === 0 && <Empty title="No checks in this time range.">Widen the time range, or wait for the next check.</Empty>}
        {points.length > 0 && (
          <Chart
            x={x}
            series={[
              { label: 'latency', values: points.map((p) => (p.up ? p.durationMs : null)) },
              { label: 'failed', values: points.map((p) => (p.up ? null : (p.durationMs ?? 0))), color: '#ef4444' },
            ]}
            kind="points"
            unit="ms"
            onZoom={(from, to) => setRange({ from, to })}
            label="response time"
          />
        )}
      </Panel>
      <Panel title="Downtime (90 days)">
        {downtimes.data && downtimes.data.downtimes.length === 0 && <Empty title="No downtime in 90 days." />}
        {downtimes.data && downtimes.data.downtimes.length > 0 && (
          <SortTable
            label="downtimes"
            rows={downtimes.data.downtimes}
            rowKey={(d) => d.start}
            initialSort="start"
            columns={[
              { key: 'start', label: 'Started', render: (d) => fmtTime(d.start, true) },
              { key: 'end', label: 'Ended', value: (d) => d.end ?? '~', render: (d) => (d.end ? fmtTime(d.end, true) : <span className="bad-text">still down</span>) },
              { key: 'durationMs', label: 'Duration', numeric: true, render: (d) => fmt(d.durationMs, 'ms') },
              { key: 'error', label: 'Error', render: (d) => d.error ?? '' },
            ]}
          />
        )}
      </Panel>
      <Panel title={mon.file ? `Definition (${mon.file}, read-only here)` : 'Definition'}>
        {/* The API never returns a saved secret, to any role: it sends the mask, and saying so here
            keeps "********" from reading as the actual value. */}
        {JSON.stringify(config).includes(MASK) && (
          <p className="muted small">Saved secrets are write-only: they show as {MASK} to everyone and stay as saved until replaced.</p>
        )}
        <pre className="mono small">{JSON.stringify(config, null, 2)}</pre>
      </Panel>
    </>
  );
}
