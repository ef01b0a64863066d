/**
 * Resource faults any service can suffer: burning CPU, leaking memory, filling its data volume. Each is bounded so
 * the demo never hurts the machine it runs on. The service also reports its volume usage, which is how the disk
 * fault becomes visible in telemetry (as plain filesystem metrics, never under the fault's name).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Meter } from '@opentelemetry/api';
import type { DemoLog } from './telemetry.ts';

const MB = 1024 * 1024;

/** Size in bytes of everything under `dir` (missing dir = 0). */
export function dirSize(dir: string): number {
  let total = 0;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    try {
      if (e.isDirectory()) total += dirSize(p);
      else if (e.isFile()) total += fs.statSync(p).size;
    } catch {
      // A file vanished between readdir and stat (SQLite journal): ignore.
    }
  }
  return total;
}

/** The process-level faults; `set` returns false for names it does not own. */
export class ProcessFaults {
  private cpuTimer: NodeJS.Timeout | undefined;
  private leakTimer: NodeJS.Timeout | undefined;
  private fillTimer: NodeJS.Timeout | undefined;
  /** Retained on purpose: this is the "leak" (an unbounded in-process cache, as real leaks often are). */
  private leaked: Buffer[] = [];
  readonly spoolDir: string;
  /** Size the volume pretends to have, so utilization means something on a big disk. */
  readonly quotaBytes = Number(process.env.DEMO_VOLUME_QUOTA_MB ?? 256) * MB;
  private readonly leakMax = Number(process.env.DEMO_MEMORY_LEAK_MAX_MB ?? 200) * MB;
  private readonly fillMax = Number(process.env.DEMO_DISK_FILL_MAX_MB ?? 200) * MB;
  private usedCache = { at: 0, bytes: 0 };

  constructor(
    meter: Meter,
    readonly volumeDir: string,
    private readonly log: DemoLog,
  ) {
    fs.mkdirSync(volumeDir, { recursive: true });
    // Spool for export files: the place that fills up, like the log/report spools of real back-office systems.
    this.spoolDir = path.join(volumeDir, 'spool');
    const mount = { 'system.filesystem.mountpoint': volumeDir, 'system.device': 'demo-volume' };
    meter.createObservableGauge('system.filesystem.usage', { unit: 'By', description: 'Data volume usage' }).addCallback((r) => {
      const used = this.usedBytes();
      r.observe(used, { ...mount, 'system.filesystem.state': 'used' });
      r.observe(Math.max(0, this.quotaBytes - used), { ...mount, 'system.filesystem.state': 'free' });
    });
    meter.createObservableGauge('system.filesystem.utilization', { unit: '1', description: 'Data volume used / size' }).addCallback((r) => {
      r.observe(Math.min(1, this.usedBytes() / this.quotaBytes), mount);
    });
  }

  /** Bytes used on the volume, cached for a second (walking the dir on every write would be wasteful). */
  usedBytes(): number {
    const now = Date.now();
    if (now - this.usedCache.at > 1000) this.usedCache = { at: now, bytes: dirSize(this.volumeDir) };
    return this.usedCache.bytes;
  }

  /** Throws ENOSPC when the volume is (nearly) full: writes of the service call this first. */
  assertWritable(): void {
    if (this.usedBytes() >= this.quotaBytes * 0.98) {
      throw Object.assign(new Error(`ENOSPC: no space left on device, write '${this.volumeDir}'`), { code: 'ENOSPC', name: 'Error' });
    }
  }

  set(name: string, on: boolean): boolean {
    switch (name) {
      case 'cpu-hog':
        on ? this.startCpu() : this.stopCpu();
        return true;
      case 'memory-leak':
        on ? this.startLeak() : this.stopLeak(true);
        return true;
      case 'disk-fill':
        on ? this.startFill() : this.stopFill(true);
        return true;
      default:
        return false;
    }
  }

  /** Operator remediations that belong to the process: clearing the spool. */
  remediate(action: string): string | null {
    if (action === 'free-disk') {
      this.stopFill(true);
      return `removed spool files under ${this.spoolDir}`;
    }
    return null;
  }

  status(): Record<string, unknown> {
    return {
      cpuBurning: Boolean(this.cpuTimer),
      leakedBytes: this.leaked.reduce((n, b) => n + b.length, 0),
      volumeUsedBytes: this.usedBytes(),
      volumeQuotaBytes: this.quotaBytes,
    };
  }

  stopAll(): void {
    this.stopCpu();
    this.stopLeak(true);
    this.stopFill(false);
  }

  // About half of one core: 10 ms busy, 10 ms idle, on the event loop (so requests feel it too, as they would).
  private startCpu(): void {
    if (this.cpuTimer) return;
    let sink = 0;
    const burn = () => {
      const until = performance.now() + 10;
      while (performance.now() < until) sink = (sink + Math.sqrt(sink + 1)) % 1e9;
      this.cpuTimer = setTimeout(burn, 10);
    };
    this.cpuTimer = setTimeout(burn, 10);
  }

  private stopCpu(): void {
    clearTimeout(this.cpuTimer);
    this.cpuTimer = undefined;
  }

  // 2 MB every 250 ms until the bound; filled buffers so the pages are really resident.
  private startLeak(): void {
    if (this.leakTimer) return;
    this.leakTimer = setInterval(() => {
      const held = this.leaked.length * 2 * MB;
      if (held + 2 * MB > this.leakMax) return;
      this.leaked.push(Buffer.alloc(2 * MB, held % 251));
    }, 250);
  }

  private stopLeak(release: boolean): void {
    clearInterval(this.leakTimer);
    this.leakTimer = undefined;
    if (release) this.leaked = [];
  }

  // 8 MB every 500 ms into the spool, up to the bound and never past the volume quota.
  private startFill(): void {
    if (this.fillTimer) return;
    fs.mkdirSync(this.spoolDir, { recursive: true });
    const chunk = Buffer.alloc(8 * MB, 0x5a);
    let n = fs.readdirSync(this.spoolDir).length;
    this.fillTimer = setInterval(() => {
      const spooled = dirSize(this.spoolDir);
      const used = dirSize(this.volumeDir);
      const room = Math.min(this.fillMax - spooled, this.quotaBytes - used);
      if (room <= 0) return;
      const size = Math.min(chunk.length, room);
      try {
        fs.writeFileSync(path.join(this.spoolDir, `export-${String(n++).padStart(5, '0')}.dat`), chunk.subarray(0, size));
      } catch (err) {
        this.log.warn(`spool write failed: ${(err as Error).message}`);
      }
    }, 500);
  }

  private stopFill(clean: boolean): void {
    clearInterval(this.fillTimer);
    this.fillTimer = undefined;
    if (clean) fs.rmSync(this.spoolDir, { recursive: true, force: true });
  }
}
