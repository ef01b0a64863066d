import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TELEMETRY_DDL } from '../store/telemetry/schema.ts';
import { executeQuery, QueryBusyError, QueryGate, QueryTimeoutError, type QueryResult, type RunFn } from './executor.ts';
import { duckdbEngineError } from './dialect/duckdb.ts';
import { QueryRejectedError, QueryResourceError } from './errors.ts';
import { CUT_MARKER } from './executor.ts';
import { compileQuery } from './index.ts';

/** A RunFn over a bare DuckDB connection (the server runs queries through the telemetry store). */
function duckdbRunner(connection: DuckDBConnection): RunFn {
  return async (sql, params) => (await connection.runAndReadAll(sql, params as DuckDBValue[])).getRowObjects();
}

const BASE = 1_714_557_600_000_000_000n; // 2024-05-01T10:00:00Z
const MIN = 60_000_000_000n;
const from = BASE;
const to = BASE + 60n * MIN;

let instance: DuckDBInstance;
let conn: DuckDBConnection;

async function run(q: string, limit?: number): Promise<QueryResult> {
  return executeQuery(compileQuery(q, { from, to, limit }), duckdbRunner(conn), { timeoutMs: 10_000, interrupt: () => conn.interrupt() });
}

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  conn = await instance.connect();
  for (const ddl of TELEMETRY_DDL) await conn.run(ddl);
  // Test fixtures only: plain INSERTs with literal values.
  const logs: [bigint, number, string, string, string, string, string][] = [
    [BASE + 1n * MIN, 17, 'ERROR', 'rms', 'payment failed for order 42', '{"http.route":"/api/royalties","order.total":250,"customer.tier":"gold"}', '{"deployment.environment":"prod"}'],
    [BASE + 2n * MIN, 18, 'ERROR2', 'rms', 'Payment FAILED: card declined', '{"http.route":"/api/royalties/42","order.total":"99.5"}', '{"deployment.environment":"prod"}'],
    [BASE + 3n * MIN, 13, 'WARN', 'rms', 'slow upstream (timeout soon)', '{"http.route":"/api/payments"}', '{"deployment.environment":"prod"}'],
    [BASE + 4n * MIN, 9, 'INFO', 'lms', 'course 50%_done', '{"http.route":"/api/courses","order.total":5}', '{"deployment.environment":"staging"}'],
    [BASE + 5n * MIN, 21, 'FATAL', 'lms', 'out of memory', '{}', '{"deployment.environment":"staging"}'],
    [BASE + 90n * MIN, 17, 'ERROR', 'rms', 'payment failed outside the range', '{}', '{}'],
  ];
  for (const [ts, sev, text, svc, body, attrs, res] of logs) {
    await conn.run(
      `INSERT INTO otel_logs (Timestamp, SeverityNumber, SeverityText, ServiceName, HostName, Body, TraceId, SpanId, LogAttributes, ResourceAttributes)
       VALUES (make_timestamp_ns(${ts}), ${sev}, '${text}', '${svc}', 'web-1', '${body}', 'trace-${sev}', 'span-${sev}', '${attrs}', '${res}')`,
    );
  }
  const spans: [bigint, string, string, string, number, string, string, number | null][] = [
    [BASE + 1n * MIN, 'rms', 'GET /api/royalties', '/api/royalties', 120, 'Ok', 'Server', 200],
    [BASE + 2n * MIN, 'rms', 'GET /api/royalties', '/api/royalties', 480, 'Ok', 'Server', 200],
    [BASE + 3n * MIN, 'rms', 'GET /api/royalties', '/api/royalties', 2500, 'Error', 'Server', 500],
    [BASE + 3n * MIN, 'rms', 'SELECT royalties', '', 40, 'Unset', 'Client', null],
    [BASE + 4n * MIN, 'lms', 'GET /api/courses', '/api/courses', 60, 'Ok', 'Server', 200],
    [BASE + 61n * MIN, 'lms', 'GET /api/courses', '/api/courses', 60, 'Ok', 'Server', 200],
  ];
  let i = 0;
  for (const [ts, svc, name, route, ms, status, kind, code] of spans) {
    i++;
    await conn.run(
      `INSERT INTO otel_traces (Timestamp, TraceId, SpanId, SpanName, SpanKind, ServiceName, Duration, StatusCode, HttpRoute, HttpStatusCode, DbSystem, SpanAttributes, ResourceAttributes)
       VALUES (make_timestamp_ns(${ts}), 'trace-${i}', 'span-${i}', '${name}', '${kind}', '${svc}', ${ms * 1_000_000}, '${status}', '${route}', ${code ?? 'NULL'}, ${kind === 'Client' ? "'postgresql'" : 'NULL'}, '{"user.id":"u${i % 2}"}', '{}')`,
    );
  }
});

