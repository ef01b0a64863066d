/**
 * `npm run bench:monitors`: 1,000 HTTP monitors at a 30 s interval against a local target (a separate
 * process, so its CPU is not counted) for BENCH_SECONDS (default 120) after a warm-up of one interval.
 * Reports Vigil's CPU share of one core, the RSS the monitors added, the scheduling delay p50/p99/max
 * and the storage one monitor-day takes (telemetry rows and bytes, state-store rollups).
 * A second phase measures storage at scale (a two-minute run appends too few rows for DuckDB's
 * compression to show): one full day of check rows for BENCH_STORAGE_MONITORS monitors (default 50)
 * written through the pipeline, and 90 days of rollups for them in the state store.
 * Environment: BENCH_MONITORS (default 1000), BENCH_INTERVAL (default 30s), BENCH_SECONDS (default 120).
 */
import { spawn } from 'node:child_process';
import { sql } from 'kysely';
import { statSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/config.ts';
import { startVigil } from '../src/server/app.ts';
import { monitorSpecSchema } from '../src/monitors/spec.ts';
import { checkMetrics } from '../src/monitors/telemetry.ts';
import { DAY_MS, HOUR_MS } from '../src/monitors/uptime.ts';
import { tempDir } from '../test/helpers/vigil.ts';

const MONITORS = Number(process.env.BENCH_MONITORS ?? 1000);
const INTERVAL = process.env.BENCH_INTERVAL ?? '30s';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 120);
const intervalMs = Number(/^(\d+)s$/.exec(INTERVAL)?.[1] ?? 30) * 1000;

const log = (msg: string) => process.stdout.write(`[bench:monitors] ${msg}\n`);
const size = (path: string) => {
  let n = 0;
  for (const p of [path, `${path}-wal`, `${path}.wal`]) {
    try {
      n += statSync(p).size;
    } catch {
      // no such file
    }
  }
  return n;
};
const mb = (b: number) => Math.round((b / 1024 / 1024) * 10) / 10;

// The target: a plain HTTP server in its own process.
const target = spawn(process.execPath, ['-e', "require('http').createServer((q,r)=>{r.setHeader('content-type','application/json');r.end('{\"status\":\"ok\"}')}).listen(0,'127.0.0.1',function(){console.log(this.address().port)})"], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise<number>((resolve) => target.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));

const { dir, cleanup } = tempDir('vigil-bench-monitors-');
const config = loadConfig({ env: {}, flags: { dataDir: dir, port: 0, otlpPort: 0, hecPort: 0, logLevel: 'warn', demo: { enabled: false }, agent: { selfMonitor: false } } });
const server = await startVigil(config);
const { monitoring } = server;
await new Promise((r) => setTimeout(r, 3000));
global.gc?.();
const rssBefore = process.memoryUsage().rss;
log(`Vigil started; RSS ${mb(rssBefore)} MB; creating ${MONITORS} HTTP monitors every ${INTERVAL} against 127.0.0.1:${port}`);

for (let i = 0; i < MONITORS; i++) {
  const spec = monitorSpecSchema.parse({
    id: `bench-${i}`,
    name: `Bench monitor ${i}`,
    system: i % 2 ? 'rms' : 'lms',
    type: 'http',
    url: `http://127.0.0.1:${port}/health?m=${i}`,
    interval: INTERVAL,
    timeout: '10s',
    expect: { status: [200], json: [{ path: 'status', equals: 'ok' }] },
  });
  await monitoring.store.upsert(spec, 'api', null);
}
await monitoring.scheduler.reload();
log(`warm-up: one interval (${intervalMs / 1000} s) so every monitor has run`);
await new Promise((r) => setTimeout(r, intervalMs + 2000));

monitoring.scheduler.resetStats();
await server.store.compact();
const paths = { telemetry: join(dir, 'telemetry.duckdb'), state: join(dir, 'state.sqlite') };
const countRows = async () => Number((await server.store.query(`SELECT count(*) AS n FROM otel_metrics_gauge WHERE ServiceName = 'vigil-monitors'`))[0]?.n ?? 0);
const start = { cpu: process.cpuUsage(), at: performance.now(), checks: monitoring.scheduler.stats().checks, rows: await countRows(), telemetry: size(paths.telemetry), state: size(paths.state) };
let rssMax = 0;
const rssTimer = setInterval(() => (rssMax = Math.max(rssMax, process.memoryUsage().rss)), 1000);
for (let t = 0; t < SECONDS; t += 30) {
  await new Promise((r) => setTimeout(r, Math.min(30, SECONDS - t) * 1000));
  const s = monitoring.scheduler.stats();
  log(`${Math.min(SECONDS, t + 30)} s: ${s.checks - start.checks} checks, delay p99 ${s.delayP99Ms} ms, RSS ${mb(process.memoryUsage().rss)} MB`);
}
clearInterval(rssTimer);
const cpu = process.cpuUsage(start.cpu);
const elapsed = (performance.now() - start.at) / 1000;
const stats = monitoring.scheduler.stats();
await monitoring.scheduler.flushTelemetry();
await monitoring.scheduler.flushState();
await server.store.compact();
const rows = (await countRows()) - start.rows;
const checks = stats.checks - start.checks;
const monitorDays = (MONITORS * elapsed) / 86_400;
const telemetryBytes = size(paths.telemetry) - start.telemetry;
const rollupRows = Number((await server.state.selectFrom('monitor_rollups').select((eb) => eb.fn.countAll().as('n')).executeTakeFirst())?.n ?? 0);

