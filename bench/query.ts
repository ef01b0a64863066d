/**
 * `npm run bench:query`: query latency over a large store. Generates BENCH_ROWS log records and
 * BENCH_ROWS spans (default 10M each) spread over the last 24 h straight into a DuckDB file through
 * the telemetry store's write path, then times typical questions through Vigil's own path (query
 * language → compileQuery + executeQuery, or the APM/trace views → store.query) and, beside each,
 * the same question as hand-written SQL on a bare @duckdb/node-api connection (the ceiling).
 * Also measures storage per million ~200-byte log records.
 *
 * Environment: BENCH_ROWS (10000000), BENCH_RUNS (7 timed runs after one warm-up), BENCH_DB (reuse
 * or keep the database file at this path; generated when missing), BENCH_BATCH (50000 rows per write).
 */
import { existsSync, statSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { duckdbDialect } from '../src/query/dialect/duckdb.ts';
import { compileQuery, executeQuery } from '../src/query/index.ts';
import { databaseQuery, normalizeStatementSql, operationsQuery } from '../src/query/views/apm.ts';
import { traceLogsQuery, traceSpansQuery } from '../src/query/views/traces.ts';
import { openDuckDBStore, type DuckDBTelemetryStore } from '../src/store/telemetry/duckdb.ts';
import { tempDir } from '../test/helpers/vigil.ts';
import { LogGenerator, SpanGenerator } from './query-data.ts';

const ROWS = Number(process.env.BENCH_ROWS ?? 10_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const BATCH = Number(process.env.BENCH_BATCH ?? 50_000);
const DAY_NS = 86_400n * 1_000_000_000n;

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

let lastLogged = 0;

/** One progress line, rewritten in place on a terminal; into a file or pipe, a line every 15 s. */
function progress(line: string, final = false): void {
  if (process.stdout.isTTY) process.stdout.write(`\r${line.padEnd(100)}${final ? '\n' : ''}`);
  else if (final || performance.now() - lastLogged > 15_000) {
    lastLogged = performance.now();
    log(line);
  }
}

async function generate(path: string, nowNs: bigint): Promise<number> {
  const store = await openDuckDBStore(path);
  const started = performance.now();
  const logs = new LogGenerator(ROWS, nowNs - DAY_NS, nowNs);
  const spans = new SpanGenerator(ROWS, nowNs - DAY_NS, nowNs);
  let written = 0;
  let lastPrint = 0;
  // Interleave both signals in time order, as live ingest would.
  while (!logs.done || !spans.done) {
    const l = logs.done ? [] : logs.batch(BATCH);
    const s = spans.done ? [] : spans.batch(BATCH);
    await store.write([{ logs: l, spans: s, metrics: [] }]);
    written += l.length + s.length;
    const now = performance.now();
    if (now - lastPrint > 1000) {
      lastPrint = now;
      const secs = (now - started) / 1000;
      progress(`generating: ${(written / 1e6).toFixed(1)}M of ${((ROWS * 2) / 1e6).toFixed(1)}M rows, ${Math.round(written / secs).toLocaleString('en')} rows/s, ${secs.toFixed(0)} s`);
    }
  }
  await store.compact();
  await store.close();
  const secs = (performance.now() - started) / 1000;
  progress(`generated ${written.toLocaleString('en')} rows in ${secs.toFixed(0)} s (${Math.round(written / secs).toLocaleString('en')} rows/s)`, true);
  return secs;
}

/** MB on disk per million log records, from a separate file holding only logs. */
async function storagePerMillion(dir: string, nowNs: bigint): Promise<{ mb: number; avgBody: number; rows: number }> {
  const rows = Math.min(ROWS, 1_000_000);
  const path = join(dir, 'logs-only.duckdb');
  const store = await openDuckDBStore(path);
  const gen = new LogGenerator(rows, nowNs - DAY_NS, nowNs, 7);
  while (!gen.done) await store.write([{ logs: gen.batch(BATCH), spans: [], metrics: [] }]);
  await store.compact();
  const avg = await store.query('SELECT avg(strlen(Body)) AS b FROM otel_logs');
  await store.close();
  return { mb: statSync(path).size / 1e6 / (rows / 1e6), avgBody: Number(avg[0]?.b ?? 0), rows };
}

interface Timing {
  p50: number;
  p95: number;
  rows: number;
}

function percentile(sorted: number[], q: number): number {
  const i = Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
  return sorted[Math.max(0, i)]!;
}

/** One warm-up, then RUNS timed runs; `fn(i)` returns the row count. */
async function time(fn: (run: number) => Promise<number>): Promise<Timing> {
  let rows = await fn(-1);
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    rows = await fn(i);
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 0.5), p95: percentile(ms, 0.95), rows };
}

