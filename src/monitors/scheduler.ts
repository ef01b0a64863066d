/**
 * The monitor scheduler: runs each monitor on its interval (spread by a stable jitter), at most
 * `maxConcurrent` checks at once, applies the state machine, and records what happened — metric
 * points and state-change log records through the ingest pipeline, current state, state changes and
 * rollups in the state store. Writes are batched: telemetry every second, state and rollups every
 * `flushIntervalMs`.
 */
import { parseDuration } from '../config/config.ts';
import type { LogRow, MetricRow, TelemetryBatch } from '../model/telemetry.ts';
import type { OutboundPolicy } from '../net/outbound.ts';
import { runCheck } from './checkers.ts';
import { down, errorMessage, type CheckResult } from './result.ts';
import { firstDue, nextDue } from './schedule.ts';
import { transition, type MonitorState } from './state.ts';
import type { BucketKind, MonitorStatusRow, MonitorStore, StoredMonitor } from '../store/state/monitors.ts';
import { checkMetrics, stateChangeLog } from './telemetry.ts';
import { addResult, DAY_MS, HOUR_MS, type Rollup } from './uptime.ts';

/** What the scheduler needs. */
export interface SchedulerDeps {
  store: MonitorStore;
  /** Writes telemetry (the ingest pipeline's submit). */
  submit: (batch: TelemetryBatch) => Promise<void>;
  policy: OutboundPolicy;
  maxConcurrent: number;
  now?: () => number;
  log?: (level: 'warn' | 'error', message: string, err?: unknown) => void;
  flushIntervalMs?: number;
}

interface Entry {
  stored: StoredMonitor;
  intervalMs: number;
  retryMs: number;
  timeoutMs: number;
  due: number;
  timer?: NodeJS.Timeout;
  running?: Promise<void>;
  status: MonitorStatusRow;
  startedAt: number;
  removed: boolean;
}

/** Scheduler statistics (for /metrics and the benchmark). */
export interface SchedulerStats {
  monitors: number;
  checks: number;
  running: number;
  waiting: number;
  /** Scheduling delay (start − due) of recent checks, ms. */
  delayP50Ms: number | null;
  delayP99Ms: number | null;
  delayMaxMs: number | null;
}

const DELAY_SAMPLES = 20_000;
const PUSH_EVALUATION_MS = 30_000;

/** Runs monitors; see the module comment. */
export class MonitorScheduler {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private running = 0;
  private readonly waiters: (() => void)[] = [];
  private metricBuf: MetricRow[] = [];
  private logBuf: LogRow[] = [];
  private dirty = new Set<string>();
  private hourly = new Map<string, Rollup>();
  private daily = new Map<string, Rollup>();
  private flushTimer?: NodeJS.Timeout;
  private telemetryTimer?: NodeJS.Timeout;
  private pruneTimer?: NodeJS.Timeout;
  private stopped = false;
  private checks = 0;
  private delays: number[] = [];
  private delayNext = 0;
  private reloading: Promise<void> = Promise.resolve();

