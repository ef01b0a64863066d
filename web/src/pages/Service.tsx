/**
 * One service: throughput, error rate and latency charts, Apdex, operations, database statements,
 * external calls, error groups, dependencies, host resources and change markers.
 */
import { useMemo } from 'react';
import { Link, useParams } from 'react-router-dom';
import { api, qs } from '../api.ts';
import { humanizeDuration } from '../alert-format.ts';
import { FIRING_COLOR, firingBands, firingPeriods, type FiringPeriod } from '../components/AlertMarkers.ts';
import { ChangeLegend, changeMarkers } from '../components/ChangeMarkers.tsx';
import { Chart, type Band, type Marker } from '../components/Chart.tsx';
import { PageHead } from '../components/Layout.tsx';
import { SortTable } from '../components/SortTable.tsx';
import { Empty, ErrorState, Loading, Panel } from '../components/States.tsx';
import { TimeRangePicker } from '../components/TimeRangePicker.tsx';
import { fmt, fmtAgo, fmtBucket, unitLabel, unitOf } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { metricSeries, type MetricAnswer } from '../series.ts';
import { resolveRange, useLinkRange, useTimeRange, withRange, type TimeRange } from '../time.ts';
import type { AlertHistoryResponse, ChangeEntry, ChangesResponse, DatabaseResponse, ErrorGroupsResponse, ExternalResponse, OperationsResponse, OverviewPoint, ServiceMapEdge, ServiceOverviewResponse } from '../../../src/api/contract.ts';

const RESOURCE_METRICS: { name: string; title: string; agg: string }[] = [
  { name: 'system.cpu.utilization', title: 'Host CPU', agg: 'avg' },
  { name: 'system.memory.utilization', title: 'Host memory', agg: 'avg' },
  { name: 'process.cpu.utilization', title: 'Process CPU', agg: 'avg' },
  { name: 'process.memory.usage', title: 'Process memory (RSS)', agg: 'avg' },
  { name: 'system.filesystem.utilization', title: 'Disk used', agg: 'max' },
];

/** This service's changes in the range (`/api/v1/changes`); none when they cannot be read, the charts still show. */
async function loadChanges(service: string, params: Record<string, string>, signal: AbortSignal): Promise<ChangeEntry[]> {
  try {
    return (await api<ChangesResponse>(`/api/v1/changes${qs({ ...params, service })}`, { signal })).changes;
  } catch {
    return [];
  }
}

/** Periods this service's alerts fired in the range (`/api/v1/alerting/history`); none when alerting does not answer. */
async function loadAlertPeriods(service: string, range: TimeRange, signal: AbortSignal): Promise<FiringPeriod[]> {
  const [from, to] = resolveRange(range);
  try {
    const body = await api<AlertHistoryResponse>(`/api/v1/alerting/history${qs({ from: new Date(from).toISOString(), to: new Date(to).toISOString(), service })}`, { signal });
    return firingPeriods(body.transitions, from);
  } catch {
    return [];
  }
}

/** The legend of alert bands: each alert that fired in the range, how long, a link to the alerts. */
function AlertLegend({ periods, toMs }: { periods: FiringPeriod[]; toMs: number }) {
  if (periods.length === 0) return null;
  const byName = new Map<string, { ms: number; open: boolean }>();
  for (const p of periods) {
    const e = byName.get(p.alertname) ?? { ms: 0, open: false };
    e.ms += (p.end ?? toMs) - p.start;
    e.open ||= p.end === null;
    byName.set(p.alertname, e);
  }
  return (
    <div className="legend-row alert-legend" data-testid="alert-legend">
      <span className="legend-item">
        <i style={{ background: FIRING_COLOR, opacity: 0.35 }} /> alert firing:
      </span>
      {[...byName].map(([name, e]) => (
        <Link key={name} to={`/alerts?filter=${encodeURIComponent(`alertname="${name}"`)}`} className="legend-item">
          {name} ({humanizeDuration(e.ms)}
          {e.open ? ', still firing' : ''})
        </Link>
      ))}
    </div>
  );
}