afterAll(() => {
  conn?.closeSync();
  instance?.closeSync();
});

const bodies = (r: QueryResult) => r.rows.map((x) => x.body);

describe('execution against DuckDB', () => {
  it('lists log events newest first inside the time range with stable columns', async () => {
    const r = await run('');
    expect(r.kind).toBe('events');
    expect(r.rows).toHaveLength(5);
    expect(r.rows[0]).toMatchObject({ timestamp: '2024-05-01T10:05:00.000Z', 'service.name': 'lms', severity: 'FATAL', severity_number: 21, attributes: {}, resource_attributes: { 'deployment.environment': 'staging' } });
    expect(Object.keys(r.rows[0]!)).toEqual(r.columns.map((c) => c.name));
  });

  it('filters by service, severity range and case-insensitive free text', async () => {
    expect(bodies(await run('service.name=rms severity>=ERROR "payment failed"'))).toEqual(['Payment FAILED: card declined', 'payment failed for order 42']);
    expect((await run('severity=error')).rows).toHaveLength(2);
    expect((await run('severity>warn')).rows).toHaveLength(3);
    expect((await run('severity<=info')).rows.map((x) => x.severity)).toEqual(['INFO']);
    expect((await run('NOT severity=error')).rows).toHaveLength(3);
  });

  it('matches wildcards, IN lists, attributes and resource attributes', async () => {
    expect((await run('http.route=/api/royalt*')).rows).toHaveLength(2);
    expect((await run('http.route IN (/api/payments, /api/courses)')).rows).toHaveLength(2);
    expect(bodies(await run('order.total>100'))).toEqual(['payment failed for order 42']);
    expect((await run('order.total<100')).rows).toHaveLength(2); // "99.5" as text still casts
    expect((await run('deployment.environment=staging')).rows).toHaveLength(2);
    expect((await run('customer.tier=*')).rows).toHaveLength(1);
    expect(bodies(await run('"50%_"'))).toEqual(['course 50%_done']);
    expect((await run('"50%x"')).rows).toHaveLength(0); // % is literal, not a LIKE wildcard
    expect((await run('error OR fatal service.name=lms')).rows).toHaveLength(0);
    expect(bodies(await run('memory OR timeout service.name=lms'))).toEqual(['out of memory']);
  });

  it('aggregates with stats and sorts by the aggregate', async () => {
    const r = await run('from spans | stats count() p95(duration_ms) avg(duration_ms) as avg by http.route | sort -p95(duration_ms)');
    expect(r.kind).toBe('aggregate');
    expect(r.columns.map((c) => c.name)).toEqual(['http.route', 'count', 'p95(duration_ms)', 'avg']);
    expect(r.rows[0]).toMatchObject({ 'http.route': '/api/royalties', count: 3, avg: 1033.3333333333333 });
    expect(r.rows[0]!['p95(duration_ms)']).toBeCloseTo(2298, 0);
  });

  it('computes rate per second over the range, dc, and where on aggregates', async () => {
    const r = await run('from spans | stats rate() as rps dc(trace_id) as traces by service.name | where traces > 1');
    expect(r.rows).toEqual([
      { 'service.name': 'rms', rps: 4 / 3600, traces: 4 },
    ]);
  });

  it('buckets time with timechart', async () => {
    const r = await run('from spans | timechart span=2m count by service.name');
    expect(r.rows).toEqual([
      { _time: '2024-05-01T10:00:00.000Z', 'service.name': 'rms', count: 1 },
      { _time: '2024-05-01T10:02:00.000Z', 'service.name': 'rms', count: 3 },
      { _time: '2024-05-01T10:04:00.000Z', 'service.name': 'lms', count: 1 },
    ]);
  });

  it('returns top and rare values with percentages', async () => {
    const top = await run('from spans | top 1 http.route by service.name');
    expect(top.rows).toEqual([
      { 'service.name': 'lms', 'http.route': '/api/courses', count: 1, percent: 100 },
      { 'service.name': 'rms', 'http.route': '/api/royalties', count: 3, percent: 75 },
    ]);
    const rare = await run('from spans | rare 1 kind');
    expect(rare.rows).toEqual([{ kind: 'Client', count: 1, percent: 20 }]);
  });

  it('evaluates expressions, projects fields and limits rows', async () => {
    const r = await run('from spans | eval secs = round(duration_ms / 1000, 1), slow = if(duration_ms > 400, "slow", "ok") | where slow = "slow" | sort -secs | fields name, secs, slow');
    expect(r.rows).toEqual([
      { name: 'GET /api/royalties', secs: 2.5, slow: 'slow' },
      { name: 'GET /api/royalties', secs: 0.5, slow: 'slow' },
    ]);
    const head = await run('from spans | sort duration_ms | head 2 | fields duration_ms');
    expect(head.rows).toEqual([{ duration_ms: 40 }, { duration_ms: 60 }]);
  });

  it('marks truncated results', async () => {
    const r = await run('', 2);
    expect(r.rows).toHaveLength(2);
    expect(r.truncated).toBe(true);
    expect((await run('', 5)).truncated).toBe(false);
  });

  it('treats SQL injection attempts in values and field names as plain data', async () => {
    const evil = [
      `service.name="rms' OR '1'='1"`,
      `"'; DROP TABLE otel_logs; --"`,
      `service.name=rms" OR 1=1 --`,
      `| where body = "x'); DELETE FROM otel_logs; --"`,
      `| eval x = "'; DROP TABLE otel_logs; --" | fields x`,
      `from spans http.route IN ("') OR 1=1 --", b)`,
    ];
    for (const q of evil) {
      const r: QueryResult | Error = await run(q).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
      if (r instanceof Error) expect(r.name).toBe('QueryError');
      else if (q.includes('eval')) expect(r.rows.every((x) => x.x === "'; DROP TABLE otel_logs; --")).toBe(true);
      else expect(r.rows).toHaveLength(0);
    }
    // Field names that try to break out of the JSON path or the identifier are refused.
    for (const q of [`'a"b'=1`, `'x\\', 1) OR 1=1 --'=1`, `| stats count by 'a"b'`]) {
      await expect(run(q)).rejects.toMatchObject({ name: 'QueryError' });
    }
    expect((await run('')).rows).toHaveLength(5);
    expect((await run('from spans')).rows).toHaveLength(5);
  });
});

