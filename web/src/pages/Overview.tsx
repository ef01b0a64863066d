/**
 * Overview: one tile per system (grouped by `service.namespace` by default; `?group=` picks another
 * field) with health at a glance — uptime from monitors when they exist, throughput, failures (5xx)
 * beside refusals (4xx), p95, sparklines, and why a system is down (the failing monitor and its last
 * error) — and a drill-down to each service. Every figure comes from `/api/v1/apm/overview`, grouped,
 * so a tile shows what the service page and the API show.
 */
import { Link, useSearchParams } from 'react-router-dom';
import { api, qs } from '../api.ts';
import { Sparkline } from '../components/Chart.tsx';
import { PageHead } from '../components/Layout.tsx';
import { Empty, ErrorState, Loading } from '../components/States.tsx';
import { TimeRangePicker } from '../components/TimeRangePicker.tsx';
import { fmt, fmtAgo, fmtBucket } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { useTimeRange, withRange } from '../time.ts';
import type { GroupedOverviewResponse, MonitorListItem, OverviewSummary, ServiceRow } from '../../../src/api/contract.ts';

/** A service as `/api/v1/services` lists it. */
export type { ServiceRow };

/** Figures of one group as `/api/v1/apm/overview?group_by=` answers them. */
export type OverviewFigures = OverviewSummary;

/** A monitor as /api/v1/monitors lists it. */
type Monitor = MonitorListItem;

/** Uptime per system from /api/v1/systems/uptime. */
type SystemUptime = Map<string, number | null>;

const GROUPS = ['service.namespace', 'service.name', 'deployment.environment', 'host.name'];

/** Monitors and their systems' 24-hour uptime; null when they cannot be read (monitoring turned off). */
async function loadMonitors(signal: AbortSignal): Promise<{ monitors: Monitor[]; uptime: SystemUptime } | null> {
  try {
    const [list, systems] = await Promise.all([
      api<{ monitors: Monitor[] }>('/api/v1/monitors', { signal }),
      api<{ systems: { system: string; uptime: Record<string, number | null> }[] }>('/api/v1/systems/uptime', { signal }),
    ]);
    return { monitors: list.monitors, uptime: new Map(systems.systems.map((s) => [s.system, s.uptime['24h'] ?? null])) };
  } catch {
    return null;
  }
}

/** A share of refused (4xx) requests at which a system reads as refusing its users. */
const REFUSING = 0.2;

function health(f: OverviewFigures | undefined, down: Monitor[]): { cls: string; label: string } {
  if (down.length > 0) return { cls: 'bad', label: 'down' };
  if (!f?.requests) return { cls: 'idle', label: 'no traffic' };
  if ((f.error_rate ?? 0) >= 0.05) return { cls: 'bad', label: 'failing' };
  if ((f.client_error_rate ?? 0) >= REFUSING) return { cls: 'warn', label: 'refusing' };
  if ((f.error_rate ?? 0) >= 0.01) return { cls: 'warn', label: 'degraded' };
  return { cls: 'ok', label: 'healthy' };
}

/** The name a group shows: the API's '' is a service without that field. */
function groupName(g: string, field: string): string {
  return g !== '' ? g : field === 'service.namespace' ? '(no namespace)' : '(none)';
}

