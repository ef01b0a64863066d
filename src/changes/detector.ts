/**
 * Change detection from telemetry, pure (times are arguments): a service that starts reporting a new
 * `service.version` was deployed; a service whose set of instances (`service.instance.id`, else
 * `host.name`) changes had an infrastructure change. It reads only resources — one look per resource
 * object of a commit — and keeps what it learned in memory, bounded.
 *
 * Rules:
 *   - The first time a service is seen is not a change (unless its version was seeded from recorded
 *     changes: then a different version is a deploy that happened while Vigil was not looking).
 *   - An instance reporting version V after W (or a new instance reporting V while the service ran W)
 *     is a deploy W → V, unless another instance has reported V since the service's current version was
 *     adopted (a rolling deploy in progress, or one more instance of a running version), or V was already
 *     detected for this service within `redundantMs`.
 *   - A new instance is an infrastructure change once the service has reported for `settleMs` (before
 *     that, instances are still showing up, e.g. after Vigil restarts), unless it came with a deploy.
 *   - An instance that reports metrics (exporters send them periodically, so their silence means
 *     something; an idle service sends no spans and a quiet host no logs) and is silent for `goneMs`
 *     left: an infrastructure change, unless the deploy replaced it —
 *     it ran a version the service has since been deployed away from, or it fell silent before the
 *     service's last deploy (a deploy and its rollback both restart the process). Instances seen only
 *     in spans and logs are forgotten, silently, after `forgetMs`.
 */
import type { ResourceInfo, TelemetryBatch } from '../model/telemetry.ts';

/** What one resource says about a service. */
export interface Observation {
  service: string;
  namespace: string;
  version: string;
  /** `service.instance.id`, else `host.name`, else ''. */
  instance: string;
  host: string;
  /** When the records under this resource begin (epoch ms); a deploy is dated by it, not by arrival. */
  at?: number;
  /** Metrics came from this resource (reported periodically: silence is news). */
  periodic?: boolean;
}

/** A change the detector found. */
export interface DetectedChange {
  at: number;
  service: string;
  namespace: string;
  kind: 'deploy' | 'infrastructure';
  version: string | null;
  previousVersion: string | null;
  description: string;
  attributes: Record<string, string | number>;
}

/** Tuning of {@link ChangeDetector}. */
export interface DetectorOptions {
  settleMs: number;
  goneMs: number;
  redundantMs: number;
  /** How long an instance seen only in spans and logs is remembered. */
  forgetMs: number;
  maxServices: number;
  maxInstancesPerService: number;
}

/** Defaults: metric exporters report every minute, so five minutes of silence is gone, not a late export. */
export const DETECTOR_DEFAULTS: DetectorOptions = { settleMs: 5 * 60_000, goneMs: 5 * 60_000, redundantMs: 10 * 60_000, forgetMs: 24 * 3_600_000, maxServices: 10_000, maxInstancesPerService: 500 };

interface Instance {
  version: string;
  host: string;
  lastSeen: number;
  periodic: boolean;
}

interface ServiceState {
  namespace: string;
  firstSeen: number;
  /** The version the service was last deployed to ('' unknown). */
  current: string;
  currentSince: number;
  /** When a deploy was last seen (0: never). */
  lastDeployAt: number;
  instances: Map<string, Instance>;
  /** Versions detected as deployed, with when: a second sighting within redundantMs is the same deploy. */
  deployed: Map<string, number>;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
}

/** What a resource says about its service. */
export function observe(resource: ResourceInfo): Observation {
  const instance = str(resource.attributes['service.instance.id']) || resource.hostName;
  return { service: resource.serviceName, namespace: resource.serviceNamespace, version: resource.serviceVersion, instance, host: resource.hostName };
}

/**
 * The distinct resources of committed batches as observations, each dated by its earliest record.
 * Receivers share one resource object among the records under it, so a commit of thousands of spans
 * usually holds a handful: one map lookup and one comparison per record.
 */
