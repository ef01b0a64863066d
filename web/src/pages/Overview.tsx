/**
 * Overview: one tile per system (grouped by `service.namespace` by default; `?group=` picks another
 * field) with health at a glance — uptime from monitors when they exist, throughput, error rate, p95,
 * sparklines — and a drill-down to each service.
 */
import { Link, useSearchParams } from 'react-router-dom';
import { api, qs, search, type SearchResult } from '../api.ts';
import { Sparkline } from '../components/Chart.tsx';
import { PageHead } from '../components/Layout.tsx';
import { Empty, ErrorState, Loading } from '../components/States.tsx';
import { TimeRangePicker } from '../components/TimeRangePicker.tsx';
import { fmt, fmtAgo } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { pivotTimechart } from '../series.ts';
import { resolveRange, spanFor, useTimeRange, withRange } from '../time.ts';

/** A service as `/api/v1/services` lists it. */
export interface ServiceRow {
  service: string;
  namespace: string | null;
  requests: number;
  errors: number;
  p95_ms: number | null;
  logs: number;
  error_logs: number;
  last_seen: string | null;
}

/** A monitor as /api/v1/monitors lists it (the fields the overview reads). */
interface Monitor {
  name: string;
  system: string;
  status: { state: 'up' | 'down' | 'degraded' | 'pending' };
}

/** Uptime per system from /api/v1/systems/uptime. */
type SystemUptime = Map<string, number | null>;

const GROUPS = ['service.namespace', 'service.name', 'deployment.environment', 'host.name'];

function groupOf(s: ServiceRow, field: string): string {
  if (field === 'service.namespace') return s.namespace || '(no namespace)';
  if (field === 'service.name') return s.service;
  return '';
}

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

function uptimeOf(ms: Monitor[], ratio: number | null): { ratio: number | null; down: number; total: number } {
  return { ratio, down: ms.filter((m) => m.status.state === 'down').length, total: ms.length };
}

function health(errRate: number | null, requests: number, monitorsDown: number): { cls: string; label: string } {
  if (monitorsDown > 0) return { cls: 'bad', label: 'down' };
  if (!requests) return { cls: 'idle', label: 'no traffic' };
  if ((errRate ?? 0) >= 0.05) return { cls: 'bad', label: 'failing' };
  if ((errRate ?? 0) >= 0.01) return { cls: 'warn', label: 'degraded' };
  return { cls: 'ok', label: 'healthy' };
}