/** The service page. */
export function ServicePage() {
  const name = useParams().name ?? '';
  const { range, setRange, params } = useTimeRange('1h');
  const p = { ...params, service: name };
  const dep = [name, params];
  const ov = useLoad((signal) => api<ServiceOverviewResponse>(`/api/v1/apm/overview${qs(p)}`, { signal }), dep, 30_000);
  const changes = useLoad((signal) => loadChanges(name, params, signal), dep, 30_000);
  const markers: Marker[] = useMemo(() => changeMarkers(changes.data ?? []), [changes.data]);
  const alertPeriods = useLoad((signal) => loadAlertPeriods(name, range, signal), dep, 30_000);
  const periods = alertPeriods.data ?? [];
  const bands: Band[] = firingBands(periods);
  const x = (ov.data?.series ?? []).map((s) => new Date(s.time).getTime() / 1000);
  const col = (k: keyof OverviewPoint) => (ov.data?.series ?? []).map((s) => s[k] as number | null);
  const zoom = (a: number, b: number) => setRange({ from: a, to: b });
  const per = ov.data ? `${fmtBucket(ov.data.bucket_seconds)} buckets` : '';

  return (
    <>
      <PageHead
        title={name}
        sub={
          <>
            <Link to={withRange('/services', range)}>Services</Link> · <Link to={withRange(`/logs?q=${encodeURIComponent(`service.name=${quote(name)}`)}`, range)}>Logs</Link> ·{' '}
            <Link to={withRange(`/traces?service=${encodeURIComponent(name)}`, range)}>Traces</Link>
          </>
        }
      >
        <TimeRangePicker range={range} onChange={setRange} onRefresh={ov.reload} />
      </PageHead>
      {ov.error && <ErrorState error={ov.error} retry={ov.reload} />}
      {!ov.data && !ov.error && <Loading what="Loading service figures" />}
      {ov.data && (
        <>
          <div className="stats-row">
            <Stat label="Requests" value={fmt(ov.data.summary.requests, 'count')} />
            <Stat
              label="Throughput"
              value={fmt(ov.data.summary.throughput_rps, 'rps')}
              testId="stat-throughput"
              title={`Requests ÷ seconds since the first bucket with requests${ov.data.summary.first_seen ? ` (${new Date(ov.data.summary.first_seen).toLocaleTimeString()})` : ''}, up to now: the mean of the throughput chart.`}
            />
            <Stat label="Errors (5xx)" value={fmt(ov.data.summary.error_rate, 'percent')} bad={(ov.data.summary.error_rate ?? 0) >= 0.01} testId="stat-errors" title="Failed requests: status Error or HTTP 5xx" />
            <Stat label="Refused (4xx)" value={fmt(ov.data.summary.client_error_rate, 'percent')} bad={(ov.data.summary.client_error_rate ?? 0) >= 0.2} testId="stat-4xx" title="HTTP 4xx answers: the server refused the request" />
            <Stat label="p50" value={fmt(ov.data.summary.p50_ms, 'ms')} />
            <Stat label="p95" value={fmt(ov.data.summary.p95_ms, 'ms')} />
            <Stat label="p99" value={fmt(ov.data.summary.p99_ms, 'ms')} />
            <Stat label={`Apdex (T=${ov.data.apdex_t_ms} ms)`} value={fmt(ov.data.summary.apdex, 'score')} bad={(ov.data.summary.apdex ?? 1) < 0.85} />
          </div>
          {ov.data.summary.requests === 0 && (
            <Empty title="No requests (server spans) in this range.">This service may only log, or be a worker. Its logs and metrics are still below and in the log explorer.</Empty>
          )}
          <AlertLegend periods={periods} toMs={resolveRange(range)[1]} />
          <ChangeLegend changes={changes.data ?? []} service={name} />
          <div className="grid2">
            <Panel title={`Throughput (requests/s, ${per})`}>
              <Chart x={x} series={[{ label: 'requests/s', values: col('throughput_rps') }]} unit="rps" markers={markers} bands={bands} onZoom={zoom} label="throughput" />
            </Panel>
            <Panel title={`Errors and refusals (% of requests, ${per})`}>
              <Chart
                x={x}
                series={[
                  { label: 'failed (5xx)', values: col('error_rate'), color: '#ef4444' },
                  { label: 'refused (4xx)', values: col('client_error_rate'), color: '#f59e0b' },
                ]}
                unit="percent"
                markers={markers}
                bands={bands}
                onZoom={zoom}
                label="error rate"
              />
            </Panel>
            <Panel title={`Latency (ms, ${per})`}>
              <Chart
                x={x}
                series={[
                  { label: 'p50', values: col('p50_ms'), color: '#10b981' },
                  { label: 'p95', values: col('p95_ms'), color: '#f59e0b' },
                  { label: 'p99', values: col('p99_ms'), color: '#ef4444' },
                ]}
                unit="ms"
                markers={markers}
                bands={bands}
                onZoom={zoom}
                label="latency"
              />
            </Panel>
            <Panel title={`Apdex (0-1, T=${ov.data.apdex_t_ms} ms, ${per})`}>
              <Chart x={x} series={[{ label: 'apdex', values: col('apdex'), color: '#8b5cf6' }]} unit="score" markers={markers} bands={bands} onZoom={zoom} label="apdex" />
            </Panel>
          </div>
        </>
      )}
      <Operations service={name} params={params} />
      <div className="grid2">
        <Database service={name} params={params} />
        <Externals service={name} params={params} />
      </div>
      <Errors service={name} params={params} />
      <Dependencies service={name} params={params} />
      <Resources service={name} params={params} range={range} markers={markers} bands={bands} />
    </>
  );
}

