/**
 * Readers of Linux /proc (and statfs) for host metrics. The parsers are pure (text in, numbers out)
 * and tested with fixtures; `readHost` does the I/O.
 */
import { readdirSync, readFileSync, statfsSync } from 'node:fs';

/** CPU time per mode, in clock ticks, summed over all CPUs. */
export type CpuTimes = Record<'user' | 'nice' | 'system' | 'idle' | 'iowait' | 'irq' | 'softirq' | 'steal', number>;

/** The aggregate `cpu` line of /proc/stat and the number of CPUs. */
export function parseStat(text: string): { total: CpuTimes; cpus: number } {
  const lines = text.split('\n');
  const agg = lines.find((l) => l.startsWith('cpu '));
  const n = (agg ?? '').trim().split(/\s+/).slice(1).map(Number);
  const cpus = lines.filter((l) => /^cpu\d+ /.test(l)).length;
  return {
    total: { user: n[0] ?? 0, nice: n[1] ?? 0, system: n[2] ?? 0, idle: n[3] ?? 0, iowait: n[4] ?? 0, irq: n[5] ?? 0, softirq: n[6] ?? 0, steal: n[7] ?? 0 },
    cpus: Math.max(1, cpus),
  };
}

/** Share of time per mode between two samples (0..1 each, summing to 1). */
export function cpuUtilization(prev: CpuTimes, cur: CpuTimes): CpuTimes {
  const keys = Object.keys(cur) as (keyof CpuTimes)[];
  const delta = Object.fromEntries(keys.map((k) => [k, Math.max(0, cur[k] - prev[k])])) as CpuTimes;
  const total = keys.reduce((s, k) => s + delta[k], 0);
  return Object.fromEntries(keys.map((k) => [k, total > 0 ? delta[k] / total : 0])) as CpuTimes;
}

/** Memory and swap in bytes, from /proc/meminfo. */
export interface MemInfo {
  total: number;
  free: number;
  buffered: number;
  cached: number;
  used: number;
  swapTotal: number;
  swapFree: number;
}

/** Parses /proc/meminfo (kB values). "used" is what hostmetrics calls used: total − free − buffers − cache. */
export function parseMeminfo(text: string): MemInfo {
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0) * 1024;
  const total = kb('MemTotal');
  const free = kb('MemFree');
  const buffered = kb('Buffers');
  const cached = kb('Cached') + kb('SReclaimable');
  return { total, free, buffered, cached, used: Math.max(0, total - free - buffered - cached), swapTotal: kb('SwapTotal'), swapFree: kb('SwapFree') };
}

/** Load averages from /proc/loadavg. */
export function parseLoadavg(text: string): [number, number, number] {
  const [a, b, c] = text.trim().split(/\s+/).map(Number);
  return [a ?? 0, b ?? 0, c ?? 0];
}

/** Bytes read and written per whole disk (partitions, loop and ram devices skipped), from /proc/diskstats. */
export function parseDiskstats(text: string): { device: string; read: number; write: number }[] {
  const out: { device: string; read: number; write: number }[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    const device = f[2];
    if (!device || /^(loop|ram|zram|dm-)/.test(device) || /^(sd[a-z]+|vd[a-z]+|xvd[a-z]+|hd[a-z]+)\d+$/.test(device) || /^nvme\d+n\d+p\d+$/.test(device)) continue;
    // Fields 6 and 10 are sectors read and written; a sector is 512 bytes here whatever the device.
    out.push({ device, read: Number(f[5] ?? 0) * 512, write: Number(f[9] ?? 0) * 512 });
  }
  return out;
}

/** Bytes received and transmitted per interface, from /proc/net/dev. */
export function parseNetDev(text: string): { iface: string; receive: number; transmit: number }[] {
  const out: { iface: string; receive: number; transmit: number }[] = [];
  for (const line of text.split('\n').slice(2)) {
    const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const f = m[2]!.trim().split(/\s+/).map(Number);
    out.push({ iface: m[1]!.trim(), receive: f[0] ?? 0, transmit: f[8] ?? 0 });
  }
  return out;
}

