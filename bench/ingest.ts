/**
 * `npm run bench:ingest`: sustained OTLP/HTTP protobuf ingest of logs and spans into a Vigil child
 * process from a separate load process, beside the ceiling measured in the same run — the same
 * rows appended straight into DuckDB through the appender — and the ratio between the two.
 * Environment: BENCH_SECONDS (default 20), BENCH_BATCH (1000), BENCH_CONCURRENCY (6).
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { decodeOtlp } from '../src/ingest/otlp/decode.ts';
import { promoteBatch } from '../src/ingest/promote.ts';
import { appendColumns, logColumnValues, spanColumnValues } from '../src/store/telemetry/duckdb.ts';
import { TELEMETRY_DDL } from '../src/store/telemetry/schema.ts';
import { makeBody } from './ingest-data.ts';
import { runVigil, spawnVigil, tempDir } from '../test/helpers/vigil.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const BATCH = Number(process.env.BENCH_BATCH ?? 1000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 6);
const ROOT = new URL('../', import.meta.url).pathname;

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

interface LoadResult {
  signal: string;
  records: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  refused: number;
  errors: number;
}

function runLoad(url: string, token: string, signal: 'logs' | 'traces'): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/ingest-load.ts'), url, token, signal, String(SECONDS), String(BATCH), String(CONCURRENCY)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!) as LoadResult) : reject(new Error(`load process exited ${code}`))));
  });
}

/**
 * The ceiling: the same rows, already materialised as DuckDB values, appended in data chunks and
 * committed in groups as the server does — no HTTP, no protobuf decoding, no JSON serialisation.
 */
async function appenderCeiling(signal: 'logs' | 'traces', dir: string): Promise<number> {
  const groups = Array.from({ length: 40 }, (_, i) => {
    const batch = decodeOtlp(signal, makeBody(signal, BATCH, i), 'protobuf').batch;
    // The same finished rows the store receives: hot attributes promoted, statements normalised.
    promoteBatch(batch);
    return signal === 'logs' ? logColumnValues(batch.logs) : spanColumnValues(batch.spans);
  });
  const instance = await DuckDBInstance.create(join(dir, `ceiling-${signal}.duckdb`));
  const connection = await instance.connect();
  for (const ddl of TELEMETRY_DDL) await connection.run(ddl);
  const appender = await connection.createAppender(signal === 'logs' ? 'otel_logs' : 'otel_traces');
  const types = Array.from({ length: appender.columnCount }, (_, i) => appender.columnType(i));
  // One commit per CONCURRENCY requests' rows, like a group commit under load; merged before timing.
  const merged = Array.from({ length: Math.floor(groups.length / CONCURRENCY) }, (_, i) =>
    groups[0]!.map((_, c) => groups.slice(i * CONCURRENCY, (i + 1) * CONCURRENCY).flatMap((g) => g[c]!)),
  );
  const deadline = performance.now() + Math.min(SECONDS, 10) * 1000;
  const started = performance.now();
  let written = 0;
  for (let i = 0; performance.now() < deadline; i++) {
    const columns = merged[i % merged.length]!;
    appendColumns(appender, types, columns);
    written += columns[0]!.length;
  }
  const rate = written / ((performance.now() - started) / 1000);
  appender.closeSync();
  connection.closeSync();
  instance.closeSync();
  return rate;
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

const { dir, cleanup } = tempDir('vigil-bench-');
try {
  log(`bench:ingest — ${new Date().toISOString()} — ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`);
  log(`batches of ${BATCH}, ${CONCURRENCY} concurrent senders, ${SECONDS} s per signal`);
  const created = await runVigil(['token', 'create', '--name', 'bench', '--scope', 'ingest', '--data-dir', dir]);
  const token = created.stdout.trim().split('\n').pop()!;
  const vigil = await spawnVigil(['start', '--data-dir', dir, '--port', '0', '--otlp-port', '0', '--hec-port', '0']);
  const results: { signal: 'logs' | 'traces'; load: LoadResult; ceiling: number }[] = [];
  try {
    for (const signal of ['logs', 'traces'] as const) {
      log(`… ${signal}: sending for ${SECONDS} s`);
      const load = await runLoad(vigil.urls.otlp, token, signal);
      log(`… ${signal}: measuring the raw appender ceiling`);
      const ceiling = await appenderCeiling(signal, dir);
      results.push({ signal, load, ceiling });
    }
  } finally {
    const rss = peakRssMb(vigil.proc.pid!);
    vigil.proc.kill('SIGTERM');
    await vigil.exited;
    log('');
    log('signal  records/s   ack p50   ack p99   refused  errors  raw appender/s  ratio');
    for (const r of results) {
      log(
        `${r.signal.padEnd(7)} ${Math.round(r.load.perSecond).toString().padStart(9)}  ${r.load.p50.toFixed(1).padStart(6)} ms ${r.load.p99.toFixed(1).padStart(6)} ms  ${String(r.load.refused).padStart(7)}  ${String(r.load.errors).padStart(6)}  ${Math.round(r.ceiling).toString().padStart(14)}  ${(r.load.perSecond / r.ceiling).toFixed(2)}`,
      );
    }
    log(`server peak RSS: ${rss.toFixed(0)} MB`);
    const size = execFileSync('du', ['-sm', join(dir, 'telemetry.duckdb')]).toString().split('\t')[0];
    log(`telemetry store on disk: ${size} MB`);
  }
} finally {
  cleanup();
}