const result = {
  machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${mb(totalmem()) / 1024 > 1 ? Math.round(totalmem() / 2 ** 30) : 0} GB RAM, Node ${process.version}`,
  date: new Date().toISOString().slice(0, 10),
  monitors: MONITORS,
  interval: INTERVAL,
  seconds: Math.round(elapsed),
  checks,
  checksPerSecond: Math.round((checks / elapsed) * 10) / 10,
  cpuShareOfOneCore: Math.round(((cpu.user + cpu.system) / 1e6 / elapsed) * 1000) / 10,
  rssAddedMb: mb(Math.max(rssMax, process.memoryUsage().rss) - rssBefore),
  delayP50Ms: stats.delayP50Ms,
  delayP99Ms: stats.delayP99Ms,
  delayMaxMs: stats.delayMaxMs,
  telemetryRowsPerCheck: Math.round((rows / Math.max(1, checks)) * 10) / 10,
  telemetryRowsPerMonitorDay: Math.round(rows / monitorDays),
  telemetryBytesPerMonitorDay: Math.round(telemetryBytes / monitorDays),
  rollupRowsPerMonitorDay: 25,
  rollupRowsNow: rollupRows,
};
log(JSON.stringify(result, null, 2));

// Storage at scale: a day of results for STORAGE_MONITORS monitors, built by the scheduler's own row builder.
const STORAGE_MONITORS = Number(process.env.BENCH_STORAGE_MONITORS ?? 50);
log(`storage phase: one day of ${intervalMs / 1000}-second checks for ${STORAGE_MONITORS} monitors, and 90 days of rollups`);
await monitoring.stop();
await server.store.compact();
await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(server.state);
const before = { telemetry: size(paths.telemetry), state: size(paths.state) };
const day0 = Date.now() - DAY_MS;
let written = 0;
let batch: ReturnType<typeof checkMetrics> = [];
for (let m = 0; m < STORAGE_MONITORS; m++) {
  const spec = monitorSpecSchema.parse({ id: `storage-${m}`, name: `Storage monitor ${m}`, system: 'lms', type: 'http', url: 'http://127.0.0.1/' });
  for (let t = day0; t < day0 + DAY_MS; t += intervalMs) {
    const ms = 5 + Math.random() * 20;
    batch.push(...checkMetrics(spec, { ok: true, status: 'up', latencyMs: Math.round(ms * 10) / 10, phases: { dnsMs: null, connectMs: 0.4, tlsMs: null, firstByteMs: Math.round(ms * 8) / 10 }, details: {} }, new Date(t)));
    if (batch.length >= 20_000) {
      await server.pipeline.submit({ logs: [], spans: [], metrics: batch });
      written += batch.length;
      batch = [];
    }
  }
}
await server.pipeline.submit({ logs: [], spans: [], metrics: batch });
written += batch.length;
await server.store.compact();
const telemetryPerMonitorDay = (size(paths.telemetry) - before.telemetry) / STORAGE_MONITORS;
const increments = [];
for (let m = 0; m < STORAGE_MONITORS; m++) {
  for (let h = 0; h < 8 * 24; h++) increments.push({ monitorId: `storage-${m}`, bucket: 'hour' as const, start: Math.floor((Date.now() - h * HOUR_MS) / HOUR_MS) * HOUR_MS, checks: 120, up: 119, down: 1, degraded: 0, latencySum: 1800.5, latencyMax: 40.2 });
  for (let d = 0; d < 90; d++) increments.push({ monitorId: `storage-${m}`, bucket: 'day' as const, start: Math.floor((Date.now() - d * DAY_MS) / DAY_MS) * DAY_MS, checks: 2880, up: 2870, down: 10, degraded: 0, latencySum: 43210.5, latencyMax: 80.1 });
}
await monitoring.store.flush([], increments);
await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(server.state);
const stateBytes = size(paths.state) - before.state;
log(JSON.stringify({
  storageMonitors: STORAGE_MONITORS,
  telemetryRowsPerMonitorDay: Math.round(written / STORAGE_MONITORS),
  telemetryBytesPerMonitorDay: Math.round(telemetryPerMonitorDay),
  telemetryBytesPerRow: Math.round((telemetryPerMonitorDay * STORAGE_MONITORS) / written * 10) / 10,
  stateBytesFor90DaysPerMonitor: Math.round(stateBytes / STORAGE_MONITORS),
  stateMbFor1000MonitorsAnd90Days: mb((stateBytes / STORAGE_MONITORS) * 1000),
}, null, 2));
await server.stop();
target.kill();
cleanup();
