/**
 * The `resources` detector: saturated CPU, memory and disk of the hosts the incident's services run on
 * (their spans' `host.name`), and process CPU and memory of those services, incident window against
 * baseline. Findings:
 *
 * - host CPU ≥ 85% or memory ≥ 90% sustained in the window (not already so in the baseline);
 * - a filesystem ≥ 90% full, or filling fast (projected full within hours at the window's slope);
 * - a process using +0.3 cores more than in the baseline, or its memory up 50% or climbing steadily.
 *
 * With several hosts serving one service the evidence names the saturated one and says the others stay
 * normal. A resource that saturated well after the onset is more likely a consequence: it weighs less.
 */
import { metricLink } from '../links.ts';
import { clamp, fmtClock, fmtPct, firstSustained, median, ns, num, quantile, round } from '../stats.ts';
import { downstreamOf } from '../topology.ts';
import type { Detector, DetectorContext, Evidence, TimeWindow } from '../types.ts';
import { possessive } from './wording.ts';
import { filesystemHosts, hostCpu, hostFilesystems, hostMemory, processSeries, readSeries, type Series } from './resource-series.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
/** Most hosts whose filesystems are read one by one. */
const MAX_HOSTS = 20;
/** A resource saturating this long after the onset is read as a consequence. */
const LATE_MS = 5 * MIN;

/** Host CPU busy share counted as saturated. */
export const CPU_SATURATED = 0.85;
/** Host memory used share counted as saturated. */
export const MEMORY_SATURATED = 0.9;
/** Filesystem used share counted as (nearly) full. */
export const DISK_FULL = 0.9;
/** A filesystem projected full within this long is filling fast. */
export const DISK_FILL_HORIZON_MS = 6 * HOUR;

/** A series cut at the window's start: baseline values and window points. */
interface Split {
  base: number[];
  win: { t: number; v: number }[];
}

function split(s: Series, window: TimeWindow): Split {
  const pts = s.points.filter((p): p is { t: number; v: number } => p.v !== null);
  return { base: pts.filter((p) => p.t < window.fromMs).map((p) => p.v), win: pts.filter((p) => p.t >= window.fromMs && p.t < window.toMs) };
}

/** A judged resource: how strong, when it began, and the figures behind it. */
export interface Judgement {
  score: number;
  onsetMs: number | null;
  figures: Record<string, number | string | null>;
  /** Baseline was already there: a standing condition, reported weakly. */
  chronic: boolean;
}

/**
 * A utilization series against a saturation threshold: saturated when it stays at or above it from some
 * minute of the window on (three minutes running, or to the end) for most of the rest of the window.
 */
export function judgeSaturation(s: Series, window: TimeWindow, threshold: number): Judgement | null {
  const { base, win } = split(s, window);
  if (win.length < 2) return null;
  const onset = firstSustained(win, (v) => v >= threshold, window.fromMs, 3);
  if (onset === null) return null;
  const after = win.filter((p) => p.t >= onset);
  const above = after.filter((p) => p.v >= threshold).length / after.length;
  if (above < 0.6) return null;
  const baseMed = median(base);
  const peak = quantile(after.map((p) => p.v), 0.9) ?? threshold;
  const chronic = baseMed !== null && baseMed >= threshold;
  const severity = clamp((peak - threshold) / (1 - threshold));
  const duration = clamp(after.length / 5);
  const score = chronic ? 0.25 : (0.5 + 0.4 * severity) * (0.7 + 0.3 * duration);
  return { score, onsetMs: onset, chronic, figures: { baseline_median: baseMed === null ? null : round(baseMed, 3), window_p90: round(peak, 3), minutes_saturated: after.length, threshold, chronic: chronic ? 'yes' : 'no' } };
}

/** Least-squares slope of the points, per millisecond. */
function slope(pts: { t: number; v: number }[]): number {
  if (pts.length < 2) return 0;
  const mt = pts.reduce((a, p) => a + p.t, 0) / pts.length;
  const mv = pts.reduce((a, p) => a + p.v, 0) / pts.length;
  let num_ = 0;
  let den = 0;
  for (const p of pts) (num_ += (p.t - mt) * (p.v - mv)), (den += (p.t - mt) ** 2);
  return den > 0 ? num_ / den : 0;
}

