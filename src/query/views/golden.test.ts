/**
 * Golden SQL of every view, per dialect: each builder runs on fixed inputs and its `{sql, params}` must
 * equal the checked-in file `__golden__/<dialect>/<case>.sql`, so a refactor that changes SQL shows
 * exactly what changed. `UPDATE_GOLDEN=1 npx vitest run src/query/views/golden.test.ts` rewrites them.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckDBStore, type DuckDBTelemetryStore } from '../../store/telemetry/duckdb.ts';
import { tempDir } from '../../../test/helpers/vigil.ts';
import type { Dialect, ViewSql } from '../dialect/dialect.ts';
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
  'apm-overview': (d) => overviewQuery(d, { ...window, apdexTMs: 500 }),
  'apm-overview-filtered': (d) => overviewQuery(d, { ...window, service: 'rms-api', operation: 'GET /api/works', groupBy: 'deployment.environment', apdexTMs: 250 }),
  'apm-overview-by-column': (d) => overviewQuery(d, { ...window, groupBy: 'service.name', apdexTMs: 500 }),
  'apm-operations': (d) => operationsQuery(d, { fromNs, toNs, apdexTMs: 500, sort: 'p95', limit: 50 }),
  'apm-operations-filtered': (d) => operationsQuery(d, { fromNs, toNs, service: 'lms-api', apdexTMs: 500, sort: 'apdex', limit: 10, minRequests: 5 }),
  'apm-database': (d) => databaseQuery(d, { fromNs, toNs, sort: 'total_time', limit: 20 }),
  'apm-database-filtered': (d) => databaseQuery(d, { fromNs, toNs, service: 'rms-api', dbSystem: 'postgresql', sort: 'p95', limit: 20 }),
  'apm-external': (d) => externalQuery(d, { fromNs, toNs, limit: 30 }),
  'apm-external-filtered': (d) => externalQuery(d, { fromNs, toNs, service: 'rms-api', limit: 30 }),
  'service-map': (d) => serviceMapQuery(d, fromNs, toNs),
  errors: (d) => errorGroupsQuery(d, { fromNs, toNs, limit: 25 }),
  'errors-filtered': (d) => errorGroupsQuery(d, { fromNs, toNs, service: 'lms-api', limit: 25 }),
  'metrics-info': (d) => metricInfoQuery(d, 'http.server.duration', { fromNs, toNs }),
  'metrics-names': (d) => metricNamesQuery(d, { fromNs, toNs }),
  'metrics-names-filtered': (d) => metricNamesQuery(d, { fromNs, toNs }, 'rms-api'),
  'metrics-attributes': (d) => metricAttributesQuery(d, { fromNs, toNs }, 'rms-api'),
  'metrics-value-avg': (d) => valueQuery(d, 'gauge', 'avg', metric),
  'metrics-value-sum': (d) => valueQuery(d, 'sum', 'sum', { ...metric, service: undefined, filters: [], groupBy: 'service.name' }),
  'metrics-counter': (d) => counterQuery(d, metric),
  'metrics-histogram': (d) => histogramQuery(d, { ...metric, groupBy: undefined }),
  'workflow-trace': (d) => workflowQuery(d, { fromNs, toNs, steps: [{ service: 'lms-api', operation: 'POST /api/login' }, { service: 'lms-api', operation: 'POST /api/courses/:id/register' }], by: 'trace', withinNs: 600n * S, bucketNs: 60n * S }),
  'workflow-user': (d) => workflowQuery(d, { fromNs, toNs, steps: [{ service: 'lms-web', operation: 'GET /login' }, { service: 'lms-api', operation: 'POST /api/login' }, { service: 'lms-api', operation: 'GET /api/courses' }], by: 'user', withinNs: 600n * S, bucketNs: 300n * S }),
  'trace-spans': (d) => traceSpansQuery(d, TRACE),
  'trace-spans-window': (d) => traceSpansQuery(d, TRACE, { fromNs, toNs }),
  'trace-logs': (d) => traceLogsQuery(d, TRACE),
  'trace-logs-window': (d) => traceLogsQuery(d, TRACE, { fromNs, toNs }),
  services: (d) => servicesQuery(d, fromNs, toNs),
  'trace-list': (d) => traceListQueries(d, { text: 'from spans service.name=rms-api http.status_code>=500', fromNs, toNs, sort: '-timestamp', limit: 50 }).list,
  'trace-list-count': (d) => traceListQueries(d, { text: 'from spans service.name=rms-api http.status_code>=500', fromNs, toNs, sort: '-timestamp', limit: 50 }).count!,
  'trace-list-cursor': (d) => traceListQueries(d, { text: 'from spans service.name=rms-api', fromNs, toNs, sort: '-timestamp', cursor, limit: 50 }).list,
  'monitor-results': (d) => monitorResultsQuery(d, 'mon_42', 1_700_000_000_000, 1_700_003_600_000, 500),
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

/**
 * A dialect whose every view fragment renders as `«name(args)»`: whatever DuckDB text is left in a view's
 * SQL was written by the view itself rather than by the dialect, and a ClickHouse dialect could not replace it.
 */
const marked: Dialect = {
  ...duckdbDialect,
  name: 'marked',
  views: new Proxy(duckdbDialect.views, {
    get: (target, prop: keyof ViewSql) => {
      const real = target[prop];
      return typeof real === 'function' ? (...args: unknown[]) => `«${String(prop)}(${args.map((a) => JSON.stringify(a)).join(', ')})»` : `«${String(prop)}» `;
    },
  }),
};

/** Engine-specific SQL that must come from the dialect, never from a view (DuckDB's names and syntax). */
const ENGINE_TEXT = /\bVALUES \(|FILTER \(WHERE|json_extract|json_each|epoch_(ns|ms)|make_timestamp|quantile_cont|GROUPING|any_value|arg_max|approx_count|\blist\(|list_|unnest|generate_subscripts|bool_and|regexp_|md5|chr\(|AS MATERIALIZED|GROUP BY ALL|CAST\(|INTERVAL|\blen\(|contains\(|\/\/|\$\."/;

describe('views hold no engine-specific SQL', () => {
  // The trace list is compiled from a plan by the dialect itself: nothing of it is written by the view.
  it.each(Object.keys(CASES).filter((k) => !k.startsWith('trace-list')))('%s', (view) => {
    const q = CASES[view]!(marked);
    // Fragments are removed before the check; the SQL comment about MATERIALIZED is prose.
    const own = q.sql.replace(/«[^»]*»/g, '').replace(/--.*$/gm, '');
    expect(own).not.toMatch(ENGINE_TEXT);
    expect(q.params.some((p) => typeof p === 'string' && p.startsWith('$.'))).toBe(false);
  });
});

describe('golden view SQL runs on its engine (duckdb)', () => {
  // An empty store with the real schema: the engine binds every table, column, function and parameter type.
  const tmp = tempDir('vigil-golden-');
  let store: DuckDBTelemetryStore;
  beforeAll(async () => {
    store = await openDuckDBStore(join(tmp.dir, 'telemetry.duckdb'));
  });
  afterAll(async () => {
    await store.close();
    tmp.cleanup();
  });
  it.each(Object.keys(CASES))('%s', async (view) => {
    const q = CASES[view]!(duckdbDialect);
    await expect(store.query(q.sql, q.params)).resolves.toBeInstanceOf(Array);
  });
});
