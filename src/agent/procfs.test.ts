import { describe, expect, it } from 'vitest';
import { cpuUtilization, parseDiskstats, parseLoadavg, parseMeminfo, parseMounts, parseNetDev, parseProcStat, parseStat, topProcesses, type HostSample } from './procfs.ts';

describe('/proc parsers', () => {
  it('reads CPU times and utilization per mode', () => {
    const a = parseStat('cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 50 0 25 400 25 0 0 0 0 0\ncpu1 50 0 25 400 25 0 0 0 0 0\nintr 1\n');
    const b = parseStat('cpu  160 0 70 900 70 0 0 0 0 0\n');
    expect(a.cpus).toBe(2);
    const u = cpuUtilization(a.total, b.total);
    expect(u).toMatchObject({ user: 0.3, system: 0.1, idle: 0.5, iowait: 0.1 });
  });

  it('reads memory and swap like hostmetrics (used = total − free − buffers − cache)', () => {
    const m = parseMeminfo('MemTotal:       1000 kB\nMemFree:         200 kB\nBuffers:          50 kB\nCached:          250 kB\nSReclaimable:     50 kB\nSwapTotal:       400 kB\nSwapFree:        300 kB\n');
    expect(m).toEqual({ total: 1024000, free: 204800, buffered: 51200, cached: 307200, used: 460800, swapTotal: 409600, swapFree: 307200 });
  });

  it('reads load, disks (whole disks only), network and mounts', () => {
    expect(parseLoadavg('0.52 0.40 0.31 2/345 6789\n')).toEqual([0.52, 0.4, 0.31]);
    const disks = parseDiskstats('   8       0 sda 100 0 2000 0 50 0 4000 0 0 0 0\n   8       1 sda1 1 0 8 0 1 0 8 0 0 0 0\n   7       0 loop0 1 0 2 0 0 0 0 0 0 0 0\n 259 0 nvme0n1 1 0 10 0 1 0 20 0 0 0 0\n');
    expect(disks).toEqual([
      { device: 'sda', read: 2000 * 512, write: 4000 * 512 },
      { device: 'nvme0n1', read: 10 * 512, write: 20 * 512 },
    ]);
    const nets = parseNetDev('Inter-|   Receive |  Transmit\n face |bytes packets|bytes\n    lo: 1000 10 0 0 0 0 0 0 1000 10 0 0 0 0 0 0\n  eth0: 5000 50 0 0 0 0 0 0 7000 70 0 0 0 0 0 0\n');
    expect(nets).toEqual([
      { iface: 'lo', receive: 1000, transmit: 1000 },
      { iface: 'eth0', receive: 5000, transmit: 7000 },
    ]);
    expect(parseMounts('/dev/sda1 / ext4 rw 0 0\nproc /proc proc rw 0 0\n/dev/sdb1 /mnt/my\\040disk xfs rw 0 0\n')).toEqual([
      { device: '/dev/sda1', mountpoint: '/', type: 'ext4' },
      { device: '/dev/sdb1', mountpoint: '/mnt/my disk', type: 'xfs' },
    ]);
  });

  it('reads process stats with odd names and ranks the top processes by CPU', () => {
    const stat = (ticks: number) => `42 (my (odd) name) S 1 42 42 0 -1 4194560 100 0 0 0 ${ticks} 0 0 0 20 0 1 0 100 1000000 250 18446744073709551615`;
    expect(parseProcStat(stat(30))).toEqual({ name: 'my (odd) name', ticks: 30, rssPages: 250 });
    const sample = (at: number, procs: [number, string, number][]): HostSample => ({
      at, cpu: { total: parseStat('cpu 0 0 0 0\n').total, cpus: 2 }, mem: parseMeminfo(''), load: [0, 0, 0], disks: [], nets: [], filesystems: [],
      processes: new Map(procs.map(([pid, name, ticks]) => [pid, { name, ticks, rssPages: 10 }])),
    });
    const top = topProcesses(sample(0, [[1, 'a', 0], [2, 'b', 0], [3, 'c', 0]]), sample(10_000, [[1, 'a', 500], [2, 'b', 1000], [3, 'c', 10], [4, 'new', 50]]), 100, 2);
    // b used 10 s of CPU in 10 s on 2 CPUs: half the machine.
    expect(top).toEqual([
      { pid: 2, name: 'b', utilization: 0.5, rssBytes: 40960 },
      { pid: 1, name: 'a', utilization: 0.25, rssBytes: 40960 },
    ]);
  });
});
