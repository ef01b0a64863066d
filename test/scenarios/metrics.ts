/**
 * The shop's metrics every minute: host metrics as Vigil's agent reports them (resource `service.name`
 * `vigil-agent` + `host.name`; `system.cpu.utilization` per `cpu.mode`, `system.memory.utilization` per
 * `system.memory.state`, `system.filesystem.utilization`/`usage` per mountpoint), each service process's
 * `process.cpu.utilization`/`process.memory.usage`, and orders' connection pool
 * (`db.client.connection.count` used/idle, `.max`, `.pending_requests`) — with a scenario's faults.
 */
import type { Attrs, Batch } from './otlp.ts';
import type { Timeline } from './player.ts';
import { Rng } from './random.ts';
import type { Shop } from './shop.ts';
import { DB, HOSTS, type Faults } from './world.ts';

// The SDKs' default export interval.
const STEP_MS = 60_000;
const MIN = 60_000;
/** The disk fills over this long before the fault starts (writes fail from the fault on). */
const FILL_MS = 12 * MIN;
const BASE_CPU: Record<string, number> = { 'edge-1': 0.22, 'node-a': 0.27, 'node-b': 0.31, 'node-c': 0.18 };
const PROCESS: Record<string, { cpu: number; rssMb: number }> = { 'web-frontend': { cpu: 0.06, rssMb: 210 }, orders: { cpu: 0.11, rssMb: 380 }, inventory: { cpu: 0.07, rssMb: 260 }, billing: { cpu: 0.04, rssMb: 190 } };

export class HostMetrics {
  private readonly rng: Rng;

  constructor(
    private readonly tl: Timeline,
    private readonly faults: Faults,
    seed: number,
  ) {
    this.rng = new Rng(seed * 31 + 5);
  }

  /** Points for every one-minute step in `[from, to)`. */
  collect(batch: Batch, from: number, to: number, shop: Shop): void {
    const first = Math.ceil(from / STEP_MS) * STEP_MS;
    for (let t = first; t < to; t += STEP_MS) {
      for (const host of Object.keys(HOSTS)) this.host(batch, host, t);
      for (const inst of shop.instancesAt(t)) {
        const res = shop.resource(inst, t);
        const p = PROCESS[inst.service] as { cpu: number; rssMb: number };
        const n = (x: number, sd: number) => Math.max(0, x + sd * this.rng.gauss());
        const hog = this.faults.processCpuHog && t >= this.tl.faultAt && inst.service === 'orders' && inst.host === 'node-a';
        batch.point(res, { name: 'process.cpu.utilization', unit: '1', type: 'gauge', timeMs: t, value: hog ? n(0.9, 0.02) : n(p.cpu, 0.01), attributes: {} });
        const leakMb = inst.service === 'billing' ? this.leakMb(t) : 0;
        batch.point(res, { name: 'process.memory.usage', unit: 'By', type: 'updown', timeMs: t, value: Math.round((n(p.rssMb, 6) + leakMb) * 1048576), attributes: {} });
        if (inst.service === 'orders') this.pool(batch, res, t, inst.host);
      }
    }
  }

  /** billing's leaked memory: none, then a steady climb from five minutes before the fault (~90 MB a minute). */
  private leakMb(t: number): number {
    const from = this.tl.faultAt - 5 * MIN;
    return this.faults.memoryLeak && t > from ? ((t - from) / MIN) * 90 : 0;
  }

