/**
 * `npm run bench:monitors`: 1,000 HTTP monitors at a 30 s interval against a local target (a separate
 * process, so its CPU is not counted) for BENCH_SECONDS (default 120) after a warm-up of one interval.
 * Reports Vigil's CPU share of one core, the RSS the monitors added, the scheduling delay p50/p99/max
 * and the storage one monitor-day takes (telemetry rows and bytes, state-store rollups).
 * Environment: BENCH_MONITORS (default 1000), BENCH_INTERVAL (default 30s), BENCH_SECONDS (default 120).
 */
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/config.ts';
import { startVigil } from '../src/server/app.ts';
import { monitorSpecSchema } from '../src/monitors/spec.ts';
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
await server.stop();
target.kill();
cleanup();
