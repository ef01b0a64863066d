/**
 * Golden SQL of every view, per dialect: each builder runs on fixed inputs and its `{sql, params}` must
 * equal the checked-in file `__golden__/<dialect>/<case>.sql`, so a refactor that changes SQL shows
 * exactly what changed. `UPDATE_GOLDEN=1 npx vitest run src/query/views/golden.test.ts` rewrites them.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Dialect } from '../dialect/dialect.ts';
import { duckdbDialect } from '../dialect/duckdb.ts';
import { databaseQuery, externalQuery, operationsQuery, overviewQuery, serviceMapQuery } from './apm.ts';
import { errorGroupsQuery } from './errors.ts';
import { counterQuery, histogramQuery, metricAttributesQuery, metricInfoQuery, metricNamesQuery, valueQuery, type MetricOptions } from './metrics.ts';
import { monitorResultsQuery } from './monitor-results.ts';
import type { ViewQuery } from '../service.ts';
import { servicesQuery, traceListQueries, traceLogsQuery, traceSpansQuery } from './traces.ts';
import { workflowQuery } from './workflow.ts';

const DIALECTS: Dialect[] = [duckdbDialect];
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '__golden__');
const S = 1_000_000_000n;
const fromNs = 1_700_000_000n * S;
const toNs = 1_700_003_600n * S;
const window = { fromNs, toNs, bucketNs: 60n * S, nowNs: toNs };
const TRACE = '0123456789abcdef0123456789abcdef';
const metric: MetricOptions = { fromNs, toNs, name: 'http.server.duration', service: 'rms-api', filters: [{ key: 'http.route', value: '/api/works' }], groupBy: 'host.name', bucketNs: 60n * S };
const cursor = Buffer.from(JSON.stringify(['2023-11-14 22:13:20.123456789', 'abcdef0123456789'])).toString('base64url');

/** Every view on fixed inputs; each case is one golden file. */
const CASES: Record<string, (d: Dialect) => ViewQuery> = {
  'apm-overview': () => overviewQuery({ ...window, apdexTMs: 500 }),
  'apm-overview-filtered': () => overviewQuery({ ...window, service: 'rms-api', operation: 'GET /api/works', groupBy: 'deployment.environment', apdexTMs: 250 }),
  'apm-overview-by-column': () => overviewQuery({ ...window, groupBy: 'service.name', apdexTMs: 500 }),
  'apm-operations': () => operationsQuery({ fromNs, toNs, apdexTMs: 500, sort: 'p95', limit: 50 }),
  'apm-operations-filtered': () => operationsQuery({ fromNs, toNs, service: 'lms-api', apdexTMs: 500, sort: 'apdex', limit: 10, minRequests: 5 }),
  'apm-database': () => databaseQuery({ fromNs, toNs, sort: 'total_time', limit: 20 }),
  'apm-database-filtered': () => databaseQuery({ fromNs, toNs, service: 'rms-api', dbSystem: 'postgresql', sort: 'p95', limit: 20 }),
  'apm-external': () => externalQuery({ fromNs, toNs, limit: 30 }),
  'apm-external-filtered': () => externalQuery({ fromNs, toNs, service: 'rms-api', limit: 30 }),
  'service-map': () => serviceMapQuery(fromNs, toNs),
  errors: () => errorGroupsQuery({ fromNs, toNs, limit: 25 }),
  'errors-filtered': () => errorGroupsQuery({ fromNs, toNs, service: 'lms-api', limit: 25 }),
  'metrics-info': () => metricInfoQuery('http.server.duration', { fromNs, toNs }),
  'metrics-names': () => metricNamesQuery({ fromNs, toNs }),
  'metrics-names-filtered': () => metricNamesQuery({ fromNs, toNs }, 'rms-api'),
  'metrics-attributes': () => metricAttributesQuery({ fromNs, toNs }, 'rms-api'),
  'metrics-value-avg': () => valueQuery('gauge', 'avg', metric),
  'metrics-value-sum': () => valueQuery('sum', 'sum', { ...metric, service: undefined, filters: [], groupBy: 'service.name' }),
  'metrics-counter': () => counterQuery(metric),
  'metrics-histogram': () => histogramQuery({ ...metric, groupBy: undefined }),
  'workflow-trace': () => workflowQuery({ fromNs, toNs, steps: [{ service: 'lms-api', operation: 'POST /api/login' }, { service: 'lms-api', operation: 'POST /api/courses/:id/register' }], by: 'trace', withinNs: 600n * S, bucketNs: 60n * S }),
  'workflow-user': () => workflowQuery({ fromNs, toNs, steps: [{ service: 'lms-web', operation: 'GET /login' }, { service: 'lms-api', operation: 'POST /api/login' }, { service: 'lms-api', operation: 'GET /api/courses' }], by: 'user', withinNs: 600n * S, bucketNs: 300n * S }),
  'trace-spans': () => traceSpansQuery(TRACE),
  'trace-spans-window': () => traceSpansQuery(TRACE, { fromNs, toNs }),
  'trace-logs': () => traceLogsQuery(TRACE),
  'trace-logs-window': () => traceLogsQuery(TRACE, { fromNs, toNs }),
  services: () => servicesQuery(fromNs, toNs),
  'trace-list': () => traceListQueries({ text: 'from spans service.name=rms-api http.status_code>=500', fromNs, toNs, sort: '-timestamp', limit: 50 }).list,
  'trace-list-count': () => traceListQueries({ text: 'from spans service.name=rms-api http.status_code>=500', fromNs, toNs, sort: '-timestamp', limit: 50 }).count!,
  'trace-list-cursor': () => traceListQueries({ text: 'from spans service.name=rms-api', fromNs, toNs, sort: '-timestamp', cursor, limit: 50 }).list,
  'monitor-results': () => monitorResultsQuery('mon_42', 1_700_000_000_000, 1_700_003_600_000, 500),
};

/** The file text of a query: its SQL, then its parameters (bigints as `123n`) one per line. */
function render(q: ViewQuery): string {
  const params = q.params.map((p, i) => `-- $${i + 1} = ${typeof p === 'bigint' ? `${p}n` : JSON.stringify(p)}`);
  return `${q.sql.trim()}\n${params.join('\n')}\n`;
}

describe.each(DIALECTS.map((d) => [d.name, d] as const))('golden view SQL (%s)', (name, dialect) => {
  it.each(Object.keys(CASES))('%s', (view) => {
    const file = join(ROOT, name, `${view}.sql`);
    const actual = render(CASES[view]!(dialect));
    if (process.env.UPDATE_GOLDEN === '1') {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, actual);
      return;
    }
    expect(existsSync(file), `${file} is missing: run with UPDATE_GOLDEN=1`).toBe(true);
    // toBe on strings prints a line diff on failure.
    expect(actual).toBe(readFileSync(file, 'utf8'));
  });
});
