import { describe, expect, it } from 'vitest';
import { chooseBucketSeconds, MAX_SQL_EXPRESSIONS } from './dialect/dialect.ts';
import { QueryRejectedError } from './errors.ts';
import { duckdbDialect } from './dialect/duckdb.ts';
import { compileQuery } from './index.ts';
import { buildPlan } from './planner.ts';

const from = new Date('2024-05-01T10:00:00Z');
const to = new Date('2024-05-01T11:00:00Z');
const compile = (q: string, limit?: number) => compileQuery(q, { from, to, limit });

/**
 * Golden table: query → SQL + params for DuckDB. The snapshot file beside this test is the
 * reviewable record of what each query compiles to (like promqltest / HyperDX SQL snapshots).
 */
const GOLDEN: string[] = [
  '',
  'service.name=rms severity>=ERROR "payment failed" | stats count() p95(duration_ms) by http.route | sort -count',
  'from spans service.name=rms http.route=/api/royalt* duration_ms>500',
  'from spans status=error kind=SPAN_KIND_SERVER http.response.status_code>=500',
  'severity=warn OR severity=2 NOT host.name IN (web-1, web-2)',
  'order.total>100 customer.tier="gold" retries=3',
  'from spans http.route IN (/api/a*, /api/b) user.id=*',
  'from spans | timechart span=1m count() avg(duration_ms) by service.name',
  'from spans | timechart p99(duration_ms)',
  'from spans | stats rate() as rps, dc(trace_id) as traces, max(duration_ms) by service.name',
  'from spans | top 3 http.route by service.name',
  'from spans | rare db.system',
  'from spans | eval secs = round(duration_ms / 1000, 2), slow = if(duration_ms > 1000, "slow", "ok") | where slow = "slow" | fields trace_id, name, secs',
  'from spans | sort -duration_ms | head 20 | stats avg(duration_ms) as avg_top20',
  'lms "timeout*upstream" | tail 5',
  '| stats count by severity | where count > 10 | sort -count | head 3',
  'from spans | where http.response.status_code >= 500 and not like(http.route, "/health%") | stats count by http.route',
];

describe('golden: query → plan → DuckDB SQL', () => {
  it.each(GOLDEN)('%s', (q) => {
    const plan = buildPlan(q);
    const c = duckdbDialect.compile(plan, { from, to });
    expect({ kind: c.kind, columns: c.columns.map((x) => x.name), sql: c.sql, params: c.params.map(String) }).toMatchSnapshot();
  });

  it('plans are dialect-independent trees (snapshot of one)', () => {
    expect(buildPlan('from spans service.name=rms | stats p95(duration_ms) by http.route')).toMatchSnapshot();
  });
});