describe('documented examples', () => {
  const examples = [
    'service.name=rms severity>=ERROR "payment failed" | stats count() by http.route | sort -count',
    'from spans service.name=rms http.route=/api/royalt* | stats p50(duration_ms) as p50 p95(duration_ms) as p95 count by http.route | sort -p95',
    'from spans service.name=lms status=error | stats rate() as errors_per_s by http.route',
    'from spans kind=server | timechart span=5m count by service.name',
    'service.name=lms severity=warn | top 5 tenant.id',
    'from spans | where http.response.status_code >= 500 and not like(http.route, "/health%") | fields timestamp, service.name, http.route, duration_ms',
    'service.name=rms order.total>1000 | eval k = round(order.total / 1000, 1) | fields timestamp, body, k',
    'from spans db.system=postgresql duration_ms>200 | stats count avg(duration_ms) as avg_ms by db.statement | sort -count | head 10',
    'service.name=rms deployment.environment=prod NOT http.route=/health*',
    'from spans | eval label = "route " + http.route, c = case(duration_ms > 1000, "slow", duration_ms > 100, "ok", "fast") | stats count by c, label',
    'from spans | stats min(timestamp) as first max(duration_ms) median(duration_ms) count(http.route) by kind | tail 2',
    '| timechart rate() by severity',
    '| where lower(service.name) in ("rms", "lms") and isnotnull(trace_id) and len(body) > 3 | eval s = substr(body, 1, 5), n = coalesce(tonumber(order.total), 0) + 1',
  ];
  it.each(examples)('%s', async (q) => {
    const r = await run(q);
    expect(r.columns.length).toBeGreaterThan(0);
  });

  it('computes case(), concat and min(timestamp) correctly', async () => {
    const r = await run('from spans service.name=rms | eval c = case(duration_ms > 1000, "slow", duration_ms > 100, "ok", "fast") | stats count by c');
    expect(r.rows).toEqual([
      { c: 'fast', count: 1 },
      { c: 'ok', count: 2 },
      { c: 'slow', count: 1 },
    ]);
    const m = await run('from spans | stats min(timestamp) as first');
    expect(m.rows).toEqual([{ first: '2024-05-01T10:01:00.000Z' }]);
  });
});