/** The benchmarked questions: Vigil's path and the hand-written ceiling of each. */
interface Question {
  name: string;
  goalMs: number;
  vigil: (store: DuckDBTelemetryStore, run: number) => Promise<number>;
  ceiling: (c: DuckDBConnection[], run: number) => Promise<number>;
}

async function raw(c: DuckDBConnection, sql: string, params: DuckDBValue[] = []): Promise<number> {
  const reader = await c.runAndReadAll(sql, params.length ? params : undefined);
  return reader.getRowObjects().length;
}

const traceSeenAt = new Map<string, bigint>();

function questions(fromNs: bigint, toNs: bigint, traceIds: string[]): Question[] {
  const range = { from: fromNs, to: toNs };
  const ts = (n: number) => `make_timestamp_ns(CAST($${n} AS BIGINT))`;
  const inRange = `Timestamp >= ${ts(1)} AND Timestamp < ${ts(2)}`;
  const language = async (store: DuckDBTelemetryStore, text: string, limit: number) => {
    const compiled = compileQuery(text, { ...range, limit });
    const result = await executeQuery(compiled, (sql, params) => store.query(sql, params), { timeoutMs: 120_000 });
    return result.rows.length;
  };
  const view = async (store: DuckDBTelemetryStore, q: { sql: string; params: unknown[] }) => (await store.query(q.sql, q.params)).length;
  const traceAt = (run: number) => traceIds[(run + 1) % traceIds.length]!;
  return [
    {
      name: 'free text, last 100 matches ("deadlock", 24 h)',
      goalMs: 1000,
      vigil: (s) => language(s, 'deadlock', 100),
      ceiling: ([c]) =>
        raw(c!, `SELECT Timestamp, ServiceName, HostName, SeverityNumber, Body, TraceId, SpanId, LogAttributes, ResourceAttributes FROM otel_logs
          WHERE ${inRange} AND Body ILIKE '%deadlock%' ORDER BY Timestamp DESC LIMIT 101`, [fromNs, toNs]),
    },
    {
      name: 'error count by service per minute (24 h, capped at 10,000 rows)',
      goalMs: 300,
      vigil: (s) => language(s, 'severity>=ERROR | timechart span=1m count by service.name', 10_000),
      ceiling: ([c]) =>
        raw(c!, `SELECT time_bucket(INTERVAL 1 MINUTE, Timestamp) AS t, ServiceName, count(*) AS n FROM otel_logs
          WHERE ${inRange} AND SeverityNumber >= 17 GROUP BY 1, 2 ORDER BY 1, 2 LIMIT 10001`, [fromNs, toNs]),
    },
    {
      name: 'p95 latency by route (server spans, 24 h)',
      goalMs: 300,
      vigil: (s) => language(s, 'from spans kind=server | stats p95(duration_ms) as p95, count by http.route', 1000),
      ceiling: ([c]) =>
        raw(c!, `SELECT HttpRoute, quantile_cont(Duration / 1e6, 0.95) AS p95, count(*) AS n FROM otel_traces
          WHERE ${inRange} AND SpanKind = 'Server' GROUP BY 1 ORDER BY 1 LIMIT 1001`, [fromNs, toNs]),
    },
    {
      name: 'APM operations table (p50/p95/p99, Apdex per route, 24 h)',
      goalMs: 300,
      vigil: (s) => view(s, operationsQuery(duckdbDialect, { fromNs, toNs, apdexTMs: 500, sort: 'requests', limit: 100 })),
      ceiling: ([c]) =>
        // The same definitions as the view: span name without a route, 5xx is an error, failures are frustrated.
        raw(c!, `SELECT ServiceName, HttpMethod, HttpRoute, CASE WHEN HttpRoute = '' THEN SpanName END AS name, count(*) AS n,
            count(*) FILTER (WHERE StatusCode = 'Error' OR HttpStatusCode >= 500) AS errors,
            quantile_cont(Duration, [0.5, 0.95, 0.99]) AS q,
            count(*) FILTER (WHERE StatusCode <> 'Error' AND Duration <= 500000000) AS s,
            count(*) FILTER (WHERE StatusCode <> 'Error' AND Duration > 500000000 AND Duration <= 2000000000) AS t, sum(Duration) AS total
          FROM otel_traces WHERE ${inRange} AND SpanKind = 'Server' GROUP BY 1, 2, 3, 4 ORDER BY n DESC LIMIT 100`, [fromNs, toNs]),
    },
    {
      name: 'top DB statements, raw text (query language, 24 h)',
      goalMs: 300,
      vigil: (s) => language(s, 'from spans db.system=* | stats count, sum(duration_ms) as total by db.statement | sort -total | head 10', 10),
      ceiling: ([c]) =>
        raw(c!, `SELECT DbStatement, count(*) AS n, sum(Duration) / 1e6 AS total FROM otel_traces
          WHERE ${inRange} AND DbSystem IS NOT NULL GROUP BY 1 ORDER BY total DESC LIMIT 11`, [fromNs, toNs]),
    },
    {
      name: 'top DB statements, normalised (APM view, 24 h)',
      goalMs: 300,
      vigil: (s) => view(s, databaseQuery(duckdbDialect, { fromNs, toNs, sort: 'total_time', limit: 10 })),
      ceiling: ([c]) =>
        raw(c!, `SELECT ServiceName, ${normalizeStatementSql(duckdbDialect.views, 'DbStatement')} AS st, count(*) AS n, sum(Duration) AS total,
            quantile_cont(Duration, 0.95) AS p95 FROM otel_traces
          WHERE ${inRange} AND DbStatement <> '' GROUP BY 1, 2 ORDER BY total DESC LIMIT 10`, [fromNs, toNs]),
    },
    {
      name: 'trace by id (spans + logs)',
      goalMs: 50,
      vigil: async (s, run) => {
        const id = traceAt(run);
        const [spans, logs] = await Promise.all([view(s, traceSpansQuery(duckdbDialect, id)), view(s, traceLogsQuery(duckdbDialect, id))]);
        return spans + logs;
      },
      ceiling: async ([a, b], run) => {
        const id = traceAt(run);
        const [spans, logs] = await Promise.all([
          raw(a!, `SELECT * FROM otel_traces WHERE TraceId = $1`, [id]),
          raw(b!, `SELECT * FROM otel_logs WHERE TraceId = $1`, [id]),
        ]);
        return spans + logs;
      },
    },
    {
      name: 'trace by id with the time it was seen (UI links; ±1 h window)',
      goalMs: 50,
      vigil: async (s, run) => {
        const id = traceAt(run);
        const at = traceSeenAt.get(id) ?? 0n;
        const window = { fromNs: at - 3_600_000_000_000n, toNs: at + 3_600_000_000_000n };
        const [spans, logs] = await Promise.all([view(s, traceSpansQuery(duckdbDialect, id, window)), view(s, traceLogsQuery(duckdbDialect, id, window))]);
        return spans + logs;
      },
      ceiling: async ([a, b], run) => {
        const id = traceAt(run);
        const at = traceSeenAt.get(id) ?? 0n;
        const w = [id, at - 3_600_000_000_000n, at + 3_600_000_000_000n];
        const [spans, logs] = await Promise.all([
          raw(a!, `SELECT * FROM otel_traces WHERE TraceId = $1 AND Timestamp >= ${ts(2)} AND Timestamp < ${ts(3)}`, w),
          raw(b!, `SELECT * FROM otel_logs WHERE TraceId = $1 AND Timestamp >= ${ts(2)} AND Timestamp < ${ts(3)}`, w),
        ]);
        return spans + logs;
      },
    },
  ];
}