/** The overview page. */
export function Overview() {
  const { range, setRange, params } = useTimeRange('1h');
  const [sp, setSp] = useSearchParams();
  const group = sp.get('group') && /^[A-Za-z0-9_.:@/-]{1,100}$/.test(sp.get('group')!) ? sp.get('group')! : 'service.namespace';
  const span = spanFor(range, 40);
  const services = useLoad((signal) => api<{ services: ServiceRow[] }>(`/api/v1/services${qs(params)}`, { signal }), [params], 30_000);
  const chart = useLoad(
    (signal) =>
      search(
        `from spans kind=server | eval failed=if(status = "Error" or http.response.status_code >= 500, 1, 0) | timechart span=${span} count() as requests sum(failed) as errors p95(duration_ms) as p95 by ${group.includes('-') ? `'${group}'` : group}`,
        params,
        10000,
        signal,
      ),
    [params, group, span],
    30_000,
  );
  const totals = useLoad((signal) => search(`from spans kind=server | stats p95(duration_ms) as p95 by ${group.includes('-') ? `'${group}'` : group}`, params, 10000, signal), [params, group], 30_000);
  const monitors = useLoad(loadMonitors, [], 60_000);
  const byService = useLoad(
    (signal) => (group === 'service.namespace' || group === 'service.name' ? Promise.resolve(null) : search(`from spans kind=server | stats count() by service.name, ${group}`, params, 10000, signal)),
    [params, group],
  );

  const [fromMs, toMs] = resolveRange(range);
  const rangeSec = (toMs - fromMs) / 1000;
  const tiles = buildTiles(chart.data, services.data?.services ?? [], group, byService.data ?? null, span, fromMs, toMs);
  // Exact p95 over the whole range (the tile's sparkline shows it per bucket).
  for (const r of totals.data?.rows ?? []) {
    const name = r[group] == null ? (group === 'service.namespace' ? '(no namespace)' : '(none)') : String(r[group]);
    const t = tiles.find((x) => x.name === name);
    if (t) t.p95 = r.p95 == null ? null : Number(r.p95);
  }

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
        <TimeRangePicker range={range} onChange={setRange} onRefresh={() => (services.reload(), chart.reload())} />
      </PageHead>
      {services.error && <ErrorState error={services.error} retry={services.reload} />}
      {!services.data && !services.error && <Loading what="Loading systems" />}
      {services.data && services.data.services.length === 0 && (
        <Empty title="No telemetry yet.">
          Send OpenTelemetry data to the OTLP port (4318) or Splunk HEC events (8088), or start the demo with <code>vigil start</code> (it runs the RMS
          and LMS demo systems). See <code>docs/ingest.md</code>.
        </Empty>
      )}
      {chart.error && <ErrorState error={chart.error} retry={chart.reload} hint="The health charts could not be computed; the service list below still works." />}
      <div className="tiles">
        {tiles.map((t) => {
          const ms = monitors.data ? monitors.data.monitors.filter((m) => m.system === t.name || (group === 'service.name' && m.name === t.name)) : [];
          const up = uptimeOf(ms, group === 'service.namespace' ? (monitors.data?.uptime.get(t.name) ?? null) : null);
          const errRate = t.requests ? t.errors / t.requests : null;
          const h = health(errRate, t.requests, up.down);
          return (
            <section key={t.name} className={`tile ${h.cls}`} data-testid="system-tile">
              <header>
                <h2>{t.name.toUpperCase() === t.name || group !== 'service.namespace' ? t.name : t.name.toUpperCase()}</h2>
                <span className={`badge ${h.cls}`}>{h.label}</span>
              </header>
              <dl className="figures">
                <div>
                  <dt>Uptime</dt>
                  <dd title={monitors.data === null ? 'No monitors API on this server yet' : ms.length ? `${ms.length} monitors` : 'No monitor checks this system'}>
                    {up.ratio !== null ? fmt(up.ratio, 'percent') : up.total ? `${up.total - up.down}/${up.total} up` : '—'}
                  </dd>
                </div>
                <div>
                  <dt>Throughput</dt>
                  <dd>{fmt(t.requests / rangeSec, 'rps')}</dd>
                </div>
                <div>
                  <dt>Error rate</dt>
                  <dd className={errRate && errRate >= 0.01 ? 'bad-text' : ''}>{fmt(errRate, 'percent')}</dd>
                </div>
                <div>
                  <dt>p95</dt>
                  <dd>{fmt(t.p95, 'ms')}</dd>
                </div>
              </dl>
              <div className="sparks">
                <div>
                  <span>requests</span>
                  <Sparkline values={t.reqSeries} label={`${t.name} requests`} />
                </div>
                <div>
                  <span>errors</span>
                  <Sparkline values={t.errSeries} color="#ef4444" label={`${t.name} errors`} />
                </div>
                <div>
                  <span>p95</span>
                  <Sparkline values={t.p95Series} color="#f59e0b" label={`${t.name} p95`} />
                </div>
              </div>
              <ul className="svc-list">
                {t.services.map((s) => (
                  <li key={s.service}>
                    <Link to={withRange(`/services/${encodeURIComponent(s.service)}`, range)}>{s.service}</Link>
                    <span className="muted">
                      {fmt(s.requests, 'count')} req · {fmt(s.requests ? s.errors / s.requests : null, 'percent')} err · p95 {fmt(s.p95_ms, 'ms')}
                    </span>
                    <span className="muted small">{fmtAgo(s.last_seen)}</span>
                  </li>
                ))}
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
  requests: number;
  errors: number;
  p95: number | null;
  reqSeries: (number | null)[];
  errSeries: (number | null)[];
  p95Series: (number | null)[];
  services: ServiceRow[];
}

function buildTiles(chart: SearchResult | undefined, services: ServiceRow[], group: string, membership: SearchResult | null, span: string, fromMs: number, toMs: number): Tile[] {
  const tiles = new Map<string, Tile>();
  const tile = (name: string) => {
    let t = tiles.get(name);
    if (!t) {
      t = { name, requests: 0, errors: 0, p95: null, reqSeries: [], errSeries: [], p95Series: [], services: [] };
      tiles.set(name, t);
    }
    return t;
  };
  if (chart) {
    const data = pivotTimechart(chart, { span, fromMs, toMs });
    for (const s of data.series) {
      const m = /^(.*) (requests|errors|p95)$/.exec(s.label);
      if (!m) continue;
      const name = m[1] === '(none)' ? (group === 'service.namespace' ? '(no namespace)' : '(none)') : m[1]!;
      const t = tile(name);
      if (m[2] === 'requests') t.reqSeries = s.values;
      else if (m[2] === 'errors') t.errSeries = s.values;
      else t.p95Series = s.values;
    }
    for (const t of tiles.values()) {
      t.requests = t.reqSeries.reduce<number>((a, b) => a + (b ?? 0), 0);
      t.errors = t.errSeries.reduce<number>((a, b) => a + (b ?? 0), 0);
    }
  }
  const member = new Map<string, string>();
  if (membership) {
    for (const r of membership.rows) member.set(String(r['service.name']), r[group] == null ? '(none)' : String(r[group]));
  }
  for (const s of services) {
    const g = groupOf(s, group) || member.get(s.service) || '(none)';
    tile(g).services.push(s);
  }
  for (const t of tiles.values()) t.services.sort((a, b) => b.requests - a.requests || a.service.localeCompare(b.service));
  return [...tiles.values()].sort((a, b) => a.name.localeCompare(b.name));
}