describe('executor guards', () => {
  const compiled = compileQuery('x', { from, to });

  it('times out and interrupts the engine', async () => {
    let interrupted = false;
    const never = () => new Promise<Record<string, unknown>[]>(() => {});
    await expect(executeQuery(compiled, never, { timeoutMs: 20, interrupt: () => (interrupted = true) })).rejects.toBeInstanceOf(QueryTimeoutError);
    expect(interrupted).toBe(true);
  });

  it('limits concurrency and refuses beyond the queue', async () => {
    const gate = new QueryGate(1, 1);
    let release!: () => void;
    const first = gate.run(() => new Promise<number>((r) => (release = () => r(1))));
    const second = gate.run(async () => 2);
    await expect(gate.run(async () => 3)).rejects.toBeInstanceOf(QueryBusyError);
    release();
    expect(await Promise.all([first, second])).toEqual([1, 2]);
  });
});

describe('answers bounded and engine errors explained', () => {
  it('cuts text values past the per-cell bound, marks them and warns', async () => {
    await conn.run(`INSERT INTO otel_logs (Timestamp, SeverityNumber, ServiceName, Body, LogAttributes, ResourceAttributes) VALUES (make_timestamp_ns(${BASE + 30n * MIN}), 9, 'huge', repeat('x', 70000), '{}', '{}')`);
    const r = await run('service.name=huge | fields body', 1);
    expect(r.rows[0]!.body).toBe('x'.repeat(65536) + CUT_MARKER);
    expect(r.warnings[0]!.message).toMatch(/values longer than 65536 characters were cut/);
    const short = await run('service.name=huge | eval n = len(body) | fields n');
    expect(short.rows[0]!.n).toBe(70000);
    expect(short.warnings).toEqual([]);
  });

  it('turns engine errors the query causes into clean user errors, and leaves server faults alone', async () => {
    const failing = compileQuery('| eval x = sqrt(-1)', { from, to });
    await expect(executeQuery(failing, duckdbRunner(conn), { engineError: duckdbEngineError })).rejects.toThrow(new QueryRejectedError('the query cannot run on this data: cannot take square root of a negative number'));
    const binder = duckdbEngineError(new Error('Binder Error: No function matches the given name\n\nLINE 1: SELECT t3."__e2" FROM x WHERE $4'));
    expect(binder?.message).toBe('the query cannot run on this data: No function matches the given name');
    expect(duckdbEngineError(new Error('Out of Range Error: Overflow in multiplication of INT64 (t1."__a2" * $3)!'))?.message).toBe(
      'the query cannot run on this data: Overflow in multiplication of INT64 (a computed value * a value)!',
    );
    expect(duckdbEngineError(new Error('Out of Memory Error: failed to allocate'))).toBeInstanceOf(QueryResourceError);
    expect(duckdbEngineError(new Error('IO Error: disk full'))).toBeNull();
    expect(duckdbEngineError('not an error')).toBeNull();
  });
});