function quote(v: string): string {
  return /^[A-Za-z0-9_.:@/-]+$/.test(v) ? v : `"${v.replace(/["\\]/g, '\\$&')}"`;
}

function Stat({ label, value, bad, testId, title }: { label: string; value: string; bad?: boolean; testId?: string; title?: string }) {
  return (
    <div className={`stat ${bad ? 'bad' : ''}`} data-testid={testId} title={title}>
      <div className="stat-label">{label}</div>
      <div className="stat-value">{value}</div>
    </div>
  );
}

function Operations({ service, params }: { service: string; params: Record<string, string> }) {
  const d = useLoad((signal) => api<OperationsResponse>(`/api/v1/apm/operations${qs({ ...params, service })}`, { signal }), [service, params]);
  return (
    <Panel title="Operations">
      {d.error && <ErrorState error={d.error} retry={d.reload} />}
      {!d.data && !d.error && <Loading />}
      {d.data && d.data.operations.length === 0 && <Empty title="No operations in this range." />}
      {d.data && d.data.operations.length > 0 && (
        <SortTable
          label="operations"
          rows={d.data.operations}
          rowKey={(r) => r.operation}
          initialSort="requests"
          columns={[
            {
              key: 'operation',
              label: 'Operation',
              grow: true,
              render: (r) => (
                <Link to={`/traces?${new URLSearchParams({ service, operation: r.operation, ...params })}`} title={r.operation}>
                  {r.operation}
                </Link>
              ),
            },
            { key: 'requests', label: 'Requests', numeric: true, render: (r) => fmt(r.requests, 'count') },
            { key: 'throughput_rps', label: 'Rate', numeric: true, render: (r) => fmt(r.throughput_rps, 'rps') },
            { key: 'error_rate', label: '5xx', title: 'Failed: status Error or HTTP 5xx', numeric: true, render: (r) => fmt(r.error_rate, 'percent') },
            {
              key: 'client_error_rate',
              label: '4xx',
              title: 'Refused: HTTP 4xx answers',
              numeric: true,
              render: (r) =>
                r.client_error_alert ? (
                  <span className="badge warn" data-testid="client-error-alert" title="An unusual share of 4xx answers for this service: check permissions, validation or a client change">
                    ⚠ {fmt(r.client_error_rate, 'percent')}
                  </span>
                ) : (
                  fmt(r.client_error_rate, 'percent')
                ),
            },
            { key: 'p50_ms', label: 'p50', numeric: true, render: (r) => fmt(r.p50_ms, 'ms') },
            { key: 'p95_ms', label: 'p95', numeric: true, render: (r) => fmt(r.p95_ms, 'ms') },
            { key: 'p99_ms', label: 'p99', numeric: true, render: (r) => fmt(r.p99_ms, 'ms') },
            { key: 'apdex', label: 'Apdex', numeric: true, render: (r) => (r.apdex == null ? '—' : r.apdex.toFixed(2)) },
            { key: 'time_share', label: 'Time share', numeric: true, render: (r) => <Bar ratio={r.time_share} /> },
          ]}
        />
      )}
    </Panel>
  );
}

function Bar({ ratio }: { ratio: number | null }) {
  return (
    <span className="ratio-bar" title={fmt(ratio, 'percent')}>
      <span className="ratio-track">
        <span style={{ width: `${Math.min(100, (ratio ?? 0) * 100)}%` }} />
      </span>
      <em>{fmt(ratio, 'percent')}</em>
    </span>
  );
}