export function observations(batches: readonly TelemetryBatch[]): Observation[] {
  // Earliest record time per observation, in ns: bigint comparisons only, converted once at the end.
  type Entry = { o: Observation; minNs: bigint; periodic: boolean };
  const byResource = new Map<ResourceInfo, Entry>();
  const byKey = new Map<string, Entry>();
  const add = (r: ResourceInfo, timeNs: bigint): Entry => {
    let e = byResource.get(r);
    if (!e) {
      const fresh = observe(r);
      const key = `${fresh.service}\u0000${fresh.instance}\u0000${fresh.version}`;
      e = byKey.get(key);
      if (!e) {
        e = { o: fresh, minNs: 0n, periodic: false };
        byKey.set(key, e);
      }
      byResource.set(r, e);
    }
    if (timeNs > 0n && (e.minNs === 0n || timeNs < e.minNs)) e.minNs = timeNs;
    return e;
  };
  for (const b of batches) {
    for (const x of b.spans) add(x.resource, x.startTimeNs);
    for (const x of b.logs) add(x.resource, x.timeNs || x.observedTimeNs);
    for (const x of b.metrics) add(x.resource, x.timeNs).periodic = true;
  }
  return [...byKey.values()].map(({ o, minNs, periodic }) => ({ ...o, ...(minNs > 0n ? { at: Number(minNs / 1_000_000n) } : {}), ...(periodic ? { periodic } : {}) }));
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/** Remembers services, versions and instances; turns observations into changes. */
export class ChangeDetector {
  private readonly services = new Map<string, ServiceState>();
  private readonly seeded = new Map<string, string>();
  private readonly opts: DetectorOptions;

  constructor(opts: Partial<DetectorOptions> = {}) {
    this.opts = { ...DETECTOR_DEFAULTS, ...opts };
  }

  /** Versions already recorded per service (from the changes table), so a restart does not re-announce them. */
  seed(versions: ReadonlyMap<string, string>): void {
    for (const [service, version] of versions) {
      this.seeded.set(service, version);
      const s = this.services.get(service);
      if (s && !s.current) s.current = version;
    }
  }

  /** The version a service was last seen deployed to, if known. */
  currentVersion(service: string): string | undefined {
    return this.services.get(service)?.current || this.seeded.get(service);
  }

  /** Feeds what one commit reported; returns the changes it reveals. */
  observe(list: readonly Observation[], now: number): DetectedChange[] {
    const out: DetectedChange[] = [];
    for (const o of list) {
      let s = this.services.get(o.service);
      if (!s) {
        if (this.services.size >= this.opts.maxServices) continue;
        s = { namespace: o.namespace, firstSeen: now, current: this.seeded.get(o.service) ?? '', currentSince: now, lastDeployAt: 0, instances: new Map(), deployed: new Map() };
        this.services.set(o.service, s);
      }
      if (o.namespace) s.namespace = o.namespace;
      const inst = s.instances.get(o.instance);
      let deployedNow = false;
      // Records may arrive late (batching, retries, replays): date a deploy by them, never after now.
      const at = o.at !== undefined && o.at < now ? o.at : now;
      if (o.version) {
        const before = inst?.version || s.current;
        const runningElsewhere = [...s.instances].some(([id, i]) => id !== o.instance && i.version === o.version && i.lastSeen >= s.currentSince);
        if (!before) {
          s.current = o.version;
        } else if (before !== o.version && !runningElsewhere) {
          const last = s.deployed.get(o.version);
          if (last === undefined || now - last >= this.opts.redundantMs) {
            out.push({
              at,
              service: o.service,
              namespace: s.namespace,
              kind: 'deploy',
              version: o.version,
              previousVersion: before,
              description: `${o.service} ${before} → ${o.version} (detected: ${o.instance ? `instance ${o.instance}` : 'the service'} reports service.version ${o.version})`,
              attributes: { ...(o.instance ? { 'service.instance.id': o.instance } : {}), ...(o.host ? { 'host.name': o.host } : {}) },
            });
            deployedNow = true;
          }
          s.deployed.set(o.version, now);
          s.current = o.version;
          s.currentSince = now;
          s.lastDeployAt = now;
        }
      }
      if (inst) {
        inst.lastSeen = now;
        if (o.version) inst.version = o.version;
        if (o.periodic) inst.periodic = true;
        continue;
      }
      if (s.instances.size >= this.opts.maxInstancesPerService) continue;
      s.instances.set(o.instance, { version: o.version, host: o.host, lastSeen: now, periodic: o.periodic === true });
      const settled = now - s.firstSeen >= this.opts.settleMs;
      // A new instance of a version deployed moments ago is the deploy rolling out, not a change of its own.
      const deployAt = o.version ? s.deployed.get(o.version) : undefined;
      const partOfDeploy = deployedNow || (deployAt !== undefined && now - deployAt < this.opts.redundantMs);
      if (settled && !partOfDeploy) {
        out.push({
          at: now,
          service: o.service,
          namespace: s.namespace,
          kind: 'infrastructure',
          version: o.version || null,
          previousVersion: null,
          description: `${o.service}: new instance ${o.instance || '(unnamed)'}${o.host && o.host !== o.instance ? ` on ${o.host}` : ''} (${plural(s.instances.size, 'instance')} now)`,
          attributes: { change: 'instance_added', ...(o.instance ? { 'service.instance.id': o.instance } : {}), ...(o.host ? { 'host.name': o.host } : {}), instances: s.instances.size },
        });
      }
    }
    return out;
  }

  /** Instances silent for `goneMs` are dropped; returns the departures that are changes. */
  sweep(now: number): DetectedChange[] {
    const out: DetectedChange[] = [];
    for (const [service, s] of this.services) {
      for (const [id, i] of s.instances) {
        if (!i.periodic) {
          if (now - i.lastSeen >= this.opts.forgetMs) s.instances.delete(id);
          continue;
        }
        if (now - i.lastSeen < this.opts.goneMs) continue;
        s.instances.delete(id);
        // Replaced by a deploy: the old version's instances going away are that deploy, already recorded.
        if ((i.version && s.current && i.version !== s.current) || i.lastSeen < s.lastDeployAt) continue;
        out.push({
          at: i.lastSeen,
          service,
          namespace: s.namespace,
          kind: 'infrastructure',
          version: i.version || null,
          previousVersion: null,
          description: `${service}: instance ${id || '(unnamed)'}${i.host && i.host !== id ? ` on ${i.host}` : ''} stopped reporting (${plural(s.instances.size, 'instance')} left)`,
          attributes: { change: 'instance_removed', ...(id ? { 'service.instance.id': id } : {}), ...(i.host ? { 'host.name': i.host } : {}), instances: s.instances.size },
        });
      }
    }
    return out;
  }
}