const PSEUDO_FS = new Set(['proc', 'sysfs', 'devtmpfs', 'devpts', 'cgroup', 'cgroup2', 'securityfs', 'pstore', 'debugfs', 'tracefs', 'mqueue', 'hugetlbfs', 'configfs', 'fusectl', 'bpf', 'autofs', 'binfmt_misc', 'nsfs', 'rpc_pipefs', 'squashfs', 'overlay', 'ramfs']);

/** Real file systems from /proc/mounts (pseudo file systems skipped, each mount point once). */
export function parseMounts(text: string): { device: string; mountpoint: string; type: string }[] {
  const seen = new Set<string>();
  const out: { device: string; mountpoint: string; type: string }[] = [];
  for (const line of text.split('\n')) {
    const [device, mountpoint, type] = line.split(' ');
    if (!device || !mountpoint || !type || PSEUDO_FS.has(type) || seen.has(mountpoint)) continue;
    seen.add(mountpoint);
    // /proc/mounts escapes spaces and tabs as octal.
    out.push({ device, mountpoint: mountpoint.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))), type });
  }
  return out;
}

/** A process's name and CPU ticks from /proc/<pid>/stat (the name may hold spaces and parentheses). */
export function parseProcStat(text: string): { name: string; ticks: number; rssPages: number } | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < 0) return undefined;
  const f = text.slice(close + 2).split(' ');
  // After the name: state is field 3, utime 14, stime 15, rss 24 (1-based in proc(5)).
  return { name: text.slice(open + 1, close), ticks: Number(f[11] ?? 0) + Number(f[12] ?? 0), rssPages: Number(f[21] ?? 0) };
}

/** One raw sample of the host. */
export interface HostSample {
  at: number;
  cpu: { total: CpuTimes; cpus: number };
  mem: MemInfo;
  load: [number, number, number];
  disks: { device: string; read: number; write: number }[];
  nets: { iface: string; receive: number; transmit: number }[];
  filesystems: { device: string; mountpoint: string; type: string; used: number; free: number; reserved: number }[];
  processes: Map<number, { name: string; ticks: number; rssPages: number }>;
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Reads /proc and statfs now. */
export function readHost(now: number, proc = '/proc'): HostSample {
  const filesystems: HostSample['filesystems'] = [];
  for (const m of parseMounts(read(`${proc}/mounts`))) {
    try {
      const s = statfsSync(m.mountpoint);
      const free = s.bavail * s.bsize;
      const reserved = (s.bfree - s.bavail) * s.bsize;
      filesystems.push({ ...m, used: (s.blocks - s.bfree) * s.bsize, free, reserved });
    } catch {
      // Unreadable mount (permissions, stale network mount): skip it this round.
    }
  }
  const processes = new Map<number, { name: string; ticks: number; rssPages: number }>();
  let pids: string[] = [];
  try {
    pids = readdirSync(proc).filter((d) => /^\d+$/.test(d));
  } catch {
    pids = [];
  }
  for (const pid of pids) {
    const p = parseProcStat(read(`${proc}/${pid}/stat`));
    if (p) processes.set(Number(pid), p);
  }
  return {
    at: now,
    cpu: parseStat(read(`${proc}/stat`)),
    mem: parseMeminfo(read(`${proc}/meminfo`)),
    load: parseLoadavg(read(`${proc}/loadavg`) || '0 0 0'),
    disks: parseDiskstats(read(`${proc}/diskstats`)),
    nets: parseNetDev(read(`${proc}/net/dev`)),
    filesystems,
    processes,
  };
}

/** The processes using the most CPU between two samples, as a share of all CPUs (0..1). */
export function topProcesses(prev: HostSample, cur: HostSample, clockTicks: number, n: number): { pid: number; name: string; utilization: number; rssBytes: number }[] {
  const seconds = (cur.at - prev.at) / 1000;
  if (seconds <= 0) return [];
  const out: { pid: number; name: string; utilization: number; rssBytes: number }[] = [];
  for (const [pid, p] of cur.processes) {
    const before = prev.processes.get(pid);
    if (!before || before.name !== p.name) continue;
    out.push({ pid, name: p.name, utilization: Math.max(0, p.ticks - before.ticks) / clockTicks / seconds / cur.cpu.cpus, rssBytes: p.rssPages * 4096 });
  }
  return out.sort((a, b) => b.utilization - a.utilization).slice(0, n);
}