function Database({ service, params }: { service: string; params: Record<string, string> }) {
  const d = useLoad((signal) => api<DatabaseResponse>(`/api/v1/apm/database${qs({ ...params, service, limit: 20 })}`, { signal }), [service, params]);
  return (
    <Panel title="Database statements">
      {d.error && <ErrorState error={d.error} retry={d.reload} />}
      {!d.data && !d.error && <Loading />}
      {d.data && d.data.statements.length === 0 && <Empty title="No database calls in this range." />}
      {d.data && d.data.statements.length > 0 && (
        <SortTable
          label="database statements"
          rows={d.data.statements}
          rowKey={(r) => r.db_system + r.statement}
          initialSort="total_time_ms"
          columns={[
            { key: 'statement', label: 'Statement', grow: true, render: (r) => <code className="stmt" title={r.statement}>{r.statement}</code> },
            { key: 'calls', label: 'Calls', numeric: true, render: (r) => fmt(r.calls, 'count') },
            { key: 'p95_ms', label: 'p95', numeric: true, render: (r) => fmt(r.p95_ms, 'ms') },
            { key: 'total_time_ms', label: 'Total', numeric: true, render: (r) => fmt(r.total_time_ms, 'ms') },
            { key: 'service_time_share', label: 'Share', numeric: true, render: (r) => <Bar ratio={r.service_time_share} /> },
          ]}
        />
      )}
    </Panel>
  );
}

function Externals({ service, params }: { service: string; params: Record<string, string> }) {
  const d = useLoad((signal) => api<ExternalResponse>(`/api/v1/apm/external${qs({ ...params, service })}`, { signal }), [service, params]);
  return (
    <Panel title="External calls">
      {d.error && <ErrorState error={d.error} retry={d.reload} />}
      {!d.data && !d.error && <Loading />}
      {d.data && d.data.calls.length === 0 && <Empty title="No outgoing calls in this range." />}
      {d.data && d.data.calls.length > 0 && (
        <SortTable
          label="external calls"
          rows={d.data.calls}
          rowKey={(r) => r.target}
          initialSort="calls"
          columns={[
            { key: 'target', label: 'Target', grow: true, render: (r) => (r.target_kind === 'service' ? <Link to={`/services/${encodeURIComponent(r.target)}`}>{r.target}</Link> : r.target) },
            { key: 'calls', label: 'Calls', numeric: true, render: (r) => fmt(r.calls, 'count') },
            { key: 'error_rate', label: 'Errors', numeric: true, render: (r) => fmt(r.error_rate, 'percent') },
            { key: 'p95_ms', label: 'p95', numeric: true, render: (r) => fmt(r.p95_ms, 'ms') },
            { key: 'total_time_ms', label: 'Total', numeric: true, render: (r) => fmt(r.total_time_ms, 'ms') },
          ]}
        />
      )}
    </Panel>
  );
}

function Errors({ service, params }: { service: string; params: Record<string, string> }) {
  const linkRange = useLinkRange();
  const d = useLoad((signal) => api<ErrorGroupsResponse>(`/api/v1/apm/errors${qs({ ...params, service, limit: 20 })}`, { signal }), [service, params]);
  return (
    <Panel title="Error groups">
      {d.error && <ErrorState error={d.error} retry={d.reload} />}
      {!d.data && !d.error && <Loading />}
      {d.data && d.data.groups.length === 0 && <Empty title="No exceptions recorded in this range." />}
      {d.data && d.data.groups.length > 0 && (
        <SortTable
          label="error groups"
          rows={d.data.groups}
          rowKey={(r) => r.fingerprint}
          initialSort="occurrences"
          columns={[
            {
              key: 'type',
              label: 'Error',
              grow: true,
              render: (r) => (
                <div>
                  <strong>{r.type ?? 'Error'}</strong> <span className="muted">{r.normalized_message}</span>
                </div>
              ),
            },
            { key: 'occurrences', label: 'Count', numeric: true, render: (r) => fmt(r.occurrences, 'count') },
            { key: 'versions', label: 'Versions', value: (r) => r.versions.join(','), render: (r) => r.versions.join(', ') },
            { key: 'last_seen', label: 'Last seen', render: (r) => fmtAgo(r.last_seen) },
            { key: 'sample_trace_id', label: 'Sample', render: (r) => (r.sample_trace_id ? <Link to={withRange(`/traces/${r.sample_trace_id}`, linkRange)}>trace</Link> : '—') },
          ]}
        />
      )}
    </Panel>
  );
}