/** A filesystem's used share: full (≥ 90%, not already in the baseline) or filling fast enough to be full within hours. */
export function judgeDisk(s: Series, window: TimeWindow): Judgement | null {
  const { base, win } = split(s, window);
  if (win.length < 3) return null;
  const last = win[win.length - 1]!.v;
  const perMs = slope(win);
  const hoursToFull = perMs > 0 ? (1 - last) / perMs / HOUR : null;
  const fillingFast = hoursToFull !== null && hoursToFull * HOUR <= DISK_FILL_HORIZON_MS && (win[win.length - 1]!.v - win[0]!.v) >= 0.02;
  const full = last >= DISK_FULL;
  if (!full && !fillingFast) return null;
  const baseMed = median(base);
  const chronic = full && !fillingFast && baseMed !== null && baseMed >= DISK_FULL;
  const onset = firstSustained(win, (v) => v >= DISK_FULL, window.fromMs, 2) ?? (fillingFast ? win[0]!.t : null);
  const urgency = hoursToFull === null ? 0 : clamp(1 - hoursToFull / 6);
  // A disk not full yet fails no write: a risk to name, weaker than one that is full.
  const score = chronic ? 0.25 : full ? clamp(0.45 + 0.3 * clamp((last - 0.8) / 0.2) + 0.2 * urgency, 0, 0.95) : round(0.3 + 0.15 * urgency, 3);
  return { score, onsetMs: onset, chronic, figures: { baseline_median: baseMed === null ? null : round(baseMed, 3), window_last: round(last, 3), growth_per_hour: round(perMs * HOUR, 4), hours_to_full: hoursToFull === null ? null : round(hoursToFull, 1) } };
}

/**
 * Process CPU in cores: 0.3 cores or more over the baseline's median, or 0.2 and three times it (as the
 * default ProcessCpuHigh rule reads a process several times busier than usual; on a busy machine a
 * runaway loop gets less than a core).
 */
export function judgeProcessCpu(s: Series, window: TimeWindow): Judgement | null {
  const { base, win } = split(s, window);
  const baseMed = median(base);
  if (baseMed === null || win.length < 2) return null;
  const jumped = (v: number) => v - baseMed >= 0.3 || (v - baseMed >= 0.2 && v >= 3 * baseMed);
  const onset = firstSustained(win, jumped, window.fromMs, 3);
  if (onset === null) return null;
  const after = win.filter((p) => p.t >= onset).map((p) => p.v);
  const level = median(after)!;
  const jump = level - baseMed;
  if (!jumped(level)) return null;
  return { score: clamp(0.45 + 0.3 * clamp((jump - 0.2) / 0.8) + 0.1 * clamp(after.length / 5), 0, 0.9), onsetMs: onset, chronic: false, figures: { baseline_cores: round(baseMed, 2), window_cores: round(level, 2), jump_cores: round(jump, 2) } };
}

/** Process memory: 50% above the baseline's median, or a steady climb through the window (a leak). */
export function judgeProcessMemory(s: Series, window: TimeWindow): Judgement | null {
  const { base, win } = split(s, window);
  const baseMed = median(base);
  if (baseMed === null || baseMed <= 0 || win.length < 4) return null;
  const last = win[win.length - 1]!.v;
  const growth = last / baseMed;
  const steps = win.slice(1).map((p, i) => p.v - win[i]!.v);
  const climbing = steps.filter((d) => d > 0).length / steps.length >= 0.8 && last / win[0]!.v >= 1.2;
  if (growth < 1.5 && !climbing) return null;
  // A leak begins where the climb begins; a jump where the level left the baseline.
  const climbStart = climbing ? steps.findIndex((_, i) => steps.slice(i).filter((d) => d > 0).length / (steps.length - i) >= 0.9) : -1;
  const onset = climbStart >= 0 ? win[climbStart]!.t : (firstSustained(win, (v) => v >= baseMed * 1.2, window.fromMs, 2) ?? win[0]!.t);
  return {
    score: clamp(0.5 + 0.3 * clamp((growth - 1.2) / 1.3) + (climbing ? 0.15 : 0), 0, 0.95),
    onsetMs: onset,
    chronic: false,
    figures: { baseline_bytes: Math.round(baseMed), window_last_bytes: Math.round(last), growth: round(growth, 2), climbing: climbing ? 'yes' : 'no' },
  };
}