/** The overview page. */
export function Overview() {
  const { range, setRange, params } = useTimeRange('1h');
  const [sp, setSp] = useSearchParams();
  const group = sp.get('group') && /^[A-Za-z0-9_.:@/-]{1,100}$/.test(sp.get('group')!) ? sp.get('group')! : 'service.namespace';
  const services = useLoad((signal) => api<{ services: ServiceRow[] }>(`/api/v1/services${qs(params)}`, { signal }), [params], 30_000);
  const grouped = useLoad((signal) => api<GroupedOverviewResponse>(`/api/v1/apm/overview${qs({ ...params, group_by: group })}`, { signal }), [params, group], 30_000);
  const perService = useLoad((signal) => api<GroupedOverviewResponse>(`/api/v1/apm/overview${qs({ ...params, group_by: 'service.name' })}`, { signal }), [params], 30_000);
  const monitors = useLoad(loadMonitors, [], 60_000);
  const tiles = buildTiles(grouped.data, services.data?.services ?? [], group);
  const figuresOf = new Map((perService.data?.groups ?? []).map((g) => [g.group, g.summary]));
  const bucket = grouped.data ? fmtBucket(grouped.data.bucket_seconds) : '';

  return (
    <>
      <PageHead title="Overview" sub="Health of each system at a glance. Click a service to drill down.">
        <label className="inline">
          Group by
          <select
            value={group}
            onChange={(e) =>
              setSp((p) => {
                const n = new URLSearchParams(p);
                n.set('group', e.target.value);
                return n;
              })
            }
          >
            {[...new Set([...GROUPS, group])].map((g) => (
              <option key={g} value={g}>
                {g}
              </option>
            ))}
          </select>
        </label>
        <TimeRangePicker range={range} onChange={setRange} onRefresh={() => (services.reload(), grouped.reload(), perService.reload())} />
      </PageHead>
      {services.error && <ErrorState error={services.error} retry={services.reload} />}
      {!services.data && !services.error && <Loading what="Loading systems" />}
      {services.data && services.data.services.length === 0 && (
        <Empty title="No telemetry yet.">
          Send OpenTelemetry data to the OTLP port (4318) or Splunk HEC events (8088), or start the demo with <code>vigil start</code> (it runs the RMS
          and LMS demo systems). See <code>docs/ingest.md</code>.
        </Empty>
      )}
      {grouped.error && <ErrorState error={grouped.error} retry={grouped.reload} hint="The health figures could not be computed; the service list below still works." />}
      <div className="tiles">
        {tiles.map((t) => {
          const ms = monitors.data ? monitors.data.monitors.filter((m) => m.system === t.name || (group === 'service.name' && m.name === t.name)) : [];
          const down = ms.filter((m) => m.status?.state === 'down');
          const uptime = group === 'service.namespace' ? (monitors.data?.uptime.get(t.name) ?? null) : null;
          const f = t.figures;
          const h = health(f, down);
          return (
            <section key={t.name} className={`tile ${h.cls}`} data-testid="system-tile" data-system={t.name}>
              <header>
                <h2>{t.name.toUpperCase() === t.name || group !== 'service.namespace' ? t.name : t.name.toUpperCase()}</h2>
                <span className={`badge ${h.cls}`}>{h.label}</span>
              </header>
              {down.length > 0 && (
                <ul className="down-reasons" data-testid="down-reasons">
                  {down.map((m) => (
                    <li key={m.id}>
                      <Link to={`/monitors/${encodeURIComponent(m.id)}`}>{m.name}</Link> is down
                      {m.status?.since ? ` since ${new Date(m.status.since).toLocaleTimeString()}` : ''}
                      {m.status?.lastResult?.error ? <span className="muted">: {m.status.lastResult.error}</span> : null}
                    </li>
                  ))}
                </ul>
              )}
              <dl className="figures">
                <div>
                  <dt>Uptime</dt>
                  <dd title={monitors.data === null ? 'No monitors API on this server yet' : ms.length ? `${ms.length} monitors` : 'No monitor checks this system'}>
                    {uptime !== null ? fmt(uptime, 'percent') : ms.length ? `${ms.length - down.length}/${ms.length} up` : '—'}
                  </dd>
                </div>
                <div>
                  <dt title="Throughput: requests per second since the system's first request in the range">Rate</dt>
                  <dd data-testid="tile-throughput">{fmt(f?.throughput_rps, 'rps')}</dd>
                </div>
                <div>
                  <dt title="Failed requests: status Error or HTTP 5xx">5xx</dt>
                  <dd data-testid="tile-errors" className={(f?.error_rate ?? 0) >= 0.01 ? 'bad-text' : ''}>
                    {fmt(f?.error_rate, 'percent')}
                  </dd>
                </div>
                <div>
                  <dt title="Refused requests: HTTP 4xx answers">4xx</dt>
                  <dd data-testid="tile-4xx" className={(f?.client_error_rate ?? 0) >= REFUSING ? 'warn-text' : ''}>
                    {fmt(f?.client_error_rate, 'percent')}
                  </dd>
                </div>
                <div>
                  <dt>p95</dt>
                  <dd data-testid="tile-p95">{fmt(f?.p95_ms, 'ms')}</dd>
                </div>
              </dl>
              <div className="sparks">
                <div>
                  <span>requests per {bucket}</span>
                  <Sparkline values={t.reqSeries} label={`${t.name} requests`} />
                </div>
                <div>
                  <span>failed + refused per {bucket}</span>
                  <Sparkline values={t.errSeries} color="#ef4444" label={`${t.name} errors`} />
                </div>
                <div>
                  <span>p95 (ms)</span>
                  <Sparkline values={t.p95Series} color="#f59e0b" label={`${t.name} p95`} />
                </div>
              </div>
              <ul className="svc-list">
                {t.services.map((s) => {
                  const sf = figuresOf.get(s.service);
                  return (
                    <li key={s.service}>
                      <Link to={withRange(`/services/${encodeURIComponent(s.service)}`, range)}>{s.service}</Link>
                      <span className="muted">
                        {fmt(sf?.requests ?? 0, 'count')} req · {fmt(sf?.error_rate, 'percent')} 5xx · {fmt(sf?.client_error_rate, 'percent')} 4xx · p95 {fmt(sf?.p95_ms, 'ms')}
                      </span>
                      <span className="muted small">{fmtAgo(s.last_seen)}</span>
                    </li>
                  );
                })}
              </ul>
            </section>
          );
        })}
      </div>
    </>
  );
}

interface Tile {
  name: string;
  figures: OverviewFigures | undefined;
  reqSeries: (number | null)[];
  errSeries: (number | null)[];
  p95Series: (number | null)[];
  services: ServiceRow[];
}

function buildTiles(grouped: GroupedOverviewResponse | undefined, services: ServiceRow[], field: string): Tile[] {
  const tiles = new Map<string, Tile>();
  const tile = (name: string) => {
    let t = tiles.get(name);
    if (!t) {
      t = { name, figures: undefined, reqSeries: [], errSeries: [], p95Series: [], services: [] };
      tiles.set(name, t);
    }
    return t;
  };
  const member = new Map<string, string>();
  for (const g of grouped?.groups ?? []) {
    const t = tile(groupName(g.group, field));
    t.figures = g.summary;
    t.reqSeries = g.series.map((p) => p.requests);
    t.errSeries = g.series.map((p) => p.errors + p.client_errors);
    t.p95Series = g.series.map((p) => p.p95_ms);
    for (const s of g.services) if (!member.has(s)) member.set(s, t.name);
  }
  for (const s of services) {
    // Services without requests (workers, log-only senders) join their namespace's tile.
    const name = member.get(s.service) ?? (field === 'service.namespace' ? groupName(s.namespace ?? '', field) : field === 'service.name' ? s.service : '(none)');
    tile(name).services.push(s);
  }
  for (const t of tiles.values()) t.services.sort((a, b) => b.requests - a.requests || a.service.localeCompare(b.service));
  return [...tiles.values()].sort((a, b) => a.name.localeCompare(b.name));
}