  constructor(private readonly deps: SchedulerDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Loads the stored monitors and starts their schedules. */
  async start(): Promise<void> {
    await this.reload();
    this.flushTimer = setInterval(() => void this.flushState(), this.deps.flushIntervalMs ?? 2000);
    this.telemetryTimer = setInterval(() => void this.flushTelemetry(), 1000);
    this.pruneTimer = setInterval(() => void this.prune(), HOUR_MS);
    for (const t of [this.flushTimer, this.telemetryTimer, this.pruneTimer]) t.unref();
  }

  /** Re-reads monitors from the store: new ones start, changed ones restart, removed ones stop. */
  reload(): Promise<void> {
    // Serialised: file reloads and API changes may race.
    this.reloading = this.reloading.then(() => this.doReload()).catch((err: unknown) => this.deps.log?.('error', 'monitor reload failed', err));
    return this.reloading;
  }

  private async doReload(): Promise<void> {
    if (this.stopped) return;
    const [monitors, statuses] = await Promise.all([this.deps.store.list(), this.deps.store.statuses()]);
    const now = this.now();
    const seen = new Set<string>();
    for (const stored of monitors) {
      const id = stored.spec.id;
      seen.add(id);
      const old = this.entries.get(id);
      if (old && old.stored.updatedAt === stored.updatedAt) continue;
      if (old) this.unschedule(old);
      const status: MonitorStatusRow = old?.status ??
        statuses.get(id) ?? { monitorId: id, state: 'pending', failures: 0, since: now, lastCheckAt: null, lastResult: null, lastPushAt: null, lastPushStatus: null, lastPushMessage: null };
      // A heartbeat is judged at least every 30 s, so a missed beat shows soon after interval + grace
      // even for a daily job; the judgement itself uses the monitor's own interval.
      const intervalMs = stored.spec.type === 'push' ? Math.min(parseDuration(stored.spec.interval), PUSH_EVALUATION_MS) : parseDuration(stored.spec.interval);
      const entry: Entry = {
        stored,
        intervalMs,
        retryMs: parseDuration(stored.spec.retryInterval ?? stored.spec.interval),
        timeoutMs: parseDuration(stored.spec.timeout),
        due: 0,
        status,
        startedAt: old?.startedAt ?? now,
        removed: false,
      };
      this.entries.set(id, entry);
      if (stored.spec.enabled) this.schedule(entry, firstDue(id, entry.intervalMs, now));
    }
    for (const [id, entry] of this.entries) {
      if (!seen.has(id)) {
        this.unschedule(entry);
        this.entries.delete(id);
        this.dirty.delete(id);
      }
    }
  }

  private schedule(entry: Entry, due: number): void {
    if (this.stopped || entry.removed) return;
    entry.due = due;
    entry.timer = setTimeout(() => void this.fire(entry), Math.max(0, due - this.now()));
    entry.timer.unref();
  }

  private unschedule(entry: Entry): void {
    entry.removed = true;
    clearTimeout(entry.timer);
  }

  private async fire(entry: Entry): Promise<void> {
    const due = entry.due;
    const p = this.execute(entry, due, undefined);
    entry.running = p.then(() => undefined);
    const retrying = (await p.catch(() => false)) === true;
    entry.running = undefined;
    if (!entry.removed) this.schedule(entry, nextDue(due, retrying ? entry.retryMs : entry.intervalMs, this.now()));
  }

  /** Runs one check now, outside the schedule (API "check now", tests); `at` overrides the clock for judging heartbeats. */
  async runNow(id: string, at?: number): Promise<{ result: CheckResult; state: MonitorState } | undefined> {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    let result: CheckResult | undefined;
    await this.execute(entry, undefined, at, (r) => (result = r));
    return result ? { result, state: entry.status.state } : undefined;
  }

  /** Records a heartbeat for the push monitor owning `token`; false when no such monitor. */
  async push(token: string, status: 'up' | 'down', message: string | undefined): Promise<string | undefined> {
    const id = await this.deps.store.idByPushToken(token);
    const entry = id ? this.entries.get(id) : undefined;
    if (!entry) return undefined;
    entry.status = { ...entry.status, lastPushAt: this.now(), lastPushStatus: status, lastPushMessage: message?.slice(0, 500) ?? null };
    this.dirty.add(entry.stored.spec.id);
    // A beat is judged at once, so recovery shows without waiting for the next evaluation.
    await this.execute(entry, undefined, undefined);
    return entry.stored.spec.id;
  }

  /** Current state of one monitor. */
  status(id: string): MonitorStatusRow | undefined {
    return this.entries.get(id)?.status;
  }

  /** Runs the check of an entry and records it; resolves true when the monitor is retrying. */
  private async execute(entry: Entry, due: number | undefined, at: number | undefined, onResult?: (r: CheckResult) => void): Promise<boolean> {
    await this.acquire();
    try {
      const started = this.now();
      if (due !== undefined) this.recordDelay(started - due);
      const spec = entry.stored.spec;
      const clock = at ?? started;
      let result: CheckResult;
      try {
        result = await hardTimeout(
          runCheck(spec, { policy: this.deps.policy, timeoutMs: entry.timeoutMs, now: () => new Date(at ?? this.now()) }, {
            last: entry.status.lastPushAt === null ? undefined : { at: entry.status.lastPushAt, status: entry.status.lastPushStatus ?? 'up', message: entry.status.lastPushMessage ?? undefined },
            startedAt: entry.startedAt,
          }),
          entry.timeoutMs + 2000,
        );
      } catch (err) {
        result = down(this.now() - started, errorMessage(err));
      }
      this.checks++;
      onResult?.(result);
      if (entry.removed) return false;
      const t = transition({ state: entry.status.state, failures: entry.status.failures }, result.status, spec.retries);
      const from = entry.status.state;
      entry.status = {
        ...entry.status,
        state: t.state,
        failures: t.failures,
        since: t.changed ? clock : entry.status.since,
        lastCheckAt: clock,
        lastResult: JSON.stringify({ status: result.status, latencyMs: result.latencyMs, error: result.error ?? null, phases: result.phases, details: result.details, retrying: t.retrying }),
      };
      this.dirty.add(spec.id);
      addResult(this.hourly, spec.id, clock, HOUR_MS, result.status, result.latencyMs);
      addResult(this.daily, spec.id, clock, DAY_MS, result.status, result.latencyMs);
      this.metricBuf.push(...checkMetrics(spec, result, new Date(clock)));
      if (t.changed) {
        this.logBuf.push(stateChangeLog(spec, from, t.state, new Date(clock), result.error));
        await this.deps.store.addStateChange(spec.id, { at: clock, from, to: t.state, error: t.state === 'up' ? null : (result.error ?? null) }).catch((err: unknown) => this.deps.log?.('error', 'recording a state change failed', err));
      }
      if (this.metricBuf.length >= 5000) void this.flushTelemetry();
      return t.retrying;
    } finally {
      this.release();
    }
  }

  private async acquire(): Promise<void> {
    if (this.running < this.deps.maxConcurrent) {
      this.running++;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.running--;
  }

  private recordDelay(ms: number): void {
    if (this.delays.length < DELAY_SAMPLES) this.delays.push(ms);
    else this.delays[this.delayNext++ % DELAY_SAMPLES] = ms;
  }

  /** Counters and scheduling delay percentiles. */
  stats(): SchedulerStats {
    const sorted = [...this.delays].sort((a, b) => a - b);
    const q = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! : null);
    return { monitors: this.entries.size, checks: this.checks, running: this.running, waiting: this.waiters.length, delayP50Ms: q(0.5), delayP99Ms: q(0.99), delayMaxMs: sorted.at(-1) ?? null };
  }

  /** Forgets collected delay samples (the benchmark measures after warm-up). */
  resetStats(): void {
    this.delays = [];
    this.delayNext = 0;
  }

  /** Writes buffered metric points and logs through the pipeline. */
  async flushTelemetry(): Promise<void> {
    if (this.metricBuf.length === 0 && this.logBuf.length === 0) return;
    const batch: TelemetryBatch = { logs: this.logBuf, metrics: this.metricBuf, spans: [] };
    this.logBuf = [];
    this.metricBuf = [];
    try {
      await this.deps.submit(batch);
    } catch (err) {
      // Telemetry is best effort under backpressure: state and rollups still record every check.
      this.deps.log?.('warn', `dropped ${batch.metrics.length + batch.logs.length} monitor rows`, err);
    }
  }

  /** Writes dirty states and rollup increments to the state store. */
  async flushState(): Promise<void> {
    const statuses = [...this.dirty].map((id) => this.entries.get(id)?.status).filter((s): s is MonitorStatusRow => s !== undefined);
    const increments: (Rollup & { bucket: BucketKind })[] = [
      ...[...this.hourly.values()].map((r) => ({ ...r, bucket: 'hour' as const })),
      ...[...this.daily.values()].map((r) => ({ ...r, bucket: 'day' as const })),
    ];
    this.dirty = new Set();
    this.hourly = new Map();
    this.daily = new Map();
    try {
      await this.deps.store.flush(statuses, increments);
    } catch (err) {
      this.deps.log?.('error', 'writing monitor state failed', err);
    }
  }

  private async prune(): Promise<void> {
    const now = this.now();
    await this.deps.store.prune(now - 8 * DAY_MS, now - 400 * DAY_MS).catch((err: unknown) => this.deps.log?.('error', 'pruning monitor history failed', err));
  }

  /** Stops scheduling, waits for running checks and writes everything buffered. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of [this.flushTimer, this.telemetryTimer, this.pruneTimer]) clearInterval(t);
    for (const e of this.entries.values()) clearTimeout(e.timer);
    await this.reloading;
    await Promise.allSettled([...this.entries.values()].map((e) => e.running));
    await this.flushState();
    await this.flushTelemetry();
  }
}

function hardTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`check did not finish within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}