  private host(batch: Batch, host: string, t: number): void {
    const res = { 'service.name': 'vigil-agent', 'host.name': host, 'os.type': 'linux' };
    const on = t >= this.tl.faultAt;
    const saturated = (this.faults.cpuSaturated || this.faults.processCpuHog) && on && host === 'node-a';
    const user = saturated ? 0.87 + 0.015 * this.rng.gauss() : Math.max(0.02, (BASE_CPU[host] as number) + 0.03 * this.rng.gauss());
    const system = saturated ? 0.09 : 0.05 + 0.005 * this.rng.gauss();
    const iowait = 0.01;
    const modes: [string, number][] = [['user', user], ['system', system], ['iowait', iowait], ['idle', Math.max(0, 1 - user - system - iowait)]];
    for (const [mode, v] of modes) batch.point(res, { name: 'system.cpu.utilization', unit: '1', type: 'gauge', timeMs: t, value: v, attributes: { 'cpu.mode': mode } });
    // billing's leak fills node-c's 8 GB of memory too.
    const used = 0.52 + 0.01 * this.rng.gauss() + (host === 'node-c' ? this.leakMb(t) / 8192 : 0);
    const states: [string, number][] = [['used', used], ['cached', 0.21], ['buffered', 0.03], ['free', Math.max(0, 1 - used - 0.24)]];
    for (const [state, v] of states) batch.point(res, { name: 'system.memory.utilization', unit: '1', type: 'gauge', timeMs: t, value: v, attributes: { 'system.memory.state': state } });
    for (const m of HOSTS[host]!.mounts) {
      const util = this.diskUse(host, m.mountpoint, m.used, t);
      const attrs = { 'system.device': m.device, 'system.filesystem.mountpoint': m.mountpoint, 'system.filesystem.type': 'ext4' };
      const usedBytes = Math.round(util * m.sizeBytes);
      batch.point(res, { name: 'system.filesystem.utilization', unit: '1', type: 'gauge', timeMs: t, value: util, attributes: attrs });
      batch.point(res, { name: 'system.filesystem.usage', unit: 'By', type: 'updown', timeMs: t, value: usedBytes, attributes: { ...attrs, 'system.filesystem.state': 'used' } });
      batch.point(res, { name: 'system.filesystem.usage', unit: 'By', type: 'updown', timeMs: t, value: m.sizeBytes - usedBytes, attributes: { ...attrs, 'system.filesystem.state': 'free' } });
    }
  }

  /** The inventory volume fills steadily in the 12 minutes before the fault and stays full. */
  private diskUse(host: string, mountpoint: string, base: number, t: number): number {
    const drift = base + ((t - this.tl.startMs) / MIN) * 0.0002;
    if (!(this.faults.diskFilling && host === 'node-b' && mountpoint === '/var/lib/inventory')) return drift;
    const fillFrom = this.tl.faultAt - FILL_MS;
    if (t < fillFrom) return drift;
    if (t >= this.tl.faultAt) return 0.9999;
    const start = base + ((fillFrom - this.tl.startMs) / MIN) * 0.0002;
    return start + (0.9999 - start) * ((t - fillFrom) / FILL_MS);
  }

  private pool(batch: Batch, res: Attrs, t: number, host: string): void {
    const on = t >= this.tl.faultAt;
    let used = 2 + this.rng.int(0, 3);
    let pending = 0;
    if (on && this.faults.poolExhausted) (used = DB.poolMax, (pending = this.rng.int(25, 45)));
    else if (on && this.faults.ordersDeploy?.nPlusOne) used = 6 + this.rng.int(0, 4);
    else if (on && (this.faults.cpuSaturated || this.faults.processCpuHog) && host === 'node-a') used = 9 + this.rng.int(0, 4);
    const idle = Math.max(0, Math.min(6, DB.poolMax - used));
    const pool = { 'db.client.connection.pool.name': DB.pool };
    batch.point(res, { name: 'db.client.connection.count', unit: '{connection}', type: 'updown', timeMs: t, value: used, attributes: { ...pool, 'db.client.connection.state': 'used' } });
    batch.point(res, { name: 'db.client.connection.count', unit: '{connection}', type: 'updown', timeMs: t, value: idle, attributes: { ...pool, 'db.client.connection.state': 'idle' } });
    batch.point(res, { name: 'db.client.connection.max', unit: '{connection}', type: 'updown', timeMs: t, value: DB.poolMax, attributes: pool });
    batch.point(res, { name: 'db.client.connection.pending_requests', unit: '{request}', type: 'updown', timeMs: t, value: pending, attributes: pool });
  }
}
