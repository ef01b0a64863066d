/**
 * Change tracking at run time: records posted changes, detects deploys and instance changes from what
 * the ingest pipeline commits, and keeps the two from recording one deploy twice. Writes go one at a
 * time through one chain, so a posted deploy and its detection racing each other still end as one row.
 */
import type { ChangeKind } from '../api/contract.ts';
import type { TelemetryBatch } from '../model/telemetry.ts';
import type { ChangeFilter, ChangeRecord, ChangeRepo, NewChange } from '../store/state/changes.ts';
import { ChangeDetector, observations, type DetectedChange, type DetectorOptions } from './detector.ts';

/** A deploy posted within this long of a detected one (same service and version) is the same deploy. */
export const REDUNDANT_MS = 10 * 60_000;
const VERSIONED: readonly ChangeKind[] = ['deploy', 'rollback'];

/** Options of {@link ChangeService}. */
export interface ChangeServiceOptions {
  repo: ChangeRepo;
  /** Detection from telemetry (default on). */
  detect?: boolean;
  detector?: Partial<DetectorOptions>;
  /** How often silent instances are looked for (default 30 s). */
  sweepIntervalMs?: number;
  log?: { error(obj: unknown, msg: string): void };
  now?: () => number;
}

/** Records, lists and detects changes. */
export class ChangeService {
  private readonly detector: ChangeDetector;
  private readonly now: () => number;
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private started = false;

  constructor(private readonly opts: ChangeServiceOptions) {
    this.detector = new ChangeDetector({ redundantMs: REDUNDANT_MS, ...opts.detector });
    this.now = opts.now ?? Date.now;
  }

  /** Seeds detection with the versions already recorded and starts looking for instances that left. */
  async start(): Promise<void> {
    if (this.opts.detect === false) return;
    this.detector.seed(await this.opts.repo.latestVersions());
    this.started = true;
    this.timer = setInterval(() => {
      const gone = this.detector.sweep(this.now());
      if (gone.length) void this.serial(() => this.recordDetected(gone));
    }, this.opts.sweepIntervalMs ?? 30_000);
    this.timer.unref();
  }

  /** Stops the sweep and waits for the writes under way. */
  async stop(): Promise<void> {
    this.started = false;
    clearInterval(this.timer);
    await this.idle();
  }

  /** Resolves once every queued write is done. */
  async idle(): Promise<void> {
    let seen: Promise<unknown>;
    do {
      seen = this.chain;
      await seen;
    } while (seen !== this.chain);
  }

  /**
   * The ingest pipeline's commit hook: looks at each resource of the committed batches once (in
   * memory, synchronously) and queues the writes of what it reveals. Never throws.
   */
  onCommit(batches: readonly TelemetryBatch[]): void {
    if (!this.started) return;
    try {
      const found = this.detector.observe(observations(batches), this.now());
      if (found.length) void this.serial(() => this.recordDetected(found));
    } catch (err) {
      this.opts.log?.error({ err }, 'change detection failed');
    }
  }

  /** Records a posted change; a deploy or rollback makes detected deploys of that version around it redundant. */
  record(change: NewChange): Promise<number> {
    return this.serial(async () => {
      const id = await this.opts.repo.insert(change);
      if (VERSIONED.includes(change.kind) && change.version) {
        await this.opts.repo.deleteMatching({ service: change.service, version: change.version, kinds: ['deploy'], sources: ['detected'], from: change.at - REDUNDANT_MS, to: change.at + REDUNDANT_MS + 1 });
      }
      return id;
    });
  }

  /** Changes in a range, newest first. */
  list(filter: ChangeFilter): Promise<ChangeRecord[]> {
    return this.opts.repo.list(filter);
  }

  /** Changes to any of `services` (every service when empty) in `[fromMs, toMs)`, newest first: what an incident lists and diagnosis reads. */
  async forServices(q: { fromMs: number; toMs: number; services?: readonly string[] }, limit = 200): Promise<ChangeRecord[]> {
    const services = q.services?.length ? [...new Set(q.services)] : [undefined];
    const lists = await Promise.all(services.map((service) => this.opts.repo.list({ from: q.fromMs, to: q.toMs, service, limit })));
    return lists
      .flat()
      .sort((a, b) => b.at - a.at || b.id - a.id)
      .slice(0, limit);
  }

  /** One change. */
  get(id: number): Promise<ChangeRecord | undefined> {
    return this.opts.repo.get(id);
  }

  private async recordDetected(found: readonly DetectedChange[]): Promise<void> {
    for (const c of found) {
      if (c.kind === 'deploy' && c.version) {
        // Posted first (a pipeline announces, then the new version's telemetry arrives): already known.
        const near = await this.opts.repo.list({ service: c.service, version: c.version, kinds: VERSIONED, from: c.at - REDUNDANT_MS, to: c.at + REDUNDANT_MS + 1, limit: 1 });
        if (near.length) continue;
      }
      await this.opts.repo.insert({ ...c, author: null, commit: null, source: 'detected', createdAt: this.now() });
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch((err: unknown) => this.opts.log?.error({ err }, 'recording a change failed'));
    return next;
  }
}
