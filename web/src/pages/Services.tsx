/** Every service seen, sortable, linking to its page. */
import { Link } from 'react-router-dom';
import { api, qs } from '../api.ts';
import { PageHead } from '../components/Layout.tsx';
import { SortTable } from '../components/SortTable.tsx';
import { Empty, ErrorState, Loading, Panel } from '../components/States.tsx';
import { TimeRangePicker } from '../components/TimeRangePicker.tsx';
import { fmt, fmtAgo } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { useTimeRange } from '../time.ts';
import type { ServiceRow } from './Overview.tsx';

/** The services page. */
export function Services() {
  const { range, setRange, params } = useTimeRange('1h');
  const s = useLoad((signal) => api<{ services: ServiceRow[] }>(`/api/v1/services${qs(params)}`, { signal }), [params]);
  return (
    <>
      <PageHead title="Services">
        <TimeRangePicker range={range} onChange={setRange} onRefresh={s.reload} />
      </PageHead>
      <Panel>
        {s.error && <ErrorState error={s.error} retry={s.reload} />}
        {!s.data && !s.error && <Loading what="Loading services" />}
        {s.data && s.data.services.length === 0 && <Empty title="No services in this time range.">Widen the time range, or check that telemetry arrives (see docs/ingest.md).</Empty>}
        {s.data && s.data.services.length > 0 && (
          <SortTable
            label="services"
            rows={s.data.services}
            rowKey={(r) => r.service}
            initialSort="requests"
            columns={[
              { key: 'service', label: 'Service', render: (r) => <Link to={`/services/${encodeURIComponent(r.service)}`}>{r.service}</Link> },
              { key: 'namespace', label: 'System' },
              { key: 'requests', label: 'Requests', numeric: true, render: (r) => fmt(r.requests, 'count') },
              { key: 'error_rate', label: 'Error rate', numeric: true, value: (r) => (r.requests ? r.errors / r.requests : null), render: (r) => fmt(r.requests ? r.errors / r.requests : null, 'percent') },
              { key: 'p95_ms', label: 'p95', numeric: true, render: (r) => fmt(r.p95_ms, 'ms') },
              { key: 'logs', label: 'Logs', numeric: true, render: (r) => fmt(r.logs, 'count') },
              { key: 'error_logs', label: 'Error logs', numeric: true, render: (r) => fmt(r.error_logs, 'count') },
              { key: 'last_seen', label: 'Last seen', render: (r) => fmtAgo(r.last_seen) },
            ]}
          />
        )}
      </Panel>
    </>
  );
}