function fmt(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms.toFixed(1);
}

async function main(): Promise<void> {
  const { dir, cleanup } = tempDir('vigil-bench-query-');
  const path = process.env.BENCH_DB ?? join(dir, 'telemetry.duckdb');
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  const cpu = cpus();
  log(`bench:query  rows=${ROWS.toLocaleString('en')} logs + ${ROWS.toLocaleString('en')} spans, runs=${RUNS}, db=${path}`);
  log(`machine: ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, ${new Date().toISOString()}`);
  try {
    let genSeconds: number | null = null;
    if (!existsSync(path)) genSeconds = await generate(path, nowNs);
    else log('reusing existing database (BENCH_DB)');

    // The data's own time range (a reused file was generated at another "now").
    const probe = await openDuckDBStore(path);
    const bounds = await probe.query('SELECT epoch_ns(min(Timestamp)) AS lo, epoch_ns(max(Timestamp)) AS hi, count(*) AS n FROM otel_traces');
    const logCount = Number((await probe.query('SELECT count(*) AS n FROM otel_logs'))[0]?.n ?? 0);
    const fromNs = BigInt(String(bounds[0]!.lo));
    const toNs = BigInt(String(bounds[0]!.hi)) + 1n;
    // Trace ids to look up, spread over the day; not the same id twice in a row.
    const probed = await probe.query(`SELECT TraceId, epoch_ns(Timestamp) AS ns FROM otel_traces WHERE ParentSpanId = '' AND hash(TraceId) % 997 = 7 LIMIT 40`);
    const traceIds = probed.map((r) => String(r.TraceId));
    // When each trace was seen: what the UI passes as `around` when it links to a trace.
    for (const r of probed) traceSeenAt.set(String(r.TraceId), BigInt(String(r.ns)));
    const fileMb = statSync(path).size / 1e6;
    log(`store: ${logCount.toLocaleString('en')} logs, ${Number(bounds[0]!.n).toLocaleString('en')} spans, ${fileMb.toFixed(0)} MB file`);

    // BENCH_ONLY=<text> runs only the questions whose name contains it (e.g. "trace by id").
    const only = process.env.BENCH_ONLY;
    const qs = questions(fromNs, toNs, traceIds.length ? traceIds : ['0'.repeat(32)]).filter((q) => !only || q.name.includes(only));
    await probe.close();
    // One file cannot be open twice in a process, so each question runs through Vigil, then on a bare
    // connection with the store's settings (2 threads, 1 GB) right after: both see the same machine load.
    const vigil: Timing[] = [];
    const ceiling: Timing[] = [];
    let version = '';
    for (const q of qs) {
      progress(`vigil: ${q.name}`);
      const store = await openDuckDBStore(path);
      vigil.push(await time((run) => q.vigil(store, run)));
      await store.close();
      progress(`ceiling: ${q.name}`);
      const instance = await DuckDBInstance.create(path, { memory_limit: '1GB', threads: '2' });
      const conns = [await instance.connect(), await instance.connect()];
      version = String((await conns[0]!.runAndReadAll('SELECT version() AS v')).getRowObjects()[0]?.v ?? '');
      ceiling.push(await time((run) => q.ceiling(conns, run)));
      for (const c of conns) c.closeSync();
      instance.closeSync();
    }
    progress('storage per million log records', false);
    const storage = await storagePerMillion(dir, nowNs);
    progress('done', true);

    log('');
    log(`| question | goal | Vigil p50 | Vigil p95 | SQL p50 | SQL p95 | ratio p50 | rows | goal met |`);
    log(`|---|---:|---:|---:|---:|---:|---:|---:|:-:|`);
    qs.forEach((q, i) => {
      const v = vigil[i]!;
      const c = ceiling[i]!;
      const ratio = v.p50 / c.p50;
      const met = v.p50 <= q.goalMs && ratio <= 1.3 ? 'yes' : v.p50 <= q.goalMs ? 'time yes, ratio no' : 'no';
      log(`| ${q.name} | ${q.goalMs} ms | ${fmt(v.p50)} ms | ${fmt(v.p95)} ms | ${fmt(c.p50)} ms | ${fmt(c.p95)} ms | ${ratio.toFixed(2)} | ${v.rows} | ${met} |`);
    });
    log('');
    log(`storage: ${storage.mb.toFixed(1)} MB per million log records (avg body ${storage.avgBody.toFixed(0)} bytes, ${storage.rows.toLocaleString('en')} records measured alone); goal 40 MB`);
    log(`whole file: ${fileMb.toFixed(0)} MB for ${logCount.toLocaleString('en')} logs + ${Number(bounds[0]!.n).toLocaleString('en')} spans`);
    if (genSeconds !== null) log(`generation: ${genSeconds.toFixed(0)} s`);
    log(`DuckDB ${version}, p50/p95 over ${RUNS} runs after one warm-up`);
  } finally {
    if (!process.env.BENCH_DB) cleanup();
  }
}

await main();