/** Which services ran on which hosts (spans' `host.name`), over the baseline and the window. */
async function hostsOfServices(ctx: DetectorContext): Promise<Map<string, Set<string>>> {
  const { baseline, window } = ctx.scope;
  const res = await ctx.queries.search('from spans host.name=* | stats count() as n by host.name, service.name', { fromNs: ns(baseline.fromMs), toNs: ns(window.toMs), limit: 10_000, explainEmpty: false });
  const out = new Map<string, Set<string>>();
  for (const r of res.rows as Record<string, unknown>[]) {
    const host = String(r['host.name'] ?? '');
    if (!host || !(num(r.n) ?? 0)) continue;
    out.set(host, (out.get(host) ?? new Set()).add(String(r['service.name'] ?? '')));
  }
  return out;
}

/**
 * The services a filesystem belongs to, when the processes of traced services report it themselves (a
 * service's data volume) rather than a host agent: null when a host-wide reporter (or none) is seen.
 */
async function diskOwners(ctx: DetectorContext, range: TimeWindow, host: string, mountpoint: string, hosts: Map<string, Set<string>>): Promise<string[] | null> {
  const filters = [{ key: 'host.name', value: host }, { key: 'system.filesystem.mountpoint', value: mountpoint }];
  for (const name of ['system.filesystem.utilization', 'system.filesystem.usage']) {
    const reporters = (await readSeries(ctx, range, { name, groupBy: 'service.name', filters })).map((s) => s.group);
    if (!reporters.length) continue;
    const traced = hosts.get(host) ?? new Set<string>();
    return reporters.every((r) => traced.has(r)) ? reporters.sort() : null;
  }
  return null;
}

/** The weight of a service's own disk: 1 in scope, 0.95 a service they call, 0.3 another service's volume on a shared host. */
function ownerWeight(owners: string[], scope: string[], called: Set<string>): number {
  if (!scope.length || owners.some((o) => scope.includes(o))) return 1;
  return owners.some((o) => called.has(o)) ? 0.95 : 0.3;
}

/** The weight of a host: 1 when it serves a service in scope, 0.95 a service they call, 0.7 no traced service (a database host…), 0 otherwise. */
function hostWeights(hosts: Map<string, Set<string>>, scope: string[], called: Set<string>): (host: string) => number {
  return (host) => {
    if (!scope.length) return 1;
    const served = hosts.get(host);
    if (!served) return 0.7;
    if (scope.some((s) => served.has(s))) return 1;
    return [...served].some((s) => called.has(s)) ? 0.95 : 0;
  };
}

const pct = (v: number | null | string) => (typeof v === 'number' ? fmtPct(v) : 'n/a');

/** How the other hosts of the same services fared: "node-a, also serving checkout, stays at 31%". */
function peersText(host: string, services: string[], hosts: Map<string, Set<string>>, series: Series[], window: TimeWindow): string {
  const peers = [...hosts.entries()].filter(([h, s]) => h !== host && services.some((x) => s.has(x))).map(([h]) => h);
  const parts = peers.slice(0, 3).flatMap((h) => {
    const s = series.find((x) => x.group === h);
    const level = s ? median(split(s, window).win.map((p) => p.v)) : null;
    return level === null ? [] : [`${h} stays at ${fmtPct(level)}`];
  });
  return parts.length ? ` Other hosts serving ${services.join(', ')}: ${parts.join(', ')}.` : '';
}

/** Scales a judgement for a late onset and the host's relevance; notes lateness. */
function weigh(j: Judgement, weight: number, onsetMs: number): { score: number; late: boolean } {
  const late = j.onsetMs !== null && j.onsetMs - onsetMs > LATE_MS;
  return { score: round(j.score * weight * (late ? 0.6 : 1)), late };
}

function when(j: Judgement, late: boolean): string {
  if (j.chronic) return ', as in the baseline';
  if (j.onsetMs === null) return '';
  return ` from ${fmtClock(j.onsetMs)}${late ? ' (after the onset: possibly a consequence)' : ''}`;
}