describe('compilation rules', () => {
  it('applies the time range as nanosecond parameters on every query', () => {
    const c = compile('error');
    expect(c.sql).toContain('t0."Timestamp" >= make_timestamp_ns(CAST($1 AS BIGINT)) AND t0."Timestamp" < make_timestamp_ns(CAST($2 AS BIGINT))');
    expect(c.params.slice(0, 2)).toEqual([1714557600000000000n, 1714561200000000000n]);
    expect(compileQuery('x', { from: 5n, to: 10n }).params.slice(0, 2)).toEqual([5n, 10n]);
  });

  it('refuses an empty time range', () => {
    expect(() => compileQuery('x', { from: to, to: from })).toThrow(RangeError);
  });

  it('maps severity names to OTel number ranges', () => {
    expect(compile('severity>=ERROR').params.slice(2, 3)).toEqual([17]);
    expect(compile('severity>=error').sql).toContain('t0."SeverityNumber" >= $3');
    expect(compile('severity=warn').params.slice(2, 4)).toEqual([13, 16]);
    expect(compile('severity<INFO').params[2]).toBe(9);
    expect(compile('severity<=INFO').params[2]).toBe(12);
    expect(compile('severity>WARN').params[2]).toBe(16);
    expect(compile('severity=ERROR2').params[2]).toBe(18);
    expect(compile('severity>=17').params[2]).toBe(17);
    expect(compile('| where severity >= "warning"').params[2]).toBe(13);
  });

  it('escapes LIKE metacharacters of user text and turns * into %', () => {
    const c = compile('from spans http.route=/api/100%_off* "50%_*x"');
    expect(c.params).toContain('/api/100\\%\\_off%');
    expect(c.params).toContain('%50\\%\\_%x%');
    expect(c.sql).toContain('ILIKE');
  });

  it('runs free text without wildcards as a plain lower-cased substring test', () => {
    const c = compile('"Payment 50%_\\\\" "a\\*b"');
    expect(c.sql).toContain('contains(lower(t0."Body"), $');
    expect(c.sql).not.toContain('ILIKE');
    expect(c.params).toContain('payment 50%_\\');
    expect(c.params).toContain('a*b');
  });

  it('casts JSON attributes for numeric comparisons and passes the JSON path as a parameter', () => {
    const c = compile('order.total>100');
    expect(c.sql).toContain('TRY_CAST(COALESCE(json_extract_string(t0."LogAttributes", $3), json_extract_string(t0."ResourceAttributes", $4)) AS DOUBLE) > $5');
    expect(c.params.slice(2, 5)).toEqual(['$."order.total"', '$."order.total"', 100]);
    // A quoted number is text.
    expect(compile('order.id="0042"').sql).not.toContain('TRY_CAST');
  });

  it('merges equality alternatives into IN', () => {
    expect(compile('service.name IN (rms, lms, "cms")').sql).toContain('(t0."ServiceName" IN ($3, $4, $5))');
  });

  it('never interpolates user values', () => {
    const evil = `x'; DROP TABLE otel_logs; --`;
    const c = compile(`service.name="${evil}" "${evil}" | where body != "${evil}" | eval e = "${evil}"`);
    expect(c.sql).not.toContain('DROP');
    expect(c.params).toContain(evil);
  });

  it('clamps the limit to the plan maximum and fetches one extra row', () => {
    expect(compile('x').limit).toBe(1000);
    expect(compile('x', 50).limit).toBe(50);
    expect(compile('x', 1e9).limit).toBe(10_000);
    expect(compile('x', 50).params.at(-1)).toBe(51);
    const small = compileQuery('x', { from, to, limits: { defaultRows: 10, maxRows: 20 }, limit: 100 });
    expect(small.limit).toBe(20);
  });

  it('reports output columns and kind', () => {
    expect(compile('from spans').columns.map((c) => c.name)).toEqual(['timestamp', 'trace_id', 'span_id', 'parent_span_id', 'service.name', 'name', 'kind', 'duration_ms', 'status', 'status.message', 'http.request.method', 'http.route', 'http.response.status_code', 'attributes', 'resource_attributes']);
    expect(compile('x').columns.map((c) => c.name)).toEqual(['timestamp', 'service.name', 'host.name', 'severity', 'severity_number', 'body', 'trace_id', 'span_id', 'attributes', 'resource_attributes']);
    expect(compile('x | eval body = upper(body), n = 1').columns.map((c) => c.name).slice(-3)).toEqual(['attributes', 'resource_attributes', 'n']);
    expect(compile('x').kind).toBe('events');
    expect(compile('x | stats count').kind).toBe('aggregate');
  });

  it('picks a timechart bucket from the range when span is omitted', () => {
    expect(compile('| timechart count').bucketSeconds).toBe(30);
    expect(compile('| timechart span=10s count').bucketSeconds).toBe(10);
    expect(compile('x').bucketSeconds).toBeNull();
    expect(chooseBucketSeconds(7 * 86400)).toBe(7200);
  });
});

describe('compilation bounds', () => {
  it('refuses plans that would render too many SQL expressions, before building big strings', () => {
    // Each use of an eval name copies it: 25 uses of a 999-term expression are 25k expressions.
    const big = `| eval a = ${Array.from({ length: 333 }, (_, i) => `x${i}`).join(' + ')} | where ${Array.from({ length: 25 }, () => 'a > 1').join(' and ')}`;
    const started = performance.now();
    expect(() => compile(big)).toThrow(QueryRejectedError);
    expect(() => compile(big)).toThrow(new RegExp(`more than ${MAX_SQL_EXPRESSIONS} SQL expressions`));
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('binds whole numbers beyond 2^53 as text cast to DOUBLE (the driver fails on them as BIGINT)', () => {
    const c = compile('| eval x = 99999999999999999999 * 2');
    expect(c.sql).toContain('CAST($3 AS DOUBLE)');
    expect(c.params[2]).toBe('100000000000000000000');
  });

  it('cuts concat results and text output columns in the engine', () => {
    const c = compile('| eval x = concat(body, body), y = "a" + body | fields x, y, severity_number', 10);
    expect(c.sql).toContain('left(concat(t0."Body", t0."Body"), 4096)');
    expect(c.sql).toMatch(/left\(CAST\(left\(concat\(.*\) AS VARCHAR\), 65537\) AS "x"/);
    expect(c.sql).toContain('t0."SeverityNumber" AS "severity_number"');
    // The per-cell bound shrinks with rows × text columns.
    expect(compile('x', 2000).cellChars).toBe(Math.floor((64 * 1024 * 1024) / (2001 * 8)));
    expect(compile('x', 10_000).cellChars).toBe(1024);
  });

  it('widens a span that would make more than 10000 buckets, with a warning', () => {
    const week = compileQuery('| timechart span=1s count', { from: new Date('2024-05-01T00:00:00Z'), to: new Date('2024-05-08T00:00:00Z') });
    expect(week.bucketSeconds).toBe(120);
    expect(week.warnings).toEqual([{ message: 'span=1s would make 604800 buckets over this time range (at most 10000); widened to span=2m' }]);
    expect(compile('| timechart span=1s count').warnings).toEqual([]);
  });
});
