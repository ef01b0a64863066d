/**
 * Monitors as a whole, for the API and the server: definitions from files (watched) and from the
 * API, the scheduler, and the read models (uptime, downtimes, results).
 */
import { existsSync, mkdirSync } from 'node:fs';
import type { MonitorLastResult, MonitorStatus } from '../api/contract.ts';
import type { QueryService } from '../query/service.ts';
import { monitorResultsQuery } from '../query/views/monitor-results.ts';
import { formatFileError, loadMonitorsDir, watchDir, type FileError } from './files.ts';
import type { MonitorScheduler } from './scheduler.ts';
import type { MonitorSpec } from './spec.ts';
import type { MonitorStore, StoredMonitor } from '../store/state/monitors.ts';
import { DAY_MS, downtimes, HOUR_MS, systemUptime, uptimeOf, WINDOWS, type Downtime, type UptimeSummary } from './uptime.ts';

/** A refused change (file monitor edited through the API, unknown or duplicate id): status and message. */
export class MonitorError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** What the service needs. */
export interface MonitorServiceDeps {
  store: MonitorStore;
  scheduler: MonitorScheduler;
  /** Reads check results back from telemetry. */
  queries: QueryService;
  dir: string;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  now?: () => number;
}

/** The monitors service; see the module comment. */
export class MonitorService {
  private fileMonitors = new Map<string, MonitorSpec[]>();
  private errors: FileError[] = [];
  private watcher?: { close(): void };
  private readonly now: () => number;