/** Callers on the left, the service in the middle, what it calls on the right. */
function Dependencies({ service, params }: { service: string; params: Record<string, string> }) {
  const d = useLoad((signal) => api<{ edges: ServiceMapEdge[] }>(`/api/v1/service-map${qs(params)}`, { signal }), [params]);
  const edges = d.data?.edges ?? [];
  const callers = edges.filter((e) => e.target === service && e.source !== service);
  const callees = edges.filter((e) => e.source === service && e.target !== service);
  const rowH = 34;
  const h = Math.max(callers.length, callees.length, 1) * rowH + 16;
  const W = 760;
  const cy = h / 2;
  const node = (x: number, y: number, label: string, kind: string, link: boolean) => (
    <g key={`${x}-${label}`} transform={`translate(${x},${y})`}>
      <rect x={-90} y={-13} width={180} height={26} rx={6} className={`map-node ${kind}`} />
      {link ? (
        <a href={`/services/${encodeURIComponent(label)}`}>
          <text textAnchor="middle" dy="4" className="map-label">
            {label.length > 24 ? `${label.slice(0, 23)}…` : label}
          </text>
        </a>
      ) : (
        <text textAnchor="middle" dy="4" className="map-label">
          {label.length > 24 ? `${label.slice(0, 23)}…` : label}
        </text>
      )}
    </g>
  );
  return (
    <Panel title="Dependencies">
      {d.error && <ErrorState error={d.error} retry={d.reload} />}
      {!d.data && !d.error && <Loading />}
      {d.data && callers.length + callees.length === 0 && <Empty title="No calls to or from other services in this range." />}
      {d.data && callers.length + callees.length > 0 && (
        <svg className="service-map" viewBox={`0 0 ${W} ${h}`} width="100%" height={h} role="img" aria-label="service dependencies">
          {callers.map((e, i) => {
            const y = 8 + rowH * i + rowH / 2;
            return <path key={`l${i}`} d={`M190,${y} C270,${y} 250,${cy} 290,${cy}`} className={`map-edge ${e.errors ? 'err' : ''}`} />;
          })}
          {callees.map((e, i) => {
            const y = 8 + rowH * i + rowH / 2;
            return <path key={`r${i}`} d={`M470,${cy} C510,${cy} 490,${y} 570,${y}`} className={`map-edge ${e.errors ? 'err' : ''}`} />;
          })}
          {callers.map((e, i) => node(100, 8 + rowH * i + rowH / 2, e.source, 'service', true))}
          {node(380, cy, service, 'self', false)}
          {callees.map((e, i) => node(660, 8 + rowH * i + rowH / 2, e.target, e.target_kind, e.target_kind === 'service'))}
          {callees.map((e, i) => (
            <text key={`t${i}`} x={520} y={8 + rowH * i + rowH / 2 - 6} className="map-edge-label" textAnchor="middle">
              {fmt(e.calls, 'count')} · p95 {fmt(e.p95_ms, 'ms')}
            </text>
          ))}
        </svg>
      )}
    </Panel>
  );
}

function Resources({ service, params, range, markers, bands }: { service: string; params: Record<string, string>; range: TimeRange; markers: Marker[]; bands: Band[] }) {
  const names = useLoad((signal) => api<{ metrics: { name: string; unit: string }[] }>(`/api/v1/apm/metrics/names${qs({ ...params, service })}`, { signal }), [service, params]);
  const present = RESOURCE_METRICS.filter((m) => names.data?.metrics.some((n) => n.name === m.name));
  return (
    <Panel title="Host and process resources">
      {names.error && <ErrorState error={names.error} retry={names.reload} />}
      {!names.data && !names.error && <Loading />}
      {names.data && present.length === 0 && (
        <Empty title="No resource metrics from this service.">
          Export <code>system.cpu.utilization</code>, <code>system.memory.utilization</code> or <code>process.*</code> metrics with the OpenTelemetry host-metrics
          instrumentation to see them here.
        </Empty>
      )}
      <div className="grid2">
        {present.map((m) => (
          <ResourceChart key={m.name} metric={m} service={service} params={params} range={range} markers={markers} bands={bands} />
        ))}
      </div>
    </Panel>
  );
}

function ResourceChart({ metric, service, params, markers, bands }: { metric: { name: string; title: string; agg: string }; service: string; params: Record<string, string>; range: TimeRange; markers: Marker[]; bands: Band[] }) {
  const d = useLoad((signal) => api<MetricAnswer>(`/api/v1/apm/metrics${qs({ ...params, service, name: metric.name, agg: metric.agg, group_by: 'host.name' })}`, { signal }), [service, params, metric.name]);
  const data = d.data ? metricSeries(d.data) : null;
  const unit = unitOf(d.data?.unit, metric.name, d.data?.agg);
  const label = unitLabel(unit);
  return (
    <div>
      <h3 className="chart-title">
        {metric.title}
        {label && <span className="muted small"> ({label})</span>}
      </h3>
      {d.error && <ErrorState error={d.error} retry={d.reload} />}
      {data && <Chart x={data.x} series={data.series} unit={unit} height={160} markers={markers} bands={bands} label={metric.title} />}
    </div>
  );
}