/** The `resources` detector. */
export const resourcesDetector: Detector = {
  name: 'resources',
  description: 'Saturated CPU, memory and disk of the hosts and processes involved',
  async run(given) {
    const ctx = given;
    const { baseline, window, onsetMs, services: scope } = ctx.scope;
    if (ctx.signal.aborted) return [];
    const range: TimeWindow = { fromMs: baseline.fromMs, toMs: window.toMs };
    const edges = scope.length ? await ctx.topology() : [];
    const called = new Set(scope.flatMap((s) => [...downstreamOf(s, edges)]));
    const [hosts, cpu, memory, pcpu, pmem] = await Promise.all([
      hostsOfServices(ctx),
      hostCpu(ctx, range),
      hostMemory(ctx, range),
      processSeries(ctx, range, 'process.cpu.utilization'),
      processSeries(ctx, range, 'process.memory.usage'),
    ]);
    if (ctx.signal.aborted) return [];
    const weightOf = hostWeights(hosts, scope, called);
    const servicesOn = (host: string) => [...(hosts.get(host) ?? [])].sort();
    const evidence: Evidence[] = [];
    const chart = (name: string, groupBy: string, service?: string) => metricLink(`${name} by ${groupBy}`, { name, groupBy, service, agg: groupBy === 'host.name' && name.startsWith('process.') ? 'sum' : undefined }, range);

    for (const [kind, series, threshold, metric] of [['cpu', cpu, CPU_SATURATED, 'system.cpu.utilization'], ['memory', memory, MEMORY_SATURATED, 'system.memory.utilization']] as const) {
      for (const s of series) {
        const weight = weightOf(s.group);
        const j = weight > 0 ? judgeSaturation(s, window, threshold) : null;
        if (!j) continue;
        const { score, late } = weigh(j, weight, onsetMs);
        const services = servicesOn(s.group);
        evidence.push({
          detector: 'resources',
          category: 'resource',
          component: `host ${s.group} ${kind}`,
          services,
          role: 'cause',
          score,
          summary: `${kind === 'cpu' ? 'CPU' : 'Memory'} of host ${s.group}${services.length ? ` (${services.join(', ')})` : ''} at ${pct(j.figures.window_p90)} (p90)${when(j, late)}; baseline ${pct(j.figures.baseline_median)}.${peersText(s.group, services, hosts, series, window)}`,
          onsetMs: j.onsetMs ?? undefined,
          figures: { host: s.group, ...j.figures },
          links: [chart(metric, 'host.name')],
          nextStep: kind === 'cpu'
            ? `Find what uses the CPU on ${s.group} (top processes; a runaway job or a hot loop in ${services[0] ?? 'its service'}); move load off it or add capacity.`
            : `Find what fills the memory of ${s.group} (largest processes, a leak in ${services[0] ?? 'its service'}); restart the culprit or add memory.`,
        });
      }
    }

    const fsHosts = await filesystemHosts(ctx, range);
    const diskHosts = fsHosts.filter((h) => weightOf(h) > 0).slice(0, MAX_HOSTS);
    // One host at a time: the query gate is shared with the other detectors.
    const disks: { host: string; series: Series[] }[] = [];
    for (const host of diskHosts) {
      if (ctx.signal.aborted) return [];
      disks.push({ host, series: await hostFilesystems(ctx, range, host) });
    }
    for (const { host, series } of disks) {
      for (const s of series) {
        const j = judgeDisk(s, window);
        if (!j || ctx.signal.aborted) continue;
        const owners = await diskOwners(ctx, range, host, s.group, hosts);
        const { score, late } = weigh(j, owners ? ownerWeight(owners, scope, called) : weightOf(host), onsetMs);
        const services = owners ?? servicesOn(host);
        const hours = j.figures.hours_to_full;
        const last = Number(j.figures.window_last);
        const fullSince = s.points.find((p) => p.t >= window.fromMs && p.v !== null && p.v >= 0.99)?.t;
        const eta = last >= 0.99
          ? `${fullSince !== undefined ? ` since ${fmtClock(fullSince)}` : ''}${late ? ' (after the onset: possibly a consequence)' : ''}`
          : typeof hours === 'number' && hours <= 6
            ? `, growing${j.onsetMs ? ` since ${fmtClock(j.onsetMs)}` : ''} and full in about ${hours < 1 ? `${Math.max(1, Math.round(hours * 60))} min` : `${hours} h`} at this rate`
            : when(j, late);
        evidence.push({
          detector: 'resources',
          category: 'resource',
          component: `host ${host} disk ${s.group}`,
          services,
          role: 'cause',
          score,
          summary: `Filesystem ${s.group} of host ${host}${services.length ? ` (${services.join(', ')})` : ''} is ${last >= 0.99 ? 'full' : `${pct(j.figures.window_last)} full`}${eta}; baseline ${pct(j.figures.baseline_median)}.`,
          onsetMs: j.onsetMs ?? undefined,
          figures: { host, mountpoint: s.group, ...j.figures },
          links: [chart('system.filesystem.utilization', 'system.filesystem.mountpoint'), chart('system.filesystem.utilization', 'host.name')],
          nextStep: `Free space on ${host}:${s.group} (logs, temp files, old data) and find what writes to it so fast.`,
        });
      }
    }

    for (const [kind, series, judge, metric] of [['cpu', pcpu, judgeProcessCpu, 'process.cpu.utilization'], ['memory', pmem, judgeProcessMemory, 'process.memory.usage']] as const) {
      for (const s of series) {
        if (scope.length && !scope.includes(s.group) && !called.has(s.group)) continue;
        const j = judge(s, window);
        if (!j) continue;
        // A service the scope calls is as likely a culprit as one in scope: incidents are often opened at the edge.
        const { score, late } = weigh(j, 1, onsetMs);
        const inst = ctx.signal.aborted ? { hot: [], normal: [] } : await instances(ctx, range, metric, s.group, judge);
        const where = inst.hot.length && inst.normal.length ? ` on ${inst.hot.join(', ')} (${inst.normal.slice(0, 3).join(', ')} ${inst.normal.length > 1 ? 'stay' : 'stays'} normal)` : '';
        const f = j.figures;
        const what = kind === 'cpu'
          ? `CPU of ${s.group} rose from ${f.baseline_cores} to ${f.window_cores} cores`
          : `Memory of ${s.group} ${f.climbing === 'yes' ? 'climbs steadily' : 'grew'} to ${mib(f.window_last_bytes)} (baseline ${mib(f.baseline_bytes)}, ${f.growth}×)`;
        evidence.push({
          detector: 'resources',
          category: 'resource',
          component: `${s.group} ${kind}`,
          services: [s.group],
          role: 'cause',
          score,
          summary: `${what}${when(j, late)}${where}.`,
          onsetMs: j.onsetMs ?? undefined,
          figures: { service: s.group, ...j.figures, hosts: inst.hot.join(', ') || null },
          links: [chart(metric, 'host.name', s.group)],
          nextStep: kind === 'cpu'
            ? `Profile ${s.group} (a hot loop, a retry storm, a costly new code path) and compare with its last deploy.`
            : `Take a heap snapshot of ${s.group}${where ? ' on that host' : ''}; a steady climb is a leak (restarting buys time).`,
        });
      }
    }
    return attributeHostCpu(evidence).sort((a, b) => b.score - a.score);
  },
};