  constructor(private readonly deps: MonitorServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Loads files, starts the scheduler and the file watcher. */
  async start(): Promise<void> {
    if (!existsSync(this.deps.dir)) mkdirSync(this.deps.dir, { recursive: true });
    await this.syncFiles();
    await this.deps.scheduler.start();
    this.watcher = watchDir(this.deps.dir, () => void this.syncFiles().then(() => this.deps.scheduler.reload()));
  }

  /** Stops watching and scheduling. */
  async stop(): Promise<void> {
    this.watcher?.close();
    await this.deps.scheduler.stop();
  }

  /** Re-reads the monitors directory into the store; returns the errors found. */
  async syncFiles(): Promise<FileError[]> {
    const { byFile, errors } = loadMonitorsDir(this.deps.dir, this.fileMonitors);
    for (const e of errors) this.deps.log?.('warn', `monitors file ${formatFileError(e)}`);
    const stored = await this.deps.store.list();
    const byId = new Map(stored.map((m) => [m.spec.id, m]));
    const inFiles = new Set<string>();
    for (const [file, specs] of byFile) {
      for (const spec of specs) {
        inFiles.add(spec.id);
        const existing = byId.get(spec.id);
        if (existing?.source === 'api') {
          errors.push({ file, line: null, field: 'id', message: `monitor id "${spec.id}" already exists (created through the API)` });
          continue;
        }
        if (existing && existing.file === file && JSON.stringify(existing.spec) === JSON.stringify(spec)) continue;
        await this.deps.store.upsert(spec, 'file', file, new Date(this.now()));
      }
    }
    for (const m of stored) if (m.source === 'file' && !inFiles.has(m.spec.id)) await this.deps.store.remove(m.spec.id, true);
    this.fileMonitors = byFile;
    this.errors = errors;
    await this.deps.scheduler.reload();
    return errors;
  }

  /** Errors of the monitors files as last loaded. */
  fileErrors(): FileError[] {
    return this.errors;
  }

  /** All monitors with their current state. */
  async list(): Promise<(StoredMonitor & { state: ReturnType<MonitorService['stateOf']> })[]> {
    return (await this.deps.store.list()).map((m) => ({ ...m, state: this.stateOf(m.spec.id) }));
  }

  /** One monitor with its state, or undefined. */
  async get(id: string): Promise<(StoredMonitor & { state: ReturnType<MonitorService['stateOf']> }) | undefined> {
    const m = await this.deps.store.get(id);
    return m ? { ...m, state: this.stateOf(id) } : undefined;
  }

  /** The current state of a monitor as the API shows it. */
  stateOf(id: string): MonitorStatus {
    const s = this.deps.scheduler.status(id);
    return {
      state: s?.state ?? 'pending',
      since: s ? new Date(s.since).toISOString() : null,
      lastCheckAt: s?.lastCheckAt ? new Date(s.lastCheckAt).toISOString() : null,
      lastResult: s?.lastResult ? (JSON.parse(s.lastResult) as MonitorLastResult) : null,
    };
  }

  /** Creates a monitor through the API. */
  async create(spec: MonitorSpec): Promise<StoredMonitor> {
    if (await this.deps.store.get(spec.id)) throw new MonitorError(409, `a monitor with id "${spec.id}" already exists`);
    const m = await this.deps.store.upsert(spec, 'api', null, new Date(this.now()));
    await this.deps.scheduler.reload();
    return m;
  }

  /**
   * Replaces a monitor created through the API; `next` may build the new definition from the saved
   * one (saved secrets kept where the change sent the mask).
   */
  async update(id: string, next: MonitorSpec | ((saved: MonitorSpec) => MonitorSpec)): Promise<StoredMonitor> {
    const existing = await this.writable(id);
    const spec = typeof next === 'function' ? next(existing.spec) : next;
    if (spec.id !== id) throw new MonitorError(400, `id: the body's id "${spec.id}" differs from the URL's "${id}"`);
    const m = await this.deps.store.upsert(spec, 'api', null, new Date(Math.max(this.now(), Date.parse(existing.updatedAt) + 1)));
    await this.deps.scheduler.reload();
    return m;
  }

  /** Deletes a monitor created through the API, with its history. */
  async remove(id: string): Promise<void> {
    await this.writable(id);
    await this.deps.store.remove(id, false);
    await this.deps.scheduler.reload();
  }

  private async writable(id: string): Promise<StoredMonitor> {
    const m = await this.deps.store.get(id);
    if (!m) throw new MonitorError(404, `no monitor "${id}"`);
    if (m.source === 'file') throw new MonitorError(409, `monitor "${id}" is defined in ${m.file ?? 'a file'}: change it there`);
    return m;
  }

  /** Uptime of one monitor over 24h, 7d, 30d and 90d. */
  async uptime(id: string, now = this.now()): Promise<Record<string, UptimeSummary>> {
    const hourly = await this.deps.store.rollups('hour', now - 8 * DAY_MS, now + HOUR_MS, [id]);
    const daily = await this.deps.store.rollups('day', now - 91 * DAY_MS, now + DAY_MS, [id]);
    return Object.fromEntries(WINDOWS.map((w) => [w.name, uptimeOf(w.size === HOUR_MS ? hourly : daily, w.size, now - w.ms, now + 1)]));
  }

  /** Uptime per system (mean of its monitors) over the standard windows. */
  async systems(now = this.now()): Promise<{ system: string; monitors: number; uptime: Record<string, number | null> }[]> {
    const monitors = await this.deps.store.list();
    const hourly = await this.deps.store.rollups('hour', now - 8 * DAY_MS, now + HOUR_MS);
    const daily = await this.deps.store.rollups('day', now - 91 * DAY_MS, now + DAY_MS);
    const bySystem = new Map<string, string[]>();
    for (const m of monitors) bySystem.set(m.spec.system, [...(bySystem.get(m.spec.system) ?? []), m.spec.id]);
    return [...bySystem].map(([system, ids]) => ({
      system,
      monitors: ids.length,
      uptime: Object.fromEntries(
        WINDOWS.map((w) => {
          const source = w.size === HOUR_MS ? hourly : daily;
          return [w.name, systemUptime(ids.map((id) => uptimeOf(source.filter((r) => r.monitorId === id), w.size, now - w.ms, now + 1).uptime))];
        }),
      ),
    }));
  }

  /** Response-time series from rollups: hourly buckets up to 7 days back, daily beyond. */
  async responseTimes(id: string, from: number, to: number): Promise<{ bucket: 'hour' | 'day'; points: { t: string; avgMs: number | null; maxMs: number; checks: number; down: number }[] }> {
    const bucket = to - from <= 7 * DAY_MS ? 'hour' : 'day';
    const size = bucket === 'hour' ? HOUR_MS : DAY_MS;
    const rows = await this.deps.store.rollups(bucket, Math.floor(from / size) * size, to, [id]);
    return { bucket, points: rows.map((r) => ({ t: new Date(r.start).toISOString(), avgMs: r.checks ? Math.round((r.latencySum / r.checks) * 10) / 10 : null, maxMs: r.latencyMax, checks: r.checks, down: r.down })) };
  }

  /** Down periods in [from, to). */
  async downtimes(id: string, from: number, to: number): Promise<Downtime[]> {
    return downtimes(await this.deps.store.stateChanges(id, from, to), from, to, this.now());
  }

  /** Individual check results from the telemetry store (kept as long as metrics are retained). */
  async results(id: string, from: number, to: number, limit: number): Promise<{ time: string; up: boolean; status: string; durationMs: number | null }[]> {
    const rows = await this.deps.queries.rows(monitorResultsQuery(this.deps.queries.dialect, id, from, to, limit));
    return rows.map((r) => ({ time: new Date(Number(r.t)).toISOString(), up: Number(r.up) === 1, status: String(r.status ?? ''), durationMs: r.duration === null || r.duration === undefined ? null : Number(r.duration) }));
  }
}
