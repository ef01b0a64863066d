/**
 * `npm run bench:demo`: CPU share and resident memory of Vigil plus the demo systems and traffic at
 * the default rate — the whole process tree of `vigil start` — sampled from /proc after a warm-up.
 * Environment: BENCH_WARMUP (s, default 30), BENCH_SECONDS (s, default 60).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { spawnVigil, tempDir } from '../test/helpers/vigil.ts';

const WARMUP = Number(process.env.BENCH_WARMUP ?? 30);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const TICKS = 100; // USER_HZ on Linux

function children(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

function tree(pid: number): number[] {
  return [pid, ...children(pid).flatMap(tree)];
}

function sample(pids: number[]): { cpuSeconds: number; rssMb: number; perProcess: { pid: number; name: string; rssMb: number }[] } {
  let ticks = 0;
  let rss = 0;
  const perProcess: { pid: number; name: string; rssMb: number }[] = [];
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
      const kb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
      rss += kb;
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      perProcess.push({ pid, name: cmd.find((a) => /demo\/|vigil\.js/.test(a))?.replace(/^.*\/work\/[^/]+\//, '') ?? cmd.join(' ').slice(0, 40), rssMb: kb / 1024 });
    } catch {
      // exited meanwhile
    }
  }
  return { cpuSeconds: ticks / TICKS, rssMb: rss / 1024, perProcess };
}

const { dir, cleanup } = tempDir('vigil-bench-demo-');
const vigil = await spawnVigil(['start', '--data-dir', dir, '--port', '0', '--otlp-port', '0', '--hec-port', '0'], { VIGIL_DEMO__ENABLED: 'true', VIGIL_DEMO__ADMIN_PORT: '0' });
try {
  console.log(`bench:demo — ${new Date().toISOString()} — ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`);
  console.log(`warming up ${WARMUP} s (seeding the demo databases on first run), then sampling ${SECONDS} s`);
  await new Promise((r) => setTimeout(r, WARMUP * 1000));
  const start = sample(tree(vigil.proc.pid!));
  const t0 = performance.now();
  let peakRss = 0;
  for (let i = 0; i < SECONDS; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    peakRss = Math.max(peakRss, sample(tree(vigil.proc.pid!)).rssMb);
  }
  const end = sample(tree(vigil.proc.pid!));
  const wall = (performance.now() - t0) / 1000;
  console.log('');
  console.log(`CPU: ${((end.cpuSeconds - start.cpuSeconds) / wall).toFixed(3)} cores (goal < 0.5)`);
  console.log(`RSS: ${end.rssMb.toFixed(0)} MB now, ${peakRss.toFixed(0)} MB peak (goal < 1024)`);
  for (const p of end.perProcess.sort((a, b) => b.rssMb - a.rssMb)) console.log(`  ${p.rssMb.toFixed(0).padStart(5)} MB  ${p.name}`);
} finally {
  vigil.proc.kill('SIGTERM');
  await vigil.exited;
  cleanup();
}