/**
 * A process whose CPU jumped on a host whose CPU saturated is that saturation's cause: the process evidence
 * takes the lead (it names what to stop) and the host's says what fills it.
 */
function attributeHostCpu(evidence: Evidence[]): Evidence[] {
  for (const proc of evidence.filter((e) => e.figures.jump_cores !== undefined && typeof e.figures.hosts === 'string')) {
    for (const host of String(proc.figures.hosts).split(', ')) {
      const hostCpu = evidence.find((e) => e.component === `host ${host} cpu`);
      if (!hostCpu || hostCpu.figures.chronic === 'yes') continue;
      proc.score = round(Math.min(0.95, Math.max(proc.score, hostCpu.score) + 0.08));
      proc.summary = `${proc.summary.replace(/\.$/, '')}, saturating host ${host} (${pct(hostCpu.figures.window_p90 ?? null)}).`;
      hostCpu.score = round(hostCpu.score * 0.7);
      hostCpu.summary += ` Most of it is ${possessive(proc.services[0])} process (+${proc.figures.jump_cores} cores).`;
    }
  }
  return evidence;
}

function mib(v: number | string | null): string {
  return typeof v === 'number' ? `${round(v / 1024 / 1024, v >= 100 * 1024 * 1024 ? 0 : 1)} MiB` : 'n/a';
}

/** The hosts of a service's process that show the finding (`hot`) and those that stay normal. */
async function instances(ctx: DetectorContext, range: TimeWindow, metric: 'process.cpu.utilization' | 'process.memory.usage', service: string, judge: (s: Series, w: TimeWindow) => unknown): Promise<{ hot: string[]; normal: string[] }> {
  const perHost = await processSeries(ctx, range, metric, service);
  const hot = perHost.filter((s) => judge(s, ctx.scope.window) !== null).map((s) => s.group);
  return { hot, normal: perHost.map((s) => s.group).filter((h) => !hot.includes(h)) };
}
