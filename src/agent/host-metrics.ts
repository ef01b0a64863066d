/**
 * Host metrics on an OpenTelemetry Meter, under the semantic-convention names the OpenTelemetry
 * Collector's `hostmetrics` receiver also uses — so a host watched by the agent and one watched by a
 * collector look the same in Vigil.
 */
import type { Meter, ObservableResult } from '@opentelemetry/api';
import { cpuUtilization, readHost, topProcesses, type HostSample } from './procfs.ts';

/** Options of {@link registerHostMetrics}. */
export interface HostMetricsOptions {
  /** Where /proc is (tests point it at fixtures). */
  proc?: string;
  /** How many top processes to report. */
  topN?: number;
  now?: () => number;
}

// Linux reports process CPU time in USER_HZ, which is 100 on every common architecture.
const CLOCK_TICKS = 100;

/** Adds the host instruments to `meter`; each collection reads /proc once. */
export function registerHostMetrics(meter: Meter, opts: HostMetricsOptions = {}): void {
  const now = opts.now ?? Date.now;
  let prev: HostSample = readHost(now(), opts.proc);
  const cpu = meter.createObservableGauge('system.cpu.utilization', { unit: '1', description: 'Share of CPU time per mode, all CPUs together' });
  const load1 = meter.createObservableGauge('system.cpu.load_average.1m', { unit: '{thread}' });
  const load5 = meter.createObservableGauge('system.cpu.load_average.5m', { unit: '{thread}' });
  const load15 = meter.createObservableGauge('system.cpu.load_average.15m', { unit: '{thread}' });
  const memUsage = meter.createObservableUpDownCounter('system.memory.usage', { unit: 'By' });
  const memUtil = meter.createObservableGauge('system.memory.utilization', { unit: '1' });
  const paging = meter.createObservableUpDownCounter('system.paging.usage', { unit: 'By' });
  const pagingUtil = meter.createObservableGauge('system.paging.utilization', { unit: '1' });
  const diskIo = meter.createObservableCounter('system.disk.io', { unit: 'By' });
  const fsUsage = meter.createObservableUpDownCounter('system.filesystem.usage', { unit: 'By' });
  const fsUtil = meter.createObservableGauge('system.filesystem.utilization', { unit: '1' });
  const netIo = meter.createObservableCounter('system.network.io', { unit: 'By' });
  const procCpu = meter.createObservableGauge('process.cpu.utilization', { unit: '1', description: 'Top processes by CPU, share of all CPUs' });
  const procMem = meter.createObservableUpDownCounter('process.memory.usage', { unit: 'By', description: 'Resident memory of the top processes' });

  meter.addBatchObservableCallback(
    (r) => {
      const cur = readHost(now(), opts.proc);
      const util = cpuUtilization(prev.cpu.total, cur.cpu.total);
      for (const [mode, v] of Object.entries(util)) r.observe(cpu, v, { 'cpu.mode': mode });
      r.observe(load1, cur.load[0]);
      r.observe(load5, cur.load[1]);
      r.observe(load15, cur.load[2]);
      const m = cur.mem;
      const mem: [string, number][] = [['used', m.used], ['free', m.free], ['buffered', m.buffered], ['cached', m.cached]];
      for (const [state, v] of mem) {
        r.observe(memUsage, v, { 'system.memory.state': state });
        if (m.total > 0) r.observe(memUtil, v / m.total, { 'system.memory.state': state });
      }
      const swapUsed = Math.max(0, m.swapTotal - m.swapFree);
      r.observe(paging, swapUsed, { 'system.paging.state': 'used' });
      r.observe(paging, m.swapFree, { 'system.paging.state': 'free' });
      if (m.swapTotal > 0) {
        r.observe(pagingUtil, swapUsed / m.swapTotal, { 'system.paging.state': 'used' });
        r.observe(pagingUtil, m.swapFree / m.swapTotal, { 'system.paging.state': 'free' });
      }
      for (const d of cur.disks) {
        r.observe(diskIo, d.read, { 'system.device': d.device, 'disk.io.direction': 'read' });
        r.observe(diskIo, d.write, { 'system.device': d.device, 'disk.io.direction': 'write' });
      }
      for (const f of cur.filesystems) {
        const attrs = { 'system.device': f.device, 'system.filesystem.mountpoint': f.mountpoint, 'system.filesystem.type': f.type };
        r.observe(fsUsage, f.used, { ...attrs, 'system.filesystem.state': 'used' });
        r.observe(fsUsage, f.free, { ...attrs, 'system.filesystem.state': 'free' });
        r.observe(fsUsage, f.reserved, { ...attrs, 'system.filesystem.state': 'reserved' });
        const total = f.used + f.free;
        if (total > 0) r.observe(fsUtil, f.used / total, attrs);
      }
      for (const n of cur.nets) {
        r.observe(netIo, n.receive, { 'network.interface.name': n.iface, 'network.io.direction': 'receive' });
        r.observe(netIo, n.transmit, { 'network.interface.name': n.iface, 'network.io.direction': 'transmit' });
      }
      for (const p of topProcesses(prev, cur, CLOCK_TICKS, opts.topN ?? 5)) {
        const attrs = { 'process.pid': p.pid, 'process.executable.name': p.name };
        r.observe(procCpu, p.utilization, attrs);
        r.observe(procMem, p.rssBytes, attrs);
      }
      prev = cur;
    },
    [cpu, load1, load5, load15, memUsage, memUtil, paging, pagingUtil, diskIo, fsUsage, fsUtil, netIo, procCpu, procMem],
  );
}

/** Shape of the observe callback, re-exported for tests that drive it by hand. */
export type { ObservableResult };
